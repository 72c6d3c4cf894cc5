"""Districts as administrative divisions (GB/T 2260): one district, whatever its spelling.

What belongs here: reading a district written as its full name, short name or six-digit
division code (浦东新区 / 浦东 / 310115) as one canonical district, and that district's code —
from the contract's `district` enum (`models/contracts.yaml`), where each district lists its
short name and code as synonyms. Ingestion uses the same enum, so a firm or inspector whose
district is none of them is quarantined (`invalid_enum`, naming the column) and never guessed.
`市级` is the city level (an inspector of the city's office, not of a district).

What does not: which districts a round covers (`models.sampling.params`), any I/O. A
jurisdiction adds its own districts to the enum (a line each); no code changes.
"""

from __future__ import annotations

import re

from models.contracts import default_contracts, header_key

DISTRICT_ENUM = "district"
CITY_LEVEL = "市级"
"""The roster's word for the city's own inspectors (and the city-level office)."""

_CODE = re.compile(r"^\d{6}$")


def district_names() -> tuple[str, ...]:
    """Every canonical district (the city level excluded), in the contract's order."""
    return tuple(d for d in default_contracts().enum_values(DISTRICT_ENUM) if d != CITY_LEVEL)


def normalise_district(text: str | None) -> str | None:
    """The canonical district (or `市级`) for any accepted spelling; None when unknown."""
    if text is None:
        return None
    return default_contracts().enum_lookup(DISTRICT_ENUM).get(header_key(str(text)))


def district_code(name: str | None) -> str | None:
    """The GB/T 2260 code of a canonical district (the six-digit synonym), else None."""
    if name is None:
        return None
    synonyms = default_contracts().enums[DISTRICT_ENUM].get(name, ())
    return next((s for s in synonyms if _CODE.match(s)), None)


class UnknownDistrictError(ValueError):
    """A district that is none of the known spellings."""


def require_district(text: str, field: str) -> str:
    """`normalise_district`, raising with the field's name when unknown."""
    canonical = normalise_district(text)
    if canonical is None:
        known = "、".join(district_names()[:5])
        raise UnknownDistrictError(
            f"{field}: {text!r} is not a known district (full name, short name or GB/T 2260 "
            f"code, e.g. {known} …; see the `district` enum of models/contracts.yaml)"
        )
    return canonical
