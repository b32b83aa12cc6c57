"""What the approvals views share: access to one invoice or request, and the save buttons."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django_htmx.http import trigger_client_event

from invoices.models import Invoice
from invoices.rules import RuleViolation
from portal.access import EDIT_ROLES, get_membership

from ..errors import ApprovalError, render
from ..models import ChangeRequest
from ..services import requests as request_services

Kind = ChangeRequest.Kind
CHANGED = "approvals-changed"


def invoice_for_editor(request: HttpRequest, company_id: int, pk: int):
    membership = get_membership(request, company_id, EDIT_ROLES)
    invoice = Invoice.objects.filter(pk=pk, company_id=company_id).first()
    if invoice is None:
        raise Http404("No such invoice")
    invoice.company = membership.company  # the same row, already read with the membership
    return invoice, membership


def request_for(company_id: int, pk: int) -> ChangeRequest:
    change_request = (ChangeRequest.objects.select_related("company", "invoice", "requester")
                      .filter(pk=pk, company_id=company_id).first())
    if change_request is None:
        raise Http404("No such change request")
    return change_request


def request_for_member(request: HttpRequest, company_id: int, pk: int):
    membership = get_membership(request, company_id)
    return request_for(company_id, pk), membership


def request_url(change_request: ChangeRequest) -> str:
    kwargs = {"company_id": change_request.company_id, "pk": change_request.pk}
    try:
        return reverse("approvals:request_detail", kwargs=kwargs)
    except NoReverseMatch:
        return reverse("approvals:request_conflict", kwargs=kwargs)


def changed(response: HttpResponse) -> HttpResponse:
    """Tells the header counters (and any other listener) that requests moved."""
    return trigger_client_event(response, CHANGED)


def wanted_action(request: HttpRequest) -> str | None:
    action = request.POST.get("action") if request.method == "POST" else None
    return action if action in request_services.SAVE_ACTIONS else None


def save_proposal(request: HttpRequest, *, invoice: Invoice, action: str, proposed: dict | None, reason: str,
                  kind: str, draft: ChangeRequest | None, base_hash: str | None,
                  edit_url: str) -> HttpResponse | list[RuleViolation]:
    """The draft or submit button of any edit screen: a redirect, or why nothing was saved."""
    if proposed is None:
        return [RuleViolation("", "fix_first", render("fix_first", {"variant": "save"}))]
    try:
        saved = request_services.request_save(action=action, invoice=invoice, user=request.user, proposed=proposed,
                                              reason=reason, kind=kind, request=draft, base_hash=base_hash)
    except ApprovalError as refused:
        return refused.violations
    if action == "draft":
        messages.success(request, _("Draft saved. You can come back to it at any time."))
        return redirect(edit_url, company_id=invoice.company_id, pk=invoice.pk)
    messages.success(request, _("Change request #%(number)s submitted for approval.") % {"number": saved.pk})
    return redirect("approvals:request_detail", company_id=invoice.company_id, pk=saved.pk)


def act_on_request(request: HttpRequest, company_id: int, pk: int, act, done: str, *, refused_to: str,
                   done_to=None) -> HttpResponse:
    """Run one service on a member's request: a message and a redirect, whatever the outcome.

    `refused_to` names the page a refusal goes back to; `done_to(change_request)` gives where a
    success goes (the request's page by default).
    """
    change_request, _membership = request_for_member(request, company_id, pk)
    try:
        act(change_request)
    except ApprovalError as refused:
        for violation in refused.violations:
            messages.error(request, violation.message)
        return redirect(refused_to, company_id=company_id, pk=pk)
    messages.success(request, done)
    return changed(redirect(done_to(change_request) if done_to else request_url(change_request)))
