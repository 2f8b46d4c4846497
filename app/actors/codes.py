"""Actors' codes in the code systems of event data, and references written ``scheme:value``.

An actor may carry one code in each scheme, unique within the scheme:

- ``iso3``: ISO 3166-1 alpha-3 (``RUS``); ``iso2``: alpha-2 (``RU``);
- ``fips``: FIPS 10-4, GDELT's geography (``RS``);
- ``cameo``: a CAMEO actor code, a country's code alone (``RUS``) or followed by a role
  (``RUSGOV``, ``RUSMIL``: :data:`CAMEO_ROLES`), or an international body's (``IGOUNO``);
- ``cow``: the Correlates of War country number (``365``); ``gw``: the Gleditsch–Ward number
  (``365``);
- ``wikidata``: a Wikidata item id (``Q159``).

Wherever an actor is named (paths, filters, bodies), ``scheme:value`` names the actor with
that code (``iso3:RUS``, ``cameo:RUSGOV``, ``wikidata:Q159``; letters in any case). A CAMEO
code of three letters also names the state with that ISO alpha-3 code (CAMEO's own country
codes, ``JAP`` for Japan, are read as ISO's). Each scheme is registered as a path key
(:func:`app.kit.keys.coded`) when this module is imported, as the actors' table does.
"""

import re
from functools import partial

from app.kit import keys

SCHEMES = ("iso3", "iso2", "fips", "cameo", "cow", "gw", "wikidata")
"""The code schemes, in the order the answer lists them."""

COLUMNS = {scheme: f"code_{scheme}" for scheme in SCHEMES}
"""The actors' column of each scheme."""

NUMBERED = frozenset({"cow", "gw"})
"""Schemes whose codes are numbers (kept as their digits, answered as integers)."""

PATTERNS = {
    "iso3": r"^[A-Z]{3}$",
    "iso2": r"^[A-Z]{2}$",
    "fips": r"^[A-Z]{2}$",
    "cameo": r"^[A-Z]{3}(?:[A-Z]{3}){0,4}$",
    "wikidata": r"^Q[1-9][0-9]{0,11}$",
}
"""What a code of each lettered scheme looks like, once upper-cased (as the answer writes it)."""

CAMEO_COUNTRY_ALIASES = {"JAP": "JPN", "ITL": "ITA", "ROM": "ROU", "SER": "SRB", "KOS": "XKX", "YUG": "YUG"}
"""CAMEO's own country codes where they differ from ISO alpha-3 (CAMEO 1.1b3's actor
dictionaries and PLOVER's gold-standard records write Japan ``JAP`` and Italy ``ITL``)."""

CAMEO_ROLES = {
    "GOV": ("government", "Government of {}"),
    "MIL": ("armed-forces", "Armed forces of {}"),
    "SPY": ("intelligence", "Intelligence services of {}"),
    "COP": ("police", "Police of {}"),
    "JUD": ("judiciary", "Judiciary of {}"),
    "LEG": ("legislature", "Legislature of {}"),
}
"""CAMEO's roles of a state's own bodies, with the slug word and name of the body that a
converter creates, affiliated to the state, when a country's code with the role is met and no
actor carries it (``RUSGOV``: ``russia-government``, "Government of Russia"). Other roles
(``BUS``, ``MED``, ``OPP``, ``REB``…) are no part of a state: a converter reads their country
alone."""


def normal(scheme: str, value: str) -> str:
    """``value`` as a code of ``scheme`` is kept and looked up: letters upper-cased, a CAMEO
    code's country part as ISO writes it, a number without leading zeros."""
    value = value.strip()
    if scheme in NUMBERED:
        return str(int(value)) if value.isdigit() else value
    value = value.upper()
    if scheme == "cameo":
        value = CAMEO_COUNTRY_ALIASES.get(value[:3], value[:3]) + value[3:]
    return value


def columns(scheme: str) -> tuple[str, ...]:
    """The columns a reference ``scheme:value`` is matched against: the scheme's own, and for
    a CAMEO code the ISO alpha-3 code too (a country's CAMEO code is its state's)."""
    return (COLUMNS[scheme], COLUMNS["iso3"]) if scheme == "cameo" else (COLUMNS[scheme],)


def valid(scheme: str, value: str) -> bool:
    """Whether ``value`` (normalised) has the form of a code of ``scheme``."""
    if scheme in NUMBERED:
        return value.isdigit() and 0 < int(value) < 10_000
    return re.match(PATTERNS[scheme], value) is not None


REFERENCE = "an id, a slug or a code written `scheme:value` (`iso3:RUS`, `cameo:RUSGOV`, `wikidata:Q159`)"
"""How an actor may be named, for the API's descriptions."""

INCLUDE_AFFILIATED = (
    "With `true`, an actor named by `actor`, `initiator` or `target` stands for the actors affiliated to it too, "
    "at any depth (Russia: its government, ministry and armed forces, and their people), each counted as the "
    "actor it belongs to."
)


def _read(scheme: str, key: str) -> tuple[tuple[str, ...], str]:
    return columns(scheme), normal(scheme, key)


for _scheme in SCHEMES:
    keys.coded(_scheme, COLUMNS[_scheme], partial(_read, _scheme))
