"""Amounts of money as printed: yuan in figures, with or without the sign, and in capital
numerals (大写金额). Money is integer fen everywhere."""

from __future__ import annotations

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_GROUP_UNITS = ("", "万", "亿", "万亿")


def format_fen(fen: int) -> str:
    """Yuan with two decimals and thousands separators: 316458026 fen → ``3,164,580.26``."""
    # Money is integer fen everywhere; a float here means a rounding error already happened.
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"money is integer fen, got {type(fen).__name__}")
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan:,}.{cents:02d}"


def format_yuan(fen: int) -> str:
    """Integer fen as figures with the yuan sign: 316458026 -> '¥3,164,580.26'."""
    return ("-" if fen < 0 else "") + "¥" + format_fen(abs(fen))


def yuan_in_words(fen: int) -> str:
    """Integer fen in the capital numerals that documents and receipts require (大写金额)."""
    if fen < 0:
        raise ValueError("an amount in words cannot be negative")
    yuan, cents = divmod(fen, 100)
    jiao, fen_digit = divmod(cents, 10)
    if yuan == 0 and cents == 0:
        return "零元整"
    words = _integer_in_words(yuan) + "元" if yuan else ""
    if cents == 0:
        return words + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif yuan:
        words += "零"  # 壹佰元零伍分: the missing jiao is spoken
    if fen_digit:
        return words + _DIGITS[fen_digit] + "分"
    # 整 after 角 is optional in the payment rules; writing it leaves no room to add 分.
    return words + "整"


def _integer_in_words(number: int) -> str:
    groups: list[int] = []
    while number:
        number, group = divmod(number, 10000)
        groups.append(group)
    out = ""
    pending_zero = False
    for index in reversed(range(len(groups))):
        group = groups[index]
        if group == 0:
            pending_zero = bool(out)
            continue
        if out and (pending_zero or group < 1000):
            out += "零"
        out += _group_in_words(group) + _GROUP_UNITS[index]
        pending_zero = False
    return out


def _group_in_words(group: int) -> str:
    out = ""
    zero = False
    for place, unit in ((1000, "仟"), (100, "佰"), (10, "拾"), (1, "")):
        digit = group // place % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[digit] + unit
    return out
