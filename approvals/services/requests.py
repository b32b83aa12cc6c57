"""Change requests: drafts, submission, cancellation, re-basing, and every state transition.

Every rule is checked here, not only in the form, so a view, a task, a command or a test that
calls these functions gets the same protection. A refusal raises `ApprovalError` with the list
of violations and writes nothing.

An edit is based on the mirrored version the accountant opened (`base_hash`). If the mirror
moves before submission, the request must be re-based: the accountant's own changes are
carried over onto the current version, unless the invoice changed in the same places.
Routing and approval follow submission in `submission`; decisions build on this module.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import IntegrityError, transaction

from invoices.models import Invoice
from portal.events import Via, via_params
from portal.models import Membership, Role

from ..errors import ApprovalError, StaleBase
from .. import events
from ..models import ChangeRequest
from .proposals import (
    Base, carried_over, catalogue_taxes, current_base, money_impact, open_request_for,
    reason_violations, stored_document, validate_proposal,
)
from .submission import request_submitted
from .transitions import (
    CANCELLABLE, COPYABLE, REBASABLE, lock_invoice, lock_request, set_state, state_label,
)

State = ChangeRequest.State
Kind = ChangeRequest.Kind
MAX_REASON = 2000


def _require_role(user, company_id: int, roles: set[str]) -> None:
    allowed = (user is not None and getattr(user, "is_active", False)
               and Membership.objects.filter(user=user, company_id=company_id,
                                             role__in=list(roles)).exists())
    if not allowed:
        raise ApprovalError("not_allowed", {"variant": "propose"})


def _require_requester(change_request: ChangeRequest, user) -> None:
    _require_role(user, change_request.company_id, {Role.ACCOUNTANT})
    if change_request.requester_id != user.pk:
        raise ApprovalError("not_yours")


def _refuse_open(other: ChangeRequest) -> ApprovalError:
    return ApprovalError("open_request_exists", {
        "number": other.pk, "state": state_label(other.state),
        "user": other.requester.get_full_name() or other.requester.get_username()})


def _kind(kind: str) -> str:
    if kind not in Kind.values:
        raise ApprovalError("invalid_kind", {"variant": "change"}, field="kind")
    return kind


def _origin(via: Via | None) -> dict:
    """The request's origin fields: a screen, or the token (an agent's or a system's) it came through."""
    if via is None:
        return {"origin": ChangeRequest.Origin.SCREEN}
    return {"origin": ChangeRequest.Origin.AGENT if via.agent else ChangeRequest.Origin.API,
            "via_token_id": via.token_id, "via_token_name": via.name[:100]}


def _save(change_request: ChangeRequest, user, reason: str) -> ChangeRequest:
    change_request._change_reason = reason
    change_request._history_user = user
    try:
        with transaction.atomic():
            change_request.save()
    except IntegrityError:
        other = open_request_for(change_request.invoice, exclude_pk=change_request.pk)
        if other is None:
            raise
        raise _refuse_open(other) from None
    return change_request


def _choose_base(change_request: ChangeRequest | None, current: Base, base_hash: str | None) -> Base:
    if change_request is None:
        if base_hash and base_hash != current.hash:
            raise StaleBase(base_hash=base_hash, current_hash=current.hash)
        return current
    if not base_hash or base_hash == change_request.base_hash:
        return Base(change_request.base_document, change_request.base_hash)
    if base_hash == current.hash:  # the form was re-based onto the current version
        return current
    raise StaleBase(base_hash=base_hash, current_hash=current.hash)


def _checked(invoice: Invoice, kind: str, base: dict, proposed: Mapping) -> tuple[dict, dict]:
    """The proposal as stored, with the company's taxes; refused when a rule says no."""
    taxes = catalogue_taxes(invoice.company)
    violations = validate_proposal(invoice=invoice, kind=kind, base=base, proposed=proposed, taxes=taxes)
    if violations:
        raise ApprovalError.of(violations)
    return stored_document(kind, proposed, taxes), taxes


