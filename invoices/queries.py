"""Read-side queries for the invoice pages: filtered, keyset-paginated, constant query count."""

import base64
import datetime
import json
import math
from dataclasses import dataclass
from decimal import Decimal

import psycopg
from django.db import connection
from django.db.models import (
    BigIntegerField, BooleanField, Count, ExpressionWrapper, F, Func, OrderBy, Q, QuerySet, Sum, Value,
)
from django.db.models.functions import Cast, Upper
from django.utils import timezone

from portal.middleware import UNSTORABLE
from portal.models import Company

from .models import Invoice, SyncRun

PAGE_SIZE = 50
LIST_COLUMNS = ("id", "company_id", "alegra_id", "number", "number_sort", "client_name", "client_alegra_id",
                "date", "due_date", "status", "total", "balance", "is_stamped", "legal_status",
                "decimal_precision", "currency")
# A search the planner expects in more than GATHER_UP_TO invoices walks the list's order, up to
# WALK_SLACK times as far as its frequency says a page takes and never beyond WALK_MAX invoices
# (about 1 ms of reading a thousand); others, and a walk that came up short, gather and sort.
GATHER_UP_TO, WALK_SLACK, WALK_MAX = 2_000, 8, 20_000
SORT_FIELDS = {"date": "date", "number": "number_sort", "total": "total"}
OWING = Q(status="open", balance__gt=0)
# The trigram indexes are keyed by company (0010) so that a search reads only its company's
# matches. Finding the company's entry in them costs about half a millisecond whatever the
# fragment when the company holds most of the table (the entry lists nearly every invoice), so a
# search gathers through the key only when the other companies' matches it would read from the
# table and drop are expected to be more than KEY_PAYS_FROM.
KEY_PAYS_FROM = 200
# Characters a search needs for the trigram indexes of the number and the client's name; a shorter
# one reads the invoices' upper-cased search text from the narrow index on the list's order.
TRIGRAM = 3


FILTERS = ("q", "status", "client", "date_from", "date_to", "due", "stamped", "balance")


@dataclass
class InvoicePage:
    rows: list[Invoice]
    next_cursor: str | None
    count: int | None = None  # of the whole filtered set, when asked for (the API's answer)
    # Whether rows come before this page, and where the page before it starts: after
    # `previous_cursor`, or at the first page when that cursor is None.
    has_previous: bool = False
    previous_cursor: str | None = None


def filtered(company: Company, data: dict) -> QuerySet[Invoice]:
    qs = _narrowed(company, data)
    match = _match(data)
    return qs.filter(match) if match is not None else qs


def _match(data: dict) -> Q | None:
    """The search's condition, or None without one."""
    if not (q := (data.get("q") or "").strip()):
        return None
    if _short_search(data):
        # Upper-cased by the database, as it upper-cases the search text.
        return Q(search_text__contains=Upper(Value(q)))
    return Q(number__icontains=q) | Q(client_name__icontains=q) | Q(client_identification=q)


def _narrowed(company: Company, data: dict, *, keyed: bool = True) -> QuerySet[Invoice]:
    """The company's invoices under every filter but the search. `keyed`: the trigram indexes
    may look the company up (KEY_PAYS_FROM)."""
    # Keyed, the id is typed as the column is (bigint): a plain literal is an integer, and the
    # trigram indexes' company column (btree_gin, 0010) answers only the column's own type; the
    # B-trees answer both.
    company_id = Cast(Value(company.pk), BigIntegerField()) if keyed else company.pk
    qs = Invoice.objects.filter(company_id=company_id, is_deleted=False)
    if data.get("status"):
        qs = qs.filter(status=data["status"])
    if data.get("client"):
        qs = qs.filter(client_alegra_id=data["client"])
    if data.get("date_from"):
        qs = qs.filter(date__gte=data["date_from"])
    if data.get("date_to"):
        qs = qs.filter(date__lte=data["date_to"])
    today = timezone.localdate()
    # Only an open invoice owes money: a void or draft one keeps a balance figure but is not due.
    if data.get("due") == "overdue":
        qs = qs.filter(OWING, due_date__lt=today)
    elif data.get("due") == "week":
        qs = qs.filter(OWING, due_date__gte=today, due_date__lte=today + datetime.timedelta(days=7))
    if data.get("stamped") in ("yes", "no"):
        qs = qs.filter(is_stamped=data["stamped"] == "yes")
    if data.get("balance") == "yes":
        qs = qs.filter(OWING)
    elif data.get("balance") == "no":
        qs = qs.exclude(OWING)
    return qs


