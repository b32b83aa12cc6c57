"""Read-side queries for the invoice pages: filtered, keyset-paginated, constant query count."""

import base64
import datetime
import json
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from portal.middleware import UNSTORABLE
from portal.models import Company

from .models import Invoice, SyncRun

PAGE_SIZE = 50
SORT_FIELDS = {"date": "date", "number": "number_sort", "total": "total"}
OWING = Q(status="open", balance__gt=0)


FILTERS = ("q", "status", "client", "date_from", "date_to", "due", "stamped", "balance")


@dataclass
class InvoicePage:
    rows: list[Invoice]
    next_cursor: str | None
    count: int
    sum_total: Decimal
    sum_balance: Decimal
    # Where the page stands: rows `first` to `last` (from 1) of `count`; the page before it starts
    # after `previous_cursor`, or at the first page when there is one and that cursor is None.
    first: int = 1
    has_previous: bool = False
    previous_cursor: str | None = None
    filtered: bool = False

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0


def filtered(company: Company, data: dict) -> QuerySet[Invoice]:
    qs = Invoice.objects.filter(company=company, is_deleted=False)
    if q := (data.get("q") or "").strip():
        qs = qs.filter(Q(number__icontains=q) | Q(client_name__icontains=q) | Q(client_identification=q))
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


def _after(column: str, descending: bool, value, pk: int) -> Q:
    """Rows that come after (value, pk) in the list's order."""
    op = "lt" if descending else "gt"
    return Q(**{f"{column}__{op}": value}) | Q(**{column: value, f"id__{op}": pk})


def _previous_cursor(qs: QuerySet[Invoice], column: str, descending: bool, first: Invoice,
                     page_size: int) -> str | None:
    """The cursor of the page before the one starting at `first`; None when that is the first page.

    Read backwards from `first`: the row just before the previous page's rows is its cursor."""
    value = getattr(first, column)
    op = "gt" if descending else "lt"
    before = qs.filter(Q(**{f"{column}__{op}": value}) | Q(**{column: value, f"id__{op}": first.pk}))
    order = [column, "id"] if descending else [f"-{column}", "-id"]
    found = list(before.order_by(*order).values_list(column, "id")[page_size:page_size + 1])
    return encode_cursor(*found[0]) if found else None


def invoice_page(company: Company, data: dict, page_size: int = PAGE_SIZE, *, locate: bool = False) -> InvoicePage:
    """A page of the list; `locate` also says where it stands and how to go back (the list page does)."""
    qs = filtered(company, data)
    sort = data.get("sort") or "-date"
    descending = sort.startswith("-")
    key = sort.lstrip("-") if sort.lstrip("-") in SORT_FIELDS else "date"
    column = SORT_FIELDS[key]
    decoded = decode_cursor(data["after"], key) if data.get("after") else None
    after = _after(column, descending, *decoded) if decoded else None
    # COUNT(*) and the amounts only: on PostgreSQL the partial covering index `invoice_summary`
    # answers them alone (an index-only scan), without reading the rows and their documents.
    # Past the first page the same query counts the rows after the cursor: where the page stands.
    # (Named apart from the columns: the cursor's filter names them.)
    figures = {"n": Count("*"), "sum_total": Sum("total"), "sum_balance": Sum("balance", filter=OWING)}
    if after is not None and locate:
        figures["n_after"] = Count("id", filter=after)
    summary = qs.aggregate(**figures)
    rows_qs = qs.filter(after) if after is not None else qs
    order = [f"-{column}", "-id"] if descending else [column, "id"]
    rows = list(
        rows_qs.order_by(*order).only(
            "id", "company_id", "alegra_id", "number", "number_sort", "client_name", "client_alegra_id",
            "date", "due_date", "status", "total", "balance", "is_stamped", "legal_status",
            "decimal_precision", "currency",
        )[: page_size + 1]
    )
    next_cursor = None
    if len(rows) > page_size:
        rows = rows[:page_size]
        last = rows[-1]
        next_cursor = encode_cursor(getattr(last, column), last.pk)
    count = summary["n"] or 0
    first = count - (summary["n_after"] or 0) + 1 if "n_after" in summary else 1
    has_previous = first > 1 and bool(rows)
    return InvoicePage(rows, next_cursor, count, summary["sum_total"] or Decimal(0), summary["sum_balance"] or Decimal(0),
                       first=first, has_previous=has_previous,
                       previous_cursor=_previous_cursor(qs, column, descending, rows[0], page_size)
                       if has_previous else None,
                       filtered=any(data.get(name) for name in FILTERS))


def last_sync(company: Company) -> SyncRun | None:
    return (SyncRun.objects.filter(company=company, state=SyncRun.State.SUCCEEDED)
            .order_by("-finished_at").first())
