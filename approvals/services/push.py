"""Sending an approved change to Alegra, exactly once, never over somebody else's change.

The outbox row (`Push`) is written in the transaction of the final approval; a
Celery task runs `push_run` for it, and `push_sweep` re-queues rows nobody is
working on, so neither a crash nor a lost broker message loses a change.

Alegra has no ETag or idempotency key, so every attempt re-reads first:

- Alegra already holds the approved state → done (a retried push never writes twice);
- Alegra moved away from the version the edit was based on → conflict, nothing written;
- otherwise one write: PUT the editable fields, POST the credit note, or PUT the contact.

A write is never retried blindly: after any failure the next attempt reads
again. Only one worker holds a row at a time (state `pushing` with a recent
heartbeat); a worker that dies leaves a heartbeat that goes stale, and the
sweeper hands the row to the next one. A credit note carries a marker with
the request's number in its observations, so a retry finds it instead of
creating a second one.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from invoices import mirror
from invoices.alegra import AlegraClient, AlegraError
from invoices.sync import contact_store, invoice_store
from portal.celery import app as celery_app

from .. import events, notify, revisions
from ..models import ChangeRequest, Decision, Push
from .push_writes import WRITERS, Applied, Conflict
from .transitions import request_transition

log = logging.getLogger(__name__)

State = Push.State
CRState = ChangeRequest.State

# Sent by name: the task module imports this one, so this one does not import it.
PUSH_TASK = "approvals.tasks.push_change"


def max_attempts() -> int:
    return settings.PUSH_MAX_ATTEMPTS


def retry_base_seconds() -> float:
    return float(settings.PUSH_RETRY_BASE_SECONDS)


def retry_max_seconds() -> float:
    return float(settings.PUSH_RETRY_MAX_SECONDS)


def stale_after() -> timedelta:
    return timedelta(seconds=settings.PUSH_STALE_AFTER_SECONDS)


def requeue_after() -> timedelta:
    return timedelta(seconds=settings.PUSH_REQUEUE_AFTER_SECONDS)


def client_for(company) -> AlegraClient:
    # One try per call: the push itself retries, and always reads before writing again.
    return AlegraClient.for_company(company, max_attempts=1, max_wait=10.0)


@dataclass(frozen=True)
class Outcome:
    state: str
    retry_in: float | None = None  # seconds until the next attempt, when one is due
    attempt: int | None = None  # the attempt that scheduled it


# --- queueing ------------------------------------------------------------------------


def enqueue(push: Push) -> None:
    """Hand the push to a worker once the current transaction commits.

    `robust`: a broker that is down must not fail the approval; the sweeper
    sends the row again later.
    """
    push_id = push.pk
    # PUSH_QUEUE lets a deployment give pushes their own workers; empty means the default queue.
    queue = settings.PUSH_QUEUE or None
    transaction.on_commit(
        lambda: celery_app.signature(PUSH_TASK, args=(push_id,)).apply_async(queue=queue), robust=True)


@transaction.atomic
def push_create(*, change_request: ChangeRequest, revision: str, reason: str = "") -> Push:
    push = Push(change_request=change_request, revision=revision, seal=revisions.seal(change_request.pk, revision),
                company_id=change_request.company_id, max_attempts=max_attempts(), queued_at=timezone.now())
    push._change_reason = reason or events.reason("push.queued")
    push.save()
    enqueue(push)
    return push


def backoff(attempt: int, *, at_least: float = 0.0) -> float:
    """Exponential with jitter, so pushes that failed together do not come back together."""
    delay = min(retry_max_seconds(), retry_base_seconds() * 2 ** max(0, attempt - 1))
    delay *= random.uniform(0.5, 1.0)
    return min(retry_max_seconds(), max(delay, at_least))


# --- one attempt ---------------------------------------------------------------------


def _lock(push_id: int) -> tuple[ChangeRequest | None, Push | None]:
    """The request, then its push, locked: always in this order, so two paths never deadlock."""
    request_id = Push.objects.filter(pk=push_id).values_list("change_request_id", flat=True).first()
    if request_id is None:
        return None, None
    change_request = ChangeRequest.objects.select_for_update().get(pk=request_id)
    return change_request, Push.objects.select_for_update().get(pk=push_id)


def _claim(push_id: int, after_attempt: int | None, now: datetime) -> tuple[Push | None, str]:
    with transaction.atomic():
        change_request, push = _lock(push_id)
        if push is None:
            return None, "missing"
        if push.is_finished:
            return None, push.state
        if push.state == State.PUSHING and push.heartbeat_at and push.heartbeat_at > now - stale_after():
            return None, "busy"
        if (push.state == State.RETRYING and after_attempt != push.attempts
                and push.next_attempt_at and push.next_attempt_at > now):
            return None, "early"
        push.state = State.PUSHING
        push.attempts += 1
        push.heartbeat_at = now
        push.next_attempt_at = None
        push._change_reason = events.reason("push.attempt", attempt=push.attempts)
        push.save()
        if change_request.state == CRState.APPROVED:
            request_transition(change_request=change_request, to_state=CRState.PUSHING, user=None,
                               reason=events.reason("request.sending", attempt=push.attempts))
    return push, "claimed"


def _still_ours(push: Push) -> bool:
    """Fence before a write: the row is still this attempt's (the sweeper did not hand it on).

    A bare UPDATE on purpose: a heartbeat is not an event worth a history row.
    """
    return Push.objects.filter(pk=push.pk, state=State.PUSHING, attempts=push.attempts).update(
        heartbeat_at=timezone.now(), writes=F("writes") + 1) == 1


def push_run(*, push_id: int, after_attempt: int | None = None, client: AlegraClient | None = None,
             now: datetime | None = None) -> Outcome:
    """One attempt at the push; `after_attempt` marks the retry a previous attempt scheduled."""
    now = now or timezone.now()
    push, claim = _claim(push_id, after_attempt, now)
    if push is None:
        return Outcome(claim)
    change_request = (ChangeRequest.objects.select_related("company", "invoice", "requester")
                      .get(pk=push.change_request_id))
    if not revisions.as_approved(change_request, push.revision, push.seal):
        # Changed in the database since its approval, by someone without the key: never written.
        return _finish_error(push, change_request, AlegraError(
            "the change differs from the one approved: nothing was written", code="altered_after_approval",
            transient=False), None)
    own_client = client is None
    client = client or client_for(change_request.company)
    try:
        result = WRITERS[change_request.kind](client, change_request, lambda: _write_guard(push))
    except Conflict as conflict:
        return _finish_conflict(push, change_request, conflict)
    except _Superseded:
        return Outcome("superseded")
    except AlegraError as error:
        return _finish_error(push, change_request, error, client)
    finally:
        if own_client:
            client.close()
    return _finish_applied(push, change_request, result)


class _Superseded(Exception):
    """The sweeper gave the row to another worker while this one was slow: write nothing."""


def _write_guard(push: Push) -> None:
    if not _still_ours(push):
        raise _Superseded


# --- recording the outcome -----------------------------------------------------------


def approvers_text(change_request: ChangeRequest, revision: str) -> str:
    names = []
    for decision in (Decision.objects.filter(change_request=change_request, revision=revision,
                                             outcome=Decision.Outcome.APPROVE)
                     .select_related("approver", "auto_rule")):
        if decision.approver_id:
            names.append(decision.approver.get_full_name() or decision.approver.get_username())
        elif decision.auto_rule_id:
            names.append(f"policy {decision.auto_rule.name}")
    return ", ".join(names)


def history_reason(change_request: ChangeRequest, revision: str) -> str:
    """Why the mirrored version a push wrote exists: the request, who approved it, its reason."""
    return events.reason("push.wrote", request=change_request.pk, approvers=approvers_text(change_request, revision),
                         reason=" ".join((change_request.reason or "").split())[:500])


def _locked(push: Push) -> Push | None:
    """The row again, locked (after its request), if this attempt still owns it."""
    _request, row = _lock(push.pk)
    if row.state != State.PUSHING or row.attempts != push.attempts:
        return None
    return row


def _mirror(change_request: ChangeRequest, push: Push, result: Applied, reason: str) -> None:
    """Store what Alegra answered; it is the push's version only if this push wrote to Alegra.

    A push that found its change already there without ever writing (someone made the same
    change directly in Alegra) stores an outside change it read, not the requester's push.
    """
    company = change_request.company
    if Push.objects.filter(pk=push.pk, writes__gt=0).exists():
        user, source = change_request.requester, "push"
    else:
        user, source, reason = None, "sync", events.reason("push.read", request=change_request.pk, found="already")
    if result.invoice_document is not None:
        invoice_store(company=company, document=result.invoice_document, source=source, user=user, reason=reason)
    if result.contact_document is not None:
        contact_store(company=company, document=result.contact_document, source=source, user=user, reason=reason)


def _finish_applied(push: Push, change_request: ChangeRequest, result: Applied) -> Outcome:
    reason = history_reason(change_request, push.revision)
    try:
        with transaction.atomic():
            # The mirror first: if Alegra's answer cannot be stored, the push stays
            # unfinished and the next attempt (which re-reads) stores it.
            _mirror(change_request, push, result, reason)
            row = _locked(push)
            if row is None:
                return Outcome("superseded")
            row.state = State.APPLIED
            row.finished_at = timezone.now()
            row.response = mirror.canonical(result.response)
            row.result_alegra_id = result.result_id[:36]
            row.last_status, row.last_code, row.last_message = None, "", ""
            row.expected_total, row.received_total = result.expected_total, result.received_total
            row.totals_mismatch = (result.expected_total is not None and result.received_total is not None
                                   and result.expected_total != result.received_total)
            row._change_reason = events.reason("push.applied" if result.wrote else "push.found_applied")
            row.save()
            request_transition(change_request=change_request, to_state=CRState.APPLIED, user=None,
                               reason=events.reason("request.applied" if result.wrote else "request.found_applied"))
            notify.push_finished(change_request, row)
    except mirror.BadDocument as error:
        return _finish_error(push, change_request, AlegraError(
            f"respuesta de Alegra inválida: {error}", status=200, transient=True), None)
    return Outcome(State.APPLIED)


def _finish_conflict(push: Push, change_request: ChangeRequest, conflict: Conflict) -> Outcome:
    with transaction.atomic():
        company = change_request.company
        try:  # the mirror learns Alegra's version first, so a re-base starts from it
            if change_request.kind == ChangeRequest.Kind.CONTACT:
                contact_store(company=company, document=conflict.remote, source="sync")
            else:
                invoice_store(company=company, document=conflict.remote, source="sync",
                              reason=events.reason("push.read", request=change_request.pk, found="changed"))
        except mirror.BadDocument as error:
            log.warning("Alegra's version of request %s not mirrored: %s", change_request.pk, error)
        row = _locked(push)
        if row is None:
            return Outcome("superseded")
        row.state = State.CONFLICT
        row.finished_at = timezone.now()
        row.remote_document = mirror.canonical(conflict.remote)
        row.conflict_fields = conflict.fields[:50]
        row._change_reason = events.reason("push.conflict", fields=conflict.fields[:50])
        row.save()
        request_transition(change_request=change_request, to_state=CRState.CONFLICT, user=None,
                           reason=events.reason("request.conflict", fields=conflict.fields[:50]))
        notify.push_finished(change_request, row)
    return Outcome(State.CONFLICT)


def _finish_error(push: Push, change_request: ChangeRequest, error: AlegraError,
                  client: AlegraClient | None) -> Outcome:
    with transaction.atomic():
        row = _locked(push)
        if row is None:
            return Outcome("superseded")
        row.last_status = error.status
        row.last_code = (error.code or "")[:60]
        row.last_message = (error.message or "")[:2000]
        if error.transient and row.attempts < row.max_attempts:
            # A 429 says when the window resets: waiting less only earns another 429.
            at_least = 0.0
            if error.status == 429:
                at_least = max(1.0, (client.rate_limit_reset if client and client.rate_limit_reset else 1.0))
            delay = backoff(row.attempts, at_least=at_least)
            row.state = State.RETRYING
            row.next_attempt_at = timezone.now() + timedelta(seconds=delay)
            row._change_reason = events.reason("push.retrying", attempt=row.attempts, error=str(error)[:1000])
            row.save()
            return Outcome(State.RETRYING, retry_in=delay, attempt=row.attempts)
        row.state = State.FAILED
        row.finished_at = timezone.now()
        row._change_reason = events.reason("push.failed", error=str(error)[:1000])
        row.save()
        request_transition(change_request=change_request, to_state=CRState.FAILED, user=None,
                           reason=events.reason("request.failed", status=error.status, code=error.code or None,
                                                message=(error.message or "")[:1000]))
        notify.push_finished(change_request, row)
    return Outcome(State.FAILED)


# --- the sweeper ---------------------------------------------------------------------


def push_sweep(*, now: datetime | None = None, stale: timedelta | None = None,
               requeue: timedelta | None = None) -> int:
    """Send again every push nobody is working on; returns how many were sent.

    - queued, and handed to the broker more than `requeue` ago (the message was lost);
    - waiting to retry, and its time passed more than `requeue` ago (the retry was lost);
    - pushing, with no heartbeat for `stale` (the worker died mid-push).
    """
    now = now or timezone.now()
    stale = stale if stale is not None else stale_after()
    requeue = requeue if requeue is not None else requeue_after()
    candidates = Push.objects.filter(
        Q(state=State.QUEUED, queued_at__lt=now - requeue) | Q(state=State.QUEUED, queued_at__isnull=True)
        | Q(state=State.RETRYING, next_attempt_at__lt=now - requeue)
        | Q(state=State.PUSHING, heartbeat_at__lt=now - stale)
        | Q(state=State.PUSHING, heartbeat_at__isnull=True)
    ).values_list("pk", flat=True)
    sent = 0
    for push_id in list(candidates[:500]):
        with transaction.atomic():
            _request, push = _lock(push_id)
            if push.state == State.PUSHING:
                if push.heartbeat_at and push.heartbeat_at >= now - stale:
                    continue
                why = "worker_lost"
            elif push.state == State.QUEUED:
                if push.queued_at and push.queued_at >= now - requeue:
                    continue
                why = "not_picked"
            elif push.state == State.RETRYING:
                if not push.next_attempt_at or push.next_attempt_at >= now - requeue:
                    continue
                why = "retry_lost"
            else:
                continue
            if push.state == State.PUSHING and push.attempts >= push.max_attempts:
                _give_up(push)
                continue
            push.state = State.QUEUED
            push.queued_at = now
            push._change_reason = events.reason("push.resent", why=why)
            push.save()
            enqueue(push)
            sent += 1
    return sent


def _give_up(push: Push) -> None:
    change_request = ChangeRequest.objects.select_related("requester", "invoice").get(pk=push.change_request_id)
    push.state = State.FAILED
    push.finished_at = timezone.now()
    push.last_message = push.last_message or "interrumpido demasiadas veces"
    push._change_reason = events.reason("push.gave_up", attempts=push.attempts)
    push.save()
    request_transition(change_request=change_request, to_state=CRState.FAILED, user=None,
                       reason=events.reason("request.interrupted"))
    notify.push_finished(change_request, push)
