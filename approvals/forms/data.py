"""Between documents and form data: what a form shows for a document, and the rows it posted."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import QueryDict

from invoices import diff
from invoices.documents import references, numbers
from invoices.mirror import MAX_LINES
from portal import formats

from ..documents import text_of
from .edit import LINE_FIELDS, LINE_PREFIX, InvoiceHeaderForm
from .fields import MAX_TAXES_PER_LINE


def _number_text(value: Any) -> str:
    """Every stored decimal, written with the company's separators ("23.109,243697" in Colombia)."""
    try:
        return formats.input_text(numbers.decimal_text(value))
    except (ValueError, TypeError):
        return text_of(value)


def header_initial(document: Mapping) -> dict:
    return {
        "date": text_of(document.get("date"))[:10],
        "dueDate": text_of(document.get("dueDate"))[:10],
        "client": references.reference_id(document.get("client")) or "",
        "paymentForm": text_of(document.get("paymentForm")),
        "paymentMethod": text_of(document.get("paymentMethod")),
        "seller": references.reference_id(document.get("seller")) or "",
        "priceList": references.reference_id(document.get("priceList")) or "",
        "observations": text_of(document.get("observations")),
        "anotation": text_of(document.get("anotation")),
        "termsConditions": text_of(document.get("termsConditions")),
    }


def line_raw(line: Mapping, origin: int | None) -> dict:
    """One line as the form posts it."""
    return {
        "origin": "" if origin is None else str(origin),
        "item": references.item_id(line),
        "name": text_of(line.get("name")),
        "description": text_of(line.get("description")),
        "reference": text_of(line.get("reference")),
        "price": _number_text(line.get("price")),
        "quantity": _number_text(line.get("quantity")),
        "discount": _number_text(line.get("discount")),
        "tax": [references.tax_id(tax) for tax in line.get("tax") or () if references.tax_id(tax)],
    }


def document_lines_raw(document: Mapping, *, origins: bool) -> list[dict]:
    """Form rows for a document; `origins` ties each row to the base line it edits."""
    items = document.get("items")
    items = items if isinstance(items, list) else []
    return [line_raw(line if isinstance(line, Mapping) else {}, index if origins else None)
            for index, line in enumerate(items)]


def origins_against(base: Mapping, proposed: Mapping) -> list[dict]:
    """Form rows for a saved proposal, each tied to the base line it was made from."""
    base_items = base.get("items") if isinstance(base.get("items"), list) else []
    proposed_items = proposed.get("items") if isinstance(proposed.get("items"), list) else []
    rows = []
    for change in diff.align_lines(base_items, proposed_items):
        if change.after is None:
            continue
        rows.append(line_raw(change.after, change.before_index))
    return rows


def form_data(header: Mapping, lines: list[dict], extra: Mapping | None = None) -> QueryDict:
    """Header values and line rows as one POST-like QueryDict (management form included)."""
    data = QueryDict(mutable=True)
    for name, value in header.items():
        data[name] = "" if value is None else str(value)
    for name, value in (extra or {}).items():
        data[name] = value
    data[f"{LINE_PREFIX}-TOTAL_FORMS"] = str(len(lines))
    data[f"{LINE_PREFIX}-INITIAL_FORMS"] = "0"
    for index, row in enumerate(lines):
        for name in LINE_FIELDS:
            key = f"{LINE_PREFIX}-{index}-{name}"
            if name == "tax":
                data.setlist(key, list(row.get("tax") or []))
            else:
                data[key] = text_of(row.get(name))
    return data


def posted_lines(data: QueryDict) -> list[dict]:
    """The line rows of a POST, as posted (nothing parsed yet), for the structural operations."""
    try:
        total = int(data.get(f"{LINE_PREFIX}-TOTAL_FORMS", "0"))
    except (TypeError, ValueError):
        total = 0
    rows = []
    for index in range(max(0, min(total, MAX_LINES))):
        row = {}
        for name in LINE_FIELDS:
            key = f"{LINE_PREFIX}-{index}-{name}"
            row[name] = data.getlist(key)[:MAX_TAXES_PER_LINE + 1] if name == "tax" else data.get(key, "")
        rows.append(row)
    return rows


def header_posted(data: QueryDict) -> dict:
    names = [*InvoiceHeaderForm.base_fields]
    return {name: data.get(name, "") for name in names}


def credit_lines_initial(invoice_doc: Mapping, note: Mapping) -> dict[int, dict]:
    """For a saved note: which invoice line each note line credits, by item in order."""
    items = invoice_doc.get("items") if isinstance(invoice_doc.get("items"), list) else []
    initial: dict[int, dict] = {}
    start = 0
    for note_line in note.get("items") or ():
        if not isinstance(note_line, Mapping):
            continue
        for index in range(start, len(items)):
            if isinstance(items[index], Mapping) and references.item_id(items[index]) == references.item_id(note_line):
                initial[index] = {"quantity": _number_text(note_line.get("quantity")),
                                  "price": _number_text(note_line.get("price"))}
                start = index + 1
                break
    return initial
