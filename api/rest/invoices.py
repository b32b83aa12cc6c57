"""Invoices: the list (filtered like the page, keyset-paginated), one invoice, its versions."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Literal

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from invoices import queries
from invoices.models import Invoice
from portal import events

from ..models import Scope
from .core import Problem, caller, page_size

router = Router(tags=["invoices"])


class InvoiceOut(Schema):
    id: int
    alegra_id: str
    number: str
    client_name: str
    client_alegra_id: str
    date: datetime.date | None
    due_date: datetime.date | None
    status: str
    total: Decimal
    balance: Decimal
    currency: str
    is_stamped: bool


class InvoicePageOut(Schema):
    items: list[InvoiceOut]
    next_cursor: str | None
    count: int


class InvoiceDetailOut(InvoiceOut):
    content_hash: str
    document: dict


class VersionOut(Schema):
    history_id: int
    at: datetime.datetime
    type: str
    why: str
    why_code: str
    content_hash: str
    status: str
    total: Decimal
    document: dict | None = None


class InvoiceFilters(Schema):
    q: str = ""
    status: str = ""
    client: str = ""
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    due: Literal["", "overdue", "week"] = ""
    stamped: Literal["", "yes", "no"] = ""
    balance: Literal["", "yes", "no"] = ""
    sort: Literal["date", "-date", "number", "-number", "total", "-total"] = "-date"
    cursor: str = ""
    limit: int = 50


def _invoice(request, pk: int) -> Invoice:
    who = caller(request)
    who.require(Scope.INVOICES_READ)
    return get_object_or_404(Invoice.objects.select_related("company"), pk=pk, company_id=who.company.pk)


@router.get("/invoices", response=InvoicePageOut, summary="Invoices, filtered like the list page")
def invoice_list(request, filters: Query[InvoiceFilters]):
    who = caller(request)
    who.require(Scope.INVOICES_READ)
    data = filters.dict()
    # The list page's own query: its cursor is the (sort value, id) keyset of the last row.
    data["after"] = data.pop("cursor")
    if not queries.cursor_readable(data):
        raise Problem(400, "invalid_cursor", _("The cursor is not one this API gave out."))
    page = queries.invoice_page(who.company, data, page_size=page_size(data.pop("limit")))
    return {"items": page.rows, "next_cursor": page.next_cursor, "count": page.count}


@router.get("/invoices/{pk}", response=InvoiceDetailOut, summary="One invoice with its mirrored document")
def invoice_detail(request, pk: int):
    return _invoice(request, pk)


@router.get("/invoices/{pk}/versions", response=list[VersionOut],
            summary="Every version of the invoice, newest first (documents with ?documents=true)")
def invoice_versions(request, pk: int, documents: bool = False, limit: int = 50):
    invoice = _invoice(request, pk)
    fields = ["history_id", "history_date", "history_type", "history_change_reason", "content_hash", "status",
              "total"] + (["document"] if documents else [])
    rows = invoice.history.order_by("-history_id").values(*fields)[:page_size(limit)]
    return [{"history_id": row["history_id"], "at": row["history_date"], "type": row["history_type"],
             "why": events.describe(row["history_change_reason"]),
             "why_code": events.code_of(row["history_change_reason"]), "content_hash": row["content_hash"],
             "status": row["status"], "total": row["total"], "document": row.get("document")} for row in rows]
