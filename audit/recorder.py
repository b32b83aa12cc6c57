"""From historical rows (and logins) to audit entries: who, when, why and what.

Every historical row of an audited model reaches `history_row_recorded` through
simple-history's `post_create_historical_record`, inside the transaction that
wrote it, so the entry commits (or rolls back) with the change it describes.
Rows written in bulk send no signal; `record_bulk_history` is called for them.

The change reason each service writes is a coded event with its parameters (portal.events):
the builders below read the code to tell the action and keep the reason as the entry's why.
Logins are recorded by audit.sessions.
"""

from __future__ import annotations

import functools

import heapq
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.apps import apps

from approvals.models import ApprovalSettings, AutoApprovalRule, ChangeRequest, Push, RoutingPolicy
from findings.models import Finding, LearnedException, LearningSettings
from invoices import mirror
from invoices.documents import contacts
from invoices.models import Contact, Invoice
from portal import events

from . import chain, entries, versions
from .models import Action, AuditEntry

CRState = ChangeRequest.State
MAX_MESSAGE = 1000
PUSH_ACTIONS = {
    Push.State.QUEUED: Action.PUSH_QUEUED, Push.State.PUSHING: Action.PUSH_ATTEMPT,
    Push.State.RETRYING: Action.PUSH_RETRYING, Push.State.APPLIED: Action.PUSHED,
    Push.State.CONFLICT: Action.CONFLICT, Push.State.FAILED: Action.FAILED,
}
POLICY_NAMES = {
    RoutingPolicy: "routing_policy", AutoApprovalRule: "auto_approval_rule",
    ApprovalSettings: "approval_settings", LearningSettings: "learning_settings",
}
HISTORY_KIND = {"+": "created", "~": "changed", "-": "deleted"}


def history_row_recorded(sender, history_instance, instance=None, **kwargs) -> None:
    builder = _BUILDERS.get(sender._meta.label)
    if builder is None:
        return
    chain.append([builder(history_instance, instance)])


def record_bulk_history(model, instances: Iterable) -> list[AuditEntry]:
    """Entries for the first versions a bulk create wrote (simple-history sends no signal then)."""
    pks = [obj.pk for obj in instances if obj.pk is not None]
    if not pks:
        return []
    history = _history_of(model)
    rows = history.objects.filter(id__in=pks, history_type="+").order_by("history_id")
    found = versions.stored(_SOURCES[history._meta.label], rows)
    if not found:
        return []
    layout = versions.layouts_store([history])[history]
    builder = _BUILDERS[history._meta.label]
    built = []
    for row, digest in found:
        entry = builder(row, None)
        # Read once: the entry carries the digest of the row it was built from.
        entry.version_layout, entry.version_hash = layout, digest
        built.append(entry)
    return chain.append(built)


def record_versions(rows: Iterable) -> list[AuditEntry]:
    """Entries for version rows written in bulk and in hand (created or changed), in their order."""
    built = [_BUILDERS[type(row)._meta.label](row, None) for row in rows]
    return chain.append(built) if built else []


def _cached(instance, name: str):
    return instance._state.fields_cache.get(name) if instance is not None else None


# --- invoice and contact versions -----------------------------------------------------------


def _pushed_hashes(invoice_id: int) -> set[str]:
    # Only pushes that wrote: one that found its change already in Alegra explains nothing.
    responses = Push.objects.filter(change_request__invoice_id=invoice_id, state=Push.State.APPLIED,
                                    writes__gt=0).values_list("response", flat=True)
    return {mirror.content_hash(mirror.canonical(r)) for r in responses if isinstance(r, dict)}


def _version_source(row, previous, *, explained) -> tuple[str, str]:
    """(action, on whose behalf) for a version of the mirror."""
    code = entries.code_of(row)
    if code == "push.wrote":
        return Action.PUSHED_VERSION, "push"
    if code == "push.read":
        return (Action.REMOTE_CHANGE if previous is not None else Action.SYNCED), "push"
    source = "webhook" if code == "mirror.webhook" else "sync"
    if previous is None:
        return Action.SYNCED, source
    # A version the sync reads back after a push of ours (the mirror missed the answer).
    if explained():
        return Action.SYNCED, source
    return Action.REMOTE_CHANGE, source


