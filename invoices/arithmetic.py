"""Alegra's invoice arithmetic, in Decimal, rounded half-up at the invoice's decimalPrecision.

Alegra sends money, quantities and percentages as strings or JSON numbers. Every value goes
through `to_decimal`, which refuses floats: a float has already lost the exact value (a price
with six decimals, or a total beyond double precision), so accepting one would hide a parsing
bug upstream. Parse bodies with `json.loads(..., parse_float=Decimal)`.

The formula reproduces Alegra's recorded answers: per line, base = price × quantity,
discount = base × discount% / 100, each tax = (base − discount) × percentage / 100, and the
line total is the rounded sum. The invoice rounds the sums of the unrounded line amounts, so
rounding happens once per figure, not once per line.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from invoices.documents import references
from invoices.documents.numbers import parse_decimal

# The 2016 recordings carry no decimalPrecision and their totals are whole pesos.
DEFAULT_PRECISION = 0
MAX_PRECISION = 10
HUNDRED = Decimal(100)
ZERO = Decimal(0)
# Products of a 6-decimal price, a quantity and a percentage can pass the default 28 digits;
# this keeps every intermediate exact for any realistic invoice.
WORKING_DIGITS = 60
# Alegra's largest recorded figure has 16 integer digits; anything past 18 is garbage, and
# refusing it keeps every product of three such values inside WORKING_DIGITS.
MAX_DIGITS = 18


def to_decimal(value: Any) -> Decimal:
    """An exact Decimal from an Alegra value; None and "" mean zero.

    A float or bool raises TypeError (a bug upstream); anything else unusable, ValueError,
    including a number too large for any invoice (its products would leave the working precision).
    """
    result = parse_decimal(value)
    if result.adjusted() >= MAX_DIGITS:
        raise ValueError(f"not a number of a sane size: {value!r}"[:80])
    return result


def to_precision(value: Any) -> int:
    """decimalPrecision as an int ("2", 2, "2.0"); missing means DEFAULT_PRECISION."""
    if value is None or value == "":
        return DEFAULT_PRECISION
    number = to_decimal(value)
    if number != number.to_integral_value() or not 0 <= number <= MAX_PRECISION:
        raise ValueError(f"not a decimal precision: {value!r}")
    return int(number)


def precision_of(doc: Mapping[str, Any]) -> int:
    return to_precision(doc.get("decimalPrecision"))


def quantize(amount: Any, precision: int) -> Decimal:
    """Round half-up to `precision` decimals, as Alegra does."""
    if isinstance(precision, bool) or not isinstance(precision, int):
        raise TypeError(f"precision must be an int, not {type(precision).__name__}")
    # Computed figures may pass MAX_DIGITS (a product of inputs); only inputs are bounded.
    number = amount if isinstance(amount, Decimal) and amount.is_finite() else to_decimal(amount)
    with localcontext(prec=WORKING_DIGITS):
        return number.quantize(Decimal(1).scaleb(-precision), rounding=ROUND_HALF_UP)


def format_amount(amount: Any, precision: int) -> str:
    """The string Alegra would send: rounded, fixed-point, never scientific notation."""
    return format(quantize(amount, precision), "f")


@dataclass(frozen=True)
class LineTax:
    id: str
    name: str
    percentage: Decimal
    amount: Decimal  # unrounded; the invoice rounds the sum


@dataclass(frozen=True)
class LineTotals:
    base: Decimal  # price × quantity
    discount: Decimal  # amount, not the percentage
    taxable: Decimal  # base − discount
    taxes: tuple[LineTax, ...]
    tax: Decimal  # Σ taxes, unrounded
    total: Decimal  # rounded at the invoice precision


@dataclass(frozen=True)
class TaxTotal:
    id: str
    name: str
    percentage: Decimal
    amount: Decimal  # rounded


@dataclass(frozen=True)
class RetentionTotal:
    id: str
    name: str
    percentage: Decimal
    amount: Decimal  # rounded; withheld by the client, it does not change the total


@dataclass(frozen=True)
class InvoiceTotals:
    lines: tuple[LineTotals, ...]
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    taxes: tuple[TaxTotal, ...]  # by tax id, in order of first appearance
    total: Decimal
    total_paid: Decimal
    balance: Decimal
    precision: int
    retentions: tuple[RetentionTotal, ...] = ()


def _retentions(doc: Mapping[str, Any], taxable: Decimal, tax: Decimal, precision: int) -> tuple:
    """Each retention on its base: the tax for a retention on VAT (ReteIVA), else the taxable amount."""
    found = []
    for retention in doc.get("retentions") or ():
        if not isinstance(retention, Mapping):
            continue
        percentage = to_decimal(retention.get("percentage"))
        base = tax if str(retention.get("type") or "").upper() == "IVA" else taxable
        found.append(RetentionTotal(references.tax_id(retention), str(retention.get("name") or ""),
                                    percentage, quantize(base * percentage / HUNDRED, precision)))
    return tuple(found)


def _by_text_id(taxes: Mapping[Any, Any] | None) -> dict[str, Any] | None:
    return None if taxes is None else {str(key).strip(): value for key, value in taxes.items()}


def _tax_percentage(tax: Any, catalogue: Mapping[str, Any] | None) -> tuple[str, str, Decimal]:
    """(id, name, percentage) of a line tax; a missing percentage is looked up by id."""
    ident = references.tax_id(tax)
    entry = tax if isinstance(tax, Mapping) else {}
    if entry.get("percentage") in (None, "") and catalogue is not None and ident in catalogue:
        entry = {**catalogue[ident], **{k: v for k, v in entry.items() if v not in (None, "")}}
    if entry.get("percentage") in (None, ""):
        raise ValueError(f"tax {ident or '?'} has no percentage")
    return ident, str(entry.get("name") or ""), to_decimal(entry["percentage"])


def line_totals(
    line: Mapping[str, Any], precision: int, taxes: Mapping[str, Any] | None = None
) -> LineTotals:
    """Totals of one line. `taxes` (tax id → {name, percentage}) fills missing percentages."""
    with localcontext(prec=WORKING_DIGITS):
        return _line_totals(line, precision, _by_text_id(taxes))


def _line_totals(
    line: Mapping[str, Any], precision: int, taxes: Mapping[str, Any] | None
) -> LineTotals:
    if not isinstance(line, Mapping):
        raise ValueError(f"not an invoice line: {line!r}"[:80])
    line_taxes_raw = line.get("tax") or ()
    if not isinstance(line_taxes_raw, (list, tuple)):
        raise ValueError(f"not a list of taxes: {line_taxes_raw!r}"[:80])
    base = to_decimal(line.get("price")) * to_decimal(line.get("quantity"))
    discount = base * to_decimal(line.get("discount")) / HUNDRED
    taxable = base - discount
    line_taxes = []
    for tax in line_taxes_raw:
        ident, name, percentage = _tax_percentage(tax, taxes)
        line_taxes.append(LineTax(ident, name, percentage, taxable * percentage / HUNDRED))
    tax_sum = sum((t.amount for t in line_taxes), ZERO)
    return LineTotals(
        base=base,
        discount=discount,
        taxable=taxable,
        taxes=tuple(line_taxes),
        tax=tax_sum,
        total=quantize(taxable + tax_sum, precision),
    )


def invoice_totals(doc: Mapping[str, Any], taxes: Mapping[str, Any] | None = None) -> InvoiceTotals:
    """Totals of a whole invoice document, as Alegra would compute them."""
    with localcontext(prec=WORKING_DIGITS):
        return _invoice_totals(doc, _by_text_id(taxes))


def _invoice_totals(doc: Mapping[str, Any], taxes: Mapping[str, Any] | None) -> InvoiceTotals:
    precision = precision_of(doc)
    items = doc.get("items") or ()
    if not isinstance(items, (list, tuple)):
        raise ValueError(f"not a list of lines: {items!r}"[:80])
    lines = tuple(_line_totals(line, precision, taxes) for line in items)
    by_tax: dict[str, list] = {}
    for line in lines:
        for tax in line.taxes:
            entry = by_tax.setdefault(tax.id, [tax.name, tax.percentage, ZERO])
            entry[2] += tax.amount
    subtotal = quantize(sum((line.base for line in lines), ZERO), precision)
    discount = quantize(sum((line.discount for line in lines), ZERO), precision)
    tax_total = quantize(sum((line.tax for line in lines), ZERO), precision)
    total = subtotal - discount + tax_total
    total_paid = quantize(doc.get("totalPaid"), precision)
    return InvoiceTotals(
        lines=lines,
        subtotal=subtotal,
        discount=discount,
        tax=tax_total,
        taxes=tuple(
            TaxTotal(ident, name, percentage, quantize(amount, precision))
            for ident, (name, percentage, amount) in by_tax.items()
        ),
        total=total,
        total_paid=total_paid,
        balance=total - total_paid,
        precision=precision,
        retentions=_retentions(doc, subtotal - discount, tax_total, precision),
    )


def with_totals(doc: Mapping[str, Any], taxes: Mapping[str, Any] | None = None) -> dict:
    """A copy of `doc` with every computed figure rewritten, as strings at its precision."""
    totals = invoice_totals(doc, taxes)
    result = copy.deepcopy(dict(doc))
    p = totals.precision
    for line, line_total in zip(result.get("items") or (), totals.lines):
        line["total"] = format_amount(line_total.total, p)
    result["subtotal"] = format_amount(totals.subtotal, p)
    result["discount"] = format_amount(totals.discount, p)
    result["tax"] = format_amount(totals.tax, p)
    result["total"] = format_amount(totals.total, p)
    result["balance"] = format_amount(totals.balance, p)
    for retention, computed in zip([r for r in result.get("retentions") or () if isinstance(r, dict)],
                                   totals.retentions):
        retention["amount"] = format_amount(computed.amount, p)
    return result
