"""The worker's side of notifications: e-mails leave here, never from inside a web request."""

from celery import shared_task

from . import notifications


@shared_task(name=notifications.SEND_TASK, autoretry_for=(ConnectionError,), retry_backoff=30, max_retries=5)
def send_notifications(ids: list[int]) -> int:
    return notifications.send_immediately(ids)


@shared_task
def send_digests() -> int:
    return notifications.send_digests()
