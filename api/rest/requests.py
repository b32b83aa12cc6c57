"""Change requests (drafts, submit, cancel, state and push result) and decisions on them.

Every write is the approvals service the screens call, with the token named (`via=`) so the
history and the audit trail say "… via token 'NAME'". Decisions need `decisions:write` (only an
approver's or a manager's token has it) and are refused on a request the token's user made,
whether on a screen or through any of their tokens.
"""

from __future__ import annotations

import copy
import datetime
from decimal import Decimal
from typing import Any, Literal

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from approvals.errors import ApprovalError
from approvals.models import ChangeRequest
from approvals.services.decisions import approval_status, latest_push, request_decide
from approvals.services.requests import (
    request_cancel, request_save_and_submit, request_save_draft, request_submit,
)
from invoices import arithmetic
from invoices.models import Invoice

from ..models import ApiToken, Scope
from .core import MAX_ID, Caller, Problem, caller, cursor_id, encode_cursor, once, page_size

router = Router(tags=["change requests"])
Kind = ChangeRequest.Kind


class LineChange(Schema):
    index: int = Field(..., ge=0, description="0-based position of the line in the invoice")
    set: dict[str, Any] = Field(..., description="fields of the line to set, e.g. {\"price\": \"1200\"}")


class PatchIn(Schema):
    fields: dict[str, Any] = Field(default_factory=dict, description="top-level fields to set, e.g. dueDate")
    lines: list[LineChange] = Field(default_factory=list)


class DraftIn(Schema):
    invoice_id: int
    kind: Literal["update", "credit_note", "contact"] = "update"
    reason: str = ""
    proposed: dict[str, Any] | None = Field(None, description="the whole proposed document")
    patch: PatchIn | None = Field(None, description="or: the changes to apply to the current invoice")
    submit: bool = Field(False, description="submit for approval at once (a reason is then required)")


class CancelIn(Schema):
    comment: str = ""


class DecisionIn(Schema):
    outcome: Literal["approve", "reject"]
    comment: str = ""


class PushOut(Schema):
    state: str
    attempts: int
    last_status: int | None
    last_code: str
    last_message: str
    result_alegra_id: str
    conflict_fields: list


class RequestOut(Schema):
    id: int
    invoice_id: int
    kind: str
    state: str
    reason: str
    requester: str
    origin: str
    via_token: str
    old_total: Decimal
    new_total: Decimal
    approvals_required: int
    approvals: int
    routed_by: str
    created_at: datetime.datetime
    submitted_at: datetime.datetime | None
    updated_at: datetime.datetime
    push: PushOut | None
    proposed_document: dict


class RequestPageOut(Schema):
    items: list[RequestOut]
    next_cursor: str | None


class DecisionOut(Schema):
    id: int
    request: RequestOut
    outcome: str
    comment: str


class RequestFilters(Schema):
    state: str = ""
    invoice_id: int | None = Field(None, ge=1, le=MAX_ID)
    cursor: str = ""
    limit: int = 50


def request_body(change_request: ChangeRequest) -> dict:
    push = latest_push(change_request)
    status = approval_status(change_request)
    return {
        "id": change_request.pk, "invoice_id": change_request.invoice_id, "kind": change_request.kind,
        "state": change_request.state, "reason": change_request.reason,
        "requester": change_request.requester.get_username(), "origin": change_request.origin,
        "via_token": change_request.via_token_name, "old_total": change_request.old_total,
        "new_total": change_request.new_total, "approvals_required": status.required,
        "approvals": status.count, "routed_by": change_request.routed_by,
        "created_at": change_request.created_at, "submitted_at": change_request.submitted_at,
        "updated_at": change_request.updated_at, "proposed_document": change_request.proposed_document,
        "push": None if push is None else {
            "state": push.state, "attempts": push.attempts, "last_status": push.last_status,
            "last_code": push.last_code, "last_message": push.last_message,
            "result_alegra_id": push.result_alegra_id, "conflict_fields": push.conflict_fields or []},
    }


def _request(who: Caller, pk: int) -> ChangeRequest:
    return get_object_or_404(ChangeRequest.objects.select_related("invoice", "company", "requester"),
                             pk=pk, company_id=who.company.pk)


LINE_NUMBERS = ("price", "quantity", "discount")


