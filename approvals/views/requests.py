"""Change requests as their author sees them: my list, one request, and its actions."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from invoices.models import Invoice
from portal.access import get_membership
from portal.models import Role

from .. import request_pages
from ..services import requests as request_services
from ..request_pages import edit_url_name
from .common import act_on_request, request_for_member


@login_required
@require_GET
@vary_on_headers("HX-Request")
def my_requests(request: HttpRequest, company_id: int) -> HttpResponse:
    membership = get_membership(request, company_id)
    context = {"company": membership.company, "membership": membership,
               **request_pages.my_requests(company_id, request.user, request.GET)}
    template = "approvals/my_requests.html#table" if request.htmx else "approvals/my_requests.html"
    return render(request, template, context)


@login_required
@require_GET
def invoice_requests(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    """The invoice's change requests (contact updates included), for the invoice page to embed."""
    membership = get_membership(request, company_id)
    invoice = Invoice.objects.filter(pk=pk, company_id=company_id).only(
        "id", "company_id", "number", "alegra_id", "decimal_precision", "status", "is_deleted").first()
    if invoice is None:
        raise Http404("No such invoice")
    context = {"company": membership.company, "membership": membership, "invoice": invoice,
               "rows": request_pages.invoice_requests(invoice), "is_accountant": membership.role == Role.ACCOUNTANT,
               "can_contact": not (invoice.is_void or invoice.is_deleted)}
    return render(request, "approvals/my_requests.html#invoice_requests", context)


@login_required
@require_GET
def request_detail(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    change_request, membership = request_for_member(request, company_id, pk)
    context = {"company": change_request.company, "membership": membership,
               **request_pages.request_detail(change_request, membership, request.user)}
    return render(request, "approvals/request_detail.html", context)


def _act(request: HttpRequest, company_id: int, pk: int, act, done: str, to_editor: bool = False) -> HttpResponse:
    def editor(change_request):
        return reverse(edit_url_name(change_request), args=[company_id, change_request.invoice_id])
    return act_on_request(request, company_id, pk, act, done, refused_to="approvals:request_detail",
                          done_to=editor if to_editor else None)


@login_required
@require_POST
def request_submit_view(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    return _act(request, company_id, pk,
                lambda cr: request_services.request_submit(change_request=cr, user=request.user),
                _("Submitted for approval."))


@login_required
@require_POST
def request_cancel_view(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    comment = request.POST.get("comment", "")[:2000]
    return _act(request, company_id, pk,
                lambda cr: request_services.request_cancel(change_request=cr, user=request.user, comment=comment),
                _("The request was cancelled."))


@login_required
@require_POST
def request_rebase_view(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    return _act(request, company_id, pk,
                lambda cr: request_services.request_rebase(change_request=cr, user=request.user),
                _("Your changes now apply to the current version. Review them and submit again."), to_editor=True)


@login_required
@require_POST
def request_copy_view(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    return _act(request, company_id, pk,
                lambda cr: request_services.request_copy_to_draft(change_request=cr, user=request.user),
                _("A new draft was made from this request. Adjust it and submit."), to_editor=True)
