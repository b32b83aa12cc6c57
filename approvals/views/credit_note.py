"""The credit-note composer: stamped invoices (and returns) are corrected with a credit note."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .. import composer
from ..models import ChangeRequest
from .common import save_proposal, wanted_action


def credit_note_screen(request: HttpRequest, invoice, situation, context: dict, *,
                       preview_only: bool) -> HttpResponse:
    """The composer as a page, or (htmx, as the user types) its preview alone."""
    state = composer.compose(invoice, situation, request.POST if request.method == "POST" else None)
    violations = []
    action = wanted_action(request)
    if action and not preview_only:
        outcome = save_proposal(request, invoice=invoice, action=action, proposed=state.note, reason=state.reason,
                                kind=ChangeRequest.Kind.CREDIT_NOTE, draft=situation.draft,
                                base_hash=state.posted_hash or None, edit_url="approvals:invoice_edit")
        if isinstance(outcome, HttpResponse):
            return outcome
        violations = outcome
    context.update(composer.composer_context(invoice, situation, state, violations))
    template = "approvals/credit_note.html#preview" if preview_only else "approvals/credit_note.html"
    return render(request, template, context)