def _true_false_for_numbers(document: dict) -> list[str]:
    """Where a proposed document holds true or false for an amount Alegra computes with (read as
    `invoices.arithmetic` reads): JSON has them, Alegra's answers never do."""
    found = [name for name in ("decimalPrecision", "totalPaid") if isinstance(document.get(name), bool)]
    items = document.get("items")
    for i, line in enumerate(items if isinstance(items, list) else []):
        if not isinstance(line, dict):
            continue
        found += [f"items[{i}].{name}" for name in LINE_NUMBERS if isinstance(line.get(name), bool)]
        taxes = line.get("tax")
        found += [f"items[{i}].tax[{j}].percentage" for j, tax in enumerate(taxes if isinstance(taxes, list) else [])
                  if isinstance(tax, dict) and isinstance(tax.get("percentage"), bool)]
    retentions = document.get("retentions")
    found += [f"retentions[{j}].percentage" for j, retention in
              enumerate(retentions if isinstance(retentions, list) else [])
              if isinstance(retention, dict) and isinstance(retention.get("percentage"), bool)]
    return found


def _huge_numbers(value: Any, path: str = "") -> list[str]:
    """Where a number has more digits than any amount of an invoice (`arithmetic.MAX_DIGITS`)."""
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _huge_numbers(item, f"{path}.{key}" if path else str(key))]
    if isinstance(value, list):
        return [found for i, item in enumerate(value) for found in _huge_numbers(item, f"{path}[{i}]")]
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        number = Decimal(value)
        if number.is_finite() and number != 0 and number.adjusted() >= arithmetic.MAX_DIGITS:
            return [path]
    return []


def refuse_unusable_numbers(document: Any) -> None:
    """Numbers of a proposed document the domain takes for a bug upstream, refused here with
    their place: true or false for an amount, a number longer than any amount, retentions that
    are not a list (every one of them a 500 before)."""
    if not isinstance(document, dict):
        return
    problems = [(path, _("A number is expected here, not true or false.")) for path in _true_false_for_numbers(document)]
    problems += [(path, _("This number is too large for an invoice.")) for path in _huge_numbers(document)]
    if document.get("retentions") is not None and not isinstance(document.get("retentions"), list):
        problems.append(("retentions", _("Give a list.")))
    if problems:
        raise Problem(422, "invalid_number", problems[0][1],
                      errors=[{"field": path, "code": "invalid_number", "message": message}
                              for path, message in problems])


def patched(document: dict, patch: PatchIn) -> dict:
    """The invoice with the patch's fields and line values set (the rules judge the result)."""
    proposed = copy.deepcopy(document)
    for name, value in patch.fields.items():
        if name == "items":
            raise Problem(422, "invalid_patch", _("Change lines with “lines”, not “items”."),
                          errors=[{"field": "patch.fields.items", "code": "invalid_patch",
                                   "message": _("Change lines with “lines”, not “items”.")}])
        proposed[name] = value
    items = proposed.get("items") if isinstance(proposed.get("items"), list) else []
    for change in patch.lines:
        if change.index >= len(items) or not isinstance(items[change.index], dict):
            message = _("Line %(line)s does not exist: the invoice has %(count)s lines.") % {
                "line": change.index + 1, "count": len(items)}
            raise Problem(422, "no_such_line", message,
                          errors=[{"field": f"patch.lines[{change.index}]", "code": "no_such_line",
                                   "message": message}])
        items[change.index].update(change.set)
        items[change.index].pop("total", None)  # recomputed from the new values
    return proposed


@router.get("/requests", response=RequestPageOut, summary="Change requests of the company, newest first")
def request_list(request, filters: Query[RequestFilters]):
    who = caller(request)
    who.require(Scope.INVOICES_READ)
    size = page_size(filters.limit)
    rows = ChangeRequest.objects.filter(company_id=who.company.pk).select_related("requester", "invoice",
                                                                                  "company")
    if filters.state:
        rows = rows.filter(state=filters.state)
    if filters.invoice_id is not None:
        rows = rows.filter(invoice_id=filters.invoice_id)
    after = cursor_id(filters.cursor)
    if after is not None:
        rows = rows.filter(id__lt=after)
    found = list(rows.order_by("-id")[:size + 1])
    next_cursor = encode_cursor(found[size - 1].pk) if len(found) > size else None
    return {"items": [request_body(r) for r in found[:size]], "next_cursor": next_cursor}


