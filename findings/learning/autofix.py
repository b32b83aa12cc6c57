"""Low-risk fixes applied by themselves, under a rule a manager switched on beforehand.

A finding-fix rule (an approvals AutoApprovalRule of kind finding_fix) pre-approves one kind of
finding up to a money impact. After a scan, each open finding of that kind within the limit, with
a concrete change the portal can make, becomes a change request the system drafts and submits
under that rule (approvals.services.requests.request_by_rule): approved by the rule, pushed like
any other, audited as "approved by policy X, from finding Y". Off by default (no rule, nothing
happens); never above the limit (a stamped invoice's credit note included); the push re-reads the
invoice first, so if Alegra moved since, it is a conflict and nothing is written. Everything else
keeps four eyes.

Fixes never chain: an invoice gets at most one fix by rule per day (the company's day, in its time
zone). A fix changes the invoice, the change is scanned again, and what that scan (or any later one
that day) finds on the invoice stays open for a person: a rule that answers its own fix with another
fix could rewrite an invoice over and over without anyone looking.
"""

from __future__ import annotations

import datetime
import logging
import zoneinfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from invoices.models import Invoice
from portal import events
from portal.models import Company

from ..models import Finding
from ..requests import AutoApprovalRule, ChangeRequest, NeedsInput, RequestRefused, proposal, reason_for, request_by_rule

log = logging.getLogger(__name__)
# Kinds whose suggested fix is a concrete change of the invoice's own figures.
AUTO_FIXABLE = ("tax", "due_terms", "due_before_date", "price", "quantity", "discount")
FIXABLE_TYPES = ("update", "credit_note")


def active_rules(company_id: int) -> dict[str, AutoApprovalRule]:
    rules = (AutoApprovalRule.objects.filter(company_id=company_id, is_active=True,
                                             kind=AutoApprovalRule.Kind.FINDING_FIX).order_by("id"))
    found: dict[str, AutoApprovalRule] = {}
    for rule in rules:
        found.setdefault(rule.finding_kind, rule)
    return found


def day_start(company: Company) -> datetime.datetime:
    """Midnight of today in the company's time zone (a zone the system does not know: the portal's)."""
    try:
        zone = zoneinfo.ZoneInfo(company.time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    today = timezone.now().astimezone(zone).date()
    return datetime.datetime.combine(today, datetime.time.min, tzinfo=zone)


def fixed_today(company: Company, invoice_ids=None) -> set[int]:
    """The invoices that already had a fix drafted by a rule today (whatever became of it)."""
    rows = ChangeRequest.objects.filter(company_id=company.pk, origin_rule__isnull=False,
                                        created_at__gte=day_start(company))
    if invoice_ids is not None:
        rows = rows.filter(invoice_id__in=list(invoice_ids))
    return set(rows.values_list("invoice_id", flat=True))


def apply_rules(*, company_id: int) -> list[ChangeRequest]:
    """Draft and submit, under its rule, every open finding a finding-fix rule covers, one fix per
    invoice per day at most."""
    rules = active_rules(company_id)
    if not rules:
        return []
    company = Company.objects.get(pk=company_id)
    done = fixed_today(company)
    made = []
    candidates = (Finding.objects.filter(company_id=company_id, state=Finding.State.OPEN, correction__isnull=True,
                                         kind__in=list(rules))
                  .select_related("invoice", "company").order_by("id"))
    for finding in candidates:
        rule = rules[finding.kind]
        suggestion = finding.suggestion or {}
        if suggestion.get("type") not in FIXABLE_TYPES or finding.impact > rule.max_impact:
            continue
        if suggestion.get("reissue"):
            # Credit the whole stamped line, then invoice it again: the first step alone takes back
            # far more than the finding's impact, and the second is a person's.
            log.info("finding %s left for a person: its fix is a credit note and a new invoice", finding.pk)
            continue
        if finding.invoice_id in done:
            log.info("finding %s left for a person: invoice %s already had a fix by rule today", finding.pk,
                     finding.invoice_id)
            continue
        try:
            made.append(_fix(finding, rule))
            done.add(finding.invoice_id)
        except (RequestRefused, NeedsInput) as exc:
            log.info("finding %s not fixed by rule %s: %s", finding.pk, rule.pk, exc)
    return made


@transaction.atomic
def _fix(finding: Finding, rule: AutoApprovalRule) -> ChangeRequest:
    finding = Finding.objects.select_for_update().select_related("invoice", "company").get(pk=finding.pk)
    if finding.state != Finding.State.OPEN or finding.correction_id is not None:
        raise RequestRefused("not_draft", {"variant": "submit", "state": finding.state})
    # The rule's lock, then the invoice's (the order request_by_rule takes them in), before looking
    # again: two scans at once cannot both fix the invoice, the second sees the first one's request.
    AutoApprovalRule.objects.select_for_update().values_list("pk", flat=True).get(pk=rule.pk)
    Invoice.objects.select_for_update().values_list("pk", flat=True).get(pk=finding.invoice_id)
    if fixed_today(finding.company, [finding.invoice_id]):
        raise RequestRefused("not_draft", {"variant": "submit", "state": finding.state})
    reason = reason_for(finding, finding.company.country)  # in the portal's language: no one is asking
    kind, proposed = proposal(finding)
    change_request = request_by_rule(invoice=finding.invoice, rule=rule, proposed=proposed, reason=reason, kind=kind)
    finding.state, finding.correction = Finding.State.CONFIRMED, change_request
    finding._change_reason = events.reason("finding.auto_fixed", request=change_request.pk, rule=rule.name)
    finding._history_user = None
    finding.save()
    return change_request
