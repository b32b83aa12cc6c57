"""What the edit, request and approval screens show, shaped so templates only loop and print.

`present_diff` turns an `invoices.diff.DocumentDiff` into the `DiffView` that
`templates/components/diff.html` renders; `present_request` does it for a saved change request
of any kind (an update, a credit note, a contact update).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from invoices import arithmetic, diff, editable
from invoices.documents import contacts, numbers, references
from portal import formats

from .forms.edit import CREDIT_NOTE_TYPES
from .models import ChangeRequest
from .texts import (  # noqa: F401 (the screens' value texts, used here and read through this module)
    EMPTY, as_decimal, field_value_text, money_text, number_text, price_text, prices_need_full, printable,
    tax_label, taxes_text, value_text,
)

HEADER_LABELS: dict[str, Promise] = {
    "date": _("Date"), "dueDate": _("Due date"), "client": _("Client"), "status": _("Status"),
    "paymentForm": _("Payment form"), "paymentMethod": _("Payment method"),
    "seller": _("Seller"), "priceList": _("Price list"), "warehouse": _("Warehouse"),
    "costCenter": _("Cost center"), "currency": _("Currency"), "numberTemplate": _("Numbering"),
    "observations": _("Observations"), "anotation": _("Printed note"),
    "termsConditions": _("Terms and conditions"), "totalPaid": _("Paid"),
    "email": _("E-mail"), "phonePrimary": _("Phone"), "phoneSecondary": _("Second phone"),
    "mobile": _("Mobile"), "address.address": _("Address"), "address.city": _("City"),
    "retentions": _("Withholdings"), "identification": _("Identification"), "name": _("Name"),
}
ITEM_FIELDS = frozenset({"id", "name", "description", "reference"})
NOTE_TYPE_LABELS = dict(CREDIT_NOTE_TYPES)


@dataclass
class Cell:
    text: str
    sub: str = ""
    changed: bool = False
    num: bool = False


@dataclass
class Side:
    position: int
    cells: list[Cell]


@dataclass
class LineRow:
    kind: str  # "same" | "changed" | "added" | "removed" | "gap"
    left: Side | None = None
    right: Side | None = None
    hidden: int = 0  # for a gap: how many unchanged lines it stands for
    change: Any = field(default=None, repr=False)  # the diff's LineChange, until drawn


@dataclass
class HeaderRow:
    field: str
    label: str
    before: str
    after: str


@dataclass
class TotalsRow:
    label: str
    before: Decimal | None
    after: Decimal | None
    strong: bool = False

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass
class Impact:
    old_total: Decimal
    new_total: Decimal
    difference: Decimal

    @property
    def direction(self) -> str:
        return "up" if self.difference > 0 else "down" if self.difference < 0 else "none"


@dataclass
class NoteLine:
    position: int
    item: str
    quantity: str
    invoiced: str
    price: str
    taxes: str
    total: str


@dataclass
class NoteView:
    type_label: str
    cause: str
    date: str
    lines: list[NoteLine]
    amount: Decimal | None
    balance_before: Decimal | None
    balance_after: Decimal | None
    # What the note does not settle on the invoice stays as the client's credit.
    client_credit: Decimal | None = None

    @property
    def balance_change(self) -> Decimal | None:
        if self.balance_after is None or self.balance_before is None:
            return None
        return self.balance_after - self.balance_before


@dataclass
class DiffView:
    header: list[HeaderRow] = field(default_factory=list)
    lines: list[LineRow] = field(default_factory=list)
    impact: Impact | None = None
    totals: list[TotalsRow] = field(default_factory=list)
    precision: int = 2
    country: str = "CO"
    added: int = 0
    removed: int = 0
    changed: int = 0
    has_changes: bool = False
    note: NoteView | None = None
    before_label: str = ""
    after_label: str = ""
    # Each proposed line's total, in the order of the proposed document (None: not computable).
    after_line_totals: list = field(default_factory=list)

    @property
    def line_count_changed(self) -> bool:
        return bool(self.added or self.removed or self.changed)


# --- formatting -------------------------------------------------------------------------


# --- the diff component -------------------------------------------------------------------


def _side(line: Mapping, index: int, changed: set[str], total: Any, precision: int,
          country: str, full_price: bool = False) -> Side:
    sub = " · ".join(str(line.get(k)) for k in ("reference", "description") if line.get(k))
    item = str(line.get("name") or "") or f"#{references.item_id(line)}"
    return Side(index + 1, [
        Cell(item, sub, bool(changed & ITEM_FIELDS)),
        Cell(number_text(line.get("quantity")), changed="quantity" in changed, num=True),
        Cell(price_text(line.get("price"), precision, country, full=full_price), changed="price" in changed,
             num=True),
        Cell(number_text(line.get("discount") or 0) + " %", changed="discount" in changed, num=True),
        Cell(taxes_text(line.get("tax")), changed="tax" in changed),
        Cell(money_text(total, precision, country), changed="total" in changed, num=True),
    ])


def _collapse(rows: list[LineRow], context: int = 1) -> list[LineRow]:
    """Runs of unchanged lines shrink to a gap row, keeping `context` lines at each end."""
    result: list[LineRow] = []
    run: list[LineRow] = []

    def flush(at_start: bool, at_end: bool) -> None:
        keep_head = 0 if at_start else context
        keep_tail = 0 if at_end else context
        if len(run) > keep_head + keep_tail + 1:
            result.extend(run[:keep_head])
            result.append(LineRow("gap", hidden=len(run) - keep_head - keep_tail))
            result.extend(run[len(run) - keep_tail:] if keep_tail else [])
        else:
            result.extend(run)
        run.clear()

    for row in rows:
        if row.kind == "same":
            run.append(row)
            continue
        flush(at_start=not result, at_end=False)
        result.append(row)
    if any(row.kind != "same" for row in rows):
        flush(at_start=not result, at_end=True)
    else:
        result.extend(run)
    return result


def _totals_rows(before: arithmetic.InvoiceTotals | None,
                 after: arithmetic.InvoiceTotals | None) -> list[TotalsRow]:
    if before is None or after is None:
        return []
    rows = [TotalsRow(str(_("Subtotal")), before.subtotal, after.subtotal),
            TotalsRow(str(_("Discount")), before.discount, after.discount)]
    taxes: dict[str, list] = {}
    for side, totals in ((0, before), (1, after)):
        for tax in totals.taxes:
            entry = taxes.setdefault(tax.id, [tax_label(tax.name or "#" + tax.id, tax.percentage),
                                              Decimal(0), Decimal(0)])
            entry[1 + side] = tax.amount
    rows += [TotalsRow(label, old, new) for label, old, new in taxes.values()]
    rows += [TotalsRow(str(_("Total")), before.total, after.total, strong=True),
             TotalsRow(str(_("Paid")), before.total_paid, after.total_paid),
             TotalsRow(str(_("Balance")), before.balance, after.balance, strong=True)]
    return rows + _retention_rows(before, after)


def _retention_rows(before: arithmetic.InvoiceTotals, after: arithmetic.InvoiceTotals) -> list[TotalsRow]:
    """What the client withholds: outside the total, but money the approver must see move."""
    found: dict[str, list] = {}
    for side, totals in ((0, before), (1, after)):
        for retention in totals.retentions:
            label = _("Withholding %(name)s %(percentage)s %%") % {
                "name": retention.name or "#" + retention.id,
                "percentage": numbers.decimal_text(retention.percentage)}
            found.setdefault(retention.id, [label, Decimal(0), Decimal(0)])[1 + side] = retention.amount
    return [TotalsRow(label, old, new) for label, old, new in found.values()]


def present_diff(document_diff: diff.DocumentDiff, *, precision: int | None = None,
                 country: str = "CO", collapse: bool = True,
                 before_label: str = "", after_label: str = "") -> DiffView:
    """The component's view of a DocumentDiff (before on the left, after on the right)."""
    impact = document_diff.impact
    if impact is not None and not all(printable(v) for v in (
            impact.old_total, impact.new_total, impact.after.subtotal, impact.after.tax,
            impact.before.subtotal, impact.before.tax, impact.after.balance)):
        impact = None
    if precision is None:
        precision = impact.after.precision if impact is not None else 2
    before_totals = impact.before.lines if impact is not None else ()
    after_totals = impact.after.lines if impact is not None else ()
    counts = {"added": 0, "removed": 0, "changed": 0}
    rows = []
    for change in document_diff.lines:
        rows.append(LineRow(change.kind, change=change))
        if change.kind in counts:
            counts[change.kind] += 1
    rows = _collapse(rows) if collapse else rows
    # Only the lines left after collapsing are drawn: an invoice of 500 lines stays quick.
    for row in rows:
        change = row.change
        if change is None:
            continue
        names = change.field_names()
        full = ("price" in names and change.before is not None and change.after is not None
                and prices_need_full(change.before.get("price"), change.after.get("price"), precision))
        if change.before is not None:
            i = change.before_index
            total = before_totals[i].total if i is not None and i < len(before_totals) else change.before.get("total")
            row.left = _side(change.before, i or 0, names, total, precision, country, full)
        if change.after is not None:
            j = change.after_index
            total = after_totals[j].total if j is not None and j < len(after_totals) else change.after.get("total")
            row.right = _side(change.after, j or 0, names, total, precision, country, full)
    return DiffView(
        header=[HeaderRow(c.field, str(HEADER_LABELS.get(c.field, c.field)),
                          field_value_text(c.field, c.before), field_value_text(c.field, c.after))
                for c in document_diff.header],
        lines=rows,
        impact=Impact(impact.old_total, impact.new_total, impact.difference) if impact else None,
        totals=_totals_rows(impact.before, impact.after) if impact else [],
        precision=precision, country=country, has_changes=document_diff.has_changes,
        before_label=before_label or str(_("Before")), after_label=after_label or str(_("After")),
        after_line_totals=[line.total for line in after_totals],
        **counts,
    )


