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

For the ``case`` schema the same holds with case records: one record per
case, and the attacker's list holds the clean victim and suspect names,
incident date and place of cases (as court records or news reports would).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from synth import CASE_COLUMNS, VICTIM_COLUMNS, generate, make_config
from synth.render import render_people

COLUMNS = VICTIM_COLUMNS
COLUMNS_OF = {"victim": VICTIM_COLUMNS, "case": CASE_COLUMNS}
# What the attacker's list holds for a case (the rest is left empty).
CASE_PUBLIC = ("suspect_names", "incident_date", "incident_location", "victim_names")


@dataclass(frozen=True)
class AttackData:
    """The encoded population and what the attacker's list is drawn from.

    Attributes:
        columns: the CONTRACT columns of the rows.
        rows: encoded records.
        people: the person (or case) behind each record.
        clean: clean rows (what a public list holds) by person (or case).
        others: persons (or cases) not in the encoded population.
    """

    columns: tuple[str, ...]
    rows: list[list[str]]
    people: np.ndarray
    clean: dict[int, list[str]]
    others: np.ndarray

    def attacker_list(self, overlap: float, rng: np.random.Generator
                      ) -> tuple[list[list[str]], np.ndarray]:
        """A public list as long as the encoded population (rows, persons)."""
        n = len(self.rows)
        keep = round(overlap * n)
        chosen = np.concatenate([rng.choice(self.people, keep, replace=False),
                                 rng.choice(self.others, n - keep, replace=False)])
        chosen = chosen[rng.permutation(n)]
        return [self.clean[int(p)] for p in chosen], chosen


def _rows(columns: dict[str, np.ndarray], index: np.ndarray,
          names: tuple[str, ...] = COLUMNS) -> list[list[str]]:
    return [[str(columns[c][i]) if c in columns else "" for c in names] for i in index]


def _one_record_each(tables: tuple, rng: np.random.Generator) -> dict[int, tuple[int, int]]:
    """For each entity seen by any agency, one of its records (table, row), at random."""
    seen: dict[int, tuple[int, int]] = {}
    for t, table in enumerate(tables):
        for i in rng.permutation(len(table)):
            seen.setdefault(int(table.entity[i]), (t, int(i)))
    return seen


def attack_data(records: int, seed: int, schema: str = "victim") -> AttackData:
    """Draw the encoded population and the clean identities of everyone.

    Raises:
        ValueError: the hidden population is too small for ``records``
            encoded people plus an equal-sized list beyond them.
    """
    if schema == "case":
        return _case_attack_data(records, seed)
    # Four hidden people per encoded one: enough for a list with no overlap.
    config = make_config(population=4 * records, cases=False)
    dataset = generate(config, seed)
    rng = np.random.default_rng([seed, 17])
    seen = _one_record_each(dataset.victims, rng)
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
    return AttackData(COLUMNS, rows, people, clean, others)


def _case_attack_data(records: int, seed: int) -> AttackData:
    # About one observed case per two and a half victims; the clean world has
    # the same people, captures and cases (the generator's streams are
    # independent of the noise), so its records are the same cases spelled
    # without noise.
    config = make_config(population=8 * records)
    dataset = generate(config, seed)
    clean_set = generate(make_config(population=8 * records, noise="clean"), seed)
    rng = np.random.default_rng([seed, 19])
    seen = _one_record_each(dataset.cases, rng)
    cases = np.array(sorted(seen))
    if cases.size < 2 * records:
        raise ValueError("too few observed cases for the requested records")
    chosen = rng.choice(cases, records, replace=False)
    rows = [_rows(dataset.cases[seen[int(c)][0]].columns, [seen[int(c)][1]], CASE_COLUMNS)[0]
            for c in chosen]
    clean = {}
    for c, (t, i) in seen.items():
        full = _rows(clean_set.cases[t].columns, [i], CASE_COLUMNS)[0]
        clean[c] = [v if name in CASE_PUBLIC else "" for name, v in zip(CASE_COLUMNS, full,
                                                                       strict=True)]
    return AttackData(CASE_COLUMNS, rows, chosen, clean, np.setdiff1d(cases, chosen))


@dataclass(frozen=True)
class AccuracyData:
    """Every record of every agency, with its true person and its agency."""

    columns: tuple[str, ...]
    rows: list[list[str]]
    truth: np.ndarray
    parties: np.ndarray


def accuracy_data(population: int, seed: int, schema: str = "victim") -> AccuracyData:
    """The four default agencies' registers (victims or cases) of a hidden population."""
    dataset = generate(make_config(population=population, cases=schema == "case"), seed)
    rows, truth, parties = [], [], []
    tables = dataset.cases if schema == "case" else dataset.victims
    for table in tables:
        rows.extend(_rows(table.columns, np.arange(len(table)), COLUMNS_OF[schema]))
        truth.extend(int(e) for e in table.entity)
        parties.extend([table.party] * len(table))
    return AccuracyData(COLUMNS_OF[schema], rows, np.array(truth), np.array(parties))
