"""Country codes and names as the event data sets write them, to ISO 3166-1 alpha-3.

- ISO alpha-3 (PLOVER/POLECAT, CAMEO's country part, ACLED's ``iso`` is numeric: see below);
- CAMEO actor codes: a country's alpha-3 followed by a role (``RUSGOV``, ``GBRMIL``): the first
  three letters, when they are a country code (``IGOUNO``, ``NGO``… are no country);
- FIPS 10-4 (GDELT's geography fields: ``RS`` is Russia, ``UK`` the United Kingdom), through
  :data:`FIPS_ISO3`, which covers the sovereign states and Kosovo;
- ISO 3166-1 numeric (ACLED's ``iso``);
- English names (ICEWS's ``Source Country``, ACLED's ``country``): matched exactly, case
  aside, against ISO's names (name, official name, common name) and :data:`NAME_ALIASES`;
  nothing is matched loosely (a fuzzy match takes "Kosovo" for Serbia).

Anything else is unknown (``None``), and the converters count it in their report.
"""

from functools import cache

import pycountry

from app.actors.codes import CAMEO_COUNTRY_ALIASES
from app.vocab import COUNTRY_CODES, COUNTRY_EXCEPTIONS

FIPS_ISO3 = dict(
    pair.split(":")
    for pair in (
        "AF:AFG AL:ALB AG:DZA AN:AND AO:AGO AC:ATG AR:ARG AM:ARM AS:AUS AU:AUT AJ:AZE BF:BHS BA:BHR BG:BGD "
        "BB:BRB BO:BLR BE:BEL BH:BLZ BN:BEN BT:BTN BL:BOL BK:BIH BC:BWA BR:BRA BX:BRN BU:BGR UV:BFA BY:BDI "
        "CB:KHM CM:CMR CA:CAN CV:CPV CT:CAF CD:TCD CI:CHL CH:CHN CO:COL CN:COM CF:COG CG:COD CS:CRI IV:CIV "
        "HR:HRV CU:CUB CY:CYP EZ:CZE DA:DNK DJ:DJI DO:DMA DR:DOM EC:ECU EG:EGY ES:SLV EK:GNQ ER:ERI EN:EST "
        "WZ:SWZ ET:ETH FJ:FJI FI:FIN FR:FRA GB:GAB GA:GMB GG:GEO GM:DEU GH:GHA GR:GRC GJ:GRD GT:GTM GV:GIN "
        "PU:GNB GY:GUY HA:HTI HO:HND HU:HUN IC:ISL IN:IND ID:IDN IR:IRN IZ:IRQ EI:IRL IS:ISR IT:ITA JM:JAM "
        "JA:JPN JO:JOR KZ:KAZ KE:KEN KR:KIR KN:PRK KS:KOR KV:XKX KU:KWT KG:KGZ LA:LAO LG:LVA LE:LBN LT:LSO "
        "LI:LBR LY:LBY LS:LIE LH:LTU LU:LUX MA:MDG MI:MWI MY:MYS MV:MDV ML:MLI MT:MLT RM:MHL MR:MRT MP:MUS "
        "MX:MEX FM:FSM MD:MDA MN:MCO MG:MNG MJ:MNE MO:MAR MZ:MOZ BM:MMR WA:NAM NR:NRU NP:NPL NL:NLD NZ:NZL "
        "NU:NIC NG:NER NI:NGA MK:MKD NO:NOR MU:OMN PK:PAK PS:PLW PM:PAN PP:PNG PA:PRY PE:PER RP:PHL PL:POL "
        "PO:PRT QA:QAT RO:ROU RS:RUS RW:RWA SC:KNA ST:LCA VC:VCT WS:WSM SM:SMR TP:STP SA:SAU SG:SEN RI:SRB "
        "SE:SYC SL:SLE SN:SGP LO:SVK SI:SVN BP:SLB SO:SOM SF:ZAF OD:SSD SP:ESP CE:LKA SU:SDN NS:SUR SW:SWE "
        "SZ:CHE SY:SYR TW:TWN TI:TJK TZ:TZA TH:THA TT:TLS TO:TGO TN:TON TD:TTO TS:TUN TU:TUR TX:TKM TV:TUV "
        "UG:UGA UP:UKR AE:ARE UK:GBR US:USA UY:URY UZ:UZB NH:VUT VT:VAT VE:VEN VM:VNM YM:YEM ZA:ZMB ZI:ZWE "
        "WE:PSE GZ:PSE"
    ).split()
)
"""FIPS 10-4 country codes (as GDELT writes its ``*Geo_CountryCode`` fields) of the sovereign
states, Kosovo and the Palestinian territories (``WE`` West Bank and ``GZ`` Gaza Strip, both
``PSE``), to ISO alpha-3. Dependencies (``GQ`` Guam, ``RQ`` Puerto Rico…) are not listed and
count as unknown."""