def _invoice_version(row, instance) -> AuditEntry:
    previous = entries.previous(row, "document", "status", "total", "is_deleted")
    action, behalf = _version_source(
        row, previous, explained=lambda: row.content_hash in _pushed_hashes(row.id))
    what: dict[str, Any] = {
        "number": row.number, "alegra_id": row.alegra_id, "content_hash": row.content_hash,
        "status": row.status, "total": entries.money(row.total),
    }
    if previous is not None:
        if previous.status != row.status:
            what["status_before"] = previous.status
        if previous.total != row.total:
            what["total_before"] = entries.money(previous.total)
        what["changes"] = entries.document_changes(previous.document, row.document)
    if row.is_deleted and not (previous is not None and previous.is_deleted):
        what["deleted"] = True
    return entries.entry(row, action=action, source="invoice", invoice_id=row.id, on_behalf_of=behalf, what=what)


def _contact_push_in_flight(row) -> bool:
    """A contact version read while our push of that contact is writing it is the push's.

    Only once the push has sent its write: before that, the same change comes from someone else.
    """
    pushing = (ChangeRequest.objects.filter(company_id=row.company_id, kind=ChangeRequest.Kind.CONTACT,
                                            contact_alegra_id=row.alegra_id,
                                            pushes__state=Push.State.PUSHING, pushes__writes__gt=0)
               .values_list("proposed_document", flat=True))
    return any(not contacts.changed_paths(row.document, proposed)
               for proposed in pushing)


def _contact_version(row, instance) -> AuditEntry:
    previous = entries.previous(row, "document", "is_deleted")
    if previous is not None and entries.code_of(row).startswith("mirror.") and _contact_push_in_flight(row):
        action, behalf = Action.PUSHED_VERSION, "push"
    else:
        action, behalf = _version_source(row, previous, explained=lambda: False)
    what: dict[str, Any] = {"contact": row.name, "alegra_id": row.alegra_id, "content_hash": row.content_hash}
    if previous is not None:
        what["changes"] = entries.contact_changes(previous.document, row.document)
    if row.is_deleted and not (previous is not None and previous.is_deleted):
        what["deleted"] = True
    return entries.entry(row, action=action, source="contact", on_behalf_of=behalf, what=what)


# --- change requests, decisions, pushes ------------------------------------------------------


def _request_action(row, before: str | None, code: str) -> str:
    state = row.state
    if row.history_type == "-":
        return Action.RECORD_DELETED
    if before is None:
        return Action.CREATED
    if state == before:
        if code == "request.routed":
            return Action.ROUTED
        return Action.DRAFT_SAVED if state == CRState.DRAFT else Action.REQUEST_UPDATED
    if state == CRState.PENDING:
        return Action.SUBMITTED
    if state == CRState.APPROVED:
        if before == CRState.FAILED:
            return Action.PUSH_RETRIED
        if before != CRState.PENDING:
            return Action.STATE_CHANGED
        if row.history_user_id is None and code == "request.auto_approved":
            return Action.AUTO_APPROVED
        return Action.APPROVED
    if state == CRState.REJECTED:
        return Action.REJECTED
    if state == CRState.CANCELLED:
        return Action.CANCELLED
    if state == CRState.DRAFT:
        return Action.REBASED
    return Action.STATE_CHANGED


def _request_changes(row) -> list[str]:
    if row.kind == ChangeRequest.Kind.CONTACT:
        return entries.contact_changes(row.base_document, row.proposed_document)
    if row.kind == ChangeRequest.Kind.CREDIT_NOTE:
        return ["credit_note"]
    return entries.document_changes(row.base_document, row.proposed_document)


def _request_version(row, instance) -> AuditEntry:
    previous = entries.previous(row, "state", "proposed_document", "base_hash")
    reason = events.parse(row.history_change_reason)
    action = _request_action(row, previous.state if previous is not None else None, reason.code)
    what: dict[str, Any] = {
        "request": row.id, "kind": row.kind, "state": row.state,
        "old_total": entries.money(row.old_total), "new_total": entries.money(row.new_total),
    }
    if previous is not None and previous.state != row.state:
        what["state_before"] = previous.state
    if action in (Action.CREATED, Action.DRAFT_SAVED, Action.SUBMITTED, Action.REBASED):
        what["reason"] = row.reason
        if previous is None or previous.proposed_document != row.proposed_document \
                or previous.base_hash != row.base_hash or action == Action.SUBMITTED:
            what["changes"] = _request_changes(row)
    if action == Action.ROUTED:
        what["approvals_required"] = row.approvals_required
        what["routed_by"] = row.routed_by
    behalf = ""
    if row.origin_rule_id:
        what["origin_rule"] = row.origin_rule_id
    if row.history_user_id is None:
        if reason.code in ("request.drafted_by_rule", "request.submitted_by_rule"):
            behalf = f"policy {reason.params.get('rule', '')}".strip()
        elif action == Action.AUTO_APPROVED:
            behalf = f"policy {reason.params.get('rule', '')}".strip()
        elif action == Action.STATE_CHANGED or row.state in (CRState.PUSHING, CRState.APPLIED):
            behalf = "push"
        else:
            behalf = "system"
    return entries.entry(row, action=action, source="change_request", invoice_id=row.invoice_id,
                  change_request_id=row.id, on_behalf_of=behalf, what=what)


