"""A contact's fields that the portal edits, read and written by dotted path, and its PUT body.

Alegra resets what a contact PUT leaves out, so the body carries the contact's whole editable
state as Alegra has it, with only the edited paths changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .references import reference_id

# What an accountant may change, in the order screens show it.
EDITABLE_PATHS = ("identification", "email", "phonePrimary", "phoneSecondary", "mobile", "address.address",
                  "address.city")
# What the audit trail names when a mirrored contact changes.
WATCHED_PATHS = ("name", *EDITABLE_PATHS)
READ_ONLY = frozenset({"id", "status", "internalContacts"})
# Sent back as bare ids.
REFERENCES = frozenset({"seller", "priceList", "term"})


def get_path(document: Any, path: str) -> Any:
    value = document
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def text_at(document: Any, path: str) -> str:
    value = get_path(document, path)
    return "" if value is None else str(value)


def set_path(document: dict, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    target = document
    for part in parents:
        if not isinstance(target.get(part), dict):
            target[part] = {}
        target = target[part]
    target[last] = value


def changed_paths(before: Mapping, after: Mapping, paths: Iterable[str] = EDITABLE_PATHS) -> list[str]:
    return [path for path in paths if text_at(before, path) != text_at(after, path)]


def put_body(current: Mapping[str, Any], proposed: Mapping[str, Any]) -> dict:
    """The whole editable state of the contact, with the proposed values where they differ."""
    body: dict[str, Any] = {}
    for key, value in current.items():
        if key in READ_ONLY:
            continue
        if key in REFERENCES:
            value = reference_id(value)
            if value is None:
                continue
        body[key] = value
    for path in changed_paths(current, proposed):
        set_path(body, path, text_at(proposed, path))
    return body
