"""The audit export on PostgreSQL: every line written by the database.

The bytes are those of export.csv_stream and export.json_stream for the same rows (the tests
compare the two writers entry by entry): the same cells, quoting, formula guard, JSON escapes and
separators. Python only joins what the database hands over, a batch at a time: memory stays
that of a batch however long the log is. (The csv module, in C, quotes a row of this export in
some 14 µs on Python 3.11, a character at a time; the database's quoting costs a fraction.) The one cell the database cannot write is a coded reason's words (they come
from the messages the apps register, in the reader's language): those are told here, once per
distinct reason. A reason written as plain text is its own words (events.describe strips it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from functools import lru_cache

from django.db import connection, transaction

from portal.models import Company

from . import queries
from portal.spreadsheets import safe_cell

from .export import BATCH, COLUMNS, FORMULA_START, FREE_TEXT, csv_header

# What Python's str.strip() removes (str.isspace()): the database trims names and reasons alike.
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
              "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
# The inner query's columns, in the order of queries.EXPORT_COLUMNS.
RAW = ("seq", "at_utc", "at_local", "username", "first_name", "last_name", "on_behalf_of", "action",
       "invoice_id", "invoice_number", "invoice_alegra_id", "change_request_id", "source", "source_id",
       "why", "what_text", "prev_hash", "hash")

# Each cell once per row where a line reads cells more than once (CSV: OFFSET 0 keeps the planner
# from inlining, and so repeating, them); JSON reads each once and is quicker inlined.
# why_text is null where the reason is coded (it starts with "{" once trimmed): told in Python.
_CELLS = """
    SELECT r.seq, r.at_utc, r.at_local, COALESCE(r.username, '') AS who,
           COALESCE(NULLIF(btrim(COALESCE(r.first_name, '') || ' ' || COALESCE(r.last_name, ''), k.ws), ''),
                    r.username, '') AS who_name,
           r.on_behalf_of AS behalf, r.action, COALESCE(k.labels ->> r.action, r.action) AS action_label,
           r.invoice_id, COALESCE(r.invoice_number, '') AS number, COALESCE(r.invoice_alegra_id, '') AS alegra_id,
           r.change_request_id, r.source, r.source_id, r.why,
           CASE WHEN left(r.why, 1) = '{' THEN NULL
                WHEN strpos(k.ws, left(r.why, 1)) = 0 AND strpos(k.ws, right(r.why, 1)) = 0 THEN r.why
                WHEN left(btrim(r.why, k.ws), 1) <> '{' THEN btrim(r.why, k.ws) END AS why_text,
           COALESCE(r.what_text, '{}') AS what, r.prev_hash, r.hash
    FROM ({inner}) AS r ({raw}) CROSS JOIN (SELECT %s::text, %s::jsonb) AS k (ws, labels)
    ORDER BY r.seq{barrier}"""
# The cells of COLUMNS by their name in the query above, where it differs.
_CELL = {"on_behalf_of": "behalf", "invoice_number": "number", "invoice_alegra_id": "alegra_id"}
_NUMBERS = ("seq", "invoice_id", "change_request_id", "source_id")


def _guarded(cell: str) -> str:
    """export._safe in SQL: a cell that a spreadsheet would run gets a leading apostrophe."""
    return f"CASE WHEN left({cell}, 1) IN ('=', '+', '-', '@', E'\\t', E'\\r') THEN '''' || {cell} ELSE {cell} END"


def _quoted(cell: str) -> str:
    """Python's csv module (QUOTE_MINIMAL): quoted, quotes doubled, when it holds a comma, a quote, CR or LF."""
    return f"CASE WHEN {cell} ~ {_CSV_SPECIAL} THEN {_always_quoted(cell)} ELSE {cell} END"


def _always_quoted(cell: str) -> str:
    return f"'\"' || replace({cell}, '\"', '\"\"') || '\"'"


_CSV_SPECIAL = "E'[\",\\r\\n]'"
# ... or a cell the formula guard would change: each word below follows a \x1f (see _all_words).
_CSV_CAREFUL = "E'[\",\\r\\n]|\\x1f[-=+@\\t\\r]'"
# What json.dumps escapes (ensure_ascii off): quotes, backslashes and control characters.
_JSON_SPECIAL = "E'[\\x01-\\x1f\"\\\\\\\\]'"
# The words of the row (not the reason's words, not `what`): a row is checked once, all these
# cells together, for characters a writer must take care of; most rows have none, and are
# written as they are.
_WORDS = ("who", "who_name", "on_behalf_of", "action", "action_label", "invoice_number", "invoice_alegra_id",
          "source", "why")
_COMMA = " || ',' || "
_UNIT = "E'\\x1f' || "


def _all_words(mark: str = "") -> str:
    """The row's words, each after `mark` (CSV: \x1f, a character a cell seldom holds; one that
    does is only written the careful way, which is right for any row)."""
    return " || ".join(f"{mark}v.{_CELL.get(name, name)}" for name in _WORDS)