def _request_of(instance, change_request_id: int) -> tuple[int | None, int | None]:
    """(company id, invoice id) of a change request, from the instance's cache when it has it."""
    cached = _cached(instance, "change_request")
    if cached is not None:
        return cached.company_id, cached.invoice_id
    found = ChangeRequest.objects.filter(pk=change_request_id).values_list("company_id", "invoice_id").first()
    return found if found else (None, None)


def _push_version(row, instance) -> AuditEntry:
    _company, invoice_id = _request_of(instance, row.change_request_id)
    action = Action.RECORD_DELETED if row.history_type == "-" else PUSH_ACTIONS.get(row.state, Action.PUSH_ATTEMPT)
    what: dict[str, Any] = {"request": row.change_request_id, "push": row.id, "state": row.state,
                            "attempt": row.attempts}
    extras = {
        "status": row.last_status, "code": row.last_code, "message": (row.last_message or "")[:MAX_MESSAGE],
        "result_alegra_id": row.result_alegra_id, "conflict_fields": row.conflict_fields or [],
        "totals_mismatch": row.totals_mismatch or None,
        "expected_total": entries.money(row.expected_total) if row.totals_mismatch else "",
        "received_total": entries.money(row.received_total) if row.totals_mismatch else "",
    }
    what.update({key: value for key, value in extras.items() if value not in (None, "", [])})
    return entries.entry(row, action=action, source="push", invoice_id=invoice_id,
                  change_request_id=row.change_request_id,
                  on_behalf_of="push" if row.history_user_id is None else "", what=what)


def _decision(row, instance) -> AuditEntry:
    company_id, invoice_id = _request_of(instance, row.change_request_id)
    behalf = ""
    rule_name = ""
    if row.auto_rule_id:
        rule = _cached(instance, "auto_rule") or AutoApprovalRule.objects.filter(pk=row.auto_rule_id).first()
        rule_name = rule.name if rule is not None else f"#{row.auto_rule_id}"
        behalf = f"policy {rule_name}"
    what = {"request": row.change_request_id, "outcome": row.outcome, "comment": row.comment,
            "approver_role": row.approver_role, "revision": row.revision[:16]}
    if rule_name:
        what["rule"] = rule_name
    return entries.entry(row, action=Action.DECISION if row.history_type != "-" else Action.RECORD_DELETED,
                  source="decision", company_id=company_id, invoice_id=invoice_id,
                  change_request_id=row.change_request_id, actor_id=row.approver_id,
                  why=row.comment or entries.reason_of(row), on_behalf_of=behalf, what=what)


def _text(value) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Decimal):
        return entries.money(value)
    return str(value)


def _policy_version(row, instance) -> AuditEntry:
    model = row.instance_type
    previous = entries.previous(row, *[f.attname for f in type(row).tracked_fields])
    tracked = [f for f in type(row).tracked_fields if f.attname not in ("id", "company_id", "created_at")]
    what: dict[str, Any] = {"model": POLICY_NAMES.get(model, model._meta.model_name), "id": row.id,
                            "name": getattr(row, "name", ""), "type": HISTORY_KIND.get(row.history_type, "")}
    if previous is not None and row.history_type == "~":
        what["changes"] = {f.attname: [_text(getattr(previous, f.attname)), _text(getattr(row, f.attname))]
                           for f in tracked if getattr(previous, f.attname) != getattr(row, f.attname)}
    else:
        what["values"] = {f.attname: _text(getattr(row, f.attname)) for f in tracked}
    return entries.entry(row, action=Action.POLICY_CHANGED, source=POLICY_NAMES.get(model, "policy"), what=what,
                  on_behalf_of="system" if row.history_user_id is None else "")


