"""Thin tasks: recompute the audit chains (beat runs `verify_all` daily)."""

import logging

from celery import shared_task

from . import services

log = logging.getLogger(__name__)


@shared_task
def verify_all() -> str:
    reports = services.chains_verify_all()
    for report in reports:
        if not report.ok:
            log.error("audit chain %s broken at entry #%s: %s", report.chain, report.broken_seq, report.problem)
    broken = sum(1 for report in reports if not report.ok)
    return f"{len(reports)} chains, {broken} broken"


@shared_task
def verify_company(company_id: int) -> str:
    report = services.chain_verify(company_id=company_id)
    if not report.ok:
        log.error("audit chain %s broken at entry #%s: %s", report.chain, report.broken_seq, report.problem)
    return "ok" if report.ok else f"broken at #{report.broken_seq}"
