"""The content of the versions the audit entries describe, as a digest the chain can hold.

Every audited model keeps its versions in a simple-history table; an entry names one
version (`source`, `source_id` = its `history_id`) and carries the SHA-256 of that row's
canonical content: the document and every tracked field, with who, when and why. The
verification reads the row again and recomputes it, so a version altered in SQL is found.

Which columns were covered is kept as a layout (the sorted column names, stored once
under their digest), so a column added to a model later does not make the older versions
look altered: they are recomputed over the columns they had.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from types import MappingProxyType

from django.db import connection, transaction

from approvals.models import ApprovalSettings, AutoApprovalRule, ChangeRequest, Decision, Push, RoutingPolicy
from findings.models import Finding, LearnedException, LearningSettings
from invoices.models import Contact, Invoice

from .models import LEGACY_SCHEME, AuditEntry, AuditVersionLayout

# Source name of the entries → the model whose history they describe.
AUDITED = {
    "invoice": Invoice, "contact": Contact, "change_request": ChangeRequest, "push": Push,
    "decision": Decision, "routing_policy": RoutingPolicy, "auto_approval_rule": AutoApprovalRule,
    "approval_settings": ApprovalSettings, "finding": Finding, "learned_exception": LearnedException,
    "learning_settings": LearningSettings,
}


@functools.cache
def history_models() -> Mapping[str, type]:
    """Source name → simple-history's model of the versions.

    Kept for the process: each `Model.history` builds a new manager class (an inspection of
    every queryset method, about 1 ms a model), and every audit append asks for these.
    """
    return MappingProxyType({source: model.history.model for source, model in AUDITED.items()})


@functools.cache
def _columns(history_model) -> tuple[str, ...]:
    return tuple(sorted(field.attname for field in history_model._meta.concrete_fields))


def layout(history_model) -> tuple[str, list[str]]:
    names = list(_columns(history_model))
    return layout_digest(names), names


def layout_digest(names: Iterable[str]) -> str:
    return hashlib.sha256(json.dumps(list(names), separators=(",", ":")).encode()).hexdigest()[:32]


def _plain(value):
    """One text per value, whichever database read it (2830.000000 and 2830 are one amount).

    Called by the JSON encoder for what JSON has no type for; dicts and lists go through its
    C implementation untouched.
    """
    if isinstance(value, Decimal):
        if not value.is_finite():
            return str(value)
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC)
        return value.isoformat(timespec="microseconds")
    if isinstance(value, (datetime.date, datetime.time, uuid.UUID)):
        return str(value)
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    raise TypeError(f"no canonical text for {type(value).__name__}")


def content_digest(values: Mapping) -> str:
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_plain)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def digests(source: str, history_ids: Iterable[int], names: list[str] | None = None) -> dict[int, str]:
    """history_id → digest of each version row found, read from the database as stored."""
    model = history_models()[source]
    names = names or layout(model)[1]
    ids, found = sorted(set(history_ids)), {}
    for start in range(0, len(ids), 1000):  # within any database's limit of query parameters
        rows = model.objects.filter(history_id__in=ids[start:start + 1000]).values(*names)
        found.update((row["history_id"], content_digest(row)) for row in rows)
    return found


def stored(source: str, rows) -> list[tuple[object, str]]:
    """The version rows a query selects, each with the digest of its content as stored.

    One read serves both the audit entry built from a version and the digest it carries, where
    building from instances and then digesting would read every document twice."""
    model = history_models()[source]
    names = layout(model)[1]
    order = [field.attname for field in model._meta.concrete_fields]
    return [(model.from_db(rows.db, order, [values[name] for name in order]), content_digest(values))
            for values in rows.values(*names)]


# (database, layout digest) of the layouts a committed transaction of this process stored or
# found stored: an append stores the layout of its versions once per process, not every time.
_STORED: set[tuple[str, str]] = set()


def layouts_forget() -> None:
    """After a migrate or a flush, whose tables may have lost what was stored."""
    _STORED.clear()


def layouts_store(history_models: Iterable) -> dict:
    """The layout digest of each model, its column names stored (one statement, the first time
    in this process for each layout; `migrate` stores them all before any append)."""
    found = {model: layout(model) for model in history_models}
    database = str(connection.settings_dict["NAME"])
    missing = [(digest, names) for digest, names in found.values() if (database, digest) not in _STORED]
    if missing:
        AuditVersionLayout.objects.bulk_create(
            [AuditVersionLayout(digest=digest, fields=names) for digest, names in missing], ignore_conflicts=True)
        # Known once committed: a transaction that stored a layout may still roll back.
        transaction.on_commit(lambda: _STORED.update((database, digest) for digest, _names in missing))
    return {model: digest for model, (digest, _names) in found.items()}


def matches_trail(source: str, history_id: int) -> bool:
    """Whether the version row is still what its audit entry recorded (before it is reused)."""
    entry = (AuditEntry.objects.filter(source=source, source_id=history_id)
             .values("scheme", "version_layout", "version_hash").first())
    if entry is None:
        return False
    if entry["scheme"] == LEGACY_SCHEME:
        return True  # recorded before versions were digested: nothing to compare with
    names = AuditVersionLayout.objects.filter(digest=entry["version_layout"]).values_list("fields", flat=True).first()
    if names is None:
        return False
    return digests(source, [history_id], names).get(history_id) == entry["version_hash"]
