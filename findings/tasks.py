"""Thin tasks: ids in, one service call, idempotent (a scan run twice lands on the same findings)."""

from celery import shared_task
from django.db import OperationalError

from portal.models import Company

from . import services

# A scan waits on the company's lock; a database that gave up waiting is worth another try.
RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": 5, "retry_backoff_max": 300, "max_retries": 5}


# No longer sent (changes go through the queue and scan_pending); kept for the messages a broker
# may still hold from before.
@shared_task(**RETRY)
def scan_changed(company_id: int, invoice_ids: list[int]) -> str:
    return services.scan_invoices(company_id=company_id, invoice_ids=invoice_ids)


@shared_task(**RETRY)
def scan_pending(company_id: int) -> str:
    summary, more = services.scan_pending(company_id=company_id)
    if more:  # a burst larger than one batch: the rest in the next task
        scan_pending.delay(company_id)
    return summary


@shared_task(**RETRY)
def scan_company(company_id: int) -> str:
    return services.scan_company(company_id=company_id)


@shared_task
def scan_all() -> int:
    """The nightly full rescan: one task per company, so one slow company delays no other."""
    ids = list(Company.objects.values_list("id", flat=True))
    for company_id in ids:
        scan_company.delay(company_id)
    return len(ids)
