"""Ids and numbers: how Alegra names a document, an item, a tax, a client."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def alegra_id(value: Any) -> str:
    """An Alegra id as text: ids arrive as strings, numbers or `{"id": ...}` objects."""
    if isinstance(value, Mapping):
        value = value.get("id")
    if value is None or isinstance(value, bool):
        raise ValueError(f"not an Alegra id: {value!r}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (float, Decimal)):
        if value != int(value):
            raise ValueError(f"not an Alegra id: {value!r}")
        return str(int(value))
    if isinstance(value, str) and value.strip():
        return value.strip()
    raise ValueError(f"not an Alegra id: {value!r}")


def reference_id(value: Any) -> str | None:
    """The id of a small object ({"id": ...}), or of a bare id; None for none."""
    if isinstance(value, Mapping):
        value = value.get("id")
    if value is None or value == "":
        return None
    return str(value).strip()


def item_id(line: Mapping[str, Any] | None) -> str:
    """The catalogue item of a line (lines have no id of their own)."""
    if not isinstance(line, Mapping) or line.get("id") is None:
        return ""
    return str(line["id"]).strip()


def tax_id(tax: Any) -> str:
    """The id of a line tax entry ({"id": ...} or a bare id), as text."""
    raw = tax.get("id") if isinstance(tax, Mapping) else tax
    return "" if raw is None else str(raw).strip()


def number_template(doc: Mapping[str, Any]) -> dict:
    """The document's numberTemplate, which is sometimes a list of such objects."""
    template = doc.get("numberTemplate")
    if isinstance(template, list):
        candidates = [t for t in template if isinstance(t, dict)]
        with_number = [t for t in candidates if t.get("fullNumber") or t.get("number")]
        return dict((with_number or candidates or [{}])[0])
    return dict(template) if isinstance(template, dict) else {}


def full_number(doc: Mapping[str, Any]) -> str:
    """The number people know: fullNumber, else prefix + number, else number."""
    template = number_template(doc)
    if template.get("fullNumber"):
        return str(template["fullNumber"])
    number = template.get("number")
    if number is None or number == "":
        number = doc.get("number")
    if number is None or number == "":
        return ""
    return f"{template.get('prefix') or ''}{number}"
