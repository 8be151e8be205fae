"""The encodings under attack: a plain CLK, the bundled schema and its hardenings.

Each variant is a linkage-schema document built from the bundled ``victim``
schema (or the clkhash-style plain CLK) by changing only the documented
hardening keys, so what is measured is exactly what a user would switch on.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tiplink.encoders.schema import LinkageSchema, parse_schema

PLAIN_CLK = Path(__file__).with_name("schemas") / "plain-clk.json"
BUNDLED = Path(__file__).resolve().parents[2] / "encoders" / "schemas"
# Features that hold a person's name-like text (salting targets).
_SALTED_FEATURES = ("name", "place_of_origin", "victim_names", "suspect_names",
                    "incident_location")
_DATE_FEATURES = ("date_of_birth", "incident_date")


@dataclass(frozen=True)
class Variant:
    """One encoding configuration.

    Attributes:
        key: short identifier used in result tables.
        label: what it is, for people.
        document: the linkage schema document.
    """

    key: str
    label: str
    document: dict[str, Any]

    @property
    def kind(self) -> str:
        """The records it encodes: ``victim`` or ``case``."""
        return "case" if self.key.startswith("case") else "victim"

    def schema(self) -> LinkageSchema:
        """The parsed schema."""
        return parse_schema(copy.deepcopy(self.document), name=self.key)


def _base(name: str) -> dict[str, Any]:
    if name == "plain":
        return json.loads(PLAIN_CLK.read_text(encoding="utf-8"))
    # This checkout's bundled schema (not an installed copy's).
    return json.loads((BUNDLED / f"{name}.json").read_text(encoding="utf-8"))


def with_hardening(document: dict[str, Any], *, balance: bool = False,
                   blip: float | None = None, random_hashing: bool = False,
                   folds: int = 0, salt: str | None = None, sample_names: float | None = None,
                   sample_dates: float | None = None) -> dict[str, Any]:
    """A copy of ``document`` with exactly the given hardening switched on."""
    doc = copy.deepcopy(document)
    doc["clkConfig"].pop("xor_folds", None)
    for feature in doc["features"]:
        feature.get("x-tiplink", {}).pop("salt", None)
        feature.get("x-tiplink", {}).pop("sampling", None)
    ext = doc.setdefault("x-tiplink", {})
    hardening: dict[str, Any] = {}
    if balance:
        hardening["balance"] = True
    if blip is not None:
        hardening["blip"] = {"epsilon": blip}
    if random_hashing:
        hardening["randomHashing"] = True
    if hardening:
        ext["hardening"] = hardening
    else:
        ext.pop("hardening", None)
    if folds:
        # The output length stays; each segment hashes into 2**folds times its bits.
        doc["clkConfig"]["xor_folds"] = folds
    for features, rate in ((_SALTED_FEATURES, sample_names), (_DATE_FEATURES, sample_dates)):
        if rate is None:
            continue
        for feature in doc["features"]:
            if feature.get("identifier") in features:
                feature.setdefault("x-tiplink", {})["sampling"] = {"rate": rate}
    if salt is not None:
        for feature in doc["features"]:
            if feature.get("identifier") in _SALTED_FEATURES:
                feature.setdefault("x-tiplink", {})["salt"] = {"column": salt, "derive": "year"}
    return doc


def parse_variant(spec: str) -> Variant:
    """Build a variant from its specification (see ``run.py``).

    Examples: ``plain-clk``, ``victim``, ``victim-bundled``,
    ``victim+salt+blip16``, ``case+bal``.

    Raises:
        ValueError: an unknown base or hardening.
    """
    base, *parts = spec.split("+")
    if base.endswith("-bundled"):
        if parts:
            raise ValueError("a bundled schema is measured as shipped, without additions")
        name = base.removesuffix("-bundled")
        return Variant(spec, f"bundled `{name}` schema as shipped", _base(name))
    if base == "plain-clk":
        document = _base("plain")
    elif base in ("victim", "case"):
        document = _base(base)
    else:
        raise ValueError(f"unknown base {base!r}")
    options: dict[str, Any] = {}
    for part in parts:
        if part == "bal":
            options["balance"] = True
        elif part == "xor":
            options["folds"] = 1
        elif part == "rh":
            options["random_hashing"] = True
        elif part == "salt":
            options["salt"] = "incident_date" if base == "case" else "date_of_birth"
        elif part.startswith("samp"):
            options["sample_names"] = float(part.removeprefix("samp")) / 100
        elif part.startswith("dsamp"):
            options["sample_dates"] = float(part.removeprefix("dsamp")) / 100
        elif part.startswith("blip"):
            options["blip"] = float(part.removeprefix("blip"))
        else:
            raise ValueError(f"unknown hardening {part!r}")
    # Start from no hardening, so that only what the specification names is on.
    return Variant(spec, spec, with_hardening(document, **options))
