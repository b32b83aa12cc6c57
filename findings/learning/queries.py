"""Read side of the "What Enmienda has learned" page: a constant number of queries."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import Count, Q

from ..models import Finding, LearnedException
from ..requests import AutoApprovalRule
from . import calibration

PAGE_SIZE = 50


@dataclass
class LearningPage:
    rows: list[LearnedException]
    page: object
    count: int
    active: int
    detectors: list[calibration.Detector]


def learning_page(company_id: int, data: dict) -> LearningPage:
    qs = LearnedException.objects.filter(company_id=company_id)
    counts = qs.aggregate(active=Count("id", filter=Q(revoked_at__isnull=True)), all=Count("id"))
    state = data.get("state") or "active"
    if state == "active":
        qs = qs.filter(revoked_at__isnull=True)
    elif state == "revoked":
        qs = qs.filter(revoked_at__isnull=False)
    if data.get("kind"):
        qs = qs.filter(kind=data["kind"])
    count = qs.count() if state != "all" or data.get("kind") else counts["all"]
    rows = (qs.select_related("taught_by", "revoked_by")
            .annotate(silenced_count=Count("silenced", filter=Q(silenced__state=Finding.State.SILENCED)),
                      silenced_total=Count("silenced"))
            .order_by("-taught_at", "-id"))
    paginator = Paginator(rows, PAGE_SIZE)
    paginator.count = count
    page = paginator.get_page(data.get("page") or 1)
    known = sorted(calibration.detectors(company_id).values(), key=lambda d: (d.kind, d.cause))
    return LearningPage(list(page.object_list), page, count, counts["active"] or 0, known)


def silenced_findings(exception: LearnedException, limit: int = 200) -> list[Finding]:
    return list(Finding.objects.filter(silenced_by=exception).select_related("invoice")
                .order_by("-invoice_date", "-id")[:limit])


def fix_rules(company_id: int) -> list[AutoApprovalRule]:
    """The company's finding-fix rules, the ones on first (the first of a kind is the one applied)."""
    return list(AutoApprovalRule.objects.filter(company_id=company_id, kind=AutoApprovalRule.Kind.FINDING_FIX)
                .order_by("-is_active", "id"))
