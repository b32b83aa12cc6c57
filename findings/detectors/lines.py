"""Taxes and quantities of a line, against the catalogue and the client's own habits."""

from __future__ import annotations

from decimal import Decimal

from .. import stats
from ..facts import InvoiceRow, LineRow
from .base import HIGH, MEDIUM, Draft, line_amount, line_fix, money, net_price, text

QUANTITY_RATIO = Decimal("6.5")  # a busy season or a project multiplies an order by 2 to 4
ALONE_RATIO = Decimal(4)  # how far above the invoice's other lines a slip stands
SLIP_WITHIN = Decimal("0.35")
QUANTITY_HISTORY = 3  # purchases of the item around this one before there is a usual quantity


def tax(invoice: InvoiceRow, line: LineRow) -> Draft | None:
    """A tax that is neither the catalogue's nor this client's usual one for the item."""
    charged, catalogue, usual, habit = line.tax, line.catalogue_tax, line.tax_usual, line.habit_tax
    client_says = usual if usual is not None else habit
    if client_says is not None and charged == client_says:
        return None
    if catalogue is not None and charged != catalogue:
        expected = client_says if client_says is not None else catalogue
    elif client_says is not None:
        expected = client_says
    else:
        return None
    cause = "catalogue" if expected == catalogue else "client"
    evidence = {"tax": text(charged), "expected": text(expected), "catalogue": text(catalogue),
                "usual": text(usual), "habit": text(habit), "item_name": line.name, "n": line.near_n}
    difference = line_amount(line, tax=charged) - line_amount(line, tax=expected)
    if invoice.editable:
        suggestion = line_fix(invoice, line, "tax", expected, credited=None)
    elif difference > 0:
        # A stamped line is credited whole (price after discount) and invoiced again with the right tax.
        suggestion = line_fix(invoice, line, "tax", expected,
                              credited=(line.quantity, net_price(line.price, line.discount)))
        suggestion["reissue"] = True
    else:
        suggestion = line_fix(invoice, line, "tax", expected, credited=None)
    confidence = Decimal("0.95") if usual is not None or expected == catalogue else Decimal("0.8")
    return Draft(kind="tax", cause=cause, severity=HIGH, confidence=confidence, evidence=evidence,
                 suggestion=suggestion, impact=money(difference, invoice), line=line.position, item=line.item)


def _ratio(line: LineRow) -> Decimal | None:
    if line.near_n < QUANTITY_HISTORY or not line.quantity_ref or line.quantity <= 0:
        return None
    return line.quantity / line.quantity_ref


def quantity(invoice: InvoiceRow, line: LineRow, lines: list[LineRow]) -> Draft | None:
    """A quantity far above this client's usual one for the item, while the rest of the
    invoice is ordinary: a whole order several times larger is a big order, not a slip."""
    ratio = _ratio(line)
    if ratio is None or ratio < QUANTITY_RATIO:
        return None
    others = [r for other in lines if other is not line and (r := _ratio(other)) is not None]
    scale = stats.median(others) if others else None
    if scale and ratio / scale < ALONE_RATIO:
        return None
    exponent = stats.power_of_ten(ratio, SLIP_WITHIN)
    fixed = line.quantity / Decimal(10) ** exponent if exponent > 0 else line.quantity_ref
    evidence = {"quantity": text(line.quantity), "usual": text(line.quantity_ref),
                "ratio": text(ratio.quantize(Decimal("0.1"))), "n": line.near_n, "item_name": line.name,
                "since": line.near_from.isoformat(), "until": line.near_to.isoformat(), "fix": text(fixed),
                "others": text(scale.quantize(Decimal("0.1"))) if scale else None}
    impact = line_amount(line) - line_amount(line, quantity=fixed)
    return Draft(kind="quantity", cause="slip" if exponent > 0 else "unusual",
                 severity=HIGH if exponent > 0 else MEDIUM,
                 confidence=Decimal("0.9") if exponent > 0 else Decimal("0.6"), evidence=evidence,
                 suggestion=line_fix(invoice, line, "quantity", fixed,
                                     credited=(line.quantity - fixed, net_price(line.price, line.discount))),
                 impact=money(impact, invoice), line=line.position, item=line.item)