@transaction.atomic
def request_save_draft(*, invoice: Invoice, user, proposed: Mapping, reason: str, kind: str,
                       request: ChangeRequest | None = None,
                       base_hash: str | None = None, via: Via | None = None) -> ChangeRequest:
    """Create or update the user's draft. `base_hash` is the version the form was based on."""
    kind = _kind(kind)
    invoice = lock_invoice(invoice)
    _require_role(user, invoice.company_id, {Role.ACCOUNTANT})
    if request is not None:
        request = lock_request(request)
        if request.invoice_id != invoice.pk or request.kind != kind:
            raise ApprovalError("wrong_request")
        _require_requester(request, user)
        if request.state != State.DRAFT:
            raise ApprovalError("not_draft", {"variant": "edit", "state": state_label(request.state)})
    other = open_request_for(invoice, exclude_pk=request.pk if request else None)
    if other is not None:
        raise _refuse_open(other)
    base = _choose_base(request, current_base(invoice, kind), base_hash)
    taxes = catalogue_taxes(invoice.company)
    violations = validate_proposal(invoice=invoice, kind=kind, base=base.document,
                                   proposed=proposed, taxes=taxes)
    violations += reason_violations(reason, required=False)
    if violations:
        raise ApprovalError.of(violations)
    stored = stored_document(kind, proposed, taxes)
    change_request = request or ChangeRequest(company=invoice.company, invoice=invoice, kind=kind,
                                              requester=user, **_origin(via))
    change_request.base_document, change_request.base_hash = base.document, base.hash
    change_request.proposed_document = stored
    change_request.reason = (reason or "").strip()
    change_request.old_total, change_request.new_total = money_impact(kind, base.document, stored, taxes)
    if kind == Kind.CONTACT:
        change_request.contact_alegra_id = invoice.client_alegra_id
    return _save(change_request, user, events.reason("request.draft_saved" if request else "request.draft_created",
                                                     **via_params(via)))


@transaction.atomic
def request_by_rule(*, invoice: Invoice, rule, proposed: Mapping, reason: str, kind: str) -> ChangeRequest:
    """A request the system drafts and submits by itself under a manager's finding-fix rule.

    The same checks as a person's request (the rules of the document, one open request per
    invoice, a reason); the requester is the manager who switched the rule on, the versions name
    no user (the system wrote them) and `origin_rule` marks it: that rule, and no other, may
    approve it alone (approvals.routing.rule_matches), within its limit. Past the limit it waits
    for people like any request. The push re-reads the invoice first as always: if Alegra moved
    meanwhile it is a conflict and nothing is written.
    """
    from ..models import AutoApprovalRule

    kind = _kind(kind)
    rule = AutoApprovalRule.objects.select_for_update().get(pk=rule.pk)
    if (rule.kind != AutoApprovalRule.Kind.FINDING_FIX or not rule.is_active
            or rule.company_id != invoice.company_id):
        raise ApprovalError("not_found", {"variant": "rule"})
    invoice = lock_invoice(invoice)
    other = open_request_for(invoice)
    if other is not None:
        raise _refuse_open(other)
    base = current_base(invoice, kind)
    taxes = catalogue_taxes(invoice.company)
    violations = validate_proposal(invoice=invoice, kind=kind, base=base.document, proposed=proposed, taxes=taxes)
    violations += reason_violations(reason, required=True)
    if violations:
        raise ApprovalError.of(violations)
    switched_on_by = (rule.history.filter(is_active=True, history_user__isnull=False)
                      .order_by("-history_date", "-history_id").values_list("history_user", flat=True).first())
    # The rule approves in the name of the manager who switched it on: only while they still are one.
    if switched_on_by is None or not Membership.objects.filter(
            user_id=switched_on_by, company_id=invoice.company_id, role=Role.MANAGER, user__is_active=True).exists():
        raise ApprovalError("not_found", {"variant": "rule"})
    stored = stored_document(kind, proposed, taxes)
    change_request = ChangeRequest(company=invoice.company, invoice=invoice, kind=kind, requester_id=switched_on_by,
                                   origin_rule=rule, base_document=base.document, base_hash=base.hash,
                                   proposed_document=stored, reason=(reason or "").strip())
    change_request.old_total, change_request.new_total = money_impact(kind, base.document, stored, taxes)
    _save(change_request, None, events.reason("request.drafted_by_rule", rule=rule.name))
    set_state(change_request, State.PENDING, None, events.reason("request.submitted_by_rule", rule=rule.name))
    request_submitted(change_request=change_request)
    change_request.refresh_from_db()
    return change_request


@transaction.atomic
def request_submit(*, change_request: ChangeRequest, user, via: Via | None = None) -> ChangeRequest:
    """Draft → pending, after checking every rule against the current mirror."""
    invoice = lock_invoice(change_request.invoice)
    change_request = lock_request(change_request)
    _require_requester(change_request, user)
    if change_request.state != State.DRAFT:
        raise ApprovalError("not_draft", {"variant": "submit", "state": state_label(change_request.state)})
    current = current_base(invoice, change_request.kind)
    if current.hash != change_request.base_hash:
        raise StaleBase(base_hash=change_request.base_hash, current_hash=current.hash)
    violations = reason_violations(change_request.reason, required=True)
    violations += validate_proposal(invoice=invoice, kind=change_request.kind,
                                    base=current.document,
                                    proposed=change_request.proposed_document)
    if violations:
        raise ApprovalError.of(violations)
    set_state(change_request, State.PENDING, user, events.reason("request.submitted", **via_params(via)))
    # Routed in the same transaction: a pending request is never left unrouted.
    request_submitted(change_request=change_request)
    change_request.refresh_from_db()
    return change_request


