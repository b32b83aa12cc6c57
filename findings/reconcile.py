"""From detector drafts to stored findings: create, update, reopen, resolve — each through a
history row that says why, so the trail and the audit log can tell what happened."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from invoices import hooks

from . import store
from .detectors.base import Draft
from .facts import InvoiceRow
from .learning import exceptions
from .models import OPEN_STATES, Finding
from portal import events

RANKS = {"high": 3, "medium": 2, "low": 1}
CONFIDENCE = Decimal("0.001")
COMPARED = ("cause", "severity", "rank", "confidence", "impact", "evidence", "suggestion", "item_alegra_id",
            "client_alegra_id", "client_name", "invoice_date", "line")
WRITTEN = [*COMPARED, "state", "silenced_by", "resolved_at", "correction", "updated_at"]
# Why a finding's version was written (portal.events); the audit recorder reads the code.
CREATED, UPDATED, REOPENED = (events.reason("finding.created"), events.reason("finding.updated"),
                              events.reason("finding.reopened"))
RESOLVED = {why: events.reason("finding.resolved", why=why) for why in ("fixed", "void", "deleted")}
BORN_SILENCED = events.reason("finding.silenced_at_birth")


def silenced(exception_id: int) -> str:
    return events.reason("finding.silenced", exception=exception_id)


def returned(exception_id: int | None) -> str:
    return events.reason("finding.returned", exception=exception_id)


@dataclass
class Outcome:
    created: int = 0
    updated: int = 0
    reopened: int = 0
    resolved: int = 0
    silenced: int = 0
    returned: int = 0


def fingerprint(company_id: int, invoice_id: int, kind: str, line: int | None) -> str:
    return hashlib.sha1(f"{company_id}:{invoice_id}:{kind}:{'-' if line is None else line}".encode()).hexdigest()


def _values(company_id: int, invoice: InvoiceRow, draft: Draft) -> dict:
    return {
        "company_id": company_id, "invoice_id": invoice.invoice_id, "line": draft.line, "kind": draft.kind,
        "cause": draft.cause, "fingerprint": fingerprint(company_id, invoice.invoice_id, draft.kind, draft.line),
        "client_alegra_id": invoice.client, "client_name": invoice.client_name, "item_alegra_id": draft.item,
        "invoice_date": invoice.date, "severity": draft.severity, "rank": RANKS[draft.severity],
        "confidence": draft.confidence.quantize(CONFIDENCE), "impact": draft.impact,
        "evidence": draft.evidence, "suggestion": draft.suggestion,
    }




def _differs(finding: Finding, values: Mapping) -> bool:
    return any(getattr(finding, name) != values[name] for name in COMPARED)


def _save(finding: Finding, reason: str, changed: list[Finding]) -> None:
    """Mark the finding to be written with its history row (all of them at once, at the end)."""
    finding._change_reason = reason
    changed.append(finding)


@functools.cache
def _history():
    # Each `Finding.history` access builds a new manager class: ask once.
    return Finding.history


def _write(changed: list[Finding], new: list[Finding], now) -> list[Finding]:
    """Store the changed and the new findings and their history rows, then tell the audit of
    every row at once (one chain append per scan, not one per finding). Returns the new ones."""
    rows = []
    if changed:
        for finding in changed:
            finding.updated_at = now
        store.update_objects(Finding, WRITTEN, changed)
        rows += _history().bulk_history_create(changed, update=True, batch_size=500, default_date=now)
    created = Finding.objects.bulk_create(new, batch_size=1000) if new else []
    if created:
        rows += _history().bulk_history_create(created, batch_size=1000, default_date=now)
    if rows:
        hooks.versions_written(rows)  # bulk writes send no signal of their own
    return created


def reconcile(company_id: int, drafts: Iterable[tuple[InvoiceRow, Draft]], *, invoice_ids: set[int] | None,
              gone: Mapping[int, str], learned: exceptions.Index | None = None) -> Outcome:
    """Make the stored findings of `invoice_ids` (None: the whole company) match `drafts`.

    `gone` names invoices that can no longer be flagged and why ("void", "deleted").
    Dismissed findings stay dismissed while the problem lasts: the dismissal is the answer.
    A finding an active learned exception explains is kept silenced (out of the open findings),
    pointing at the exception; when no exception explains it any more it comes back.
    Findings being corrected are never silenced: a person confirmed them.
    """
    drafts = list(drafts)
    if learned is None:  # a scan that found nothing has no exception to consult
        clients = None if invoice_ids is None else {invoice.client for invoice, _draft in drafts}
        learned = exceptions.index_of(company_id, clients) if drafts else exceptions.Index(())
    # Locked as read: a person dismissing, confirming or correcting one meanwhile is waited for and
    # then seen, not overwritten with the state read before (their services lock the row too).
    existing = Finding.objects.select_for_update().filter(company_id=company_id)
    if invoice_ids is not None:
        existing = existing.filter(invoice_id__in=list(invoice_ids))
    by_print = {finding.fingerprint: finding for finding in existing}
    outcome, new, changed, seen = Outcome(), [], [], set()
    now = timezone.now()
    for invoice, draft in drafts:
        values = _values(company_id, invoice, draft)
        seen.add(values["fingerprint"])
        finding = by_print.get(values["fingerprint"])
        rule = learned.match(draft.kind, invoice.client, draft.item, draft.evidence) if learned else None
        if finding is None:
            if rule is not None:
                values.update(state=Finding.State.SILENCED, silenced_by_id=rule.pk)
            new.append(Finding(**values))
        elif finding.state == Finding.State.RESOLVED:
            for name in COMPARED:
                setattr(finding, name, values[name])
            # Back after a fix reached Alegra (or the invoice moved on): that correction is done,
            # and a new one may be made.
            finding.resolved_at, finding.correction = None, None
            if rule is not None:
                finding.state, finding.silenced_by_id = Finding.State.SILENCED, rule.pk
                _save(finding, silenced(rule.pk), changed)
            else:
                finding.state = Finding.State.OPEN
                _save(finding, REOPENED, changed)
            outcome.reopened += 1
        elif finding.state == Finding.State.OPEN and rule is not None:
            for name in COMPARED:
                setattr(finding, name, values[name])
            finding.state, finding.silenced_by_id = Finding.State.SILENCED, rule.pk
            _save(finding, silenced(rule.pk), changed)
            outcome.silenced += 1
        elif finding.state == Finding.State.SILENCED and rule is None:
            for name in COMPARED:
                setattr(finding, name, values[name])
            before = finding.silenced_by_id
            finding.state, finding.silenced_by_id = Finding.State.OPEN, None
            _save(finding, returned(before), changed)
            outcome.returned += 1
        elif finding.state == Finding.State.SILENCED and (finding.silenced_by_id != rule.pk or _differs(finding, values)):
            for name in COMPARED:
                setattr(finding, name, values[name])
            moved = finding.silenced_by_id != rule.pk
            finding.silenced_by_id = rule.pk
            _save(finding, silenced(rule.pk) if moved else UPDATED, changed)
            outcome.updated += 1
        elif finding.state in OPEN_STATES and _differs(finding, values):
            for name in COMPARED:
                setattr(finding, name, values[name])
            _save(finding, UPDATED, changed)
            outcome.updated += 1
    for finding in by_print.values():
        if finding.fingerprint in seen or finding.state not in (*OPEN_STATES, Finding.State.SILENCED):
            continue
        finding.state, finding.resolved_at = Finding.State.RESOLVED, now
        _save(finding, RESOLVED[gone.get(finding.invoice_id, "fixed")], changed)
        outcome.resolved += 1
    for finding in new:
        finding._change_reason = CREATED if finding.state == Finding.State.OPEN else BORN_SILENCED
    created = _write(changed, new, now)
    outcome.created = len(created)
    outcome.silenced += sum(1 for f in created if f.state == Finding.State.SILENCED)
    return outcome
