"""What of an invoice may be changed in place, and the request bodies that change it.

Alegra accepts a partial PUT body, but fields left out of an array may be reset, so the lines
go whole whenever any of them changed. Computed figures are never sent: Alegra recomputes them
and the portal checks its answer against `arithmetic`. Money goes as exact decimal strings,
never floats, so a six-decimal price survives the trip.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from invoices import arithmetic, diff
from invoices.documents import numbers, references, status

EDITABLE_HEADER_FIELDS = (
    "date", "dueDate", "client", "seller", "priceList", "paymentForm", "paymentMethod",
    "observations", "anotation", "termsConditions",
)
EDITABLE_FIELDS = frozenset({*EDITABLE_HEADER_FIELDS, "items"})
EDITABLE_LINE_FIELDS = ("id", "price", "quantity", "discount", "tax", "description", "reference")
# Sent as a bare id; the client goes as an object, as the portal's PUT contract says.
ID_FIELDS = frozenset({"seller", "priceList"})
TEXT_LINE_FIELDS = ("description", "reference")
PRICE_DECIMALS = 6  # the most decimals Alegra has been seen to keep on a unit price

CREDIT_NOTE_TYPES = (
    "PARTIALL_DEVOLUTION",  # sic: Alegra's spelling
    "VOID_ELECTRONIC_INVOICE",
    "REDUCTION_DISCOUNT_PARTIAL_TOTAL",
    "PRICE_ADJUSTMENT",
    "OTHER",
)


def line_body(line: Mapping[str, Any]) -> dict:
    body = {
        "id": line.get("id"),
        "price": numbers.decimal_text(line.get("price")),
        "quantity": numbers.decimal_text(line.get("quantity")),
        "discount": numbers.decimal_text(line.get("discount")),
        "tax": [{"id": tax.get("id") if isinstance(tax, Mapping) else tax}
                for tax in line.get("tax") or ()],
    }
    for name in TEXT_LINE_FIELDS:
        if line.get(name) is not None:
            body[name] = line[name]
    return body


def _header_value(name: str, value: Any) -> Any:
    if name == "client":
        raw = value.get("id") if isinstance(value, Mapping) else value
        return None if references.reference_id(value) is None else {"id": raw}
    if name in ID_FIELDS:
        if isinstance(value, Mapping):
            return value.get("id")
        return value if value != "" else None
    return value


def put_body(base_doc: Mapping[str, Any], proposed_doc: Mapping[str, Any]) -> dict:
    """The body of PUT /invoices/{id} that turns `base_doc` into `proposed_doc`."""
    changes = diff.diff_documents(base_doc, proposed_doc)
    body: dict[str, Any] = {}
    changed = {change.field for change in changes.header}
    for name in EDITABLE_HEADER_FIELDS:
        if name in changed:
            body[name] = _header_value(name, proposed_doc.get(name))
    if changes.lines_changed:
        body["items"] = [line_body(line) for line in proposed_doc.get("items") or ()]
    return body


@dataclass(frozen=True)
class ReturnedLine:
    """A line of the invoice (by position) to credit, and how much of it."""

    index: int
    quantity: Any
    price: Any = None  # a new unit price for a price adjustment; defaults to the net price


def net_price(line: Mapping[str, Any]) -> Decimal:
    """The unit price after the line's discount, at most PRICE_DECIMALS decimals."""
    # The line discount is folded into the price: the credit-note line format documented
    # for Alegra has no discount, and a folded price is right whether or not it takes one.
    price = arithmetic.to_decimal(line.get("price"))
    discount = arithmetic.to_decimal(line.get("discount"))
    net = price * (arithmetic.HUNDRED - discount) / arithmetic.HUNDRED
    return net.quantize(Decimal(1).scaleb(-PRICE_DECIMALS), rounding=ROUND_HALF_UP)


_net_price = net_price  # the name callers first used


def credit_note_lines(
    invoice_doc: Mapping[str, Any], returned_lines: Sequence[ReturnedLine]
) -> list[dict]:
    """Note lines for `returned_lines`; ValueError for a position the invoice lacks."""
    items = diff.document_lines(invoice_doc)
    lines = []
    for returned in returned_lines:
        if not 0 <= returned.index < len(items):
            raise ValueError(f"the invoice has no line {returned.index + 1}")
        line = items[returned.index]
        price = net_price(line) if returned.price is None else returned.price
        lines.append({
            "id": line.get("id"),
            "price": numbers.decimal_text(price),
            "quantity": numbers.decimal_text(returned.quantity),
            "tax": [{"id": tax.get("id") if isinstance(tax, Mapping) else tax}
                    for tax in line.get("tax") or ()],
        })
    return lines


def credit_note_amount(invoice_doc: Mapping[str, Any], note: Mapping[str, Any],
                       taxes: Mapping[str, Any] | None = None) -> Decimal:
    """The note's total at the invoice's precision, tax percentages taken from the invoice."""
    known = {**(taxes or {})}
    for line in invoice_doc.get("items") or ():
        for tax in line.get("tax") or ():
            if isinstance(tax, Mapping) and tax.get("percentage") not in (None, ""):
                known.setdefault(references.tax_id(tax), tax)
    as_doc = {"decimalPrecision": invoice_doc.get("decimalPrecision"), "items": note.get("items")}
    return arithmetic.invoice_totals(as_doc, known).total


def invoice_balance(invoice_doc: Mapping[str, Any]) -> Decimal:
    """What the invoice still owes: Alegra's recorded balance (it reflects earlier credit notes)."""
    precision = arithmetic.precision_of(invoice_doc)
    recorded = invoice_doc.get("balance")
    try:
        if recorded not in (None, ""):
            return arithmetic.quantize(recorded, precision)
    except (ValueError, TypeError):
        pass
    return arithmetic.invoice_totals(invoice_doc).balance


def applied_amount(invoice_doc: Mapping[str, Any], note: Mapping[str, Any]) -> Decimal:
    """What the note settles on this invoice (the rest of it stays as the client's credit)."""
    invoice_id = references.reference_id(invoice_doc.get("id"))
    return sum((arithmetic.to_decimal(entry.get("amount")) for entry in note.get("invoices") or ()
                if isinstance(entry, Mapping) and references.reference_id(entry.get("id")) == invoice_id),
               arithmetic.ZERO)


def credit_note_body(
    invoice_doc: Mapping[str, Any],
    returned_lines: Sequence[ReturnedLine],
    type: str,
    cause: str,
    date: str,
) -> dict:
    """The body of POST /credit-notes crediting `returned_lines` of the invoice."""
    body: dict[str, Any] = {
        "client": {"id": references.reference_id(invoice_doc.get("client"))},
        "date": date,
        "items": credit_note_lines(invoice_doc, returned_lines),
        "type": type,
        "cause": cause,
    }
    amount = credit_note_amount(invoice_doc, body)
    precision = arithmetic.precision_of(invoice_doc)
    # The note settles what the invoice still owes; the rest (all of it, on a paid invoice) stays
    # as the client's credit. The invoice is always named: the note's legal link to it.
    applied = max(arithmetic.ZERO, min(amount, invoice_balance(invoice_doc)))
    body["invoices"] = [{"id": invoice_doc.get("id"),
                         "amount": arithmetic.format_amount(applied, precision)}]
    if status.is_stamped(invoice_doc):
        body["stamp"] = {"generateStamp": True}
    return body
