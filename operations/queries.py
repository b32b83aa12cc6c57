"""The figures readiness and metrics are made of, read from the database at the time asked.

Reading at scrape time (instead of counting in each process) gives one truth however many
web and worker processes run, and survives their restarts. Each function is one query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Max, Min, OuterRef, Q, Subquery
from django.utils import timezone

from approvals.models import Push
from audit.models import AuditVerification
from invoices.models import SyncRun
from portal.models import Company

from .models import Heartbeat
from .services import SCHEDULER

# A push in one of these is still on its way to Alegra.
PENDING_PUSH_STATES = (Push.State.QUEUED, Push.State.PUSHING, Push.State.RETRYING)


@dataclass(frozen=True)
class SyncAge:
    company_id: int
    last_success: datetime | None
    # Since the last successful sync, or since the company was added when it never had one.
    age_seconds: float


def sync_ages(now: datetime | None = None) -> list[SyncAge]:
    now = now or timezone.now()
    rows = (Company.objects.order_by("pk")
            .annotate(last_success=Max("sync_runs__finished_at", filter=Q(sync_runs__state=SyncRun.State.SUCCEEDED)))
            .values_list("pk", "last_success", "created_at"))
    return [SyncAge(pk, last, max(0.0, (now - (last or created)).total_seconds())) for pk, last, created in rows]


def push_counts() -> dict[str, int]:
    """Every push state, with 0 for the states no push is in."""
    counts = dict(Push.objects.order_by().values_list("state").annotate(n=Count("pk")))
    return {state: counts.get(state, 0) for state in Push.State.values}


def oldest_pending_push_age(now: datetime | None = None) -> float:
    oldest = Push.objects.filter(state__in=PENDING_PUSH_STATES).aggregate(at=Min("created_at"))["at"]
    return 0.0 if oldest is None else max(0.0, ((now or timezone.now()) - oldest).total_seconds())


def latest_verifications() -> list[AuditVerification]:
    """The most recent verification of each audit chain."""
    latest = AuditVerification.objects.filter(chain=OuterRef("chain")).order_by("-at", "-id").values("pk")[:1]
    return list(AuditVerification.objects.filter(pk=Subquery(latest)).order_by("chain"))


def heartbeat_age(name: str = SCHEDULER, now: datetime | None = None) -> float | None:
    beat_at = Heartbeat.objects.filter(name=name).values_list("beat_at", flat=True).first()
    return None if beat_at is None else max(0.0, ((now or timezone.now()) - beat_at).total_seconds())
