"""Change requests as their author sees them: my list, one request, its actions; contact updates."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from invoices.models import Invoice
from invoices.rules import RuleViolation
from portal.access import get_membership
from portal.models import Role

from . import forms as edit_forms
from . import presenters
from .errors import ApprovalError
from .models import CLOSED_STATES, OPEN_STATES, ChangeRequest
from .services import proposals, transitions
from .services import requests as services
from .views_edit import _invoice_for_editor

State = ChangeRequest.State
Kind = ChangeRequest.Kind
PAGE_SIZE = 50
STATE_FILTERS = {"open": OPEN_STATES, "closed": CLOSED_STATES}


def _request_for_member(request: HttpRequest, company_id: int, pk: int):
    membership = get_membership(request, company_id)
    change_request = (ChangeRequest.objects.select_related("invoice", "requester", "company")
                      .filter(pk=pk, company_id=company_id).first())
    if change_request is None:
        raise Http404("No such change request")
    return change_request, membership


def edit_url_name(change_request: ChangeRequest) -> str:
    return "approvals:invoice_contact_edit" if change_request.kind == Kind.CONTACT else "approvals:invoice_edit"


@login_required
def my_requests(request: HttpRequest, company_id: int) -> HttpResponse:
    membership = get_membership(request, company_id)
    wanted = request.GET.get("state") or ""
    mine = ChangeRequest.objects.filter(company_id=company_id, requester=request.user)
    counts = dict(mine.values_list("state").annotate(n=Count("id")).order_by())
    rows = mine.select_related("invoice").only(
        "id", "kind", "state", "reason", "old_total", "new_total", "created_at", "updated_at",
        "submitted_at", "invoice__id", "invoice__number", "invoice__alegra_id",
        "invoice__client_name", "invoice__decimal_precision", "invoice__company_id",
    ).order_by("-updated_at", "-id")
    if wanted in STATE_FILTERS:
        rows = rows.filter(state__in=STATE_FILTERS[wanted])
    elif wanted in State.values:
        rows = rows.filter(state=wanted)
    else:
        wanted = ""
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "company": membership.company, "membership": membership, "page": page, "wanted": wanted,
        "counts": counts, "total": sum(counts.values()),
        "open_count": sum(n for state, n in counts.items() if state in OPEN_STATES),
        "closed_count": sum(n for state, n in counts.items() if state in CLOSED_STATES),
        "states": State.choices,
    }
    if request.headers.get("HX-Request"):
        return render(request, "approvals/my_requests.html#table", context)
    return render(request, "approvals/my_requests.html", context)


@login_required
def invoice_requests(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    """The invoice's change requests (contact updates included), for the invoice page to embed."""
    membership = get_membership(request, company_id)
    invoice = Invoice.objects.filter(pk=pk, company_id=company_id).only(
        "id", "company_id", "number", "alegra_id", "decimal_precision", "status", "is_deleted").first()
    if invoice is None:
        raise Http404("No such invoice")
    rows = list(ChangeRequest.objects.filter(invoice=invoice).select_related("requester")
                .only("id", "kind", "state", "old_total", "new_total", "updated_at", "company_id",
                      "invoice_id", "requester__username", "requester__first_name",
                      "requester__last_name")
                .order_by("-id")[:20])
    context = {"company": membership.company, "membership": membership, "invoice": invoice,
               "rows": rows, "is_accountant": membership.role == Role.ACCOUNTANT,
               "can_contact": not (invoice.is_void or invoice.is_deleted)}
    return render(request, "approvals/my_requests.html#invoice_requests", context)


