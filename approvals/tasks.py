"""Thin, idempotent tasks: ids in, one service call.

Delivery is protected by the settings (late ack, requeue on a lost worker,
prefetch 1); duplicates are harmless because `push_run` claims the row first
and re-reads Alegra before any write. The retry policy lives with the outbox
row (its attempts survive a dead worker); the task only schedules the retry
the row asks for.
"""

import logging

from celery import shared_task

from . import notify
from .services import push

log = logging.getLogger(__name__)


@shared_task(name=push.PUSH_TASK, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None, ignore_result=True)
def push_change(self, push_id: int, after_attempt: int | None = None) -> str:
    outcome = push.push_run(push_id=push_id, after_attempt=after_attempt)
    if outcome.retry_in is not None:
        # Exponential backoff with jitter, at least the rate-limit reset (see push.backoff).
        raise self.retry(args=(push_id, outcome.attempt), countdown=outcome.retry_in)
    return outcome.state


@shared_task(ignore_result=True)
def sweep_pushes() -> int:
    """Every minute: re-queue pushes whose message or worker was lost."""
    return push.push_sweep()


@shared_task(ignore_result=True)
def remind_pending_requests() -> int:
    """Daily: remind approvers of requests pending past their company's limit."""
    return notify.reminders_send()
