"""Updating the client's contact details (e-mail, phones, address) from one of its invoices."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from .. import contact_editor, workflow
from ..models import ChangeRequest
from ..services.proposals import MAX_REASON
from .common import invoice_for_editor, save_proposal, wanted_action


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def invoice_contact_edit(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    invoice, membership = invoice_for_editor(request, company_id, pk)
    situation = workflow.contact_situation(invoice, request.user)
    context = {"company": invoice.company, "membership": membership, "invoice": invoice,
               "blocked_by": situation.blocked_by, "readonly": situation.readonly and not situation.blocked_by}
    if situation.readonly:
        return render(request, "approvals/contact_edit.html", context)
    screen = contact_editor.contact_screen(invoice, situation, request.POST if request.method == "POST" else None,
                                           reason=request.GET.get("reason", "")[:MAX_REASON])
    violations = []
    action = wanted_action(request)
    if action:
        outcome = save_proposal(request, invoice=invoice, action=action, proposed=screen.proposed,
                                reason=screen.reason, kind=ChangeRequest.Kind.CONTACT, draft=situation.draft,
                                base_hash=screen.posted_base_hash, edit_url="approvals:invoice_contact_edit")
        if isinstance(outcome, HttpResponse):
            return outcome
        violations = outcome
    context.update(contact_editor.contact_context(invoice, situation, screen, violations))
    if request.htmx and not action:
        return render(request, "approvals/contact_edit.html#preview", context)
    return render(request, "approvals/contact_edit.html", context)
