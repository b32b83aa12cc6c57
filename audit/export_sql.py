"""The audit export on PostgreSQL: every line written by the database and streamed out with COPY.

The bytes are those of export.csv_stream and export.json_stream for the same rows (the tests
compare the two paths entry by entry): the same cells, quoting, formula guard, JSON escapes and
separators. Python only joins what COPY hands over, a batch at a time, so memory stays that of a
batch however long the log is. The one cell the database cannot write is a coded reason's words
(they come from the messages the apps register, in the reader's language): for those rows the
line comes in two halves and the words are told here, once per distinct reason. A reason
written as plain text is its own words (events.describe strips it), written by the database.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import lru_cache

from django.db import connection, transaction

from portal.models import Company

from . import queries
from .export import BATCH, COLUMNS, FORMULA_START, FREE_TEXT, csv_header

# What Python's str.strip() removes (str.isspace()): the database trims names and reasons alike.
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
              "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
# The inner query's columns, in the order of queries.EXPORT_COLUMNS.
RAW = ("seq", "at_utc", "at_local", "username", "first_name", "last_name", "on_behalf_of", "action",
       "invoice_id", "invoice_number", "invoice_alegra_id", "change_request_id", "source", "source_id",
       "why", "what_text", "prev_hash", "hash")

# Each cell once per row (OFFSET 0 keeps the planner from inlining, and so repeating, them).
# why_text is null where the reason is coded (it starts with "{" once trimmed): told in Python.
_CELLS = """
    SELECT r.seq, r.at_utc, r.at_local, COALESCE(r.username, '') AS who,
           COALESCE(NULLIF(btrim(COALESCE(r.first_name, '') || ' ' || COALESCE(r.last_name, ''), k.ws), ''),
                    r.username, '') AS who_name,
           r.on_behalf_of AS behalf, r.action, COALESCE(k.labels ->> r.action, r.action) AS action_label,
           r.invoice_id, COALESCE(r.invoice_number, '') AS number, COALESCE(r.invoice_alegra_id, '') AS alegra_id,
           r.change_request_id, r.source, r.source_id, r.why,
           CASE WHEN left(btrim(r.why, k.ws), 1) <> '{' THEN btrim(r.why, k.ws) END AS why_text,
           COALESCE(r.what_text, '{}') AS what, r.prev_hash, r.hash
    FROM ({inner}) AS r ({raw}) CROSS JOIN (SELECT %s::text, %s::jsonb) AS k (ws, labels)
    ORDER BY r.seq OFFSET 0"""


def _guarded(cell: str) -> str:
    """export._safe in SQL: a cell that a spreadsheet would run gets a leading apostrophe."""
    return f"CASE WHEN left({cell}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r') THEN '''' || {cell} ELSE {cell} END"


def _quoted(cell: str) -> str:
    """Python's csv (QUOTE_MINIMAL, excel dialect): quoted when it holds a comma, a quote, CR or LF."""
    return (f"CASE WHEN {cell} ~ E'[\",\\r\\n]' THEN '\"' || replace({cell}, '\"', '\"\"') || '\"' "
            f"ELSE {cell} END")


def _number(cell: str, empty: str) -> str:
    return f"COALESCE(v.{cell}::text, '{empty}')"


def _csv_line() -> tuple[str, str, str]:
    """(before the reason's words, the words, after them), each a SQL expression over `v`."""
    cells = []
    for name in COLUMNS[:15]:
        if name in ("seq", "invoice_id", "change_request_id", "source_id"):
            cells.append(_number(name, ""))
        elif name in ("at_utc", "at_local"):
            cells.append(f"v.{name}")
        else:
            column = {"on_behalf_of": "behalf", "invoice_number": "number", "invoice_alegra_id": "alegra_id"}
            cell = f"v.{column.get(name, name)}"
            cells.append(_quoted(_guarded(cell) if name in FREE_TEXT else cell))
    before = " || ',' || ".join(cells) + " || ','"
    words = _quoted(_guarded("v.why_text"))
    after = f"',' || {_quoted('v.what')} || ',' || {_quoted('v.prev_hash')} || ',' || {_quoted('v.hash')} || E'\\r\\n'"
    return before, words, after


def _json_line() -> tuple[str, str, str]:
    pieces = []
    for name in COLUMNS[:15]:
        column = {"on_behalf_of": "behalf", "invoice_number": "number", "invoice_alegra_id": "alegra_id"}
        if name in ("seq", "invoice_id", "change_request_id", "source_id"):
            value = _number(name, "null")
        elif name in ("at_utc", "at_local"):
            value = f"to_json(v.{name})::text"
        else:
            value = f"to_json(v.{column.get(name, name)})::text"
        pieces.append(f"'{', ' if pieces else ''}\"{name}\": ' || {value}")
    before = "E',\\n{' || " + " || ".join(pieces) + " || ', \"why_text\": '"
    words = "to_json(v.why_text)::text"
    after = "', \"what\": ' || v.what || ', \"prev_hash\": \"' || v.prev_hash || '\", \"hash\": \"' || v.hash || '\"}'"
    return before, words, after


def _statement(company: Company, filters: queries.Filters, labels: dict[str, str],
               line: tuple[str, str, str]) -> tuple[str, list]:
    inner, params = queries.export_values(company, filters).query.sql_with_params()
    before, words, after = line
    cells = _CELLS.replace("{inner}", inner).replace("{raw}", ", ".join(RAW))
    select = (f"SELECT {before}, {words}, CASE WHEN v.why_text IS NULL THEN v.why END, {after} "
              f"FROM ({cells}) AS v ORDER BY v.seq")
    return (f"COPY ({select}) TO STDOUT (FORMAT BINARY)",
            [*params, WHITESPACE, json.dumps(labels, ensure_ascii=False)])


def _lines(statement: str, params: list, told: Callable[[str], str]) -> Iterator[str]:
    """The lines COPY writes, joined a batch at a time; a coded reason's words told by `told`."""
    parts: list[str] = []
    # In a block of its own: a reader who goes away cancels the COPY, and that error must not
    # spoil a transaction the connection may be in (it rolls back to here).
    with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(statement, params) as copy:
        copy.set_types(["text", "text", "text", "text"])
        for before, words, why, after in copy.rows():
            parts += (before, told(why) if words is None else words, after)
            if len(parts) >= 3 * BATCH:
                yield "".join(parts)
                parts.clear()
    yield "".join(parts)


def csv_stream(company: Company, filters: queries.Filters, labels: dict[str, str],
               tell: Callable[[str], str]) -> Iterator[str]:
    statement, params = _statement(company, filters, labels, _csv_line())

    @lru_cache(maxsize=4096)
    def told(why: str) -> str:
        words = tell(why)
        words = "'" + words if words.startswith(FORMULA_START) else words
        return '"' + words.replace('"', '""') + '"' if any(char in words for char in ',"\r\n') else words

    yield csv_header()
    yield from _lines(statement, params, told)


def json_stream(company: Company, filters: queries.Filters, labels: dict[str, str],
                tell: Callable[[str], str]) -> Iterator[str]:
    statement, params = _statement(company, filters, labels, _json_line())

    @lru_cache(maxsize=4096)
    def told(why: str) -> str:
        return json.dumps(tell(why), ensure_ascii=False)

    first = True
    for chunk in _lines(statement, params, told):
        if first and chunk:
            chunk, first = "[\n" + chunk[2:], False  # the first line has no comma before it
        yield chunk
    yield "[\n]\n" if first else "\n]\n"
