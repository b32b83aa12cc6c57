"""Thin tasks: a subscription id in, its due deliveries sent; the retry comes back after the backoff."""

from celery import shared_task

from . import outbound


@shared_task(name=outbound.TASK, bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None,
             ignore_result=True)
def deliver_events(self, subscription_id: int) -> dict:
    result = outbound.deliver_due(subscription_id=subscription_id)
    # Run inline (tests, eager mode) there is no later: the sweeper sends it when it is due.
    if result["retry_in"] is not None and not self.request.is_eager:
        raise self.retry(args=(subscription_id,), countdown=result["retry_in"])
    return result


@shared_task(ignore_result=True)
def sweep_events() -> int:
    """Every minute: send again what nobody picked up."""
    return outbound.sweep()