# --- findings ------------------------------------------------------------------------------

FINDING_ACTIONS = {
    "finding.created": Action.FINDING_CREATED, "finding.updated": Action.FINDING_UPDATED,
    "finding.dismissed": Action.FINDING_DISMISSED, "finding.resolved": Action.FINDING_RESOLVED,
    "finding.reopened": Action.FINDING_REOPENED, "finding.correction_ended": Action.FINDING_REOPENED,
    "finding.correction": Action.FINDING_CORRECTION,
    "finding.confirmed": Action.FINDING_CONFIRMED, "finding.auto_fixed": Action.FINDING_CORRECTION, "finding.silenced": Action.FINDING_SILENCED,
    "finding.silenced_at_birth": Action.FINDING_SILENCED, "finding.returned": Action.FINDING_RETURNED,
}


def _finding_version(row, instance) -> AuditEntry:
    """A finding's change: the code of its history reason says which (findings.reconcile)."""
    action = (Action.RECORD_DELETED if row.history_type == "-"
              else FINDING_ACTIONS.get(entries.code_of(row), Action.FINDING_UPDATED))
    what = {"finding": row.id, "kind": row.kind, "cause": row.cause, "line": row.line, "state": row.state,
            "severity": row.severity, "impact": entries.money(row.impact)}
    if row.correction_id:
        what["request"] = row.correction_id
    if row.silenced_by_id:
        what["exception"] = row.silenced_by_id
    return entries.entry(row, action=action, source="finding", invoice_id=row.invoice_id,
                  change_request_id=row.correction_id if action == Action.FINDING_CORRECTION else None,
                  on_behalf_of="scan" if row.history_user_id is None else "", what=what)


def _exception_version(row, instance) -> AuditEntry:
    """A learned exception: learned from a dismissal, or revoked by a manager."""
    if row.history_type == "-":
        action = Action.RECORD_DELETED
    else:
        action = Action.EXCEPTION_REVOKED if entries.code_of(row) == "learning.revoked" else Action.EXCEPTION_LEARNED
    what = {"exception": row.id, "kind": row.kind, "client": row.client_alegra_id, "item": row.item_alegra_id,
            "scope": row.scope, "finding": row.from_finding_id, "reason": row.reason}
    if row.revoked_at is not None:
        what.update(revoke_reason=row.revoke_reason, silenced=row.silenced_until_revoked)
    return entries.entry(row, action=action, source="learned_exception", what=what)



def _keyed(rows, label: str):
    for row in rows:
        yield row.history_date, row.history_id, label, row


def history_backfill(*, batch_size: int = 1000) -> int:
    """Entries for historical rows that have none (written before the audit log existed).

    The rows of every audited table are merged in time order and appended in batches, one
    transaction each; a row already recorded is skipped, so running it twice writes nothing.
    """
    streams = []
    for label, builder in _BUILDERS.items():
        model = apps.get_model(label)
        source = _SOURCES[label]
        recorded = AuditEntry.objects.filter(source=source, source_id__isnull=False).values("source_id")
        rows = (model.objects.exclude(history_id__in=recorded).order_by("history_date", "history_id")
                .iterator(chunk_size=batch_size))
        streams.append(_keyed(rows, label))
    written, batch = 0, []
    for _date, _id, label, row in heapq.merge(*streams, key=lambda item: item[:3]):
        batch.append(_BUILDERS[label](row, None))
        if len(batch) >= batch_size:
            written += len(chain.append(batch))
            batch = []
    if batch:
        written += len(chain.append(batch))
    return written


def _builders() -> dict:
    from approvals.models import Decision  # its history is registered by audit.models

    builders = {
        Invoice.history.model: _invoice_version,
        Contact.history.model: _contact_version,
        ChangeRequest.history.model: _request_version,
        Push.history.model: _push_version,
        Decision.history.model: _decision,
        Finding.history.model: _finding_version,
        LearnedException.history.model: _exception_version,
    }
    builders.update({model.history.model: _policy_version for model in POLICY_NAMES})
    return {model._meta.label: builder for model, builder in builders.items()}


@functools.cache
def _history_of(model) -> type:
    # Each `Model.history` access builds a new manager class: ask once per model.
    return model.history.model


def _sources() -> dict[str, str]:
    return {model._meta.label: source for source, model in versions.history_models().items()}


_BUILDERS = _builders()
_SOURCES = _sources()
