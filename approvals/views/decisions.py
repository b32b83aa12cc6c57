"""The approver's screens: inbox, decisions, push state and retries, conflicts.

htmx requests get the partial they target and an `approvals-changed` client event that the
header counters listen to.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from portal.access import ALL_ROLES, DECIDE_ROLES, MANAGE_ROLES, get_membership

from .. import presenters, presenters_decide, request_pages
from ..errors import ApprovalError
from ..forms.decide import DecisionForm, InboxFilterForm
from ..models import ChangeRequest, Push
from ..services import decisions
from .common import act_on_request, changed, request_for, request_url


@login_required
@require_GET
@vary_on_headers("HX-Request")
def approval_inbox(request: HttpRequest, company_id: int) -> HttpResponse:
    membership = get_membership(request, company_id, DECIDE_ROLES)
    requesters = get_user_model().objects.filter(
        change_requests__company_id=company_id, change_requests__state=ChangeRequest.State.PENDING
    ).distinct().order_by("first_name", "username")
    form = InboxFilterForm(request.GET or None, requesters=requesters)
    data = form.cleaned_data if form.is_valid() else {}
    context = {"company": membership.company, "membership": membership, "form": form,
               "rows": presenters_decide.inbox_rows(company_id, request.user, data),
               "limit": presenters_decide.INBOX_LIMIT}
    template = "approvals/inbox.html#rows" if request.htmx and not request.htmx.boosted else "approvals/inbox.html"
    return render(request, template, context)


@login_required
@require_GET
def approval_diff(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    membership = get_membership(request, company_id, ALL_ROLES)
    change_request = request_for(company_id, pk)
    context = {"company": membership.company, "change_request": change_request,
               "view": presenters.present_request(change_request)}
    return render(request, "approvals/inbox.html#diff", context)


@login_required
@require_GET
def approval_counters(request: HttpRequest, company_id: int) -> HttpResponse:
    membership = get_membership(request, company_id, ALL_ROLES)
    return render(request, "approvals/_counters.html#counters",
                  {"approval_counters": presenters_decide.counters_for(membership, request.user)})


def _panel_response(request: HttpRequest, change_request: ChangeRequest, membership, *, error: str = "") -> HttpResponse:
    """The panel, plus the page's status pill and timeline swapped out of band: a decision or a push
    moves both, and the approver should see it without reloading."""
    panel = presenters_decide.panel_for(change_request, membership, request.user, error=error)
    response = render(request, "approvals/_decision_panel.html#panel",
                      {"panel": panel, "company": membership.company, "change_request": change_request})
    parts = {"cr": change_request, "history": request_pages.request_history(change_request), "oob": True}
    for part in ("state", "timeline"):
        response.content += render_to_string(f"approvals/request_detail.html#{part}", parts, request).encode()
    return response


def _panel(request: HttpRequest, change_request: ChangeRequest, membership, *, error: str = "") -> HttpResponse:
    response = _panel_response(request, change_request, membership, error=error)
    return response if error else changed(response)


def _inbox_row(request: HttpRequest, change_request: ChangeRequest, membership, error: str, outcome: str):
    notice = "" if error else (_("Rejected.") if outcome == "reject" else _("Approval recorded."))
    fresh = ChangeRequest.objects.select_related("invoice", "requester", "company").get(pk=change_request.pk)
    row = presenters_decide.inbox_row(fresh, request.user, error=error, notice=notice)
    response = render(request, "approvals/inbox.html#row", {"row": row, "company": membership.company})
    return response if error else changed(response)


def _decide(request: HttpRequest, change_request: ChangeRequest) -> tuple[str, str]:
    """(error, outcome) of the posted decision."""
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return next((str(errors[0]) for errors in form.errors.values()), _("Check the form.")), ""
    outcome = form.cleaned_data["outcome"]
    try:
        decisions.request_decide(change_request=change_request, user=request.user, outcome=outcome,
                                 comment=form.cleaned_data["comment"])
    except ApprovalError as refused:
        return refused.message, outcome
    return "", outcome


@login_required
@require_POST
def request_decide(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    membership = get_membership(request, company_id, DECIDE_ROLES)
    change_request = request_for(company_id, pk)
    error, outcome = _decide(request, change_request)
    change_request.refresh_from_db()
    from_inbox = request.POST.get("from") == "inbox"
    if request.htmx:
        if from_inbox:
            return _inbox_row(request, change_request, membership, error, outcome)
        return _panel(request, change_request, membership, error=error)
    if error and not from_inbox:
        # The request's page again, the error beside the form as htmx would show it: a click that
        # came before the page's scripts took over the form reads the same.
        panel = presenters_decide.panel_for(change_request, membership, request.user, error=error)
        return render(request, "approvals/request_detail.html", {
            "company": membership.company, "membership": membership, "panel": panel,
            **request_pages.request_detail(change_request, membership, request.user)})
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Your decision was recorded."))
    return redirect("approvals:approval_inbox", company_id=company_id) if from_inbox else redirect(
        request_url(change_request))


@login_required
@require_GET
@vary_on_headers("HX-Request")
def decision_panel(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    membership = get_membership(request, company_id, ALL_ROLES)
    change_request = request_for(company_id, pk)
    if not request.htmx:
        return redirect(request_url(change_request))
    return _panel_response(request, change_request, membership)


@login_required
@require_POST
def push_retry(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    membership = get_membership(request, company_id, ALL_ROLES)
    change_request = request_for(company_id, pk)
    error = ""
    try:
        decisions.push_retry(change_request=change_request, user=request.user)
    except ApprovalError as refused:
        error = refused.message
    change_request.refresh_from_db()
    if request.htmx:
        return _panel(request, change_request, membership, error=error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("The change is queued for Alegra again."))
    return redirect(request_url(change_request))


# --- conflicts ----------------------------------------------------------------------


@login_required
@require_GET
def request_conflict(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    membership = get_membership(request, company_id, ALL_ROLES)
    change_request = request_for(company_id, pk)
    push = change_request.pushes.filter(state=Push.State.CONFLICT).order_by("-created_at", "-id").first()
    context = {
        "company": membership.company, "membership": membership, "change_request": change_request,
        "push": push, "view": presenters_decide.conflict_view(change_request, push.remote_document) if push else None,
        "changed": [presenters_decide.field_label(name) for name in (push.conflict_fields or [])] if push else [],
        "is_conflict": change_request.state == ChangeRequest.State.CONFLICT,
        "can_rebase": change_request.requester_id == request.user.pk and membership.role == "accountant",
        "can_cancel": change_request.requester_id == request.user.pk or membership.role in MANAGE_ROLES,
        "request_url": request_url(change_request),
    }
    return render(request, "approvals/conflict.html", context)


def _resolve(request: HttpRequest, company_id: int, pk: int, act, done: str) -> HttpResponse:
    get_membership(request, company_id, ALL_ROLES)
    return act_on_request(request, company_id, pk, act, done, refused_to="approvals:request_conflict")


@login_required
@require_POST
def conflict_rebase(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    return _resolve(request, company_id, pk,
                    lambda cr: decisions.conflict_rebase(change_request=cr, user=request.user),
                    _("The request now stands on Alegra's current version and waits for approval again."))


@login_required
@require_POST
def conflict_cancel(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    comment = request.POST.get("comment", "")[:2000]
    return _resolve(request, company_id, pk,
                    lambda cr: decisions.conflict_cancel(change_request=cr, user=request.user, comment=comment),
                    _("The request was cancelled; Alegra keeps its version."))
