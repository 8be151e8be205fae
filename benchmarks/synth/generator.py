"""Generate a multi-agency register: hidden population, captures, records.

Pipeline (vectorised with numpy; one seed drives everything):

1. ``population.build_population``: N people with names, dates, origin and
   a latent visibility.
2. ``capture``: each agency captures each person with a logistic
   probability (visibility and covariates); then referrals copy people from
   one agency's list to another's, making the lists dependent.
3. ``expand_duplicates``: some captured people get a second record.
4. ``render.render_people``: every record spells its person as the agency
   would, with noise.
5. ``cases.generate_cases`` (optional): victims grouped into incidents with
   suspects; agencies record the cases they know.

Independent random streams (population, captures, records, cases) are
spawned from the seed, so turning cases off does not change the victims.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from synth.cases import generate_cases
from synth.config import COVARIATES, DEFAULT_AGENCIES, WorldConfig, make_config
from synth.population import EXPLOITATION, NATIONALITIES, Population, build_population
from synth.render import render_people
from synth.tables import Table, build_tables, summarise

if TYPE_CHECKING:
    import pandas

GENERATOR_VERSION = "tiplink-synth/1"

#: CONTRACT victim columns, in order.
VICTIM_COLUMNS: tuple[str, ...] = (
    "record_id",
    "given_name",
    "family_name",
    "sex",
    "date_of_birth",
    "nationality",
    "place_of_origin",
    "other_names",
)
#: CONTRACT case columns, in order.
CASE_COLUMNS: tuple[str, ...] = (
    "record_id",
    "suspect_names",
    "incident_date",
    "incident_location",
    "exploitation_type",
    "victim_names",
)


@dataclass(frozen=True)
class Dataset:
    """A generated data set.

    Attributes:
        population: the hidden population (known truth).
        held: (N, A) bool, which agency holds which person.
        victims: one table per agency, in configuration order.
        truth: the truth summary (``truth.json``).
        cases: one case table per agency, or empty.
        case_truth: the case truth summary, or None.
        case_members: true membership of observed cases (``case_id``,
            ``role``, ``person_id`` arrays), or None.
    """

    population: Population
    held: np.ndarray
    victims: tuple[Table, ...]
    truth: dict
    cases: tuple[Table, ...] = ()
    case_truth: dict | None = None
    case_members: dict[str, np.ndarray] | None = None


def covariates(pop: Population, destination: str) -> dict[str, np.ndarray]:
    """0/1 covariates of each person (see ``config.COVARIATES``)."""
    exp = pop.exploitation
    domestic = pop.nationality == NATIONALITIES.index(destination)
    cov = {
        "female": pop.female,
        "male": ~pop.female,
        "minor": pop.age < 18.0,
        "labour": exp == EXPLOITATION.index("labour"),
        "sexual": exp == EXPLOITATION.index("sexual"),
        "criminality": exp == EXPLOITATION.index("forced_criminality"),
        "marriage": exp == EXPLOITATION.index("forced_marriage"),
        "domestic": domestic,
        "foreign": ~domestic,
    }
    return {k: v.astype(np.float64) for k, v in cov.items()}


def capture_probabilities(pop: Population, config: WorldConfig) -> np.ndarray:
    """(N, A) first-contact capture probabilities (before referrals).

    Raises:
        ValueError: an agency names an unknown covariate.
    """
    cov = covariates(pop, config.destination)
    probs = np.empty((pop.size, len(config.agencies)))
    for j, ag in enumerate(config.agencies):
        unknown = sorted(set(ag.effects) - set(COVARIATES))
        if unknown:
            raise ValueError(f"agency {ag.name}: unknown covariate(s) {unknown}")
        logit = np.log(ag.base_rate / (1.0 - ag.base_rate)) + ag.visibility_loading * pop.visibility
        for name, effect in ag.effects.items():
            logit = logit + effect * cov[name]
        probs[:, j] = 1.0 / (1.0 + np.exp(-logit))
    return probs


def capture(pop: Population, config: WorldConfig, rng: np.random.Generator) -> np.ndarray:
    """Who each agency holds: (N, A) bool, after referrals (in config order)."""
    held = rng.random((pop.size, len(config.agencies))) < capture_probabilities(pop, config)
    index = {name: j for j, name in enumerate(config.party_names)}
    cov = covariates(pop, config.destination)
    for ref in config.active_referrals():
        s, t = index[ref.source], index[ref.target]
        referred = held[:, s] & (rng.random(pop.size) < ref.probability)
        if ref.only is not None:
            if ref.only not in cov:
                raise ValueError(
                    f"referral {ref.source}->{ref.target}: unknown covariate {ref.only}"
                )
            referred &= cov[ref.only] > 0
        held[:, t] |= referred
    return held


def expand_duplicates(
    held: np.ndarray, rate: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Records (person, agency) for every capture, with within-agency duplicates.

    Each capture gets a second record with probability ``rate`` and a third
    with ``rate / 10`` (registered again at another office or intake).
    """
    person, agency = np.nonzero(held)
    copies = 1 + (rng.random(person.size) < rate) + (rng.random(person.size) < rate / 10.0)
    return np.repeat(person, copies), np.repeat(agency, copies)