@login_required
def request_detail(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    change_request, membership = _request_for_member(request, company_id, pk)
    company = change_request.company
    taxes = proposals.catalogue_taxes(company)
    view = presenters.present_request(change_request, taxes=taxes)
    current = proposals.current_base(change_request.invoice, change_request.kind)
    stale = change_request.is_open and current.hash != change_request.base_hash
    meanwhile = None
    if stale:
        if change_request.kind == Kind.CONTACT:
            meanwhile = presenters.present_contact_diff(
                change_request.base_document, current.document,
                before_label=_("When it was drafted"), after_label=_("Now in Alegra"))
        else:
            meanwhile = presenters.diff_of(
                change_request.base_document, current.document, taxes=taxes, country=company.country,
                before_label=_("When it was drafted"), after_label=_("Now in Alegra"))
    is_accountant = membership.role == Role.ACCOUNTANT
    is_requester = is_accountant and change_request.requester_id == request.user.pk
    history = list(change_request.history.select_related("history_user")
                   .only("history_id", "history_date", "history_change_reason", "state",
                         "history_user__username", "history_user__first_name",
                         "history_user__last_name")
                   .order_by("-history_date", "-history_id")[:100])
    context = {
        "company": company, "membership": membership, "cr": change_request,
        "invoice": change_request.invoice, "view": view, "stale": stale, "meanwhile": meanwhile,
        "history": history, "edit_url_name": edit_url_name(change_request),
        "can_edit": is_requester and change_request.state == State.DRAFT,
        "can_cancel": (is_requester or membership.role == Role.MANAGER)
        and change_request.state in transitions.CANCELLABLE,
        "can_rebase": is_requester and change_request.state in transitions.REBASABLE and stale,
        "can_copy": is_accountant and change_request.state in transitions.COPYABLE,
    }
    return render(request, "approvals/request_detail.html", context)


def _act(request: HttpRequest, company_id: int, pk: int, action) -> HttpResponse:
    change_request, _membership = _request_for_member(request, company_id, pk)
    try:
        result = action(change_request)
    except ApprovalError as exc:
        for violation in exc.violations:
            messages.error(request, violation.message)
        return redirect("approvals:request_detail", company_id=company_id, pk=pk)
    return result


@login_required
@require_POST
def request_submit_view(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    def submit(change_request):
        services.request_submit(change_request=change_request, user=request.user)
        messages.success(request, _("Submitted for approval."))
        return redirect("approvals:request_detail", company_id=company_id, pk=pk)
    return _act(request, company_id, pk, submit)


@login_required
@require_POST
def request_cancel_view(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    def cancel(change_request):
        services.request_cancel(change_request=change_request, user=request.user,
                                comment=request.POST.get("comment", "")[:2000])
        messages.success(request, _("The request was cancelled."))
        return redirect("approvals:request_detail", company_id=company_id, pk=pk)
    return _act(request, company_id, pk, cancel)


@login_required
@require_POST
def request_rebase_view(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    def rebase(change_request):
        services.request_rebase(change_request=change_request, user=request.user)
        messages.success(request, _(
            "Your changes now apply to the current version. Review them and submit again."))
        return redirect(edit_url_name(change_request), company_id=company_id,
                        pk=change_request.invoice_id)
    return _act(request, company_id, pk, rebase)


@login_required
@require_POST
def request_copy_view(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    def copy_(change_request):
        services.request_copy_to_draft(change_request=change_request, user=request.user)
        messages.success(request, _("A new draft was made from this request. Adjust it and submit."))
        return redirect(edit_url_name(change_request), company_id=company_id,
                        pk=change_request.invoice_id)
    return _act(request, company_id, pk, copy_)


# --- contact updates --------------------------------------------------------------------


@login_required
def invoice_contact_edit(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    invoice, membership = _invoice_for_editor(request, company_id, pk)
    context = {"company": invoice.company, "membership": membership, "invoice": invoice}
    if invoice.is_void or invoice.is_deleted:
        return render(request, "approvals/contact_edit.html", {**context, "readonly": True})
    open_request = proposals.open_request_for(invoice)
    draft = None
    if open_request is not None:
        if (open_request.requester_id == request.user.pk and open_request.state == State.DRAFT
                and open_request.kind == Kind.CONTACT):
            draft = open_request
        else:
            return render(request, "approvals/contact_edit.html", {**context, "blocked_by": open_request})
    current = proposals.current_base(invoice, Kind.CONTACT)
    base, base_hash = (draft.base_document, draft.base_hash) if draft else (current.document, current.hash)
    if request.method == "POST":
        data = request.POST
    else:
        source = draft.proposed_document if draft else base
        data = {**edit_forms.contact_initial(source), "base_hash": base_hash,
                "reason": draft.reason if draft else ""}
    form = edit_forms.ContactForm(data)
    violations: list[RuleViolation] = []
    preview = proposed = None
    if form.is_valid():
        proposed = edit_forms.proposed_contact(base, form.cleaned_data)
        preview = presenters.present_contact_diff(base, proposed)
    action = request.POST.get("action") if request.method == "POST" else None
    if action in ("draft", "submit"):
        if proposed is None:
            violations.append(RuleViolation("", "fix_first", _("Nothing was saved: fix the errors below.")))
        else:
            service = services.request_save_draft if action == "draft" else services.request_save_and_submit
            try:
                saved = service(invoice=invoice, user=request.user, proposed=proposed,
                                reason=form.cleaned_data.get("reason") or "", kind=Kind.CONTACT,
                                request=draft, base_hash=(form.cleaned_data.get("base_hash") or None))
            except ApprovalError as exc:
                violations += exc.violations
            else:
                if action == "draft":
                    messages.success(request, _("Draft saved. You can come back to it at any time."))
                    return redirect("approvals:invoice_contact_edit", company_id=company_id, pk=pk)
                messages.success(request, _("Change request #%(number)s submitted for approval.")
                                 % {"number": saved.pk})
                return redirect("approvals:request_detail", company_id=company_id, pk=saved.pk)
    if proposed is not None:
        known = {(v.field, v.code) for v in violations}
        violations += [v for v in proposals.validate_proposal(invoice=invoice, kind=Kind.CONTACT,
                                                             base=base, proposed=proposed)
                       if v.code != "nothing_to_submit" and (v.field, v.code) not in known]
    context.update({
        "form": form, "preview": preview, "violations": violations, "draft": draft,
        "stale": base_hash != current.hash, "client": proposals.client_block(invoice),
        "form_errors": [f"{form.fields[n].label}: {m}" if n in form.fields else m
                        for n, ms in form.errors.items() for m in ms],
    })
    if request.headers.get("HX-Request") and not action:
        return render(request, "approvals/contact_edit.html#preview", context)
    return render(request, "approvals/contact_edit.html", context)
