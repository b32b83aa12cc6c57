"""Thin tasks: recompute the audit chains (beat runs `verify_all` daily) and anchor their heads
outside the database (beat runs `anchor_all` every AUDIT_ANCHOR_EVERY_MINUTES)."""

import logging

from celery import shared_task

from . import services

log = logging.getLogger(__name__)


@shared_task
def verify_all() -> str:
    reports = services.chains_verify_all(anchor=True)
    for report in reports:
        if not report.ok:
            log.error("audit chain %s broken at entry #%s: %s", report.chain, report.broken_seq, report.problem)
    broken = sum(1 for report in reports if not report.ok)
    return f"{len(reports)} chains, {broken} broken"


@shared_task
def verify_company(company_id: int) -> str:
    report = services.chain_verify(company_id=company_id, anchor=True)
    if not report.ok:
        log.error("audit chain %s broken at entry #%s: %s", report.chain, report.broken_seq, report.problem)
    return "ok" if report.ok else f"broken at #{report.broken_seq}"


@shared_task
def anchor_all() -> str:
    results = services.chains_anchor(every=True)
    for result in results:
        if result.problem:
            log.error("audit chain %s not anchored: %s", result.chain, result.problem)
    refused = sum(1 for result in results if result.problem)
    return f"{len(results)} chains, {refused} refused"