def encode_cursor(value, pk: int) -> str:
    raw = json.dumps([str(value), pk]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, field: str):
    """(value, pk) or None for a cursor that is not ours; a bad cursor means the first page."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        pk = int(pk)
        if field == "date":
            value = datetime.date.fromisoformat(value)
        elif field == "total":
            value = Decimal(value)
            if not value.is_finite():
                return None
        elif not isinstance(value, str) or UNSTORABLE.search(value):
            return None  # a forged cursor: a NUL would be a database error on PostgreSQL
        return value, pk
    except (ValueError, TypeError, ArithmeticError, json.JSONDecodeError):
        return None


class Unindexed(Func):
    """The value itself, in a form no index is ordered by: the planner must sort the matches.
    (PostgreSQL; SQLite, the embedded default, plans the plain column well enough.)"""

    template = "%(expressions)s"

    def as_postgresql(self, compiler, connection, **extra):
        kind = self.source_expressions[0].output_field.get_internal_type()
        return self.as_sql(compiler, connection, template="(%(expressions)s || '')" if kind == "CharField"
                           else "(%(expressions)s + 0)", **extra)


def _short_search(data: dict) -> bool:
    return 0 < len((data.get("q") or "").strip()) < TRIGRAM


def _after(column: str, descending: bool, value, pk: int) -> Q:
    """Rows that come after (value, pk) in the list's order.

    The plain bound on the column comes first: the planner starts the index scan at it. With the
    disjunction alone it read the list's order from its start and dropped every row up to the
    cursor (a later page of "FE1" by number, high to low: 80,000 rows, 36 ms at 100,000 invoices)."""
    op = "lt" if descending else "gt"
    return Q(**{f"{column}__{op}e": value}) & (Q(**{f"{column}__{op}": value}) | Q(**{column: value, f"id__{op}": pk}))


def _previous(company: Company, match: Q | None, data: dict, column: str, descending: bool,
              first: Invoice, page_size: int) -> tuple[bool, str | None]:
    """Whether any row comes before `first`, and the cursor of the page before the one starting
    at it (None when that page is the first).

    Read backwards from `first` as a page is read, a search's matches through `_searched`: testing
    every row back to the list's start read the whole span of the pages before when their matches
    lay far apart (the second page of "FE1" by number, high to low: 100,000 rows, 94 ms at 100,000
    invoices). The row just before the previous page's rows is its cursor."""
    before = _after(column, not descending, getattr(first, column), first.pk)
    if match is None:
        order = [column, "id"] if descending else [f"-{column}", "-id"]
        found = list(_narrowed(company, data).filter(before).order_by(*order).values_list(column, "id")[:page_size + 1])
    else:
        found = [(getattr(row, column), row.pk)
                 for row in _searched(company, before, match, data, column, not descending, page_size + 1)]
    return bool(found), encode_cursor(*found[page_size]) if len(found) > page_size else None


def _rows(company: Company, bound: Q | None, match: Q | None, data: dict, column: str, descending: bool,
          limit: int) -> list[Invoice]:
    """The first `limit` rows within `bound` in the given order, with the search's matches only
    when there is one."""
    if match is None:
        order = [f"-{column}", "-id"] if descending else [column, "id"]
        return list(_bounded(_narrowed(company, data), bound).order_by(*order).only(*LIST_COLUMNS)[:limit])
    return _searched(company, bound, match, data, column, descending, limit)


