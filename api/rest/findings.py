"""Findings: the list (filtered like Review, keyset-paginated), one finding, confirm and dismiss.

Confirming a finding is what the Review page's "Create correction" does: a draft change request
with the suggested fix, made by `findings.services.correction_create`; dismissing one is
`findings.services.finding_dismiss`. Both need `requests:write`.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Literal

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from findings import presenters, queries
from findings.models import Finding
from findings.requests import NeedsInput
from findings.services import correction_create
from findings.services import finding_dismiss

from ..models import Scope
from .core import MAX_ID, Caller, Problem, caller, cursor_id, encode_cursor, once, page_size
from .requests import request_body

router = Router(tags=["findings"])


class FindingOut(Schema):
    id: int
    invoice_id: int
    invoice_number: str
    line: int | None
    kind: str
    cause: str
    severity: str
    confidence: Decimal
    impact: Decimal
    state: str
    client_name: str
    invoice_date: datetime.date
    explanation: str
    suggestion: str
    evidence: dict
    suggested_change: dict
    correction_id: int | None


class FindingPageOut(Schema):
    items: list[FindingOut]
    next_cursor: str | None


class FindingFilters(Schema):
    state: Literal["open", "dismissed", "resolved", "confirmed", "all"] = "open"
    kind: str = ""
    severity: str = ""
    client: str = ""
    invoice_id: int | None = Field(None, ge=1, le=MAX_ID)
    cursor: str = ""
    limit: int = 50


class DismissIn(Schema):
    reason: str


def finding_body(finding: Finding, country: str) -> dict:
    return {"id": finding.pk, "invoice_id": finding.invoice_id, "invoice_number": finding.invoice.number,
            "line": finding.line, "kind": finding.kind, "cause": finding.cause, "severity": finding.severity,
            "confidence": finding.confidence, "impact": finding.impact, "state": finding.state,
            "client_name": finding.client_name, "invoice_date": finding.invoice_date,
            "explanation": presenters.explanation(finding, country),
            "suggestion": presenters.suggestion_text(finding, country), "evidence": finding.evidence,
            "suggested_change": finding.suggestion, "correction_id": finding.correction_id}


def _finding(who: Caller, pk: int) -> Finding:
    return get_object_or_404(Finding.objects.select_related("invoice", "company"), pk=pk,
                             company_id=who.company.pk)


@router.get("/findings", response=FindingPageOut, summary="Findings, filtered like the Review page, newest first")
def finding_list(request, filters: Query[FindingFilters]):
    who = caller(request)
    who.require(Scope.FINDINGS_READ)
    size = page_size(filters.limit)
    data = {"state": filters.state, "kind": filters.kind, "severity": filters.severity, "client": filters.client}
    rows = queries.filtered(who.company.pk, data)
    if filters.invoice_id is not None:
        rows = rows.filter(invoice_id=filters.invoice_id)
    after = cursor_id(filters.cursor)
    if after is not None:
        rows = rows.filter(id__lt=after)
    found = list(rows.select_related("invoice").only(*queries.ROW_FIELDS).order_by("-id")[:size + 1])
    next_cursor = encode_cursor(found[size - 1].pk) if len(found) > size else None
    country = who.company.country
    return {"items": [finding_body(f, country) for f in found[:size]], "next_cursor": next_cursor}


@router.get("/findings/{pk}", response=FindingOut, summary="One finding, explained in the reader's language")
def finding_detail(request, pk: int):
    who = caller(request)
    who.require(Scope.FINDINGS_READ)
    return finding_body(_finding(who, pk), who.company.country)


@router.post("/findings/{pk}/confirm", response={201: dict},
             summary="Confirm: a draft change request with the suggested fix (submit it to send it to approval)")
def finding_confirm(request, pk: int):
    who = caller(request)
    who.require(Scope.REQUESTS_WRITE)
    finding = _finding(who, pk)

    def make():
        try:
            change_request = correction_create(finding=finding, user=who.user, via=who.via)
        except NeedsInput:
            raise Problem(422, "needs_input", presenters.suggestion_text(finding, who.company.country)) from None
        return 201, request_body(change_request)

    return once(request, make)


@router.post("/findings/{pk}/dismiss", response={200: FindingOut}, summary="Dismiss with a reason")
def finding_dismiss_view(request, pk: int, body: DismissIn):
    who = caller(request)
    who.require(Scope.REQUESTS_WRITE)
    if who.agent:  # what is not a mistake, and what the portal learns from it, is a person's word
        raise Problem(403, "agent_cannot_decide", _("A token for an AI agent cannot dismiss a finding: only "
                                                    "people decide what is not a mistake."))
    finding = _finding(who, pk)

    def make():
        dismissed = finding_dismiss(finding=finding, user=who.user, reason=body.reason, via=who.via)
        dismissed = _finding(who, dismissed.pk)
        return 200, finding_body(dismissed, who.company.country)

    return once(request, make)