def _csv_line() -> str:
    """The CSV line as the csv module writes it, in three parts (see _json_line)."""
    plain, careful = [], []
    for name in COLUMNS:
        cell = f"v.{_CELL.get(name, name)}"
        if name in _NUMBERS:
            cell = f"COALESCE({cell}::text, '')"
        elif name == "what":
            # JSON text: its line ends are escaped, its quotes and commas are not.
            cell = f"CASE WHEN strpos({cell}, '\"') > 0 OR strpos({cell}, ',') > 0 THEN {_always_quoted(cell)} ELSE {cell} END"
        plain.append(cell)
        careful.append(_quoted(_guarded(cell) if name in FREE_TEXT else cell) if name in _WORDS else cell)
    at = COLUMNS.index("why_text")
    before = (f"CASE WHEN {_all_words(mark=_UNIT)} ~ {_CSV_CAREFUL} THEN {_COMMA.join(careful[:at])} "
              f"ELSE {_COMMA.join(plain[:at])} END || ','")
    after = "',' || " + _COMMA.join(plain[at + 1:]) + " || E'\\r\\n'"
    # Hashes are hexadecimal (the chain writes them): nothing to quote, as export.json_stream assumes.
    return f"{before}, {_quoted(_guarded(plain[at]))}, {after}"


def _json_line() -> str:
    """The JSON entry as json.dumps writes it, in three parts: before the reason's words, the
    words (null where Python tells them), after them. Each line starts with ",\\n"."""
    plain, careful = [], []
    for name in COLUMNS[:COLUMNS.index("why_text")]:
        cell = f"v.{_CELL.get(name, name)}"
        key = f"'{', ' if plain else ''}\"{name}\": ' || "
        if name in _NUMBERS:
            plain.append(key + f"COALESCE({cell}::text, 'null')")
            careful.append(plain[-1])
        else:
            plain.append(key + f"'\"' || {cell} || '\"'")
            careful.append(key + f"to_json({cell})::text")
    before = (f"E',\\n{{' || CASE WHEN {_all_words()} ~ {_JSON_SPECIAL} THEN {' || '.join(careful)} "
              f"ELSE {' || '.join(plain)} END || ', \"why_text\": '")
    after = "', \"what\": ' || v.what || ', \"prev_hash\": \"' || v.prev_hash || '\", \"hash\": \"' || v.hash || '\"}'"
    return f"{before}, to_json(v.why_text)::text, {after}"


def _statement(company: Company, filters: queries.Filters, labels: dict[str, str], columns: str, *,
               once: bool) -> tuple[str, list]:
    """The SELECT of `columns` and, last, the reason where Python tells it; in chain order."""
    inner, params = queries.export_values(company, filters, zone_of_session=True).query.sql_with_params()
    cells = (_CELLS.replace("{inner}", inner).replace("{raw}", ", ".join(RAW))
             .replace("{barrier}", " OFFSET 0" if once else ""))
    return (f"SELECT {columns}, CASE WHEN v.why_text IS NULL THEN v.why END FROM ({cells}) AS v ORDER BY v.seq",
            [*params, WHITESPACE, json.dumps(labels, ensure_ascii=False)])


def _batches(statement: str, params: list, zone: str) -> Iterator[list[tuple]]:
    """The rows of `statement` a batch at a time, from a cursor on the server.

    A cursor rather than COPY: psycopg reads a COPY one row per message, a round of Python
    each, where a cursor's batch is parsed in C (a third of the CPU for the same rows).
    """
    # In a block of its own: a reader who goes away ends the stream, and that must not spoil a
    # transaction the connection may be in (it rolls back to here, the session's zone with it).
    with transaction.atomic():
        with connection.cursor() as cursor:
            # The local times are written in the session's zone: the company's, in this block only.
            cursor.execute("SELECT current_setting('TimeZone'), set_config('TimeZone', %s, true)", [zone])
            previous = cursor.fetchone()[0]
        rows = connection.chunked_cursor()
        try:
            rows.execute(statement, params)
            while batch := rows.fetchmany(BATCH * 2):
                yield batch
        finally:
            rows.close()
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('TimeZone', %s, true)", [previous])


def csv_stream(company: Company, filters: queries.Filters, labels: dict[str, str],
               tell: Callable[[str], str]) -> Iterator[str]:
    statement, params = _statement(company, filters, labels, _csv_line(), once=True)

    @lru_cache(maxsize=4096)
    def told(why: str) -> str:
        words = tell(why)
        words = safe_cell(words)
        return '"' + words.replace('"', '""') + '"' if any(char in words for char in ',"\r\n') else words

    yield csv_header()
    for batch in _batches(statement, params, queries.company_zone(company).key):
        parts = []
        for before, words, after, why in batch:
            parts += (before, told(why) if words is None else words, after)
        yield "".join(parts)


def json_stream(company: Company, filters: queries.Filters, labels: dict[str, str],
                tell: Callable[[str], str]) -> Iterator[str]:
    statement, params = _statement(company, filters, labels, _json_line(), once=False)

    @lru_cache(maxsize=4096)
    def told(why: str) -> str:
        return json.dumps(tell(why), ensure_ascii=False)

    first = True
    for batch in _batches(statement, params, queries.company_zone(company).key):
        parts = ["["] if first else []
        for before, words, after, why in batch:
            parts += (before, told(why) if words is None else words, after)
        if first:
            parts[1], first = parts[1][1:], False  # the first entry has no comma before it
        yield "".join(parts)
    yield "[\n]\n" if first else "\n]\n"
