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


@dataclass
class InvoicePage:
    rows: list[Invoice]
    next_cursor: str | None
    count: int
    sum_total: Decimal
    sum_balance: Decimal


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


def invoice_page(company: Company, data: dict, page_size: int = PAGE_SIZE) -> InvoicePage:
    qs = filtered(company, data)
    # COUNT(*) and the amounts only: on PostgreSQL the partial covering index `invoice_summary`
    # answers them alone (an index-only scan), without reading the rows and their documents.
    summary = qs.aggregate(n=Count("*"), total=Sum("total"), balance=Sum("balance", filter=OWING))
    sort = data.get("sort") or "-date"
    descending = sort.startswith("-")
    key = sort.lstrip("-") if sort.lstrip("-") in SORT_FIELDS else "date"
    column = SORT_FIELDS[key]
    rows_qs = qs
    if data.get("after"):
        decoded = decode_cursor(data["after"], key)
        if decoded:
            value, pk = decoded
            op = "lt" if descending else "gt"
            rows_qs = rows_qs.filter(Q(**{f"{column}__{op}": value}) | Q(**{column: value, f"id__{op}": pk}))
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
    return InvoicePage(rows, next_cursor, summary["n"] or 0, summary["total"] or Decimal(0),
                       summary["balance"] or Decimal(0))


def last_sync(company: Company) -> SyncRun | None:
    return (SyncRun.objects.filter(company=company, state=SyncRun.State.SUCCEEDED)
            .order_by("-finished_at").first())