NAME_ALIASES = {
    "russia": "RUS",
    "turkey": "TUR",
    "ivory coast": "CIV",
    "cote d'ivoire": "CIV",
    "cape verde": "CPV",
    "swaziland": "SWZ",
    "burma": "MMR",
    "kosovo": "XKX",
    "macedonia": "MKD",
    "democratic republic of congo": "COD",
    "democratic republic of the congo": "COD",
    "congo, democratic republic of": "COD",
    "republic of congo": "COG",
    "republic of the congo": "COG",
    "congo": "COG",
    "occupied palestinian territory": "PSE",
    "palestine": "PSE",
    "east timor": "TLS",
    "vatican": "VAT",
    "united states of america": "USA",
    "czech republic": "CZE",
    "north macedonia": "MKD",
    "eswatini": "SWZ",
    "micronesia": "FSM",
    "bahamas": "BHS",
    "gambia": "GMB",
}
"""English names the data sets use that are none of ISO's own (lower case)."""


def iso3(code: str | None) -> str | None:
    """``code`` if it is a country code taken (:data:`app.vocab.COUNTRY_CODES`)."""
    code = (code or "").strip().upper()
    return code if code in COUNTRY_CODES else None


def from_cameo(code: str | None) -> str | None:
    """The country of a CAMEO actor code (``RUSGOV`` → ``RUS``), or ``None`` (``IGOUNO``)."""
    code = (code or "").strip().upper()[:3]
    return iso3(CAMEO_COUNTRY_ALIASES.get(code, code))


def from_fips(code: str | None) -> str | None:
    return FIPS_ISO3.get((code or "").strip().upper())


def from_numeric(code: str | None) -> str | None:
    """ISO 3166-1 numeric (``643`` → ``RUS``)."""
    code = (code or "").strip()
    if not code.isdigit():
        return None
    country = pycountry.countries.get(numeric=code.zfill(3))
    return country.alpha_3 if country else None


@cache
def from_name(name: str | None) -> str | None:
    key = (name or "").strip().lower()
    if not key:
        return None
    if key in NAME_ALIASES:
        return NAME_ALIASES[key]
    for country in pycountry.countries:
        names = (country.name, getattr(country, "official_name", ""), getattr(country, "common_name", ""))
        if key in (n.lower() for n in names if n):
            return country.alpha_3
    return None


def country_name(code: str) -> str:
    """The common English name of a country code taken."""
    if code in COUNTRY_EXCEPTIONS:
        return COUNTRY_EXCEPTIONS[code]
    country = pycountry.countries.get(alpha_3=code) or pycountry.historic_countries.get(alpha_3=code)
    return getattr(country, "common_name", None) or country.name


def state_codes(code: str) -> dict[str, str]:
    """The codes of the state of the ISO alpha-3 ``code`` that a converter gives the state
    actor it creates: ``iso3``, and ``iso2`` where ISO has one (withdrawn codes have none)."""
    country = pycountry.countries.get(alpha_3=code)
    return {"iso3": code} | ({"iso2": country.alpha_2} if country is not None else {})
