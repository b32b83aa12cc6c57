"""Every write of findings: scans, dismissals, corrections. Keyword-only, atomic."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.models import Company, Membership, Role

from . import incremental, notify, scan
from .errors import FindingRefused
from .learning import autofix
from .learning.services import exception_learn, feedback_record, finding_confirm
from .models import OPEN_STATES, Feedback, Finding, PendingScan
from .requests import ChangeRequest, proposal, reason_for, refused, request_save_draft
from portal import events

log = logging.getLogger(__name__)
MAX_REASON = 2000
DISMISS_ROLES = {Role.ACCOUNTANT, Role.MANAGER}
PENDING_BATCH = 500  # invoices one drain scans; more are left for the next
# A correction request in these states ended without reaching Alegra, for good (a failed push
# may be retried and a conflict re-based: those stay in someone's hands).
ENDED = frozenset({ChangeRequest.State.REJECTED, ChangeRequest.State.CANCELLED})


__all__ = ["FindingRefused", "finding_confirm", "finding_dismiss", "scan_company", "scan_invoices", "scan_pending",
           "scan_queue"]


def scan_invoices(*, company_id: int, invoice_ids: list[int]) -> str:
    if not Company.objects.filter(pk=company_id).exists():
        return "no company"
    return _scanned(company_id, lambda: incremental.scan_changed(company_id=company_id, invoice_ids=invoice_ids))


def scan_queue(*, company_id: int, invoice_ids: list[int]) -> None:
    """Queue changed invoices for `scan_pending` (an invoice already queued stays queued once)."""
    # Plain SQL: every page of a mirror queues its 30 invoices, and bulk_create's instances cost
    # it 3 ms a page where the statement takes a few tenths.
    ids = sorted(set(invoice_ids))
    queued_at = PendingScan._meta.get_field("queued_at").get_db_prep_value(timezone.now(), connection)
    for start in range(0, len(ids), 300):
        part = ids[start:start + 300]
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {PendingScan._meta.db_table} (company_id, invoice_id, queued_at) VALUES "
                           f"{', '.join(['(%s, %s, %s)'] * len(part))} ON CONFLICT DO NOTHING",
                           [value for pk in part for value in (company_id, pk, queued_at)])


def scan_pending(*, company_id: int, batch: int = PENDING_BATCH) -> tuple[str, bool]:
    """One incremental scan of the invoices queued for the company (up to `batch`): webhooks that
    arrived while the last scan ran are judged together, not one scan each. Returns the summary
    and whether more are queued."""
    if not Company.objects.filter(pk=company_id).exists():
        return "no company", False
    since = timezone.now()
    with transaction.atomic():
        scan.lock(company_id)  # one drain per company at a time; the scan takes the same lock
        queued = list(PendingScan.objects.filter(company_id=company_id).order_by("id")
                      .values_list("id", "invoice_id")[:batch])
        if not queued:
            return "nothing queued", False
        PendingScan.objects.filter(id__in=[pk for pk, _invoice in queued]).delete()
        result = incremental.scan_changed(company_id=company_id, invoice_ids=[invoice for _pk, invoice in queued])
    more = PendingScan.objects.filter(company_id=company_id).exists()
    return _after(company_id, result, since), more


def scan_company(*, company_id: int) -> str:
    if not Company.objects.filter(pk=company_id).exists():
        return "no company"
    since = timezone.now()
    summary = _scanned(company_id, lambda: scan.scan_full(company_id=company_id))
    # Queued before the full scan began: judged by it (a drain whose task was lost ends here).
    PendingScan.objects.filter(company_id=company_id, queued_at__lt=since).delete()
    log.info("anomaly scan of company %s: %s", company_id, summary)
    return summary


def _scanned(company_id: int, run: Callable[[], scan.ScanResult]) -> str:
    since = timezone.now()
    return _after(company_id, run(), since)


def _after(company_id: int, result: scan.ScanResult, since) -> str:
    """What follows every scan: the fixes the manager's rules allow, and the news of the findings
    it raised for the accountants."""
    fixed = autofix.apply_rules(company_id=company_id)
    if result.outcome.created:
        notify.new_findings_told(company_id=company_id, since=since)
    return _summary(result) + (f", {len(fixed)} fixed by rule" if fixed else "")


def _summary(result: scan.ScanResult) -> str:
    o = result.outcome
    return (f"{result.invoices} invoices judged, {o.created} new, {o.updated} updated, {o.reopened} reopened, "
            f"{o.resolved} resolved in {result.seconds:.2f} s")


def _member(user, company_id: int, roles) -> bool:
    return bool(user is not None and user.is_active and Membership.objects.filter(
        user=user, company_id=company_id, role__in=list(roles)).exists())


@transaction.atomic
def finding_dismiss(*, finding: Finding, user, reason: str, learn: bool = True,
                    via: events.Via | None = None) -> Finding:
    """Dismissed with a reason, kept for learning; the finding stays dismissed while it lasts.

    The dismissal counts against its detector's confidence; with `learn` it also teaches a
    learned exception at the narrowest scope that explains it (findings.learning.exceptions),
    which silences the similar open findings at once and the similar future ones."""
    reason = (reason or "").strip()
    if not _member(user, finding.company_id, DISMISS_ROLES):
        raise FindingRefused(_("Only the company's accountants and managers can dismiss findings."))
    if not reason:
        raise FindingRefused(_("Say why the finding is dismissed: a reason is required."))
    if len(reason) > MAX_REASON:
        raise FindingRefused(_("The reason can have at most %(max)s characters (it has %(length)s).")
                             % {"max": MAX_REASON, "length": len(reason)})
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    if finding.state not in OPEN_STATES:
        raise FindingRefused(_("This finding is %(state)s: only an open finding can be dismissed.")
                             % {"state": finding.get_state_display()})
    live = (ChangeRequest.objects.filter(pk=finding.correction_id).exclude(state__in=ENDED)
            .values_list("pk", flat=True).first() if finding.correction_id else None)
    if live is not None:
        # Its fix would still reach Alegra while the portal learnt the finding was no mistake.
        raise FindingRefused(_("This finding is being corrected by request #%(number)s: cancel or reject that "
                               "request first.") % {"number": live})
    finding.state, finding.dismissed_by, finding.dismissed_at = Finding.State.DISMISSED, user, timezone.now()
    finding.dismiss_reason = reason
    finding._change_reason = events.reason("finding.dismissed", reason=reason, **events.via_params(via))
    finding._history_user = user
    finding.save()
    feedback_record(finding=finding, user=user, verdict=Feedback.Verdict.DISMISS, reason=reason)
    if learn:
        exception_learn(finding=finding, user=user, reason=reason)
    return finding


@transaction.atomic
def correction_ended(*, change_request_id: int) -> int:
    """The findings a correction request was made from are open again once it was rejected or
    cancelled: they stayed "being corrected" with no way to correct them again. How many."""
    state = ChangeRequest.objects.filter(pk=change_request_id).values_list("state", flat=True).first()
    if state not in ENDED:
        return 0
    reopened = 0
    for finding in Finding.objects.select_for_update().filter(correction_id=change_request_id,
                                                               state=Finding.State.CONFIRMED):
        finding.state, finding.correction = Finding.State.OPEN, None
        finding._change_reason = events.reason("finding.correction_ended", request=change_request_id, state=state)
        finding._history_user = None
        finding.save()
        reopened += 1
    return reopened


@transaction.atomic
def correction_create(*, finding: Finding, user, via: events.Via | None = None) -> ChangeRequest:
    """A draft change request applying the finding's fix, with a reason written from its evidence.

    The accountant reviews the draft on the edit screen and submits it through approval. The
    finding is confirmed and points at the request; it resolves itself once Alegra has the fix.
    """
    finding = Finding.objects.select_for_update().select_related("invoice", "company").get(pk=finding.pk)
    if finding.state not in OPEN_STATES or finding.correction_id is not None:
        raise refused(_("This finding is %(state)s: a correction was already made from it, "
                        "or it is closed.") % {"state": finding.get_state_display()})
    reason = reason_for(finding, finding.company.country)
    kind, proposed = proposal(finding)
    change_request = request_save_draft(invoice=finding.invoice, user=user, proposed=proposed, reason=reason,
                                        kind=kind, via=via)
    finding.state, finding.correction = Finding.State.CONFIRMED, change_request
    finding._change_reason = events.reason("finding.correction", request=change_request.pk,
                                           **events.via_params(via))
    finding._history_user = user
    finding.save()
    if not Feedback.objects.filter(finding=finding, verdict=Feedback.Verdict.CONFIRM).exists():
        feedback_record(finding=finding, user=user, verdict=Feedback.Verdict.CONFIRM)
    return change_request
