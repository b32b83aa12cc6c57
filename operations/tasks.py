"""The scheduler's pulse: beat sends it every HEARTBEAT_EVERY_SECONDS, a worker records it."""

from celery import shared_task

from . import services


@shared_task(ignore_result=True, expires=120)
def heartbeat() -> str:
    # Late deliveries are worthless (a fresh one is on its way): `expires` drops them.
    return services.heartbeat_record().beat_at.isoformat()
