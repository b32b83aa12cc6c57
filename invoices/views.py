from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.vary import vary_on_headers

from portal.access import EDIT_ROLES, MANAGE_ROLES, get_membership, remember_company

from . import hooks, presenters, queries, sync
from .forms import InvoiceFilterForm
from .models import Invoice, SyncRun
from .tasks import sync_company


@login_required
@vary_on_headers("HX-Request")
def invoice_list(request: HttpRequest, company_id: int) -> HttpResponse:
    membership = get_membership(request, company_id)
    company = membership.company
    remember_company(request, company_id)
    form = InvoiceFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    page = queries.invoice_page(company, data, counted=False, locate=True)
    # What the layers above say of these invoices (open findings…): one query each, whatever the page.
    badges = hooks.list_badges(company_id=company.pk, invoice_ids=[row.pk for row in page.rows])
    for row in page.rows:
        row.badges = badges.get(row.pk, [])
    params = request.GET.copy()
    params.pop("after", None)
    context = {
        "company": company, "membership": membership, "form": form, "page": page,
        "base_query": params.urlencode(), "last_synced_at": queries.last_synced_at(company.pk),
        "is_first_page": not data.get("after"), "query": request.GET.urlencode(),
        # An invoice's page is the list's address and its id: one reverse(), not one per row.
        "list_url": reverse("invoices:invoice_list", args=[company.pk]),
    }
    template = "invoices/list.html#table" if request.htmx and not request.htmx.boosted else "invoices/list.html"
    return render(request, template, context)


@login_required
def invoice_list_summary(request: HttpRequest, company_id: int) -> HttpResponse:
    """The list's count, totals and position, asked for by the list once its rows are shown: an
    aggregate over every matching invoice never holds the rows back."""
    membership = get_membership(request, company_id)
    form = InvoiceFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    context = {"company": membership.company, "summary": queries.invoice_summary(membership.company, data)}
    return render(request, "invoices/list.html#summary", context)


def get_invoice_for_user(request: HttpRequest, company_id: int, pk: int) -> tuple[Invoice, object]:
    membership = get_membership(request, company_id)
    try:
        invoice = Invoice.objects.select_related("company").get(pk=pk, company_id=company_id)
    except Invoice.DoesNotExist:
        raise Http404("No such invoice") from None
    return invoice, membership


def _edit_url(invoice: Invoice) -> str | None:
    # The edit screen lives in approvals; the mirror only knows its URL name.
    try:
        return reverse("approvals:invoice_edit", kwargs={"company_id": invoice.company_id, "pk": invoice.pk})
    except NoReverseMatch:
        return None


@login_required
def invoice_detail(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    invoice, membership = get_invoice_for_user(request, company_id, pk)
    versions = list(
        invoice.history.select_related("history_user")
        .only("history_id", "history_date", "history_change_reason", "history_type", "total", "status",
              "history_user__username", "history_user__first_name", "history_user__last_name")
        .order_by("-history_date", "-history_id")[:50]
    )
    context = {
        "company": invoice.company, "membership": membership, "invoice": invoice,
        "view": presenters.invoice_view(invoice), "versions": versions,
        "edit_url": _edit_url(invoice) if membership.role == "accountant" else None,
    }
    return render(request, "invoices/detail.html", context)


@login_required
@vary_on_headers("HX-Request")
def sync_page(request: HttpRequest, company_id: int) -> HttpResponse:
    membership = get_membership(request, company_id)
    company = membership.company
    runs = list(SyncRun.objects.filter(company=company).select_related("triggered_by")[:20])
    running = next((r for r in runs if r.is_unfinished), None)
    context = {"company": company, "membership": membership, "runs": runs, "running": running}
    if request.htmx:
        return render(request, "invoices/sync.html#runs", context)
    return render(request, "invoices/sync.html", context)


@login_required
def sync_start(request: HttpRequest, company_id: int) -> HttpResponse:
    if request.method != "POST":
        return redirect("invoices:sync_page", company_id=company_id)
    membership = get_membership(request, company_id, MANAGE_ROLES | EDIT_ROLES)
    kind = "recent" if request.POST.get("kind") == "recent" else "full"
    run = sync.run_queue(company=membership.company, kind=kind, user=request.user)
    if run is None:
        messages.info(request, _("A sync is already running."))
    else:
        # The queued run (committed) is on the page at once; the worker takes it up and the page follows it.
        sync_company.delay(company_id, kind, request.user.pk, run.pk)
        messages.success(request, _("Sync queued."))
    return redirect("invoices:sync_page", company_id=company_id)
