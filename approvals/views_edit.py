"""The accountant's edit screen: an in-place update, or the credit-note composer.

One URL serves the screen; htmx posts the same form to `invoice_edit_recompute` as the user
types (totals and diff redrawn) or clicks a line operation (the editor redrawn). Without
JavaScript the same buttons post to the screen itself and the whole page comes back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from invoices import diff, editable
from invoices.models import Contact, Invoice, Item
from invoices.rules import RuleViolation
from portal.access import EDIT_ROLES, get_membership

from . import forms as edit_forms
from . import presenters
from .errors import ApprovalError
from .models import ChangeRequest
from .services import proposals
from .services import requests as services

Kind = ChangeRequest.Kind
SEARCH_LIMIT = 15
LINE_ERROR_FIELDS = {"id": "item"}


def _invoice_for_editor(request: HttpRequest, company_id: int, pk: int):
    membership = get_membership(request, company_id, EDIT_ROLES)
    try:
        invoice = Invoice.objects.select_related("company").get(pk=pk, company_id=company_id)
    except Invoice.DoesNotExist:
        raise Http404("No such invoice") from None
    return invoice, membership


@dataclass
class Situation:
    """Where an edit of this invoice stands for this user, before reading the form."""

    kind: str | None  # None: read-only
    draft: ChangeRequest | None = None
    blocked_by: ChangeRequest | None = None
    readonly_reason: str = ""


def _situation(invoice: Invoice, user, wanted_kind: str | None) -> Situation:
    if invoice.is_deleted:
        return Situation(None, readonly_reason=_(
            "This invoice was deleted in Alegra. The mirror keeps its last version, but it "
            "cannot be changed."))
    if invoice.is_void:
        return Situation(None, readonly_reason=_(
            "This invoice is void: it is read-only. A void invoice cannot be corrected here; "
            "if it was never stamped it can be reopened in Alegra, and it will be editable "
            "after the next sync."))
    open_request = proposals.open_request_for(invoice)
    if open_request is not None:
        if (open_request.requester_id != user.pk or open_request.state != ChangeRequest.State.DRAFT
                or open_request.kind == Kind.CONTACT):
            return Situation(None, blocked_by=open_request)
        return Situation(open_request.kind, draft=open_request)
    if invoice.editable_in_place and wanted_kind != Kind.CREDIT_NOTE:
        return Situation(Kind.UPDATE)
    return Situation(Kind.CREDIT_NOTE)


def _wanted_kind(request: HttpRequest) -> str | None:
    return request.POST.get("kind") or request.GET.get("kind") or None


@login_required
def invoice_edit(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    invoice, membership = _invoice_for_editor(request, company_id, pk)
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    situation = _situation(invoice, request.user, _wanted_kind(request))
    base_context = {"company": invoice.company, "membership": membership, "invoice": invoice,
                    "situation": situation}
    if situation.kind is None:
        return render(request, "approvals/edit.html", {**base_context, "readonly": True})
    if situation.kind == Kind.CREDIT_NOTE:
        return _credit_note(request, invoice, situation, base_context, partial=None)
    return _update(request, invoice, situation, base_context, partial=None)


@login_required
@require_POST
def invoice_edit_recompute(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    """htmx: the preview (or the whole editor after a line operation), nothing saved."""
    invoice, membership = _invoice_for_editor(request, company_id, pk)
    situation = _situation(invoice, request.user, _wanted_kind(request))
    base_context = {"company": invoice.company, "membership": membership, "invoice": invoice,
                    "situation": situation}
    if situation.kind is None:
        return render(request, "approvals/edit.html#readonly_notice",
                      {**base_context, "readonly": True})
    if situation.kind == Kind.CREDIT_NOTE:
        return _credit_note(request, invoice, situation, base_context, partial="preview")
    return _update(request, invoice, situation, base_context, partial="auto")


# --- the in-place update ----------------------------------------------------------------


@dataclass
class LineRow:
    index: int
    values: dict
    errors: list[str] = field(default_factory=list)
    total: str = ""
    tax_ids: list[str] = field(default_factory=list)
    unknown_taxes: list[str] = field(default_factory=list)
    is_last: bool = False


def _line_index(violation_field: str) -> int | None:
    if not violation_field.startswith("items["):
        return None
    try:
        return int(violation_field[6:violation_field.index("]")])
    except ValueError:
        return None


def _apply_op(op: str, rows: list[dict], invoice: Invoice, taxes: dict) -> tuple[list[dict], dict]:
    """A line operation on the posted rows; returns the rows and header overrides."""
    name, _sep, arg = op.partition(":")
    header: dict[str, str] = {}
    index = int(arg) if arg.isdigit() else -1
    if name == "remove" and 0 <= index < len(rows):
        rows.pop(index)
    elif name == "up" and 0 < index < len(rows):
        rows[index - 1], rows[index] = rows[index], rows[index - 1]
    elif name == "down" and 0 <= index < len(rows) - 1:
        rows[index + 1], rows[index] = rows[index], rows[index + 1]
    elif name == "add" and arg and len(arg) <= 36 and len(rows) < edit_forms.MAX_LINES:
        item = Item.objects.filter(company_id=invoice.company_id, alegra_id=arg, is_deleted=False).first()
        if item is not None:
            document = item.document if isinstance(item.document, dict) else {}
            item_taxes = [t for t in (document.get("tax") or []) if isinstance(t, (dict, str, int))]
            rows.append({
                "origin": "", "item": item.alegra_id, "name": item.name,
                "description": str(document.get("description") or "")[:500],
                "reference": item.reference, "price": editable.decimal_text(item.price),
                "quantity": "1", "discount": "0",
                "tax": [tid for tid in (edit_forms.arithmetic.tax_id(t) for t in item_taxes) if tid],
            })
    elif name == "client" and arg and len(arg) <= 36:
        header["client"] = arg
    return rows, header


def _search_items(company_id: int, query: str) -> list[Item]:
    items = Item.objects.filter(company_id=company_id, is_deleted=False)
    query = query.strip()[:100]
    if query:
        items = items.filter(Q(name__icontains=query) | Q(reference__icontains=query) | Q(alegra_id=query))
    return list(items.order_by("name", "id").only("id", "alegra_id", "name", "reference", "price")[:SEARCH_LIMIT])


def _search_contacts(company_id: int, query: str) -> list[Contact]:
    contacts = Contact.objects.filter(company_id=company_id, is_deleted=False)
    query = query.strip()[:100]
    if query:
        contacts = contacts.filter(Q(name__icontains=query) | Q(identification__icontains=query)
                                   | Q(email__icontains=query))
    return list(contacts.order_by("name", "id").only("id", "alegra_id", "name", "identification")[:SEARCH_LIMIT])


def _initial_data(invoice: Invoice, situation: Situation):
    if situation.draft is not None:
        draft = situation.draft
        rows = edit_forms.origins_against(draft.base_document, draft.proposed_document)
        header = edit_forms.header_initial(draft.proposed_document)
        return edit_forms.form_data(header, rows, {"base_hash": draft.base_hash, "reason": draft.reason})
    rows = edit_forms.document_lines_raw(invoice.document, origins=True)
    header = edit_forms.header_initial(invoice.document)
    return edit_forms.form_data(header, rows, {"base_hash": invoice.content_hash, "reason": ""})


def _base_for(invoice: Invoice, situation: Situation, base_hash: str) -> tuple[dict | None, str]:
    """The document the form was based on, and its hash; None when the version is unknown."""
    draft = situation.draft
    if draft is not None and (not base_hash or base_hash == draft.base_hash):
        return draft.base_document, draft.base_hash
    if not base_hash:
        return invoice.document, invoice.content_hash
    return proposals.base_for_hash(invoice, base_hash), base_hash


def _client_label(invoice: Invoice, base: dict, proposed_client: str) -> str:
    if proposed_client and proposed_client == (diff.reference_id(base.get("client")) or ""):
        return presenters.value_text(base.get("client"))
    if not proposed_client:
        return ""
    contact = Contact.objects.filter(company_id=invoice.company_id, alegra_id=proposed_client).only("name").first()
    return contact.name if contact else f"#{proposed_client}"


@dataclass
class Bound:
    """The form bound on some data, with the base it edits and the document it proposes."""

    data: Any
    base: dict | None
    base_hash: str
    header: edit_forms.InvoiceHeaderForm
    lines: Any
    valid: bool
    proposed: dict | None


def _bind(invoice: Invoice, situation: Situation, data, taxes: dict) -> Bound:
    base, base_hash = _base_for(invoice, situation, (data.get("base_hash") or "")[:64])
    header = edit_forms.InvoiceHeaderForm(data, base=base or invoice.document)
    lines = edit_forms.LineFormSet(data, prefix=edit_forms.LINE_PREFIX)
    valid = header.is_valid() & lines.is_valid()
    proposed = _proposed(invoice, base, header.cleaned_data, lines, taxes) if valid and base is not None else None
    return Bound(data, base, base_hash, header, lines, valid, proposed)


def _update(request: HttpRequest, invoice: Invoice, situation: Situation, context: dict,
            partial: str | None) -> HttpResponse:
    company = invoice.company
    taxes = proposals.catalogue_taxes(company)
    posted = request.method == "POST"
    op = (request.POST.get("op") or "")[:80] if posted else ""
    action = request.POST.get("action") if posted else None
    data = request.POST if posted else _initial_data(invoice, situation)
    extra: dict[str, Any] = {}
    if op:
        rows, overrides = _apply_op(op, edit_forms.posted_lines(data), invoice, taxes)
        header = edit_forms.header_posted(data)
        header.update(overrides)
        data = edit_forms.form_data(header, rows)
        if op == "search":
            extra["item_results"] = _search_items(company.pk, request.POST.get("item_q", ""))
            extra["client_results"] = _search_contacts(company.pk, request.POST.get("client_q", ""))
    bound = _bind(invoice, situation, data, taxes)
    violations: list[RuleViolation] = []
    notice = ""
    if op == "rebase" and bound.base is not None and bound.base_hash != invoice.content_hash:
        if bound.proposed is None:
            violations.append(RuleViolation("", "fix_first", _("Fix the errors below before re-basing.")))
        else:
            try:
                rebased = proposals.rebase_document(bound.base, bound.proposed, invoice.document)
            except ApprovalError as exc:
                violations += exc.violations
            else:
                data = edit_forms.form_data(
                    edit_forms.header_initial(rebased), edit_forms.origins_against(invoice.document, rebased),
                    {"base_hash": invoice.content_hash, "reason": data.get("reason", "")})
                bound = _bind(invoice, situation, data, taxes)
                notice = _("Your changes now apply to the current version of the invoice.")
    if action in ("draft", "submit") and not op:
        if bound.proposed is None:
            violations.append(RuleViolation("", "fix_first", _("Nothing was saved: fix the errors below.")))
        else:
            service = services.request_save_draft if action == "draft" else services.request_save_and_submit
            try:
                saved = service(invoice=invoice, user=request.user, proposed=bound.proposed,
                                reason=bound.header.cleaned_data.get("reason") or "",
                                kind=Kind.UPDATE, request=situation.draft, base_hash=bound.base_hash)
            except ApprovalError as exc:
                violations += exc.violations
            else:
                if action == "draft":
                    messages.success(request, _("Draft saved. You can come back to it at any time."))
                    return redirect("approvals:invoice_edit", company_id=invoice.company_id, pk=invoice.pk)
                messages.success(request, _("Change request #%(number)s submitted for approval.")
                                 % {"number": saved.pk})
                return redirect("approvals:request_detail", company_id=invoice.company_id, pk=saved.pk)
    context = _update_context(invoice, context, bound, taxes, violations, extra, notice)
    if partial == "auto" and request.headers.get("HX-Request"):
        template = "approvals/edit.html#editor" if op else "approvals/edit.html#recomputed"
        return render(request, template, context)
    return render(request, "approvals/edit.html", context)


def _proposed(invoice: Invoice, base: dict, header: dict, line_forms, taxes: dict) -> dict:
    client = header.get("client") or ""
    contact_document = None
    if client and client != (diff.reference_id(base.get("client")) or ""):
        contact = Contact.objects.filter(company_id=invoice.company_id, alegra_id=client,
                                         is_deleted=False).only("document").first()
        contact_document = contact.document if contact and isinstance(contact.document, dict) else None
    lines = [form.cleaned_data for form in line_forms.forms]
    return edit_forms.proposed_invoice(base, header, lines, taxes, contact_document)


def _update_context(invoice: Invoice, context: dict, bound: Bound, taxes: dict,
                    violations: list[RuleViolation], extra: dict, notice: str) -> dict:
    company = invoice.company
    stale = bound.base_hash != invoice.content_hash
    preview = None
    line_totals: list = []
    rule_violations = list(violations)
    if bound.proposed is not None:
        preview = presenters.diff_of(bound.base, bound.proposed, taxes=taxes, country=company.country,
                                     before_label=_("In Alegra"), after_label=_("Proposed"))
        found = proposals.validate_proposal(invoice=invoice, kind=Kind.UPDATE, base=bound.base,
                                           proposed=bound.proposed, taxes=taxes)
        known = {(v.field, v.code) for v in rule_violations}
        rule_violations += [v for v in found if v.code != "nothing_to_submit"
                            and (v.field, v.code) not in known]
        line_totals = (
            [presenters.money_text(total, preview.precision, company.country)
             for total in preview.after_line_totals]
            if preview.impact is not None
            else _line_totals(bound.proposed, taxes, preview.precision, company.country))
    meanwhile = None
    if stale and bound.base is not None:
        meanwhile = presenters.diff_of(bound.base, invoice.document, taxes=taxes, country=company.country,
                                       before_label=_("When you started"), after_label=_("Now in Alegra"))
    data = bound.data
    return {
        **context, "kind": Kind.UPDATE, "header": bound.header,
        "management": bound.lines.management_form,
        "rows": _line_rows(data, bound.lines, rule_violations, line_totals, taxes),
        "taxes": list(taxes.values()), "preview": preview,
        "violations": rule_violations, "form_errors": _form_errors(bound.header, bound.lines),
        "stale": stale, "unknown_base": bound.base is None, "meanwhile": meanwhile, "notice": notice,
        "base_hash": bound.base_hash,
        "client_label": _client_label(invoice, bound.base or invoice.document, str(data.get("client", ""))[:36]),
        "item_results": extra.get("item_results"), "client_results": extra.get("client_results"),
        "item_q": str(data.get("item_q", ""))[:100], "client_q": str(data.get("client_q", ""))[:100],
        "draft": context["situation"].draft,
    }


def _line_totals(proposed: dict, taxes: dict, precision: int, country: str) -> list[str]:
    from invoices import arithmetic

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
    raw_rows = edit_forms.posted_lines(data)
    forms_by_index = dict(enumerate(line_forms.forms))
    for index, values in enumerate(raw_rows):
        form = forms_by_index.get(index)
        errors = []
        if form is not None and form.is_bound:
            for name, messages_ in form.errors.items():
                label = form.fields[name].label if name in form.fields else ""
                errors += [f"{label}: {m}" if label else m for m in messages_]
        errors += [v.message for v in violations if _line_index(v.field) == index]
        tax_ids = [t for t in values.get("tax") or [] if isinstance(t, str)]
        rows.append(LineRow(index=index, values=values, errors=errors,
                            total=totals[index] if index < len(totals) else presenters.EMPTY,
                            tax_ids=tax_ids, unknown_taxes=[t for t in tax_ids if t not in taxes],
                            is_last=index == len(raw_rows) - 1))
    return rows


def _form_errors(header_form, line_forms) -> list[str]:
    errors = []
    for name, messages_ in header_form.errors.items():
        label = header_form.fields[name].label if name in header_form.fields else ""
        errors += [f"{label}: {m}" if label else m for m in messages_]
    errors += [str(e) for e in line_forms.non_form_errors()]
    return errors


# --- searches --------------------------------------------------------------------------


@login_required
@require_GET
def item_search(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    invoice, _membership = _invoice_for_editor(request, company_id, pk)
    query = request.GET.get("item_q") or request.GET.get("q") or ""
    return render(request, "approvals/edit.html#item_results",
                  {"invoice": invoice, "item_results": _search_items(company_id, query), "item_q": query[:100]})


@login_required
@require_GET
def contact_search(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    invoice, _membership = _invoice_for_editor(request, company_id, pk)
    query = request.GET.get("client_q") or request.GET.get("q") or ""
    return render(request, "approvals/edit.html#client_results",
                  {"invoice": invoice, "client_results": _search_contacts(company_id, query),
                   "client_q": query[:100]})


# --- the credit-note composer -------------------------------------------------------------


@dataclass
class CreditRow:
    index: int
    name: str
    invoiced: str
    price: str
    net_price: str
    taxes: str
    quantity: str
    credit_price: str
    errors: list[str] = field(default_factory=list)


def _credit_note(request: HttpRequest, invoice: Invoice, situation: Situation, context: dict,
                 partial: str | None) -> HttpResponse:
    company = invoice.company
    draft = situation.draft
    base = draft.base_document if draft is not None else invoice.document
    base_hash = draft.base_hash if draft is not None else invoice.content_hash
    items = base.get("items") if isinstance(base.get("items"), list) else []
    if request.method == "POST":
        data = request.POST
    else:
        note = draft.proposed_document if draft is not None else {}
        initial = edit_forms.credit_lines_initial(base, note)
        data = {"base_hash": base_hash, "date": note.get("date") or _today(),
                "type": note.get("type") or ("PARTIALL_DEVOLUTION"),
                "cause": note.get("cause") or "", "reason": draft.reason if draft else ""}
        for index, line in enumerate(items):
            values = initial.get(index, {})
            net = edit_forms.net_price(line) if isinstance(line, dict) else None
            data[f"credit-{index}-quantity"] = values.get("quantity", "0")
            data[f"credit-{index}-price"] = values.get("price") or (editable.decimal_text(net) if net is not None else "")
    form = edit_forms.CreditNoteForm(data)
    line_forms = [edit_forms.CreditLineForm(data, prefix=f"credit-{i}") for i in range(len(items))]
    valid = form.is_valid() & all([f.is_valid() for f in line_forms])
    violations: list[RuleViolation] = []
    note = None
    if valid:
        note = edit_forms.proposed_credit_note(base, form.cleaned_data, [f.cleaned_data for f in line_forms])
    posted_hash = (data.get("base_hash") or "")[:64]
    stale = (posted_hash or base_hash) != invoice.content_hash
    meanwhile = None
    if stale and draft is None:
        # Without a draft the note is already checked against the current invoice: the user
        # is told what changed, and the next submission is based on what they now see.
        old = proposals.base_for_hash(invoice, posted_hash)
        if old is not None:
            meanwhile = presenters.diff_of(old, invoice.document, country=company.country,
                                           before_label=_("When you started"),
                                           after_label=_("Now in Alegra"))
    action = request.POST.get("action") if request.method == "POST" else None
    if action in ("draft", "submit") and partial is None:
        if note is None:
            violations.append(RuleViolation("", "fix_first", _("Nothing was saved: fix the errors below.")))
        else:
            service = services.request_save_draft if action == "draft" else services.request_save_and_submit
            try:
                saved = service(invoice=invoice, user=request.user, proposed=note,
                                reason=form.cleaned_data.get("reason") or "", kind=Kind.CREDIT_NOTE,
                                request=draft, base_hash=posted_hash or None)
            except ApprovalError as exc:
                violations += exc.violations
            else:
                if action == "draft":
                    messages.success(request, _("Draft saved. You can come back to it at any time."))
                    return redirect("approvals:invoice_edit", company_id=invoice.company_id, pk=invoice.pk)
                messages.success(request, _("Change request #%(number)s submitted for approval.")
                                 % {"number": saved.pk})
                return redirect("approvals:request_detail", company_id=invoice.company_id, pk=saved.pk)
    preview = None
    if note is not None:
        preview = presenters.present_note(base, note, country=company.country,
                                          taxes=proposals.catalogue_taxes(company))
        known = {(v.field, v.code) for v in violations}
        violations += [v for v in proposals.validate_proposal(invoice=invoice, kind=Kind.CREDIT_NOTE,
                                                             base=base, proposed=note)
                       if (v.field, v.code) not in known]
    precision = invoice.decimal_precision
    rows = []
    for index, line in enumerate(items):
        line = line if isinstance(line, dict) else {}
        net = edit_forms.net_price(line)
        line_form = line_forms[index]
        rows.append(CreditRow(
            index=index, name=str(line.get("name") or f"#{diff.item_id(line)}"),
            invoiced=presenters.number_text(line.get("quantity")),
            price=presenters.price_text(line.get("price"), precision, company.country),
            net_price=editable.decimal_text(net) if net is not None else "",
            taxes=presenters.taxes_text(line.get("tax")),
            quantity=str(data.get(f"credit-{index}-quantity", ""))[:40],
            credit_price=str(data.get(f"credit-{index}-price", ""))[:40],
            errors=[f"{line_form.fields[n].label}: {m}" for n, ms in line_form.errors.items() for m in ms],
        ))
    form_errors = [f"{form.fields[n].label}: {m}" if n in form.fields else m
                   for n, ms in form.errors.items() for m in ms]
    context = {**context, "kind": Kind.CREDIT_NOTE, "form": form, "rows": rows, "preview": preview,
               "violations": violations, "form_errors": form_errors, "stale": stale,
               "draft": draft, "meanwhile": meanwhile,
               "base_hash": base_hash if stale and draft is None else (posted_hash or base_hash),
               "can_update_in_place": invoice.editable_in_place}
    if partial == "preview":
        return render(request, "approvals/credit_note.html#preview", context)
    return render(request, "approvals/credit_note.html", context)


def _today() -> str:
    from django.utils import timezone

    return timezone.localdate().isoformat()
