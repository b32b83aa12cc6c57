"""The filtered audit log as CSV or JSON, streamed: rows go out as the database hands them over.

Nothing here holds more than one batch of rows; a year of a busy company streams in
the memory of a page. Column names are stable English identifiers, for auditors'
tools; the action also comes with its label and the reason (`why`, a coded event with its
parameters) with its words (`why_text`), both in the reader's language. `what` is written as
the JSON text the database holds.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache

from django.db import connection
from django.utils import translation

from portal import events
from portal.models import Company
from portal.spreadsheets import FORMULA_START
from portal.spreadsheets import safe_cell as _safe

from . import queries

COLUMNS = ("seq", "at_utc", "at_local", "who", "who_name", "on_behalf_of", "action", "action_label",
           "invoice_id", "invoice_number", "invoice_alegra_id", "change_request_id", "source", "source_id",
           "why", "why_text", "what", "prev_hash", "hash")
# People's words and names: a spreadsheet would run such a cell if it started like a formula.
FREE_TEXT = frozenset({"who", "who_name", "on_behalf_of", "invoice_number", "invoice_alegra_id", "why", "why_text"})
BATCH = 1000


def teller(language: str | None = None) -> Callable[[str], str]:
    """A reason's words in `language` (the reader's, read when the export starts: the stream runs
    after the view has returned). Reasons repeat, so their words are kept once told."""
    language = language or translation.get_language()

    @lru_cache(maxsize=4096)
    def tell(why: str) -> str:
        with translation.override(language):
            return events.describe(why)

    return tell


def _records(rows: Iterable[tuple], labels: dict[str, str], tell: Callable[[str], str]) -> Iterator[list]:
    """Each row as the values of COLUMNS, in order (the times come as text already)."""
    for (seq, at_utc, at_local, username, first, last, behalf, action, invoice_id, number, alegra_id, request_id,
         source, source_id, why, what, prev_hash, digest) in rows:
        name = f"{first or ''} {last or ''}".strip() or username or ""
        yield [seq, at_utc, at_local, username or "",
               name, behalf, action, labels.get(action, action), invoice_id, number or "", alegra_id or "",
               request_id, source, source_id, why, tell(why or ""), what or "{}", prev_hash, digest]


def streamed(fmt: str, company: Company, filters: queries.Filters, labels: dict[str, str],
             tell: Callable[[str], str]) -> Iterator[str]:
    """The export in `fmt` ("csv" or "json"): on PostgreSQL the database writes the lines."""
    if connection.vendor == "postgresql":
        from . import export_sql  # it builds on this module's columns and header

        return (export_sql.csv_stream if fmt == "csv" else export_sql.json_stream)(company, filters, labels, tell)
    rows = queries.export_rows(company, filters)
    return (csv_stream if fmt == "csv" else json_stream)(rows, labels, tell)


def csv_header() -> str:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # so spreadsheets read the accents as UTF-8
    csv.writer(buffer).writerow(COLUMNS)
    return buffer.getvalue()


def csv_stream(rows: Iterable[tuple], labels: dict[str, str], tell: Callable[[str], str]) -> Iterator[str]:
    guarded = [index for index, name in enumerate(COLUMNS) if name in FREE_TEXT]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(csv_header())
    batch = []
    for record in _records(rows, labels, tell):
        for index in guarded:
            if record[index]:
                record[index] = _safe(record[index])
        batch.append(record)
        if len(batch) >= BATCH:
            writer.writerows(batch)
            batch.clear()
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    writer.writerows(batch)
    yield buffer.getvalue()


def json_stream(rows: Iterable[tuple], labels: dict[str, str], tell: Callable[[str], str]) -> Iterator[str]:
    """A JSON array, one entry per line; `what` spliced in as the JSON it already is."""
    keys = COLUMNS[:-3]  # everything before what, prev_hash, hash
    parts = ["["]
    separator = "\n"
    for record in _records(rows, labels, tell):
        head = json.dumps(dict(zip(keys, record[:-3], strict=True)), ensure_ascii=False)
        parts.append(f'{separator}{head[:-1]}, "what": {record[-3]}, "prev_hash": "{record[-2]}", '
                     f'"hash": "{record[-1]}"}}')
        separator = ",\n"
        if len(parts) >= BATCH:
            yield "".join(parts)
            parts.clear()
    parts.append("\n]\n")
    yield "".join(parts)
