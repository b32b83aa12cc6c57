"""Robust statistics the detectors explain themselves with: medians, MAD, ratios. Pure functions
on Decimals (never floats), so a full rescan and an incremental one compute the same digits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
# |x − median| above 5.19 MAD is a modified z-score above 3.5 (Iglewicz and Hoaglin): 3.5 / 0.6745.
MAD_FACTOR = Decimal("5.19")


def median(values: Sequence[Decimal]) -> Decimal | None:
    ordered = sorted(values)
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def median_low(values: Sequence[Decimal]) -> Decimal | None:
    """The lower middle value: always one of the observations, so a fix proposes a real price."""
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2] if ordered else None


def mad(values: Sequence[Decimal], center: Decimal) -> Decimal:
    return median([abs(v - center) for v in values]) or ZERO


def tolerance(values: Sequence[Decimal], floor: Decimal) -> Decimal:
    """How far (as a share of the median) a value may sit from `values` and still be usual:
    the spread of the values themselves (3.5 modified z-scores), never less than `floor`."""
    center = median(values)
    if not center:
        return floor
    return max(floor, MAD_FACTOR * mad(values, center) / abs(center))


def agrees(value: Decimal, other: Decimal, within: Decimal) -> bool:
    if other == 0:
        return value == 0
    return abs(value / other - 1) <= within


def ratio(value: Decimal, reference: Decimal) -> Decimal | None:
    return value / reference if reference else None


def power_of_ten(value: Decimal | None, within: Decimal = Decimal("0.05")) -> int:
    """10, 100, 0.1 or 0.01 (as its exponent ±1, ±2) when `value` is that within `within`; else 0."""
    if value is None or value <= 0:
        return 0
    for exponent in (1, 2, -1, -2):
        if abs(value / Decimal(10) ** exponent - 1) <= within:
            return exponent
    return 0


def histogram_median(histograms: Iterable[Mapping[str, int]], minimum: int = 3) -> Decimal | None:
    """The median of several value → count tables merged; None below `minimum` observations."""
    merged: dict[Decimal, int] = {}
    for counts in histograms:
        for text, count in counts.items():
            value = Decimal(text)
            merged[value] = merged.get(value, 0) + count
    total = sum(merged.values())
    if total < minimum:
        return None
    seen, low, high = 0, None, None
    for value in sorted(merged):
        seen += merged[value]
        if low is None and seen >= (total + 1) // 2:
            low = value
        if seen >= total // 2 + 1:
            high = value
            break
    return low if total % 2 else (low + high) / 2


def stored(value: Decimal, places: int) -> Decimal:
    """Rounded half-up to the decimals a fact column keeps."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def number_text(value: Decimal) -> str:
    """Canonical text of an amount: 12900, 0.5, 19 (the key of a count table)."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value, "f").rstrip("0").rstrip(".")