@transaction.atomic
def request_save_and_submit(*, invoice: Invoice, user, proposed: Mapping, reason: str, kind: str,
                            request: ChangeRequest | None = None,
                            base_hash: str | None = None, via: Via | None = None) -> ChangeRequest:
    """Save the draft and submit it in one step; on any refusal nothing is written."""
    reason_problems = reason_violations(reason, required=True)
    try:
        change_request = request_save_draft(invoice=invoice, user=user, proposed=proposed,
                                            reason=reason, kind=kind, request=request,
                                            base_hash=base_hash, via=via)
    except StaleBase:
        raise
    except ApprovalError as exc:
        known = {(v.field, v.code) for v in exc.violations}
        raise ApprovalError.of(exc.violations + [v for v in reason_problems
                                                 if (v.field, v.code) not in known]) from None
    if reason_problems:
        raise ApprovalError.of(reason_problems)
    return request_submit(change_request=change_request, user=user, via=via)


@transaction.atomic
def request_cancel(*, change_request: ChangeRequest, user, comment: str = "",
                   via: Via | None = None) -> ChangeRequest:
    """Withdrawn by the requester, or by a manager of the company."""
    lock_invoice(change_request.invoice)
    change_request = lock_request(change_request)
    is_manager = Membership.objects.filter(user=user, company_id=change_request.company_id,
                                           role=Role.MANAGER).exists()
    if not is_manager:
        _require_requester(change_request, user)
    if change_request.state not in CANCELLABLE:
        raise ApprovalError("not_cancellable", {"state": state_label(change_request.state)})
    comment = (comment or "").strip()[:MAX_REASON]
    set_state(change_request, State.CANCELLED, user,
              events.reason("request.cancelled_with_comment", comment=comment, **via_params(via)) if comment
              else events.reason("request.cancelled", **via_params(via)))
    return change_request


@transaction.atomic
def request_rebase(*, change_request: ChangeRequest, user) -> ChangeRequest:
    """Carry the proposed changes onto the current mirror; the request becomes a draft again."""
    invoice = lock_invoice(change_request.invoice)
    change_request = lock_request(change_request)
    _require_requester(change_request, user)
    if change_request.state not in REBASABLE:
        raise ApprovalError("not_rebasable", {"state": state_label(change_request.state)})
    current = current_base(invoice, change_request.kind)
    proposed = carried_over(change_request.kind, change_request.base_document,
                            change_request.proposed_document, current.document)
    stored, taxes = _checked(invoice, change_request.kind, current.document, proposed)
    change_request.base_document, change_request.base_hash = current.document, current.hash
    change_request.proposed_document = stored
    change_request.old_total, change_request.new_total = money_impact(
        change_request.kind, current.document, stored, taxes)
    change_request.state = State.DRAFT
    return _save(change_request, user, events.reason("request.rebased"))


@transaction.atomic
def request_copy_to_draft(*, change_request: ChangeRequest, user) -> ChangeRequest:
    """A new draft with the changes of a rejected or cancelled request, on the current mirror."""
    invoice = lock_invoice(change_request.invoice)
    _require_role(user, invoice.company_id, {Role.ACCOUNTANT})
    if change_request.state not in COPYABLE:
        raise ApprovalError("not_copyable")
    other = open_request_for(invoice)
    if other is not None:
        raise _refuse_open(other)
    kind = change_request.kind
    current = current_base(invoice, kind)
    proposed = carried_over(kind, change_request.base_document,
                            change_request.proposed_document, current.document)
    stored, taxes = _checked(invoice, kind, current.document, proposed)
    old, new = money_impact(kind, current.document, stored, taxes)
    copy_ = ChangeRequest(
        company=invoice.company, invoice=invoice, kind=kind, requester=user,
        base_document=current.document, base_hash=current.hash, proposed_document=stored,
        reason=change_request.reason, old_total=old, new_total=new,
        contact_alegra_id=change_request.contact_alegra_id,
    )
    return _save(copy_, user, events.reason("request.copied", source=change_request.pk))


SAVE_ACTIONS = ("draft", "submit")


def request_save(*, action: str, invoice: Invoice, user, proposed: Mapping, reason: str, kind: str,
                 request: ChangeRequest | None = None, base_hash: str | None = None) -> ChangeRequest:
    """What every edit screen's two buttons do: keep a draft, or save and submit it."""
    service = request_save_draft if action == "draft" else request_save_and_submit
    return service(invoice=invoice, user=user, proposed=proposed, reason=reason, kind=kind,
                   request=request, base_hash=base_hash)
