"""World parameters: agencies, their capture model, referrals, cases.

Defaults describe anti-trafficking registers in a destination country
(Thailand by default): police, the social-welfare ministry, NGOs and the
embassies of the victims' countries, with four more agency kinds available.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from synth.noise import NoiseConfig, preset

#: Person attributes an agency's capture probability can depend on.
COVARIATES: tuple[str, ...] = (
    "female",
    "male",
    "minor",
    "labour",
    "sexual",
    "criminality",
    "marriage",
    "domestic",
    "foreign",
)


@dataclass(frozen=True)
class AgencyConfig:
    """One agency (party): how it captures people and writes names.

    Attributes:
        name: party name (file name and CONTRACT party).
        prefix: record-id prefix (``POL`` gives ``POL-000123``).
        base_rate: capture probability of a person of average visibility
            with no covariate effects.
        visibility_loading: weight of the person's latent visibility on the
            log-odds of capture (heterogeneity felt by this agency).
        effects: log-odds shift per covariate (see ``COVARIATES``).
        native_script: probability of writing a name in its native script,
            by nationality (ISO alpha-3), ``"*"`` for any other.
        noise_scale: multiplier on every noise rate for this agency.
    """

    name: str
    prefix: str
    base_rate: float
    visibility_loading: float = 1.0
    effects: Mapping[str, float] = field(default_factory=dict)
    native_script: Mapping[str, float] = field(default_factory=dict)
    noise_scale: float = 1.0

    def native_rate(self, nationality: str) -> float:
        """Native-script probability for people of ``nationality``."""
        return float(self.native_script.get(nationality, self.native_script.get("*", 0.0)))


@dataclass(frozen=True)
class Referral:
    """After first capture, ``source`` refers people to ``target``.

    A person held by ``source`` and not yet by ``target`` is added to
    ``target`` with ``probability``: the lists become positively dependent.
    With ``only`` set to a covariate name (see ``COVARIATES``), only people
    with that covariate are referred (embassies take only foreign nationals).
    """

    source: str
    target: str
    probability: float
    only: str | None = None


@dataclass(frozen=True)
class CaseConfig:
    """Case (incident) records: how cases form, are known, and are written.

    Attributes:
        mean_victims: mean number of victims per case (geometric sizes).
        mean_suspects: mean number of suspects per case (at least one).
        suspect_pool_ratio: distinct suspects per case; below one, some
            suspects (brokers) recur across cases.
        known_if_victim_registered: an agency records the case when it
            registered at least one of its victims, with this probability.
        known_otherwise: probability of recording a case with none of its
            victims registered at that agency.
        victim_listed_registered: a victim the agency registered is named.
        victim_listed_other: another victim of the case is named.
        suspect_listed: a suspect is named.
        max_names: at most this many names in one list.
        duplicate_rate: a case recorded twice by one agency.
        date_missing, date_year_month, date_year_only, date_shifted:
            incident date noise (shifted by 1-30 days either way).
        location_missing, location_variant: incident location noise.
        type_missing, type_wrong: exploitation type noise.
        first_date, last_date: range of incident dates.
    """

    mean_victims: float = 2.5
    mean_suspects: float = 1.6
    suspect_pool_ratio: float = 0.6
    known_if_victim_registered: float = 0.85
    known_otherwise: float = 0.02
    victim_listed_registered: float = 0.85
    victim_listed_other: float = 0.3
    suspect_listed: float = 0.7
    max_names: int = 8
    duplicate_rate: float = 0.04
    date_missing: float = 0.05
    date_year_month: float = 0.10
    date_year_only: float = 0.03
    date_shifted: float = 0.15
    location_missing: float = 0.10
    location_variant: float = 0.30
    type_missing: float = 0.08
    type_wrong: float = 0.05
    first_date: str = "2019-01-01"
    last_date: str = "2024-06-30"


#: The eight agency kinds the generator knows; others get generic settings.
AGENCY_CATALOGUE: dict[str, AgencyConfig] = {
    a.name: a
    for a in (
        # Police: raids on fishing boats, factories, scam compounds: men and
        # labour/criminality cases more visible; Thai names in Thai script.
        AgencyConfig(
            "police", "POL", 0.16, 1.0,
            {"male": 0.3, "labour": 0.3, "criminality": 0.5},
            {"THA": 0.6, "LAO": 0.05}, 1.2,
        ),
        # Social welfare: shelters and child protection: women and minors.
        AgencyConfig(
            "welfare", "WEL", 0.14, 0.8,
            {"female": 0.4, "minor": 0.8},
            {"THA": 0.5}, 1.0,
        ),
        # NGOs: outreach, sexual exploitation, women; mostly romanise.
        AgencyConfig(
            "ngo", "NGO", 0.18, 1.2,
            {"female": 0.3, "sexual": 0.4},
            {"VNM": 0.4, "PHL": 0.3, "*": 0.12}, 0.8,
        ),
        # Embassies register their own nationals for repatriation (few
        # nationals of the destination country), in their own script.
        AgencyConfig(
            "embassy", "EMB", 0.14, 0.6,
            {"domestic": -2.5},
            {"*": 0.6, "THA": 0.2}, 0.9,
        ),
        AgencyConfig("immigration", "IMM", 0.12, 0.7, {"domestic": -3.0, "male": 0.2}, {}, 1.3),
        AgencyConfig(
            "labour", "LAB", 0.08, 0.9, {"labour": 1.0, "sexual": -1.0}, {"THA": 0.4}, 1.1
        ),
        AgencyConfig(
            "shelter", "SHE", 0.10, 1.0, {"female": 0.8, "minor": 0.5}, {"THA": 0.3, "*": 0.1}, 0.9
        ),
        AgencyConfig("hotline", "HOT", 0.10, 1.4, {}, {}, 1.6),
    )
}  # fmt: skip

#: Referral routes, applied in this order where both agencies are present.
DEFAULT_REFERRALS: tuple[Referral, ...] = (
    Referral("police", "welfare", 0.35),
    Referral("hotline", "ngo", 0.40),
    Referral("immigration", "police", 0.30),
    Referral("labour", "police", 0.20),
    Referral("ngo", "embassy", 0.25, only="foreign"),
    Referral("welfare", "ngo", 0.15),
    Referral("shelter", "welfare", 0.30),
)

#: Nationalities of identified victims in the default (Thai) setting.
DEFAULT_NATIONALITY_MIX: dict[str, float] = {
    "MMR": 0.30,
    "THA": 0.22,
    "KHM": 0.15,
    "LAO": 0.12,
    "VNM": 0.08,
    "IDN": 0.05,
    "PHL": 0.04,
    "MYS": 0.04,
}

#: Nationalities of suspects (brokers, recruiters, boat captains, bosses).
SUSPECT_NATIONALITY_MIX: dict[str, float] = {
    "THA": 0.45,
    "MMR": 0.15,
    "MYS": 0.12,
    "KHM": 0.08,
    "LAO": 0.07,
    "VNM": 0.05,
    "IDN": 0.04,
    "PHL": 0.04,
}

DEFAULT_AGENCIES: tuple[str, ...] = ("police", "welfare", "ngo", "embassy")
MAX_AGENCIES = 8


@dataclass(frozen=True)
class WorldConfig:
    """Everything that defines a synthetic data set except the seed.

    Attributes:
        population: true number of victims N.
        agencies: the parties.
        referrals: referral routes among them.
        heterogeneity: standard deviation of people's latent visibility.
        duplicate_rate: probability that a person held by an agency has a
            second record there (a third with a tenth of that).
        nationality_mix: share of each nationality among victims.
        destination: the country where the registers are kept (ISO alpha-3).
        reference_date: date at which ages are taken.
        minor_share: share of children among victims.
        spelling_variant: share of name parts whose usual romanisation is not
            the most common one.
        noise: record noise rates.
        cases: case-record settings, or None for no case data.
    """

    population: int = 5000
    agencies: tuple[AgencyConfig, ...] = tuple(AGENCY_CATALOGUE[a] for a in DEFAULT_AGENCIES)
    referrals: tuple[Referral, ...] = DEFAULT_REFERRALS
    heterogeneity: float = 1.0
    duplicate_rate: float = 0.07
    nationality_mix: Mapping[str, float] = field(
        default_factory=lambda: dict(DEFAULT_NATIONALITY_MIX)
    )
    destination: str = "THA"
    reference_date: str = "2024-06-30"
    minor_share: float = 0.2
    spelling_variant: float = 0.2
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    cases: CaseConfig | None = field(default_factory=CaseConfig)

    @property
    def party_names(self) -> tuple[str, ...]:
        """Agency names in configuration order."""
        return tuple(a.name for a in self.agencies)

    def active_referrals(self) -> tuple[Referral, ...]:
        """Referrals whose source and target are both present."""
        names = set(self.party_names)
        return tuple(r for r in self.referrals if r.source in names and r.target in names)


def agency(name: str) -> AgencyConfig:
    """The catalogue settings for ``name``, or generic ones for a new name."""
    if name in AGENCY_CATALOGUE:
        return AGENCY_CATALOGUE[name]
    return AgencyConfig(name, name[:3].upper(), 0.12, 1.0, {}, {"*": 0.1}, 1.0)


def make_config(
    agencies: Sequence[str] = DEFAULT_AGENCIES,
    *,
    population: int = 5000,
    noise: str | NoiseConfig = "default",
    noise_overrides: Mapping[str, float] | None = None,
    duplicate_rate: float = 0.07,
    heterogeneity: float = 1.0,
    cases: bool = True,
) -> WorldConfig:
    """Build a ``WorldConfig`` from the common knobs.

    Args:
        agencies: 2 to 8 distinct party names (catalogue names get their
            catalogue settings).
        population: true number of victims.
        noise: a preset name (``clean``, ``default``, ``hard``) or a config.
        noise_overrides: individual noise rates to replace.
        duplicate_rate: within-agency duplicate rate.
        heterogeneity: standard deviation of latent visibility.
        cases: whether to generate case records.

    Raises:
        ValueError: on an invalid agency list or setting.
    """
    names = list(agencies)
    if not 2 <= len(names) <= MAX_AGENCIES:
        raise ValueError(f"need 2 to {MAX_AGENCIES} agencies, got {len(names)}")
    if len(set(names)) != len(names):
        raise ValueError("agency names must be distinct")
    for name in names:
        if not name.isidentifier() or not name.islower():
            raise ValueError("agency names must be lower-case identifiers (letters, digits, _)")
    if population < 1:
        raise ValueError("population must be at least 1")
    if not 0.0 <= duplicate_rate < 1.0:
        raise ValueError("duplicate rate must be in [0, 1)")
    configs = []
    prefixes: set[str] = set()
    for name in names:
        cfg = agency(name)
        prefix = cfg.prefix
        k = 2
        while prefix in prefixes:
            prefix = f"{cfg.prefix}{k}"
            k += 1
        prefixes.add(prefix)
        configs.append(cfg if prefix == cfg.prefix else replace(cfg, prefix=prefix))
    rates = preset(noise) if isinstance(noise, str) else noise
    if noise_overrides:
        rates = rates.with_updates(**noise_overrides)
    return WorldConfig(
        population=population,
        agencies=tuple(configs),
        heterogeneity=heterogeneity,
        duplicate_rate=duplicate_rate,
        noise=rates,
        cases=CaseConfig() if cases else None,
    )
