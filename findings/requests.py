"""Everything findings needs of approvals, in one module: a correction is a draft change request
made through approvals' own service (nothing reaches Alegra without approval), and the month-end
review reads requests. Only `request_save_draft`, its refusal and the ChangeRequest model are used.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from decimal import Decimal

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from approvals import routing
from approvals.hooks import on_inbox_notes
from approvals.models import AutoApprovalRule, ChangeRequest, Decision
from approvals.errors import ApprovalError as RequestRefused
from approvals.services.policies import auto_rule_save
from approvals.services.requests import request_by_rule, request_save_draft, request_submit
from invoices import editable
from invoices.models import Contact, Invoice, InvoiceLine, Item, Tax
from invoices.mirror import money_or_zero
from invoices.rules import RuleViolation
from portal import formats

from .models import Finding
from .presenters import explanation, suggestion_text

# What learning reads and writes of approvals goes through here too (findings.learning).
__all__ = ["AutoApprovalRule", "ChangeRequest", "Decision", "NeedsInput", "RequestRefused", "auto_rule_save",
           "edit_url_name", "refused", "request_save_draft", "on_inbox_notes", "proposal", "reason_for", "request_by_rule",
           "request_submit", "routing"]
MAX_REASON = 2000
MAX_CAUSE = 500


class NeedsInput(Exception):
    """The fix needs a value only a person knows (a client's NIT): open the screen, draft nothing."""


def edit_url_name(kind: str) -> str:
    return "approvals:invoice_contact_edit" if kind == ChangeRequest.Kind.CONTACT else "approvals:invoice_edit"


def reason_for(finding: Finding, country: str) -> str:
    text = _("From finding #%(number)s: %(explanation)s Suggested: %(suggestion)s") % {
        "number": finding.pk, "explanation": explanation(finding, country),
        "suggestion": suggestion_text(finding, country)}
    return text[:MAX_REASON]


def _tax_entries(invoice: Invoice, item_id: str, percentage: Decimal) -> list[dict]:
    """The tax entries worth `percentage`: the item's own catalogue taxes first, else a catalogue tax."""
    item = Item.objects.filter(company_id=invoice.company_id, alegra_id=item_id, is_deleted=False).first()
    taxes = [t for t in ((item.document or {}).get("tax") or []) if isinstance(t, Mapping)] if item else []
    if taxes and sum((money_or_zero(t.get("percentage")) for t in taxes), Decimal(0)) == percentage:
        return [copy.deepcopy(dict(t)) for t in taxes]
    found = (Tax.objects.filter(company_id=invoice.company_id, is_deleted=False, percentage=percentage)
             .order_by("-tax_type", "alegra_id").first())
    if found is None:
        raise RequestRefused.of([_violation(_("No tax of %(rate)s %% is in the company's catalogue.")
                                         % {"rate": percentage})])
    return [copy.deepcopy(found.document)]


def refused(message: str) -> RequestRefused:
    """The refusal approvals' screens show, for a reason of the findings' own."""
    return RequestRefused.of([_violation(message)])


def _violation(message: str) -> RuleViolation:
    return RuleViolation("", "not_correctable", message)


def _updated(invoice: Invoice, changes: list[dict]) -> dict:
    document = copy.deepcopy(invoice.document)
    items = document.get("items") or []
    for change in changes:
        if change["field"] == "dueDate":
            document["dueDate"] = change["to"]
            continue
        position = change["line"]
        if not (isinstance(position, int) and 0 <= position < len(items) and isinstance(items[position], dict)):
            raise _stale()  # the mirror's lines and its document disagree: read again before fixing
        line = items[position]
        if change["field"] == "tax":
            line["tax"] = _tax_entries(invoice, str(line.get("id")), Decimal(change["to"]))
        else:
            line[change["field"]] = change["to"]
        line.pop("total", None)
    return document


# The cause printed on the credit note, by the kind of finding: a line of the legal document the
# client and the tax authority read, so short, and in the company's language, not the reader's.
CAUSES = {
    Finding.Kind.PRICE: gettext_lazy("Price adjustment of invoice %(number)s"),
    Finding.Kind.TAX: gettext_lazy("Tax correction of invoice %(number)s"),
    Finding.Kind.QUANTITY: gettext_lazy("Quantity correction of invoice %(number)s"),
    Finding.Kind.DISCOUNT: gettext_lazy("Discount correction of invoice %(number)s"),
    Finding.Kind.DUPLICATE_LINES: gettext_lazy("Invoice %(number)s issued twice"),
    Finding.Kind.DUPLICATE_NUMBER: gettext_lazy("Invoice %(number)s issued twice"),
}


def cause_for(finding: Finding) -> str:
    text = CAUSES.get(finding.kind, gettext_lazy("Correction of invoice %(number)s"))
    with translation.override(formats.language_of(finding.company.country)):
        return (str(text) % {"number": finding.invoice.number or finding.invoice.alegra_id})[:MAX_CAUSE]


def _credit_note(invoice: Invoice, suggestion: dict, cause: str) -> dict:
    returned = [editable.ReturnedLine(index=row["line"], quantity=Decimal(row["quantity"]),
                                      price=Decimal(row["price"])) for row in suggestion["lines"]]
    return editable.credit_note_body(invoice.document, returned, suggestion.get("note_type") or "OTHER",
                                     cause, timezone.localdate().isoformat())


# A suggested change's field → the column of the mirror's line the finding judged it by.
JUDGED = {"price": "price", "quantity": "quantity", "discount": "discount_percent", "tax": "tax_percent"}


def _judged_line(finding: Finding, lines: dict[int, dict], position) -> dict:
    """The invoice's line at `position` if it is still the line the finding judged (the same item),
    else a refusal: an invoice changed in Alegra since the last check may have lost or reordered
    its lines, and a fix by position would then land on another line."""
    line = lines.get(position) if isinstance(position, int) and not isinstance(position, bool) else None
    if line is None or (finding.item_alegra_id and line["item_alegra_id"] != finding.item_alegra_id):
        raise _stale()
    return line


def _stale() -> RequestRefused:
    return refused(_("The invoice changed since this finding was made: it no longer holds what was judged. "
                     "The next check of the invoice brings the finding up to date."))


def _check_fresh(finding: Finding, suggestion: Mapping) -> None:
    """Refuse a fix whose lines or values are no longer those the finding judged."""
    invoice = finding.invoice
    # The mirror's lines, as stored (at the precision the finding's facts were read at).
    lines = {row["position"]: row for row in InvoiceLine.objects.filter(invoice=invoice).values(
        "position", "item_alegra_id", *JUDGED.values())}
    if suggestion.get("type") == "credit_note":
        for row in suggestion.get("lines") or []:
            _judged_line(finding, lines, row.get("line"))
        return
    for change in suggestion.get("changes") or []:
        before = change.get("from")
        if change.get("field") == "dueDate":
            current = invoice.due_date.isoformat() if invoice.due_date else None
            if before is not None and current != before:
                raise _stale()
            continue
        line = _judged_line(finding, lines, change.get("line"))
        column = JUDGED.get(change.get("field"))
        if column is None:
            raise refused(_("This finding has no change the portal can make."))
        if before is not None and line[column] != Decimal(before):
            raise _stale()


def proposal(finding: Finding) -> tuple[str, dict]:
    """(kind of change request, proposed document) for the finding's suggested fix, refused when
    the invoice no longer holds what the finding judged."""
    suggestion = finding.suggestion or {}
    kind = suggestion.get("type")
    invoice = finding.invoice
    if kind in ("update", "credit_note"):
        _check_fresh(finding, suggestion)
    if kind == "update":
        return ChangeRequest.Kind.UPDATE, _updated(invoice, suggestion.get("changes") or [])
    if kind == "credit_note":
        return ChangeRequest.Kind.CREDIT_NOTE, _credit_note(invoice, suggestion, cause_for(finding))
    if kind == "contact":
        contact = Contact.objects.filter(company_id=invoice.company_id, alegra_id=invoice.client_alegra_id,
                                         is_deleted=False).first()
        value = (suggestion.get("to") or "").strip()
        if contact is None or not value:
            raise NeedsInput
        return ChangeRequest.Kind.CONTACT, {**copy.deepcopy(contact.document), "identification": value}
    raise RequestRefused.of([_violation(_("This finding has no change the portal can make."))])