@router.post("/requests", response={201: RequestOut},
             summary="Create a draft from a proposed document or a patch of fields and lines (optionally submit it)")
def request_create(request, body: DraftIn):
    who = caller(request)
    who.require(Scope.REQUESTS_WRITE)
    invoice = get_object_or_404(Invoice.objects.select_related("company"), pk=body.invoice_id,
                                company_id=who.company.pk)
    if (body.proposed is None) == (body.patch is None):
        message = _("Send either “proposed” (the whole document) or “patch” (the changes), not both.")
        raise Problem(422, "proposal_required", message,
                      errors=[{"field": "proposed", "code": "proposal_required", "message": message}])
    if body.patch is not None and body.kind == Kind.CREDIT_NOTE:
        message = _("A credit note is sent as a whole “proposed” document.")
        raise Problem(422, "proposal_required", message,
                      errors=[{"field": "patch", "code": "proposal_required", "message": message}])

    def make():
        proposed = body.proposed if body.proposed is not None else patched(invoice.document, body.patch)
        refuse_unusable_numbers(proposed)
        if body.submit:
            change_request = request_save_and_submit(invoice=invoice, user=who.user, proposed=proposed,
                                                     reason=body.reason, kind=body.kind, via=who.via)
        else:
            change_request = request_save_draft(invoice=invoice, user=who.user, proposed=proposed,
                                                reason=body.reason, kind=body.kind, via=who.via)
        return 201, request_body(_request(who, change_request.pk))

    return once(request, make)


@router.get("/requests/{pk}", response=RequestOut, summary="A request's state, approvals and push result")
def request_detail(request, pk: int):
    who = caller(request)
    who.require(Scope.INVOICES_READ)
    return request_body(_request(who, pk))


@router.post("/requests/{pk}/submit", response={200: RequestOut}, summary="Submit a draft for approval")
def request_submit_view(request, pk: int):
    who = caller(request)
    who.require(Scope.REQUESTS_WRITE)
    change_request = _request(who, pk)

    def make():
        request_submit(change_request=change_request, user=who.user, via=who.via)
        return 200, request_body(_request(who, pk))

    return once(request, make)


@router.post("/requests/{pk}/cancel", response={200: RequestOut}, summary="Cancel (the requester, or a manager)")
def request_cancel_view(request, pk: int, body: CancelIn):
    who = caller(request)
    who.require(Scope.REQUESTS_WRITE)
    change_request = _request(who, pk)
    if who.agent and change_request.via_token_id != who.token.pk:
        # Ending someone else's request is a decision on it: an agent withdraws only its own.
        raise Problem(403, "agent_cannot_decide", _("A token for an AI agent can cancel only the requests it "
                                                    "proposed: only people decide on the others."))

    def make():
        request_cancel(change_request=change_request, user=who.user, comment=body.comment, via=who.via)
        return 200, request_body(_request(who, pk))

    return once(request, make)


def made_by_same_person(change_request: ChangeRequest, who: Caller) -> bool:
    """The token's user asked for it: on a screen, or through one of their tokens (any of them)."""
    if change_request.requester_id == who.user.pk:
        return True
    if change_request.via_token_id is None:
        return False
    return ApiToken.objects.filter(pk=change_request.via_token_id, user_id=who.user.pk).exists()


@router.post("/requests/{pk}/decisions", response={201: DecisionOut},
             summary="Approve or reject someone else's pending request (decisions:write)")
def request_decision(request, pk: int, body: DecisionIn):
    who = caller(request)
    who.require(Scope.DECISIONS_WRITE)
    if who.agent:  # an agent reads and proposes; only people approve
        raise Problem(403, "agent_cannot_decide", _("A token for an AI agent cannot approve or reject: only "
                                                    "people decide."))
    change_request = _request(who, pk)
    if made_by_same_person(change_request, who):
        raise ApprovalError("own_request")

    def make():
        decision = request_decide(change_request=change_request, user=who.user, outcome=body.outcome,
                                  comment=body.comment, via=who.via)
        return 201, {"id": decision.pk, "outcome": decision.outcome, "comment": decision.comment,
                     "request": request_body(_request(who, pk))}

    return once(request, make)

