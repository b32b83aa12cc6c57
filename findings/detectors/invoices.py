"""Whole-invoice checks: discounts against the client's habit, twins, dates and terms, empty
invoices, and clients without identification."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ..facts import CONSUMIDOR_FINAL, InvoiceRow, LineRow, is_missing_identification
from .base import HIGH, LOW, MEDIUM, Draft, advice, credit, line_amount, money, net_price, text, update

DISCOUNT_MARGIN = Decimal(5)  # percentage points above the most this client got nearby
DISCOUNT_HISTORY = 4
TERM_SLACK = 2  # days: a due date moved off a weekend is still on terms
RECURRING_ORDER = 4


def discount(invoice: InvoiceRow, lines: list[LineRow]) -> Draft | None:
    usual = invoice.near_discount_max
    if invoice.near_n < DISCOUNT_HISTORY or usual is None or invoice.discount < DISCOUNT_MARGIN \
            or invoice.discount <= usual + DISCOUNT_MARGIN:
        return None
    above = [line for line in lines if line.discount > usual + DISCOUNT_MARGIN]
    impact = sum((line_amount(line, discount=usual) - line_amount(line) for line in above), Decimal(0))
    evidence = {"discount": text(invoice.discount), "usual": text(usual), "n": invoice.near_n,
                "lines": [line.position for line in above]}
    if invoice.editable:
        suggestion = {"type": "update", "changes": [
            {"line": line.position, "field": "discount", "from": text(line.discount), "to": text(usual)}
            for line in above]}
    else:
        suggestion = advice("undercharged")
    return Draft(kind="discount", cause="above_usual", severity=MEDIUM, confidence=Decimal("0.8"),
                 evidence=evidence, suggestion=suggestion, impact=money(impact, invoice))


def twin(invoice: InvoiceRow, lines: list[LineRow], earlier: InvoiceRow | None) -> Draft | None:
    """The same document issued twice: the same client, lines, total and particulars (seller,
    payment method, notes; see facts.signature) a few days apart. Quiet for counter sales
    (consumidor final) and for an order this client places again and again (four or more alike)
    unless both carry the same order reference."""
    if invoice.twin_of is None or earlier is None or invoice.identification == CONSUMIDOR_FINAL:
        return None
    if invoice.twin_group >= RECURRING_ORDER and not (invoice.reference and invoice.reference == earlier.reference):
        return None
    days = (invoice.date - earlier.date).days
    evidence = {"other": earlier.invoice_id, "other_number": earlier.number, "other_date": earlier.date.isoformat(),
                "days": days, "total": text(invoice.total), "lines": invoice.line_count}
    if invoice.editable:
        suggestion = advice("void_duplicate")
    else:
        suggestion = credit([(line.position, line.quantity, net_price(line.price, line.discount))
                             for line in lines], note_type="VOID_ELECTRONIC_INVOICE" if invoice.is_stamped else "OTHER")
    return Draft(kind="duplicate_lines", cause="same_lines", severity=HIGH,
                 confidence=Decimal("0.95") if days == 0 else Decimal("0.85"), evidence=evidence,
                 suggestion=suggestion, impact=money(invoice.total, invoice))


def same_number(invoice: InvoiceRow, first: InvoiceRow | None) -> Draft | None:
    if invoice.number_of is None or first is None:
        return None
    evidence = {"number": invoice.number, "other": first.invoice_id, "other_date": first.date.isoformat()}
    return Draft(kind="duplicate_number", cause="same_number", severity=HIGH, confidence=Decimal("0.95"),
                 evidence=evidence, suggestion=advice("renumber"))


def _due_fix(invoice: InvoiceRow, days: int) -> dict:
    fixed = (invoice.date + dt.timedelta(days=days)).isoformat()
    if invoice.editable:
        return update(None, "dueDate", invoice.due_date.isoformat(), fixed)
    return advice("due_date_stamped")


def _expected_term(invoice: InvoiceRow) -> int | None:
    return invoice.term_habit if invoice.term_habit is not None else invoice.contact_term


def dates(invoice: InvoiceRow) -> Draft | None:
    if invoice.due_date is None:
        return None
    term = (invoice.due_date - invoice.date).days
    expected = _expected_term(invoice)
    if term < 0:
        days = expected if expected is not None and expected >= 0 else 0
        evidence = {"date": invoice.date.isoformat(), "due": invoice.due_date.isoformat(), "days": -term,
                    "fix_days": days}
        return Draft(kind="due_before_date", cause="before", severity=MEDIUM, confidence=Decimal("0.99"),
                     evidence=evidence, suggestion=_due_fix(invoice, days))
    agreed = {t for t in (invoice.contact_term, invoice.term_habit) if t is not None}
    if not agreed or any(abs(term - t) <= TERM_SLACK for t in agreed):
        return None
    evidence = {"days": term, "expected": expected, "contact": invoice.contact_term,
                "habit": invoice.term_habit, "due": invoice.due_date.isoformat()}
    return Draft(kind="due_terms", cause="habit" if invoice.term_habit is not None else "contact",
                 severity=LOW, confidence=Decimal("0.75") if len(agreed) == 1 else Decimal("0.85"),
                 evidence=evidence, suggestion=_due_fix(invoice, expected))


def empty(invoice: InvoiceRow) -> Draft | None:
    if invoice.line_count and invoice.total != 0:
        return None
    cause = "no_lines" if not invoice.line_count else "zero_total"
    return Draft(kind="empty", cause=cause, severity=MEDIUM, confidence=Decimal("0.99"),
                 evidence={"lines": invoice.line_count, "total": text(invoice.total)},
                 suggestion=advice("void_or_complete"))


def identification(invoice: InvoiceRow) -> Draft | None:
    if not is_missing_identification(invoice.identification):
        return None
    return Draft(kind="missing_identification", cause="blank" if not invoice.identification.strip() else "placeholder",
                 severity=MEDIUM, confidence=Decimal("0.95"),
                 evidence={"identification": invoice.identification, "client": invoice.client},
                 suggestion={"type": "contact", "field": "identification", "from": invoice.identification})
