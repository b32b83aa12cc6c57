"""The audit pages: the company's log (managers), its exports, and each invoice's timeline."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from approvals.presenters import diff_of
from approvals.errors import ApprovalError
from approvals.services.proposals import catalogue_taxes
from invoices.views import get_invoice_for_user
from portal.access import EDIT_ROLES, MANAGE_ROLES, get_membership, remember_company

from . import export, presenters, queries, services, stories, timeline
from .forms import AuditFilterForm, CompareForm
from .models import Action

log = logging.getLogger(__name__)


def _fragment(request: HttpRequest, target: str) -> bool:
    return bool(request.htmx) and not request.htmx.boosted and request.htmx.target == target


@login_required
@require_GET
@vary_on_headers("HX-Request")
def audit_log(request: HttpRequest, company_id: int) -> HttpResponse:
    membership = get_membership(request, company_id, MANAGE_ROLES)
    company = membership.company
    remember_company(request, company_id)
    form = AuditFilterForm(request.GET or None, company=company)
    page = None
    if not form.is_bound:
        page = queries.log_page(company, queries.Filters())
    elif form.is_valid():
        page = queries.log_page(company, form.filters(), form.cleaned_data.get("after"))
    params = request.GET.copy()
    params.pop("after", None)
    entries = presenters.entry_views(page.rows, company, queries.company_zone(company)) if page else []
    context = {
        "company": company, "membership": membership, "form": form, "page": page,
        "entries": entries, "stories": stories.stories(entries),
        "base_query": params.urlencode(), "is_first_page": "after" not in request.GET,
        "verification": queries.latest_verification(company.pk),
        "zone": queries.company_zone(company),
    }
    template = "audit/log.html#results" if _fragment(request, "audit-results") else "audit/log.html"
    with timezone.override(context["zone"]):  # every time on the page in the company's zone
        return render(request, template, context)


@login_required
@require_GET
def audit_export(request: HttpRequest, company_id: int, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "json"):
        raise Http404("No such format")
    membership = get_membership(request, company_id, MANAGE_ROLES)
    company = membership.company
    form = AuditFilterForm(request.GET, company=company)
    if not form.is_valid():
        problems = "; ".join(str(error) for errors in form.errors.values() for error in errors)
        return HttpResponse(_("The filters are not valid: %(problems)s") % {"problems": problems},
                            status=400, content_type="text/plain; charset=utf-8")
    # Labels are read now: the stream runs after this view has returned.
    labels = {value: str(label) for value, label in Action.choices}
    content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/json; charset=utf-8"
    response = StreamingHttpResponse(export.streamed(fmt, company, form.filters(), labels, export.teller()),
                                     content_type=content_type)
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{company.pk}-{stamp}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def audit_verify(request: HttpRequest, company_id: int) -> HttpResponse:
    get_membership(request, company_id, MANAGE_ROLES)
    from .tasks import verify_company

    try:
        verify_company.delay(company_id)
    except Exception:  # noqa: BLE001 - a broker that is down: say so, the nightly run still happens
        log.warning("audit verification of company %s not queued", company_id, exc_info=True)
        messages.error(request, _("The verification could not be started now; try again in a few minutes."))
    else:
        messages.success(request, _("The verification of the audit log has been started."))
    return redirect("audit:audit_log", company_id=company_id)


def _chosen(request: HttpRequest) -> set[int]:
    """The version ids the request asks to compare, as far as they are numbers."""
    return {int(value) for value in (request.GET.get("a", ""), request.GET.get("b", ""))
            if value.isascii() and value.isdigit() and len(value) < 19}


def _compare(request: HttpRequest, invoice, versions: list[dict]) -> tuple[CompareForm, object | None]:
    """The two versions to compare (by default the last change) and the diff between them."""
    if "a" in request.GET or "b" in request.GET:
        form = CompareForm(request.GET)
    elif len(versions) >= 2:
        form = CompareForm({"a": versions[1]["history_id"], "b": versions[0]["history_id"]})
    else:
        return CompareForm(), None
    if not form.is_valid():
        return form, None
    a, b = form.cleaned_data["a"], form.cleaned_data["b"]
    documents = queries.version_documents(invoice, [a, b])
    for name, ident in (("a", a), ("b", b)):
        if ident not in documents:
            form.add_error(name, _("Choose a version of this invoice."))
    if form.errors:
        return form, None
    zone = queries.company_zone(invoice.company)

    def label(ident: int) -> str:
        when = timezone.localtime(documents[ident]["history_date"], zone)
        return _("Version of %(when)s") % {"when": when.strftime("%d/%m/%Y %H:%M")}

    before, after = documents[a]["document"], documents[b]["document"]
    if not isinstance(before, dict) or not isinstance(after, dict):
        form.add_error(None, _("One of these versions cannot be read as an invoice."))
        return form, None
    view = diff_of(before, after, taxes=catalogue_taxes(invoice.company),
                   precision=documents[b]["decimal_precision"], country=invoice.company.country,
                   before_label=label(a), after_label=label(b))
    return form, view


@login_required
@require_GET
@vary_on_headers("HX-Request")
def invoice_timeline(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    invoice, membership = get_invoice_for_user(request, company_id, pk)
    company = invoice.company
    zone = queries.company_zone(company)
    cursor = queries.decode_cursor(request.GET.get("after", "")) if request.GET.get("after") else None
    if request.GET.get("after") and cursor is None:
        messages.error(request, _("This page link is not valid; start again from the first page."))
    page = queries.timeline_page(invoice, cursor)
    # The pickers offer the latest versions; all of them only when asked (`versions=all`).
    latest = None if request.GET.get("versions") == "all" else queries.PICKER_VERSIONS
    chosen_ids = _chosen(request)
    wanted = chosen_ids | {row["source_id"] for row in page.rows if row["source"] == "invoice" and row["source_id"]}
    found = queries.versions(invoice, wanted, latest)
    versions = found.rows
    compare_form, diff_view = _compare(request, invoice, versions)
    chosen = compare_form.data if compare_form.is_bound else {}
    entries = timeline.with_lines(
        presenters.with_versions(presenters.entry_views(page.rows, company, zone), versions),
        company_id=company.pk, invoice_id=invoice.pk, can_restore=membership.role in EDIT_ROLES, zone=zone)
    offered = presenters.labelled_versions(presenters.picker_versions(versions, latest, chosen_ids), zone)
    context = {
        "company": company, "membership": membership, "invoice": invoice, "version_count": found.count,
        "entries": entries, "stories": stories.stories(entries), "page": page, "labels": timeline.labels(),
        "compare_form": compare_form, "diff": diff_view,
        # The left-hand version can be restored unless it is the invoice as it is now.
        "restore_target": compare_form.cleaned_data["a"] if diff_view is not None
        and versions and compare_form.cleaned_data["a"] != versions[0]["history_id"] else None,
        "options_a": presenters.version_options(offered, chosen.get("a")),
        "options_b": presenters.version_options(offered, chosen.get("b")),
        "more_versions": found.count > len(offered),
        "can_restore": membership.role in EDIT_ROLES, "is_manager": membership.role in MANAGE_ROLES,
        "is_first_page": cursor is None, "zone": zone,
    }
    template = "audit/timeline.html"
    if _fragment(request, "compare"):
        template += "#compare"
    elif _fragment(request, "timeline-entries"):
        template += "#entries"
    with timezone.override(zone):  # every time on the page in the company's zone
        return render(request, template, context)


@login_required
@require_POST
def invoice_restore(request: HttpRequest, company_id: int, pk: int, history_id: int) -> HttpResponse:
    get_membership(request, company_id, EDIT_ROLES)
    invoice, _membership = get_invoice_for_user(request, company_id, pk)
    try:
        change_request = services.version_restore(invoice=invoice, history_id=history_id, user=request.user)
    except ApprovalError as refused:
        for violation in refused.violations:
            messages.error(request, violation.message)
        return redirect("audit:invoice_timeline", company_id=company_id, pk=pk)
    messages.success(request, _(
        "Draft request #%(number)s restores that version. Review it and submit it for approval.")
        % {"number": change_request.pk})
    return redirect("approvals:request_detail", company_id=company_id, pk=change_request.pk)
