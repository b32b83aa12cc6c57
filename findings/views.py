"""Review (Revisión), a finding, the invoice page's findings panel, and the month-end review.

Thin views: access, validation, one service or query, a template (a partial for htmx).
Accountants and managers work here; approvers read (the findings explain the corrections they
decide on); outsiders get 404.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from invoices.models import Invoice
from portal import formats
from portal.access import get_membership, remember_company
from portal.models import Role

from . import month_end as closing
from . import presenters, queries, services, tasks
from .forms import DismissForm, MonthForm, ReviewFilterForm
from .learning import calibration, exceptions
from .learning import presenters as learned
from .learning.services import threshold_of
from .models import Finding
from .requests import NeedsInput, RequestRefused, edit_url_name, reason_for

WORK_ROLES = {Role.ACCOUNTANT, Role.MANAGER}
CORRECT_ROLES = {Role.ACCOUNTANT}


def _finding_for(request: HttpRequest, company_id: int, pk: int, roles=None):
    membership = get_membership(request, company_id, roles) if roles else get_membership(request, company_id)
    finding = (Finding.objects.filter(pk=pk, company_id=company_id).select_related("invoice", "company", "silenced_by",
                                                                                     "dismissed_by").first())
    if finding is None:
        raise Http404("No such finding")
    return finding, membership


def _rows(findings, membership, index: exceptions.Index | None = None) -> list[dict]:
    """Each finding with its words: why, the fix, the learning it went against, and its confidence
    as learned from feedback (`calibrated`, when the query annotated it)."""
    country = membership.company.country
    index = exceptions.index_of(membership.company_id) if index is None else index
    return [{"finding": f, "explanation": presenters.explanation(f, country),
             "suggestion": presenters.suggestion_text(f, country),
             "against": learned.went_against(f, index, country) if index else [],
             "calibrated": learned.percent(f.calibrated) if getattr(f, "calibrated", None) is not None else "",
             "can_correct": membership.role == Role.ACCOUNTANT and presenters.can_correct(f),
             "can_confirm": membership.role in WORK_ROLES and f.state == Finding.State.OPEN,
             "can_dismiss": membership.role in WORK_ROLES and f.is_open} for f in findings]


@login_required
@require_GET
def review(request: HttpRequest, company_id: int) -> HttpResponse:
    membership = get_membership(request, company_id)
    remember_company(request, company_id)
    form = ReviewFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    threshold = threshold_of(company_id)
    page = queries.review_page(company_id, data, threshold=threshold)
    params = request.GET.copy()
    params.pop("page", None)
    shown_hidden = params.copy()
    shown_hidden["show_hidden"] = "on"
    other_filters = params.copy()  # a kind's chip keeps the client, month, severity chosen
    other_filters.pop("kind", None)
    context = {"company": membership.company, "membership": membership, "form": form, "page": page,
               "rows": _rows(page.rows, membership), "base_query": params.urlencode(),
               "threshold": learned.percent(threshold), "show_hidden_query": shown_hidden.urlencode(),
               "other_filters": other_filters.urlencode(),
               "can_scan": membership.role in WORK_ROLES, "dismiss_form": DismissForm()}
    template = "findings/review.html#table" if request.htmx and not request.htmx.boosted else "findings/review.html"
    return render(request, template, context)


@login_required
@require_GET
def finding_detail(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    finding, membership = _finding_for(request, company_id, pk)
    versions = list(finding.history.select_related("history_user").order_by("-history_date", "-history_id")[:50])
    known = calibration.detectors(company_id)
    detector = known.get((finding.kind, finding.cause)) or calibration.Detector(finding.kind, finding.cause, 0, 0)
    finding.calibrated = calibration.calibrated(finding.confidence, detector.confirmed, detector.dismissed)
    context = {"company": membership.company, "membership": membership, "finding": finding,
               "row": _rows([finding], membership)[0], "versions": versions, "dismiss_form": DismissForm(),
               "detector": detector, "detector_name": learned.detector_name(finding.kind, finding.cause),
               "silenced_by": finding.silenced_by if finding.silenced_by_id else None,
               "accepted": learned.accepted_text(finding.silenced_by.kind, finding.silenced_by.scope or {},
                                                 membership.company.country) if finding.silenced_by_id else ""}
    return render(request, "findings/finding.html", context)


@login_required
@require_GET
def invoice_findings(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    """The invoice page's panel (htmx), or a page of its own without JavaScript."""
    membership = get_membership(request, company_id)
    invoice = Invoice.objects.filter(pk=pk, company_id=company_id).only("id", "number", "alegra_id").first()
    if invoice is None:
        raise Http404("No such invoice")
    findings = queries.invoice_findings(company_id, pk)
    context = {"company": membership.company, "membership": membership, "invoice": invoice,
               "rows": _rows(findings, membership), "dismiss_form": DismissForm()}
    template = "findings/invoice_panel.html#panel" if request.htmx else "findings/invoice_panel.html"
    return render(request, template, context)


