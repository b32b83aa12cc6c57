"""The audit log: entries (filtered like the audit page, keyset pages on time and number) and exports."""

from __future__ import annotations

import datetime

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Router, Schema

from audit import export, queries
from audit.forms import AuditFilterForm
from audit.models import Action
from portal import events

from ..models import Scope
from .core import Problem, caller, page_size

router = Router(tags=["audit"])


class EntryOut(Schema):
    seq: int
    at: datetime.datetime
    actor: str | None
    on_behalf_of: str
    action: str
    invoice_id: int | None
    change_request_id: int | None
    why: str
    why_code: str
    what: dict
    hash: str


class EntryPageOut(Schema):
    items: list[EntryOut]
    next_cursor: str | None


def _form(request, who) -> AuditFilterForm:
    who.require(Scope.AUDIT_READ)
    form = AuditFilterForm(request.GET, company=who.company)
    if not form.is_valid():
        errors = [{"field": name, "code": "invalid", "message": str(message)}
                  for name, messages in form.errors.items() for message in messages]
        raise Problem(400, "invalid_filters", _("The filters are not valid: see errors."), errors=errors)
    return form


@router.get("/audit/entries", response=EntryPageOut,
            summary="Audit entries, newest first; filters: date_from, date_to, person, invoice, action, after")
def audit_entries(request, limit: int = 50):
    who = caller(request)
    form = _form(request, who)
    page = queries.log_page(who.company, form.filters(), cursor=form.cleaned_data.get("after"),
                            size=page_size(limit))
    return {"items": [{"seq": row["seq"], "at": row["at"], "actor": row["actor__username"],
                       "on_behalf_of": row["on_behalf_of"], "action": row["action"],
                       "invoice_id": row["invoice_id"], "change_request_id": row["change_request_id"],
                       "why": events.describe(row["why"]), "why_code": events.code_of(row["why"]),
                       "what": row["what"], "hash": row["hash"]} for row in page.rows],
            "next_cursor": page.next_cursor}


@router.get("/audit/export.{fmt}", summary="The filtered audit log as CSV or JSON, streamed in chain order")
def audit_export(request, fmt: str):
    who = caller(request)
    if fmt not in ("csv", "json"):
        raise Problem(404, "not_found", _("Export as csv or json."))
    form = _form(request, who)
    labels = {value: str(label) for value, label in Action.choices}
    stream = export.streamed(fmt, who.company, form.filters(), labels, export.teller())
    response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8" if fmt == "csv"
                                     else "application/json; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{who.company.pk}-{stamp}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response