def _bounded(qs: QuerySet[Invoice], bound: Q | None) -> QuerySet[Invoice]:
    return qs.filter(bound) if bound is not None else qs


def _order(data: dict) -> tuple[str, str, bool]:
    sort = data.get("sort") or "-date"
    key = sort.lstrip("-") if sort.lstrip("-") in SORT_FIELDS else "date"
    return key, SORT_FIELDS[key], sort.startswith("-")


def cursor_readable(data: dict) -> bool:
    """Whether the page's cursor (if any) is one the list gave out for its order. The list page
    takes a cursor it cannot read for the first page; the API says so instead."""
    return not data.get("after") or decode_cursor(data["after"], _order(data)[0]) is not None


def _cursor(data: dict, key: str, column: str, descending: bool) -> Q | None:
    decoded = decode_cursor(data["after"], key) if data.get("after") else None
    return _after(column, descending, *decoded) if decoded else None


def _searched(company: Company, bound: Q | None, match: Q, data: dict, column: str, descending: bool,
              limit: int) -> list[Invoice]:
    """The first `limit` matches of a search in the list's order, at a cost bounded whatever
    the fragment.

    Walking the list's order and testing each invoice is fastest when matches are common and
    spread out, and it is what the planner picks for a common fragment; but it reads the whole
    company when the matches all lie at the far end of that order ("FE1" by number, high to
    low: 65 ms at 100,000 invoices; numbers follow dates, so newest first alike). So a common
    fragment walks only as far as its frequency says a page should take, with room to spare;
    a rare one, or a walk that came up short, gathers every match through the search indexes
    and sorts them, which costs what the list's count and totals cost."""
    order = [f"-{column}", "-id"] if descending else [column, "id"]
    narrowed = _bounded(_narrowed(company, data, keyed=False), bound)
    found = narrowed.filter(match)
    if connection.vendor == "postgresql":
        (matches, invoices), table = _estimates(found, narrowed)
        if matches > GATHER_UP_TO:
            length = math.ceil(WALK_SLACK * limit * invoices / matches)
            rows = _walk(narrowed, match, order, min(length, WALK_MAX), limit)
            if len(rows) == limit:
                return rows
        # Other companies' matches: as frequent among the rest of the table as among these.
        if table < 0 or matches * (table - invoices) / max(invoices, 1) > KEY_PAYS_FROM:
            found = _bounded(_narrowed(company, data), bound).filter(match)
        # An order no index serves: the planner gathers the matches first, then sorts them.
        order = [OrderBy(Unindexed(F(column)), descending=descending), order[1]]
    if _short_search(data):
        # The page's ids first, read from the narrow index alone (0009), then only their rows:
        # fetching each row to test it would read the whole company when few match.
        found = Invoice.objects.filter(pk__in=found.order_by(*order).values("pk")[:limit])
    return list(found.order_by(*order).only(*LIST_COLUMNS)[:limit])


def _estimates(*querysets: QuerySet[Invoice]) -> tuple[list[float], float]:
    """How many rows the planner expects each queryset to find, and how many invoices it counts
    in the whole table, every company's (PostgreSQL; -1 before the table was ever analyzed): one
    plan of them all, nothing executed, and the table's count in the same round trip."""
    sql, params = querysets[0].values("pk").union(*(qs.values("pk") for qs in querysets[1:]), all=True) \
        .query.sql_with_params()
    count = "SELECT reltuples FROM pg_class WHERE oid = %s::regclass"
    with connection.cursor() as cursor:
        if isinstance(cursor.cursor, psycopg.ClientCursor):
            # Parameters bound here (Django's default): two statements, one round trip.
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}; {count}", [*params, Invoice._meta.db_table])
            plan = cursor.fetchone()[0]
            cursor.nextset()
        else:  # bound by the server (OPTIONS server_side_binding), which takes one statement at a time
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
            cursor.execute(count, [Invoice._meta.db_table])
        table = cursor.fetchone()[0]
    append = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    return [branch["Plan Rows"] for branch in append["Plans"]], table


