"""Alegra's invoice arithmetic, computed by the sandbox on its own.

All values are `Decimal`; every rounding is ROUND_HALF_UP at the invoice's
`decimalPrecision` (p). Sums are taken over unrounded line values.

For each line:
    base       = price × quantity
    discount   = base × discount% / 100
    taxable    = base − discount
    tax_i      = taxable × percentage_i / 100      (one per tax on the line)
    line total = round(taxable + Σ tax_i, p)

For the invoice:
    subtotal = round(Σ base, p)
    discount = round(Σ line discount, p)
    tax      = round(Σ every tax_i of every line, p)
    total    = subtotal − discount + tax
    balance  = total − totalPaid − credited (amounts applied by credit notes)

Retentions are informative here and do not change the total.

Recorded Alegra example at p = 0: price 40, quantity 1, IVA 16 % gives a line
of 46.4 → 46; price 80, discount 10 %, IVA 16 % gives 83.52 → 84; the invoice
with lines 40 and 80 at IVA 16 % totals 120 + round(19.2) = 139.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, localcontext

ZERO = Decimal(0)
HUNDRED = Decimal(100)
# Wide enough that price × quantity × percentage never rounds before we do.
_WIDE = Context(prec=60, rounding=ROUND_HALF_UP)


def to_decimal(value) -> Decimal:
    """A JSON number or numeric string as Decimal; ValueError for anything else."""
    if isinstance(value, bool) or value is None:
        raise ValueError("not a number")
    if isinstance(value, float):  # never produced by our parser; be exact anyway
        value = repr(value)
    try:
        number = Decimal(str(value).strip()) if isinstance(value, str) else Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError("not a number") from None
    if not number.is_finite():
        raise ValueError("not a finite number")
    return number


def round_to(value: Decimal, places: int) -> Decimal:
    with localcontext(_WIDE):
        return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def money(value: Decimal, precision: int) -> str:
    """Money as Alegra writes it: a string with exactly `precision` decimals."""
    return f"{round_to(value, precision):f}"


def _between(value: Decimal, least: int, most: int) -> str:
    """At least `least` and at most `most` decimals, trailing zeros beyond `least` dropped."""
    rounded = round_to(value, most)
    text = f"{rounded:f}"
    if "." in text:
        whole, frac = text.split(".")
        frac = frac.rstrip("0").ljust(least, "0")
        return f"{whole}.{frac}" if frac else whole
    return f"{text}.{'0' * least}" if least else text


def quantity_text(value: Decimal) -> str:
    return _between(value, 2, 6)


def percentage_text(value: Decimal) -> str:
    return _between(value, 2, 6)


def price_text(value: Decimal, precision: int) -> str:
    """Unit prices keep up to 6 decimals (recorded: "16746.218487")."""
    return _between(value, precision, 6)


@dataclass(frozen=True)
class LineAmounts:
    base: Decimal
    discount: Decimal
    taxes: tuple[Decimal, ...]
    total: Decimal  # rounded at the invoice precision


def line_amounts(
    price: Decimal, quantity: Decimal, discount_percent: Decimal, tax_percents, precision: int
) -> LineAmounts:
    with localcontext(_WIDE):
        base = price * quantity
        discount = base * discount_percent / HUNDRED
        taxable = base - discount
        taxes = tuple(taxable * Decimal(p) / HUNDRED for p in tax_percents)
        total = round_to(taxable + sum(taxes, ZERO), precision)
    return LineAmounts(base=base, discount=discount, taxes=taxes, total=total)


@dataclass(frozen=True)
class InvoiceTotals:
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal


def invoice_totals(lines: list[LineAmounts], precision: int) -> InvoiceTotals:
    with localcontext(_WIDE):
        subtotal = round_to(sum((line.base for line in lines), ZERO), precision)
        discount = round_to(sum((line.discount for line in lines), ZERO), precision)
        tax = round_to(sum((t for line in lines for t in line.taxes), ZERO), precision)
        return InvoiceTotals(subtotal=subtotal, discount=discount, tax=tax,
                             total=subtotal - discount + tax)
