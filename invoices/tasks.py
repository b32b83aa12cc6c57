"""Thin, idempotent tasks: ids in, one service call."""

import logging

from celery import shared_task

from portal.models import Company
from portal.services import companies_all

from . import subscriptions, sync
from .alegra import AlegraError

log = logging.getLogger(__name__)


@shared_task(bind=True, autoretry_for=(AlegraError,), retry_backoff=10, retry_backoff_max=600,
             retry_jitter=True, max_retries=6)
def refresh_invoice(self, company_id: int, alegra_id: str, source: str = "webhook") -> str:
    company = Company.objects.filter(pk=company_id).first()
    if company is None:
        return "no company"
    try:
        return sync.invoice_refresh(company=company, alegra_id=alegra_id, source=source)
    except AlegraError as exc:
        if exc.permanent:
            log.warning("invoice %s of company %s not refreshed: %s", alegra_id, company_id, exc)
            return "failed"
        raise


@shared_task
def sync_company(company_id: int, kind: str = "full", user_id: int | None = None, run_id: int | None = None) -> str:
    """Sync one company; `run_id` names the queued run the Sync page already shows."""
    company = Company.objects.filter(pk=company_id).first()
    if company is None:
        return "no company"
    user = None
    if user_id:
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(pk=user_id).first()
    try:
        if kind == "recent":
            run = sync.sync_recent(company=company, user=user, queued=run_id)
        else:
            run = sync.sync_full(company=company, user=user, with_catalogues=True, queued=run_id)
    except sync.SyncBusy:
        return "busy"
    except AlegraError as exc:
        log.warning("sync of company %s failed: %s", company_id, exc)
        return "failed"
    return run.state


@shared_task
def sync_recent_all() -> int:
    company_ids = list(companies_all().values_list("pk", flat=True))
    for company_id in company_ids:
        sync_company.delay(company_id, "recent")
    return len(company_ids)


@shared_task
def sync_full_all() -> int:
    company_ids = list(companies_all().values_list("pk", flat=True))
    for company_id in company_ids:
        sync_company.delay(company_id, "full")
    return len(company_ids)


@shared_task
def ensure_webhooks_all() -> int:
    done = 0
    for company in companies_all():
        try:
            subscriptions.webhooks_ensure(company=company)
            done += 1
        except AlegraError as exc:
            log.warning("webhooks of company %s not ensured: %s", company.pk, exc)
    return done