def _walk(narrowed: QuerySet[Invoice], match: Q, order: list[str], length: int, limit: int) -> list[Invoice]:
    """The matches among the first `length` invoices in the list's order, `limit` at most: the
    walk stops as soon as it has them."""
    walk = (narrowed.annotate(hit=ExpressionWrapper(match, output_field=BooleanField()))
            .order_by(*order).values(*LIST_COLUMNS, "hit")[:length])
    sql, params = walk.query.sql_with_params()
    # The walk's rows come out in its order; the outer query keeps the hits.
    return list(Invoice.objects.raw(f"SELECT * FROM ({sql}) walk WHERE walk.hit LIMIT %s", [*params, limit]))


def invoice_page(company: Company, data: dict, page_size: int = PAGE_SIZE, *, counted: bool = True,
                 locate: bool = False) -> InvoicePage:
    """A page of the list. `counted`: with the count of the whole filtered set (the API's answer
    carries it); the list page loads its count and totals in a request of their own
    (`invoice_summary`), so its rows never wait for an aggregate over the company. `locate`:
    also how to go back (the list page does)."""
    key, column, descending = _order(data)
    after = _cursor(data, key, column, descending)
    match = _match(data)
    rows = _rows(company, after, match, data, column, descending, page_size + 1)
    next_cursor = None
    if len(rows) > page_size:
        rows = rows[:page_size]
        last = rows[-1]
        next_cursor = encode_cursor(getattr(last, column), last.pk)
    has_previous, previous_cursor = False, None
    if locate and after is not None and rows:
        has_previous, previous_cursor = _previous(company, match, data, column, descending, rows[0], page_size)
    # The whole filtered set, only when asked.
    count = filtered(company, data).count() if counted else None
    return InvoicePage(rows, next_cursor, count, has_previous, previous_cursor)


@dataclass
class InvoiceSummary:
    """How many invoices match the filters, what they add up to, and where a page stands among them."""

    count: int
    sum_total: Decimal
    sum_balance: Decimal
    first: int  # the page's first row, from 1
    last: int  # its last row; 0 when it has none
    filtered: bool


def invoice_summary(company: Company, data: dict, page_size: int = PAGE_SIZE) -> InvoiceSummary:
    """One aggregate: COUNT(*) and the amounts and, past the first page, the rows from the
    cursor on. On PostgreSQL the partial covering index `invoice_summary` answers it alone (an
    index-only scan), without reading the rows and their documents."""
    qs = filtered(company, data)
    key, column, descending = _order(data)
    after = _cursor(data, key, column, descending)
    # (Named apart from the columns: the cursor's filter names them.)
    figures = {"n": Count("*"), "sum_total": Sum("total"), "sum_balance": Sum("balance", filter=OWING)}
    if after is not None:
        figures["n_after"] = Count("id", filter=after)
    found = qs.aggregate(**figures)
    count = found["n"] or 0
    remaining = found["n_after"] or 0 if after is not None else count
    first = count - remaining + 1
    return InvoiceSummary(count, found["sum_total"] or Decimal(0), found["sum_balance"] or Decimal(0), first,
                          first + min(page_size, remaining) - 1 if remaining else 0,
                          any(data.get(name) for name in FILTERS))


def last_synced_at(company_id: int) -> datetime.datetime | None:
    """When the company's last successful sync ended (the list's heading, the home panel and the
    month-end review read only that).

    One plain statement: every list page asks, and composing it through the ORM took twice what
    the database takes to answer. The moment comes back as the ORM gives it: aware, in UTC.
    """
    table = connection.ops.quote_name(SyncRun._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT finished_at FROM {table} WHERE company_id = %s AND state = %s "
                       "ORDER BY finished_at DESC, id DESC LIMIT 1", [int(company_id), SyncRun.State.SUCCEEDED.value])
        row = cursor.fetchone()
    moment = row[0] if row else None
    if moment is not None and timezone.is_naive(moment):  # SQLite keeps the moment without its offset
        moment = timezone.make_aware(moment, connection.timezone)
    return moment
