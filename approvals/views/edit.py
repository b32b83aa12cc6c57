"""The accountant's edit screen: an in-place update (the credit-note composer is its sibling).

One URL serves the screen; htmx posts the same form to `invoice_edit_recompute` as the user
types (totals and diff redrawn) or clicks a line operation (the editor redrawn). Without
JavaScript the same buttons post to the screen itself and the whole page comes back.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import editor, workflow
from ..models import ChangeRequest
from .common import invoice_for_editor, save_proposal, wanted_action
from .credit_note import credit_note_screen

Kind = ChangeRequest.Kind


def _screen(request: HttpRequest, company_id: int, pk: int):
    invoice, membership = invoice_for_editor(request, company_id, pk)
    wanted = request.POST.get("kind") or request.GET.get("kind") or None
    situation = workflow.situation(invoice, request.user, wanted)
    context = {"company": invoice.company, "membership": membership, "invoice": invoice,
               "situation": situation, "readonly": situation.readonly}
    return invoice, situation, context


@login_required
@require_http_methods(["GET", "POST"])
def invoice_edit(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    invoice, situation, context = _screen(request, company_id, pk)
    if situation.readonly:
        return render(request, "approvals/edit.html", context)
    if situation.kind == Kind.CREDIT_NOTE:
        return credit_note_screen(request, invoice, situation, context, preview_only=False)
    return _update(request, invoice, situation, context, fragment=False)


@login_required
@require_POST
def invoice_edit_recompute(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    """htmx: the preview (or the whole editor after a line operation), nothing saved."""
    invoice, situation, context = _screen(request, company_id, pk)
    if situation.readonly:
        return render(request, "approvals/edit.html#readonly_notice", context)
    if situation.kind == Kind.CREDIT_NOTE:
        return credit_note_screen(request, invoice, situation, context, preview_only=True)
    return _update(request, invoice, situation, context, fragment=True)


def _update(request: HttpRequest, invoice, situation, context: dict, *, fragment: bool) -> HttpResponse:
    screen = editor.update_screen(invoice, situation, request.POST if request.method == "POST" else None)
    action = wanted_action(request)
    if action and not screen.op and not fragment:
        outcome = save_proposal(request, invoice=invoice, action=action, proposed=screen.bound.proposed,
                                reason=screen.bound.reason, kind=Kind.UPDATE, draft=situation.draft,
                                base_hash=screen.bound.base_hash, edit_url="approvals:invoice_edit")
        if isinstance(outcome, HttpResponse):
            return outcome
        screen.violations += outcome
    context.update(editor.update_context(invoice, screen), draft=situation.draft)
    if fragment and request.htmx:
        return render(request, "approvals/edit.html#editor" if screen.op else "approvals/edit.html#recomputed",
                      context)
    return render(request, "approvals/edit.html", context)


@login_required
@require_GET
def item_search(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    invoice, _membership = invoice_for_editor(request, company_id, pk)
    query = request.GET.get("item_q") or request.GET.get("q") or ""
    return render(request, "approvals/edit.html#item_results",
                  {"invoice": invoice, "item_results": editor.search_items(company_id, query), "item_q": query[:100]})


@login_required
@require_GET
def contact_search(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    invoice, _membership = invoice_for_editor(request, company_id, pk)
    query = request.GET.get("client_q") or request.GET.get("q") or ""
    return render(request, "approvals/edit.html#client_results",
                  {"invoice": invoice, "client_results": editor.search_contacts(company_id, query),
                   "client_q": query[:100]})