def _population(config: WorldConfig, n: int, rng: np.random.Generator) -> Population:
    return build_population(
        n,
        config.nationality_mix,
        rng,
        reference_date=config.reference_date,
        minor_share=config.minor_share,
        heterogeneity=config.heterogeneity,
        spelling_variant=config.spelling_variant,
    )


def generate(config: WorldConfig, seed: int) -> Dataset:
    """Generate a data set.

    Args:
        config: the world.
        seed: random seed; the same seed and config give identical output.

    Returns:
        The data set (victim tables, truth, and cases when configured).
    """
    pop_ss, cap_ss, rec_ss, case_ss = np.random.SeedSequence(seed).spawn(4)
    pop = _population(config, config.population, np.random.default_rng(pop_ss))
    held = capture(pop, config, np.random.default_rng(cap_ss))
    rec_rng = np.random.default_rng(rec_ss)
    person, agency = expand_duplicates(held, config.duplicate_rate, rec_rng)
    rendered = render_people(pop, person, agency, config, rec_rng)
    columns = {c: rendered.fields[c] for c in VICTIM_COLUMNS[1:]}
    tables = build_tables(
        config.agencies, person, agency, columns, rendered.flags,
        id_infix="", entity_prefix="P", total=config.population, rng=rec_rng,
    )  # fmt: skip
    truth = summarise(held, tables, config.population, "population")
    truth.update(seed=int(seed), generator=GENERATOR_VERSION, parameters=config_to_dict(config))
    if config.cases is None:
        return Dataset(population=pop, held=held, victims=tables, truth=truth)
    case_tables, case_truth, members = generate_cases(
        pop, held, config, np.random.default_rng(case_ss)
    )
    case_truth.update(seed=int(seed), generator=GENERATOR_VERSION)
    return Dataset(
        population=pop,
        held=held,
        victims=tables,
        truth=truth,
        cases=case_tables,
        case_truth=case_truth,
        case_members=members,
    )


def population_for_records(config: WorldConfig, target_records: int, seed: int) -> int:
    """The population size N that gives about ``target_records`` victim records.

    A pilot population of 50,000 (its own random stream, so the answer is
    deterministic) measures records per person under ``config``'s capture
    and duplicate model.
    """
    pilot_n = 50_000
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    pop = _population(config, pilot_n, rng)
    held = capture(pop, config, rng)
    person, _ = expand_duplicates(held, config.duplicate_rate, rng)
    per_person = max(person.size / pilot_n, 1e-9)
    return max(1, round(target_records / per_person))


def config_to_dict(config: WorldConfig) -> dict:
    """JSON-ready parameters of ``config`` (recorded in truth.json)."""
    return _plain(dataclasses.asdict(config))


def _plain(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return round(value, 6)
    return value


@dataclass(frozen=True)
class GeneratorConfig:
    """The common knobs in one place, for scripts that want victim frames.

    Attributes:
        population: true number of victims N.
        seed: random seed.
        agencies: party names.
        noise: noise preset name (``clean``, ``default``, ``hard``).
        duplicate_rate: within-agency duplicate rate.
    """

    population: int = 5000
    seed: int = 1
    agencies: tuple[str, ...] = DEFAULT_AGENCIES
    noise: str = "default"
    duplicate_rate: float = 0.07


@dataclass(frozen=True)
class VictimFrames:
    """Victim records as pandas frames.

    Attributes:
        records: one frame per party with the CONTRACT victim columns.
        truth: frame ``party, record_id, person_id``.
        summary: the truth summary (``truth.json`` content).
    """

    records: dict[str, pandas.DataFrame]
    truth: pandas.DataFrame
    summary: dict


def generate_victims(config: GeneratorConfig) -> VictimFrames:
    """Victim records only, as pandas frames (no case data)."""
    import pandas as pd  # only this convenience needs pandas; keep start-up light

    world = make_config(
        config.agencies,
        population=config.population,
        noise=config.noise,
        duplicate_rate=config.duplicate_rate,
        cases=False,
    )
    dataset = generate(world, config.seed)
    records = {
        t.party: pd.DataFrame({c: t.columns[c] for c in VICTIM_COLUMNS}) for t in dataset.victims
    }
    truth = pd.concat(
        [
            pd.DataFrame(
                {"party": t.party, "record_id": t.columns["record_id"], "person_id": t.truth_ids}
            )
            for t in dataset.victims
        ],
        ignore_index=True,
    )
    return VictimFrames(records=records, truth=truth, summary=dataset.truth)
