"""The one write of operations: a heartbeat."""

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from .models import Heartbeat

SCHEDULER = "scheduler"


@transaction.atomic
def heartbeat_record(*, name: str = SCHEDULER, at: datetime | None = None) -> Heartbeat:
    beat, _ = Heartbeat.objects.update_or_create(name=name, defaults={"beat_at": at or timezone.now()})
    return beat
