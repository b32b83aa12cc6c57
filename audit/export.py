"""The filtered audit log as CSV or JSON, streamed: rows go out as the database hands them over.

Nothing here holds more than one batch of rows; a year of a busy company streams in
the memory of a page. Column names are stable English identifiers, for auditors'
tools; the action also comes with its label in the reader's language.
"""

from __future__ import annotations

import csv
import io
import json
import zoneinfo
from collections.abc import Iterable, Iterator

from django.core.serializers.json import DjangoJSONEncoder

from .chain import time_text
from .presenters import person_name

COLUMNS = ("seq", "at_utc", "at_local", "who", "who_name", "on_behalf_of", "action", "action_label",
           "invoice_id", "invoice_number", "invoice_alegra_id", "change_request_id", "source", "source_id",
           "why", "what", "prev_hash", "hash")
BATCH = 500
# A spreadsheet runs a cell that starts like a formula; such text is exported with a quote first.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _records(rows: Iterable[tuple], labels: dict[str, str], zone: zoneinfo.ZoneInfo) -> Iterator[dict]:
    for (seq, at, _actor_id, username, first, last, behalf, action, invoice_id, number, alegra_id,
         request_id, source, source_id, why, what, prev_hash, digest) in rows:
        yield {
            "seq": seq, "at_utc": time_text(at), "at_local": at.astimezone(zone).isoformat(),
            "who": username or "", "who_name": person_name(username, first, last) if username else "",
            "on_behalf_of": behalf, "action": action, "action_label": labels.get(action, action),
            "invoice_id": invoice_id, "invoice_number": number or "", "invoice_alegra_id": alegra_id or "",
            "change_request_id": request_id, "source": source, "source_id": source_id, "why": why,
            "what": what, "prev_hash": prev_hash, "hash": digest,
        }


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                          cls=DjangoJSONEncoder)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_stream(rows: Iterable[tuple], labels: dict[str, str], zone: zoneinfo.ZoneInfo) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")  # so spreadsheets read the accents as UTF-8
    writer.writerow(COLUMNS)
    count = 0
    for record in _records(rows, labels, zone):
        writer.writerow([_cell(record[name]) for name in COLUMNS])
        count += 1
        if count % BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_stream(rows: Iterable[tuple], labels: dict[str, str], zone: zoneinfo.ZoneInfo) -> Iterator[str]:
    parts = ["["]
    first = True
    for record in _records(rows, labels, zone):
        parts.append(("\n" if first else ",\n") + json.dumps(record, ensure_ascii=False, cls=DjangoJSONEncoder))
        first = False
        if len(parts) >= BATCH:
            yield "".join(parts)
            parts = []
    parts.append("\n]\n")
    yield "".join(parts)
