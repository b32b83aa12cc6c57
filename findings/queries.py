"""Read-side queries of the findings pages: a constant number of queries whatever the data size."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import Case, Count, Q, QuerySet, Sum, Value, When

from .learning import calibration
from .models import OPEN_STATES, Finding

PAGE_SIZE = 50
ROW_FIELDS = ("id", "company_id", "invoice_id", "line", "kind", "cause", "client_alegra_id", "client_name",
              "invoice_date", "severity", "rank", "confidence", "impact", "evidence", "suggestion", "state",
              "correction_id", "dismiss_reason", "silenced_by_id", "invoice__number", "invoice__alegra_id",
              "invoice__decimal_precision")
ORDERS = {"likely": ("-calibrated", "-rank", "-impact", "-id"), "impact": ("-rank", "-impact", "-id")}


def next_month(month: datetime.date) -> datetime.date:
    return (month + datetime.timedelta(days=32)).replace(day=1)


def filtered(company_id: int, data: dict) -> QuerySet[Finding]:
    qs = Finding.objects.filter(company_id=company_id)
    state = data.get("state") or "open"
    if state == "open":
        qs = qs.filter(state__in=OPEN_STATES)
    elif state != "all":
        qs = qs.filter(state=state)
    if data.get("kind"):
        qs = qs.filter(kind=data["kind"])
    if data.get("severity"):
        qs = qs.filter(severity=data["severity"])
    if client := (data.get("client") or "").strip():
        qs = qs.filter(Q(client_alegra_id=client) | Q(client_name__icontains=client))
    if data.get("month"):
        qs = qs.filter(invoice_date__gte=data["month"], invoice_date__lt=next_month(data["month"]))
    return qs


@dataclass
class ReviewPage:
    rows: list[Finding]
    page: object
    count: int
    impact: object
    by_kind: list[tuple[str, str, int]]
    hidden: int = 0  # open findings under the manager's confidence threshold, left out
    detectors: dict | None = None


def review_page(company_id: int, data: dict, *, threshold=0) -> ReviewPage:
    """Most likely first (the calibrated confidence, then severity and money at stake), or highest
    impact first; findings under the threshold are left out unless asked for (`show_hidden`)."""
    known = calibration.detectors(company_id)
    qs = calibration.annotate(filtered(company_id, data), known)
    hidden = 0
    if threshold and not data.get("show_hidden"):
        limit = float(threshold)
        totals = qs.aggregate(n=Count("id", filter=Q(calibrated__gte=limit)),
                              impact=Sum("impact", filter=Q(calibrated__gte=limit)),
                              hidden=Count("id", filter=Q(calibrated__lt=limit)))
        hidden = totals["hidden"] or 0
        qs = qs.filter(calibrated__gte=limit)
    else:
        totals = qs.aggregate(n=Count("id"), impact=Sum("impact"))
    labels = dict(Finding.Kind.choices)
    by_kind = [(row["kind"], labels.get(row["kind"], row["kind"]), row["n"])
               for row in qs.order_by().values("kind").annotate(n=Count("id")).order_by("-n", "kind")]
    ordered = qs.select_related("invoice").only(*ROW_FIELDS).order_by(*ORDERS.get(data.get("order") or "likely",
                                                                                  ORDERS["likely"]))
    paginator = Paginator(ordered, PAGE_SIZE)
    paginator.count = totals["n"] or 0  # known already: Paginator would count again
    page = paginator.get_page(data.get("page") or 1)
    return ReviewPage(list(page.object_list), page, totals["n"] or 0, totals["impact"] or 0, by_kind, hidden, known)


def invoice_findings(company_id: int, invoice_id: int) -> list[Finding]:
    """Open ones first, then the closed ones (dismissed or resolved) with what closed them."""
    closed = Case(When(state__in=OPEN_STATES, then=Value(0)), default=Value(1))
    known = calibration.detectors(company_id)
    return list(calibration.annotate(Finding.objects.filter(company_id=company_id, invoice_id=invoice_id), known)
                .select_related("invoice").only(*ROW_FIELDS)
                .order_by(closed, "-rank", "-impact", "-id"))
