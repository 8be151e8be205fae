"""Data for the privacy benchmark, from the project's synthetic generator.

* The encoded population (what a thief of the service's database holds):
  records of the four default agencies (``benchmarks/synth``, default noise:
  native scripts, respellings, typos, partial dates), one record per person,
  for a sample of ``records`` people.
* The attacker's public list: names and full dates of birth of as many
  people, ``overlap`` of them from the encoded population and the rest from
  the same hidden population, spelled as an identity document would (the
  generator's ``clean`` rendering: usual romanisation, no noise), in random
  order.
* The accuracy set: all four agencies' registers with their truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from synth import VICTIM_COLUMNS, generate, make_config
from synth.render import render_people

COLUMNS = VICTIM_COLUMNS


@dataclass(frozen=True)
class AttackData:
    """The encoded population and what the attacker's list is drawn from.

    Attributes:
        rows: encoded records (CONTRACT victim columns).
        people: the person behind each record.
        clean: clean rows (names and birth date only) by person index.
        others: persons not in the encoded population (for the list).
    """

    rows: list[list[str]]
    people: np.ndarray
    clean: dict[int, list[str]]
    others: np.ndarray

    def attacker_list(self, overlap: float, rng: np.random.Generator
                      ) -> tuple[list[list[str]], np.ndarray]:
        """A public list as long as the encoded population (rows, persons)."""
        n = len(self.rows)
        keep = int(round(overlap * n))
        chosen = np.concatenate([rng.choice(self.people, keep, replace=False),
                                 rng.choice(self.others, n - keep, replace=False)])
        chosen = chosen[rng.permutation(n)]
        return [self.clean[int(p)] for p in chosen], chosen


def _rows(columns: dict[str, np.ndarray], index: np.ndarray) -> list[list[str]]:
    return [[str(columns[c][i]) if c in columns else "" for c in COLUMNS] for i in index]


def attack_data(records: int, seed: int) -> AttackData:
    """Draw the encoded population and the clean identities of everyone.

    Raises:
        ValueError: the hidden population is too small for ``records``
            encoded people plus an equal-sized list beyond them.
    """
    # Three hidden people per encoded one: enough for a list with no overlap.
    config = make_config(population=4 * records, cases=False)
    dataset = generate(config, seed)
    rng = np.random.default_rng([seed, 17])
    # One record per person seen by any agency, from a random agency.
    seen: dict[int, tuple[int, int]] = {}
    for t, table in enumerate(dataset.victims):
        for i in rng.permutation(len(table)):
            seen.setdefault(int(table.entity[i]), (t, int(i)))
    persons = np.array(sorted(seen))
    if persons.size < records:
        raise ValueError("the population sees too few people for the requested records")
    people = rng.choice(persons, records, replace=False)
    rows = [_rows(dataset.victims[seen[int(p)][0]].columns, [seen[int(p)][1]])[0]
            for p in people]
    everyone = np.arange(dataset.population.size)
    others = np.setdiff1d(everyone, people)
    clean_config = make_config(population=config.population, noise="clean", cases=False)
    rendered = render_people(dataset.population, everyone, np.zeros_like(everyone),
                             clean_config, np.random.default_rng([seed, 23]))
    fields = rendered.fields
    clean = {int(p): ["", str(fields["given_name"][p]), str(fields["family_name"][p]), "",
                      str(fields["date_of_birth"][p]), "", "", str(fields["other_names"][p])]
             for p in everyone}
    return AttackData(rows, people, clean, others)


@dataclass(frozen=True)
class AccuracyData:
    """Every record of every agency, with its true person and its agency."""

    rows: list[list[str]]
    truth: np.ndarray
    parties: np.ndarray


def accuracy_data(population: int, seed: int) -> AccuracyData:
    """The four default agencies' registers of a hidden population."""
    dataset = generate(make_config(population=population, cases=False), seed)
    rows, truth, parties = [], [], []
    for table in dataset.victims:
        rows.extend(_rows(table.columns, np.arange(len(table))))
        truth.extend(int(e) for e in table.entity)
        parties.extend([table.party] * len(table))
    return AccuracyData(rows, np.array(truth), np.array(parties))
