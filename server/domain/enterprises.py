"""Enterprise directory rules: the USCC check character and the classification vocabularies."""

from __future__ import annotations

import unicodedata

from server.domain.errors import ValidationFailed

# GB 32100-2015: the 31 characters a unified social credit code may use (no I, O, Z, S, V).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {ch: i for i, ch in enumerate(USCC_ALPHABET)}
# The stored form: registration authority and category, a six-digit division code, the
# nine-character organisation code and the check character (which the pattern cannot check).
USCC_PATTERN = f"^[{USCC_ALPHABET}]{{2}}[0-9]{{6}}[{USCC_ALPHABET}]{{10}}$"
# Weight of position i (0-based) is 3**i mod 31.
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))

INDUSTRIES: dict[str, str] = {
    "metallurgy": "冶金",
    "nonferrous": "有色",
    "building_materials": "建材",
    "machinery": "机械",
    "light_industry": "轻工",
    "textiles": "纺织",
    "tobacco": "烟草",
    "commerce_trade": "商贸",
    "hazardous_chemicals": "危险化学品",
    "mining": "非煤矿山",
    "fireworks": "烟花爆竹",
    "other": "其他",
}
# Classified-graded supervision (分类分级): seed 000 grades 390 good / 0 medium / 3 poor.
RISK_GRADES: dict[str, str] = {"good": "好", "medium": "中", "poor": "差"}
CREDIT_RATINGS: tuple[str, ...] = ("A", "B", "C", "D", "E")
SORTABLE_FIELDS = frozenset(
    {"name", "uscc", "created_at", "updated_at", "industry", "risk_grade", "credit_rating"}
)


class InvalidUSCC(ValidationFailed):
    code = "invalid_uscc"


def uscc_check_character(first17: str) -> str:
    """Return the GB 32100-2015 check character for the first 17 characters."""
    if len(first17) != 17:
        raise InvalidUSCC("the check character is computed over exactly 17 characters")
    try:
        total = sum(_VALUE[ch] * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    except KeyError as exc:
        raise InvalidUSCC(f"character {exc.args[0]!r} is not allowed in a USCC") from None
    return USCC_ALPHABET[(31 - total % 31) % 31]


def normalize_uscc(raw: str) -> str:
    """Upper-case, strip, and validate a USCC; raise ``InvalidUSCC`` saying what is wrong.

    Full-width characters (９１…, typed with a Chinese input method) become their ASCII forms.
    """
    code = "".join(unicodedata.normalize("NFKC", raw).split()).upper()
    if len(code) != 18:
        raise InvalidUSCC(f"a USCC has 18 characters, this has {len(code)}")
    bad = sorted({ch for ch in code if ch not in _VALUE})
    if bad:
        raise InvalidUSCC(
            "characters not allowed in a USCC: "
            + ", ".join(bad)
            + " (I, O, Z, S, V are never used)"
        )
    if not code[2:8].isdigit():
        raise InvalidUSCC("characters 3–8 (the administrative division code) must be digits")
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        raise InvalidUSCC(f"check character is {code[17]!r}, expected {expected!r}")
    return code


def is_valid_uscc(raw: str) -> bool:
    try:
        normalize_uscc(raw)
    except InvalidUSCC:
        return False
    return True
