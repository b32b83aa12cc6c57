"""Numbers in Alegra documents: one strict parser, one lenient one, one way to write them.

Alegra sends money, quantities and percentages as strings or numbers; the client parses JSON
numbers into Decimal, so a float here is a bug upstream and is refused unless asked for.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

ZERO = Decimal(0)
# A number as JSON and Alegra write one, in ASCII digits: Python's Decimal also reads "1_000",
# "٥٠" and "７", which would be stored and sent to Alegra as typed.
NUMBER_TEXT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)


def parse_decimal(value: Any, *, allow_float: bool = False) -> Decimal:
    """An exact, finite Decimal; None and blank text mean zero.

    Raises ValueError for anything that is not a number, and TypeError for a float or a bool
    (unless `allow_float`, for bodies that did not come through the Alegra client).
    """
    if isinstance(value, bool):
        raise TypeError(f"bool is not accepted as a number: {value!r}")
    if isinstance(value, float):
        if not allow_float:
            raise TypeError(f"float is not accepted as a number: {value!r}")
        value = str(value)  # Decimal(0.1) would carry the float's binary error
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return ZERO
        if not NUMBER_TEXT.fullmatch(text):
            raise ValueError(f"not a number: {value[:40]!r}")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"not a number: {value[:40]!r}") from None
    else:
        raise ValueError(f"not a number: {type(value).__name__} {value!r}"[:80])
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}"[:80])
    return result


def decimal_or_none(value: Any) -> Decimal | None:
    """The number, or None where there is none to read (garbage, floats, infinities)."""
    try:
        return parse_decimal(value)
    except (ValueError, TypeError):
        return None


def decimal_text(value: Any) -> str:
    """An exact number as fixed-point text without trailing zeros: "40", "16746.218487", "0.5"."""
    text = format(parse_decimal(value), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def decimals_of(number: Decimal) -> int:
    """How many decimals a finite number has, trailing zeros aside (12.50 → 1, 1E+2 → 0)."""
    exponent = number.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0