def document_diff(before: Mapping, after: Mapping, taxes: Mapping | None) -> diff.DocumentDiff:
    """The diff with the catalogue's taxes, or without them where they make a value unreadable
    (`taxes_applied` says which)."""
    try:
        return diff.diff_documents(before, after, taxes)
    except (ValueError, TypeError, ArithmeticError):
        return dataclasses.replace(diff.diff_documents(before, after, None), taxes_applied=taxes is None)


def diff_of(before: Mapping, after: Mapping, *, taxes: Mapping | None = None,
            precision: int | None = None, country: str = "CO", **labels) -> DiffView:
    """Diff two invoice documents and present it; a malformed value never raises."""
    return present_diff(document_diff(before, after, taxes), precision=precision, country=country, **labels)


def present_contact_diff(before: Mapping, after: Mapping, **labels) -> DiffView:
    header = [HeaderRow(name, str(HEADER_LABELS.get(name, name)), contacts.text_at(before, name) or EMPTY,
                        contacts.text_at(after, name) or EMPTY)
              for name in contacts.changed_paths(before, after)]
    return DiffView(header=header, has_changes=bool(header),
                    before_label=labels.get("before_label") or str(_("Before")),
                    after_label=labels.get("after_label") or str(_("After")))


def present_note(invoice_doc: Mapping, note: Mapping, *, country: str = "CO",
                 taxes: Mapping | None = None) -> DiffView:
    """A credit note and what it does to the invoice's balance."""
    try:
        precision = arithmetic.precision_of(invoice_doc)
    except ValueError:
        precision = 2
    items = invoice_doc.get("items") if isinstance(invoice_doc.get("items"), list) else []
    invoiced: dict[str, Decimal] = {}
    for line in items:
        if isinstance(line, Mapping):
            invoiced[references.item_id(line)] = invoiced.get(references.item_id(line), Decimal(0)) + (
                as_decimal(line.get("quantity")) or Decimal(0))
    names = {references.item_id(line): str(line.get("name") or "") for line in items if isinstance(line, Mapping)}
    known_taxes = {references.tax_id(t): t for line in items if isinstance(line, Mapping)
                   for t in line.get("tax") or () if isinstance(t, Mapping)}
    lines = []
    for index, line in enumerate(note.get("items") or ()):
        if not isinstance(line, Mapping):
            continue
        ident = references.item_id(line)
        try:
            total = arithmetic.line_totals(line, precision, {**(taxes or {}), **known_taxes}).total
        except (ValueError, TypeError, ArithmeticError):
            total = None
        lines.append(NoteLine(
            index + 1, names.get(ident) or f"#{ident}", number_text(line.get("quantity")),
            number_text(invoiced.get(ident, Decimal(0))), price_text(line.get("price"), precision, country),
            taxes_text([known_taxes.get(references.tax_id(t), t) for t in line.get("tax") or ()]),
            money_text(total, precision, country) if total is not None else EMPTY,
        ))
    try:
        amount = editable.credit_note_amount(invoice_doc, note, taxes)
    except (ValueError, TypeError, ArithmeticError):
        amount = None
    if not printable(amount):
        amount = None
    try:
        before = editable.invoice_balance(invoice_doc)
    except (ValueError, TypeError, ArithmeticError):
        before = Decimal(0)
    try:
        applied = editable.applied_amount(invoice_doc, note) if amount is not None else None
    except (ValueError, TypeError):
        applied = None
    total = as_decimal(invoice_doc.get("total")) or Decimal(0)
    view = NoteView(
        type_label=str(NOTE_TYPE_LABELS.get(note.get("type"), note.get("type") or EMPTY)),
        cause=str(note.get("cause") or ""), date=formats.date(str(note.get("date") or "")), lines=lines,
        amount=amount, balance_before=before,
        balance_after=before - applied if applied is not None else None,
        client_credit=amount - applied if applied is not None else None,
    )
    return DiffView(
        impact=Impact(total, total - amount, -amount) if amount is not None else None,
        precision=precision, country=country, has_changes=bool(lines), note=view,
        before_label=str(_("Invoice")), after_label=str(_("Credit note")),
    )


def present_request(change_request: ChangeRequest, *, taxes: Mapping | None = None) -> DiffView:
    """The diff component's view of a saved request, whatever its kind."""
    country = getattr(change_request.company, "country", "CO")
    base, proposed = change_request.base_document, change_request.proposed_document
    if change_request.kind == ChangeRequest.Kind.CONTACT:
        return present_contact_diff(base, proposed)
    if change_request.kind == ChangeRequest.Kind.CREDIT_NOTE:
        return present_note(base, proposed, country=country, taxes=taxes)
    return diff_of(base, proposed, taxes=taxes, country=country,
                   before_label=str(_("In Alegra")), after_label=str(_("Proposed")))
