"""The in-place editor's state: the form bound on posted data, the proposal it makes, its preview.

Nothing here writes. A view hands over what was posted (or nothing, for the first screen);
`update_screen` applies a line operation or a re-base if one was asked for, binds the forms,
builds the proposed document and says what the screen shows. Saving is the services' job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from invoices import arithmetic
from invoices.documents import references
from invoices.models import Contact, Invoice, Item
from invoices.rules import RuleViolation

from . import documents, lines, presenters
from .errors import ApprovalError, render
from .forms import data as form_data
from .forms.edit import LINE_PREFIX, InvoiceHeaderForm, LineFormSet
from .models import ChangeRequest
from .services import proposals
from .workflow import Situation

Kind = ChangeRequest.Kind
SEARCH_LIMIT = 15


def search_items(company_id: int, query: str) -> list[Item]:
    items = Item.objects.filter(company_id=company_id, is_deleted=False)
    query = query.strip()[:100]
    if query:
        items = items.filter(Q(name__icontains=query) | Q(reference__icontains=query) | Q(alegra_id=query))
    return list(items.order_by("name", "id").only("id", "alegra_id", "name", "reference", "price")[:SEARCH_LIMIT])


def search_contacts(company_id: int, query: str) -> list[Contact]:
    contacts = Contact.objects.filter(company_id=company_id, is_deleted=False)
    query = query.strip()[:100]
    if query:
        contacts = contacts.filter(Q(name__icontains=query) | Q(identification__icontains=query)
                                   | Q(email__icontains=query))
    return list(contacts.order_by("name", "id").only("id", "alegra_id", "name", "identification")[:SEARCH_LIMIT])


def _initial_data(invoice: Invoice, situation: Situation):
    draft = situation.draft
    if draft is not None:
        rows = form_data.origins_against(draft.base_document, draft.proposed_document)
        header = form_data.header_initial(draft.proposed_document)
        return form_data.form_data(header, rows, {"base_hash": draft.base_hash, "reason": draft.reason})
    rows = form_data.document_lines_raw(invoice.document, origins=True)
    header = form_data.header_initial(invoice.document)
    return form_data.form_data(header, rows, {"base_hash": invoice.content_hash, "reason": ""})


def _base_for(invoice: Invoice, situation: Situation, base_hash: str) -> tuple[dict | None, str]:
    """The document the form was based on, and its hash; None when the version is unknown."""
    draft = situation.draft
    if draft is not None and (not base_hash or base_hash == draft.base_hash):
        return draft.base_document, draft.base_hash
    if not base_hash:
        return invoice.document, invoice.content_hash
    return proposals.base_for_hash(invoice, base_hash), base_hash


def _contact_document(invoice: Invoice, base: dict, client: str) -> dict | None:
    if not client or client == (references.reference_id(base.get("client")) or ""):
        return None
    contact = Contact.objects.filter(company_id=invoice.company_id, alegra_id=client,
                                     is_deleted=False).only("document").first()
    return contact.document if contact and isinstance(contact.document, dict) else None


@dataclass
class Bound:
    """The forms bound on some data, with the base they edit and the document they propose."""

    data: Any
    base: dict | None
    base_hash: str
    header: InvoiceHeaderForm
    lines: Any
    proposed: dict | None

    @property
    def reason(self) -> str:
        return self.header.cleaned_data.get("reason") or "" if hasattr(self.header, "cleaned_data") else ""


def bind(invoice: Invoice, situation: Situation, data, taxes: dict) -> Bound:
    base, base_hash = _base_for(invoice, situation, (data.get("base_hash") or "")[:64])
    header = InvoiceHeaderForm(data, base=base or invoice.document, **proposals.named_choices(invoice.company))
    line_forms = LineFormSet(data, prefix=LINE_PREFIX)
    valid = header.is_valid() & line_forms.is_valid()
    proposed = None
    if valid and base is not None:
        client = header.cleaned_data.get("client") or ""
        proposed = documents.proposed_invoice(base, header.cleaned_data,
                                              [form.cleaned_data for form in line_forms.forms], taxes,
                                              _contact_document(invoice, base, client))
    return Bound(data, base, base_hash, header, line_forms, proposed)


def _item_row(invoice: Invoice, arg: str) -> dict | None:
    if not arg or len(arg) > 36:
        return None
    item = Item.objects.filter(company_id=invoice.company_id, alegra_id=arg, is_deleted=False).first()
    return lines.row_for_item(item.alegra_id, item.name, item.reference, item.price, item.document) if item else None


@dataclass
class UpdateScreen:
    """What the in-place editor shows after one request."""

    bound: Bound
    taxes: dict
    op: str = ""
    violations: list[RuleViolation] = field(default_factory=list)
    notice: str = ""
    item_results: list | None = None
    client_results: list | None = None


def _with_op(invoice: Invoice, data, op: str) -> Any:
    name, arg = lines.parse_op(op)
    new_item = _item_row(invoice, arg) if name == "add" else None
    rows, overrides = lines.apply_op(name, arg, form_data.posted_lines(data), new_item)
    header = form_data.header_posted(data)
    header.update(overrides)
    return form_data.form_data(header, rows)


def _rebased(invoice: Invoice, situation: Situation, screen: UpdateScreen) -> None:
    bound = screen.bound
    if bound.base is None or bound.base_hash == invoice.content_hash:
        return
    if bound.proposed is None:
        screen.violations.append(RuleViolation("", "fix_first", render("fix_first", {"variant": "rebase"})))
        return
    try:
        rebased = proposals.rebase_document(bound.base, bound.proposed, invoice.document)
    except ApprovalError as exc:
        screen.violations += exc.violations
        return
    data = form_data.form_data(
        form_data.header_initial(rebased), form_data.origins_against(invoice.document, rebased),
        {"base_hash": invoice.content_hash, "reason": bound.data.get("reason", "")})
    screen.bound = bind(invoice, situation, data, screen.taxes)
    screen.notice = _("Your changes now apply to the current version of the invoice.")


def update_screen(invoice: Invoice, situation: Situation, posted=None) -> UpdateScreen:
    """The editor after a GET (`posted` None) or a POST, with any line operation applied."""
    taxes = proposals.catalogue_taxes(invoice.company)
    op = (posted.get("op") or "")[:80] if posted is not None else ""
    data = posted if posted is not None else _initial_data(invoice, situation)
    if op:
        data = _with_op(invoice, data, op)
    screen = UpdateScreen(bind(invoice, situation, data, taxes), taxes, op=op)
    if op == "search":
        screen.item_results = search_items(invoice.company_id, posted.get("item_q", ""))
        screen.client_results = search_contacts(invoice.company_id, posted.get("client_q", ""))
    if op == "rebase":
        _rebased(invoice, situation, screen)
    return screen


# --- what the template shows ------------------------------------------------------------


@dataclass
class LineRow:
    index: int
    values: dict
    errors: list[str] = field(default_factory=list)
    total: str = ""
    tax_ids: list[str] = field(default_factory=list)
    unknown_taxes: list[str] = field(default_factory=list)
    is_last: bool = False
    # A number that cannot be read, said beside its own box: {"quantity": "“dos” is not a number…"}.
    field_errors: dict[str, str] = field(default_factory=dict)


NUMBER_FIELDS = ("quantity", "price", "discount")


def _line_index(violation_field: str) -> int | None:
    if not violation_field.startswith("items["):
        return None
    try:
        return int(violation_field[6:violation_field.index("]")])
    except ValueError:
        return None


def field_errors(form) -> list[str]:
    return [f"{form.fields[name].label}: {message}" if name in form.fields and form.fields[name].label
            else message for name, messages in form.errors.items() for message in messages]


def _line_totals(proposed: dict, taxes: dict, precision: int, country: str) -> list[str]:
    totals = []
    for line in proposed.get("items") or []:
        try:
            totals.append(presenters.money_text(arithmetic.line_totals(line, precision, taxes).total,
                                                precision, country))
        except (ValueError, TypeError, ArithmeticError):
            totals.append(presenters.EMPTY)
    return totals


def _line_rows(data, line_forms, violations, totals, taxes) -> list[LineRow]:
    rows = []
    raw_rows = form_data.posted_lines(data)
    forms_by_index = dict(enumerate(line_forms.forms))
    for index, values in enumerate(raw_rows):
        form = forms_by_index.get(index)
        bound = form is not None and form.is_bound
        own = {name: " ".join(form.errors[name]) for name in NUMBER_FIELDS if bound and name in form.errors}
        errors = [e for e in (field_errors(form) if bound else [])
                  if not any(e.startswith(f"{form.fields[name].label}:") for name in own)]
        errors += [v.message for v in violations if _line_index(v.field) == index]
        tax_ids = [t for t in values.get("tax") or [] if isinstance(t, str)]
        rows.append(LineRow(index=index, values=values, errors=errors,
                            total=totals[index] if index < len(totals) else presenters.EMPTY,
                            tax_ids=tax_ids, unknown_taxes=[t for t in tax_ids if t not in taxes],
                            is_last=index == len(raw_rows) - 1, field_errors=own))
    return rows


def unreadable_numbers(rows: list[LineRow]) -> list[str]:
    """For the summary above the totals: which line and box holds what cannot be read."""
    labels = {"quantity": _("Quantity"), "price": _("Unit price"), "discount": _("Discount %")}
    return [_("Line %(line)s, %(field)s: %(error)s") % {"line": row.index + 1, "field": labels[name], "error": error}
            for row in rows for name, error in row.field_errors.items()]


def _client_label(invoice: Invoice, base: dict, proposed_client: str) -> str:
    if proposed_client and proposed_client == (references.reference_id(base.get("client")) or ""):
        return presenters.value_text(base.get("client"))
    if not proposed_client:
        return ""
    contact = Contact.objects.filter(company_id=invoice.company_id, alegra_id=proposed_client).only("name").first()
    return contact.name if contact else f"#{proposed_client}"


def update_context(invoice: Invoice, screen: UpdateScreen) -> dict:
    company, bound, taxes = invoice.company, screen.bound, screen.taxes
    stale = bound.base_hash != invoice.content_hash
    preview, line_totals = None, []
    violations = list(screen.violations)
    if bound.proposed is not None:
        # One diff (and one total of each side) serves the preview, the rules and the line totals.
        changes = presenters.document_diff(bound.base, bound.proposed, taxes)
        preview = presenters.present_diff(changes, country=company.country,
                                          before_label=_("In Alegra"), after_label=_("Proposed"))
        found = proposals.validate_proposal(invoice=invoice, kind=Kind.UPDATE, base=bound.base,
                                            proposed=bound.proposed, taxes=taxes,
                                            changes=changes if changes.taxes_applied else None)
        known = {(v.field, v.code) for v in violations}
        violations += [v for v in found if v.code != "nothing_to_submit" and (v.field, v.code) not in known]
        line_totals = (
            [presenters.money_text(total, preview.precision, company.country) for total in preview.after_line_totals]
            if preview.impact is not None
            else _line_totals(bound.proposed, taxes, preview.precision, company.country))
    meanwhile = None
    if stale and bound.base is not None:
        meanwhile = presenters.diff_of(bound.base, invoice.document, taxes=taxes, country=company.country,
                                       before_label=_("When you started"), after_label=_("Now in Alegra"))
    data = bound.data
    rows = _line_rows(data, bound.lines, violations, line_totals, taxes)
    return {
        "kind": Kind.UPDATE, "header": bound.header, "management": bound.lines.management_form,
        "rows": rows,
        "taxes": list(taxes.values()), "preview": preview, "violations": violations,
        "form_errors": field_errors(bound.header) + [str(e) for e in bound.lines.non_form_errors()]
        + unreadable_numbers(rows),
        "stale": stale, "unknown_base": bound.base is None, "meanwhile": meanwhile, "notice": screen.notice,
        "base_hash": bound.base_hash,
        "client_label": _client_label(invoice, bound.base or invoice.document, str(data.get("client", ""))[:36]),
        "item_results": screen.item_results, "client_results": screen.client_results,
        "item_q": str(data.get("item_q", ""))[:100], "client_q": str(data.get("client_q", ""))[:100],
    }
