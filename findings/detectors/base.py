"""What every detector returns, and the arithmetic of money at stake and of suggested fixes."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from ..facts import InvoiceRow, LineRow
from ..stats import number_text

HUNDRED = Decimal(100)
HIGH, MEDIUM, LOW = "high", "medium", "low"


@dataclass
class Draft:
    """A finding as a detector sees it: numbers only; the words come when it is shown."""

    kind: str
    cause: str
    severity: str
    confidence: Decimal
    evidence: dict
    suggestion: dict
    impact: Decimal = Decimal(0)
    line: int | None = None
    item: str = ""
    extra: dict = field(default_factory=dict)


def text(value) -> str | None:
    return None if value is None else number_text(Decimal(value))


def money(value: Decimal, invoice: InvoiceRow) -> Decimal:
    return abs(value).quantize(Decimal(1).scaleb(-invoice.precision), rounding=ROUND_HALF_UP)


def line_amount(line: LineRow, *, price: Decimal | None = None, quantity: Decimal | None = None,
                discount: Decimal | None = None, tax: Decimal | None = None) -> Decimal:
    """A line's total with tax, with any of its figures replaced."""
    price = line.price if price is None else price
    quantity = line.quantity if quantity is None else quantity
    discount = line.discount if discount is None else discount
    tax = line.tax if tax is None else tax
    return price * quantity * (HUNDRED - discount) / HUNDRED * (HUNDRED + tax) / HUNDRED


def net_price(price: Decimal, discount: Decimal) -> Decimal:
    return price * (HUNDRED - discount) / HUNDRED


def update(line: int | None, field_name: str, before, after) -> dict:
    return {"type": "update", "changes": [{"line": line, "field": field_name, "from": text(before) if
                                           isinstance(before, Decimal) else before,
                                           "to": text(after) if isinstance(after, Decimal) else after}]}


def credit(lines: list[tuple[int, Decimal, Decimal]], note_type: str = "PRICE_ADJUSTMENT") -> dict:
    """A credit note of (line, quantity, unit price credited) rows."""
    return {"type": "credit_note", "note_type": note_type,
            "lines": [{"line": i, "quantity": text(q), "price": text(p)} for i, q, p in lines]}


def advice(code: str) -> dict:
    """No change the portal can make: what a person should do (rendered from `code`)."""
    return {"type": "advice", "code": code}


def line_fix(invoice: InvoiceRow, line: LineRow, field_name: str, fixed: Decimal, *,
             credited: tuple[Decimal, Decimal] | None) -> dict:
    """Change a line in place when the invoice allows it; else credit (quantity, unit price) of
    what was overcharged; else (undercharged on a stamped invoice) say what to do."""
    if invoice.editable:
        return update(line.position, field_name, getattr(line, field_name), fixed)
    if credited is not None and credited[0] > 0 and credited[1] > 0:
        return credit([(line.position, credited[0], credited[1])])
    return advice("undercharged")
