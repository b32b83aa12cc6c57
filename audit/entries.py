"""The parts every audit entry built from a version shares: its reason and code, who and when,
the token it came through, the version before it, and fields and amounts as comparable text."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from invoices import diff
from invoices.documents import contacts
from portal import events

from .models import AuditEntry

MAX_LISTED_FIELDS = 60


def reason_of(row) -> str:
    return (row.history_change_reason or "").strip()


def code_of(row) -> str:
    """The code the service that wrote the version gave as its reason (portal.events)."""
    return events.code_of(row.history_change_reason)


def entry(row, *, action: str, source: str, **fields) -> AuditEntry:
    values = {
        "company_id": getattr(row, "company_id", None), "at": row.history_date,
        "actor_id": row.history_user_id, "why": reason_of(row), "source": source,
        "source_id": row.history_id,
    }
    values.update(fields)
    # A write made through an API token names it: the user acted, through this token.
    via = events.parse(row.history_change_reason).params
    if via.get("via_token"):
        values["what"] = {**(values.get("what") or {}), "via_token": via["via_token"],
                          "via_token_id": via.get("via_token_id")}
        if via.get("via_agent"):
            values["what"]["via_agent"] = True
    return AuditEntry(action=action, **values)


def previous(row, *fields: str):
    if row.history_type == "+":
        return None
    return (type(row).objects.filter(id=row.id, history_id__lt=row.history_id)
            .order_by("-history_id").only("history_id", *fields).first())


def money(value) -> str:
    """The same amount as the same text, whether it came from the database (2830.000000) or not."""
    if value is None:
        return ""
    try:
        text = format(Decimal(str(value)), "f")
    except (InvalidOperation, ValueError):
        return str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def listed(names: Iterable[str]) -> list[str]:
    return sorted(names)[:MAX_LISTED_FIELDS]


def document_changes(before: Any, after: Any) -> list[str]:
    if not isinstance(before, Mapping) or not isinstance(after, Mapping):
        return []
    try:
        return listed(diff.diff_documents(before, after).changed_fields)
    except (ValueError, TypeError, ArithmeticError, RecursionError):
        # A body the diff cannot read still gets its entry; the versions stay comparable by hash.
        return listed(key for key in set(before) | set(after) if before.get(key) != after.get(key))


def contact_changes(before: Any, after: Any) -> list[str]:
    if not isinstance(before, Mapping) or not isinstance(after, Mapping):
        return []
    known = contacts.changed_paths(before, after, contacts.WATCHED_PATHS)
    others = [k for k in set(before) | set(after)
              if k not in {"address", *contacts.WATCHED_PATHS} and before.get(k) != after.get(k)]
    return listed([*known, *others])