def _back(request: HttpRequest, finding: Finding) -> str:
    wanted = request.POST.get("next") or ""
    if wanted.startswith("/") and not wanted.startswith("//"):
        return wanted
    return reverse("findings:finding_detail", kwargs={"company_id": finding.company_id, "pk": finding.pk})


def _feedback(request: HttpRequest, finding: Finding, membership, act: Callable[[], Finding],
              done: str) -> HttpResponse:
    """Confirm or dismiss: the refusal on its own (htmx) or as a message; else the row again, or
    back where the person came from."""
    try:
        finding = act()
    except services.FindingRefused as exc:
        if request.htmx:
            return HttpResponse(str(exc), status=400)
        messages.error(request, str(exc))
        return redirect(_back(request, finding))
    if request.htmx:
        return render(request, "findings/review.html#row", {"row": _rows([finding], membership)[0],
                                                             "company": membership.company,
                                                             "dismiss_form": DismissForm()})
    messages.success(request, done % {"number": finding.pk})
    return redirect(_back(request, finding))


@login_required
@require_POST
def finding_dismiss(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    finding, membership = _finding_for(request, company_id, pk, WORK_ROLES)
    form = DismissForm(request.POST)

    def dismiss() -> Finding:
        if not form.is_valid():
            raise services.FindingRefused(form.refusal(_("Say why the finding is dismissed: a reason is required.")))
        return services.finding_dismiss(finding=finding, user=request.user, reason=form.cleaned_data["reason"],
                                        learn=form.cleaned_data["learn"])

    return _feedback(request, finding, membership, dismiss, _("Finding #%(number)s dismissed."))


@login_required
@require_POST
def finding_confirm(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    """The accountant says the finding is right: its detector's confidence rises."""
    finding, membership = _finding_for(request, company_id, pk, WORK_ROLES)
    return _feedback(request, finding, membership,
                     lambda: services.finding_confirm(finding=finding, user=request.user),
                     _("Finding #%(number)s confirmed."))


@login_required
@require_POST
def finding_correct(request: HttpRequest, company_id: int, pk: int) -> HttpResponse:
    """Create correction: a draft with the fix applied, then the edit screen to review and submit it."""
    finding, membership = _finding_for(request, company_id, pk, CORRECT_ROLES)
    try:
        change_request = services.correction_create(finding=finding, user=request.user)
    except NeedsInput:
        messages.info(request, _("Type the client's NIT or cédula, then submit."))
        url = reverse("approvals:invoice_contact_edit", args=[company_id, finding.invoice_id])
        return redirect(url + "?" + urlencode({"reason": reason_for(finding, membership.company.country)}))
    except RequestRefused as exc:
        messages.error(request, " ".join(v.message for v in exc.violations))
        return redirect(_back(request, finding))
    messages.success(request, _("Draft #%(number)s created from the finding: review it and submit it for "
                                "approval.") % {"number": change_request.pk})
    return redirect(edit_url_name(change_request.kind), company_id=company_id, pk=finding.invoice_id)


@login_required
@require_POST
def scan_start(request: HttpRequest, company_id: int) -> HttpResponse:
    get_membership(request, company_id, WORK_ROLES)
    tasks.scan_company.delay(company_id)
    messages.success(request, _("A full scan of the invoices is queued; findings update as it finishes."))
    return redirect("findings:review", company_id=company_id)


def _month(request: HttpRequest) -> tuple[MonthForm, datetime.date]:
    form = MonthForm(request.GET or None)
    chosen = form.cleaned_data.get("month") if form.is_valid() else None
    if chosen is None:
        today = timezone.localdate()
        chosen = (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)  # last month
    return form, chosen


@login_required
@require_GET
def month_end(request: HttpRequest, company_id: int) -> HttpResponse:
    membership = get_membership(request, company_id)
    remember_company(request, company_id)
    form, month = _month(request)
    summary = closing.month_end(company_id, month)
    country = membership.company.country
    context = {"company": membership.company, "membership": membership, "form": form, "summary": summary,
               "rows": [{"finding": f, "explanation": presenters.explanation(f, country)} for f in summary.findings],
               "month_text": month.strftime("%Y-%m"), "month_words": formats.month(month, country)}
    return render(request, "findings/month_end.html", context)


@login_required
@require_GET
def month_end_export(request: HttpRequest, company_id: int) -> HttpResponse:
    membership = get_membership(request, company_id)
    _form, month = _month(request)
    summary = closing.month_end(company_id, month)
    country = membership.company.country
    response = HttpResponse(closing.as_csv(summary, lambda f: presenters.explanation(f, country), country),
                            content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="month-end-{month:%Y-%m}.csv"'
    return response
