"""Decisions on pending requests, retries of failed pushes, and the way out of a conflict.

Deciding locks the request row, so two approvers answering at the same moment
are serialised: the approvals are counted inside the lock, the request is
approved once, and exactly one outbox row is written, in the same transaction
as the approval that completes it. The database refuses a decision by the
request's own requester (a check constraint), whatever code path writes it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from portal.access import DECIDE_ROLES
from portal.events import Via, via_params
from portal.models import Membership

from .. import events, notify
from ..errors import ApprovalError
from ..models import ChangeRequest, Decision, Push, Routing
from ..revisions import revision_of
from . import push as push_service
from .requests import request_cancel, request_rebase, request_submit
from .submission import approve, lock, routing_for
from .transitions import request_transition, state_label

State = ChangeRequest.State
MAX_COMMENT = 2000


@dataclass
class ApprovalStatus:
    required: int
    manager_required: bool
    approvals: list[Decision] = field(default_factory=list)
    rejection: Decision | None = None

    @property
    def count(self) -> int:
        return len(self.approvals)

    @property
    def has_manager(self) -> bool:
        return any(d.approver_role == "manager" for d in self.approvals)

    @property
    def satisfied(self) -> bool:
        return self.count >= self.required and (self.has_manager or not self.manager_required)

    @property
    def missing(self) -> int:
        return max(0, self.required - self.count)

    def decided_by(self, user) -> bool:
        return any(d.approver_id == user.pk for d in [*self.approvals, *filter(None, [self.rejection])])


def approval_status(change_request: ChangeRequest, routing_row: Routing | None = None,
                    decisions: list[Decision] | None = None) -> ApprovalStatus:
    if routing_row is None:
        routing_row = Routing.objects.filter(change_request=change_request).first()
    required = routing_row.approvals_required if routing_row else change_request.approvals_required
    status = ApprovalStatus(required=max(1, required or 1),
                            manager_required=bool(routing_row and routing_row.manager_required))
    revision = revision_of(change_request)
    if decisions is None:
        decisions = list(change_request.decisions.filter(revision=revision).select_related("approver", "auto_rule"))
    for decision in decisions:
        if decision.revision != revision:
            continue
        if decision.outcome == Decision.Outcome.APPROVE:
            status.approvals.append(decision)
        else:
            status.rejection = decision
    return status


def _membership(user, company_id: int, roles) -> Membership | None:
    if user is None or not user.is_active:
        return None
    return Membership.objects.filter(user=user, company_id=company_id, role__in=sorted(roles)).first()


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def _check_decision(change_request: ChangeRequest, user, outcome: str, comment: str) -> Membership:
    membership = _membership(user, change_request.company_id, DECIDE_ROLES)
    if membership is None:
        raise ApprovalError("not_allowed", {"variant": "decide"})
    if change_request.requester_id == user.pk:
        raise ApprovalError("own_request")
    if change_request.state != State.PENDING:
        raise ApprovalError("not_pending", {"state": state_label(change_request.state)})
    if outcome == Decision.Outcome.REJECT and not comment:
        raise ApprovalError("comment_required", field="comment")
    if len(comment) > MAX_COMMENT:
        raise ApprovalError("comment_too_long", {"max": MAX_COMMENT, "length": len(comment)}, field="comment")
    return membership


@transaction.atomic
def request_decide(*, change_request: ChangeRequest, user, outcome: str, comment: str = "",
                   via: Via | None = None) -> Decision:
    """One approver's answer; the approval that completes the routing approves the request."""
    comment = (comment or "").strip()
    if outcome not in Decision.Outcome.values:
        raise ApprovalError("invalid_outcome", field="outcome")
    change_request = lock(change_request)
    membership = _check_decision(change_request, user, outcome, comment)
    routing_row = routing_for(change_request)
    revision = revision_of(change_request)
    if Decision.objects.filter(change_request=change_request, revision=revision, approver=user).exists():
        raise ApprovalError("already_decided")
    decision = Decision(
        change_request=change_request, revision=revision, approver=user, approver_role=membership.role,
        requester_id=change_request.requester_id, outcome=outcome, comment=comment,
    )
    # The decision's version says how it was made (a screen, or a token named in the audit trail).
    if via is not None:
        decision._change_reason = events.reason(f"decision.{outcome}", **via_params(via))
    decision.save(force_insert=True)
    if outcome == Decision.Outcome.REJECT:
        request_transition(change_request=change_request, to_state=State.REJECTED, user=user,
                           reason=events.reason("request.rejected", name=_name(user), comment=comment,
                                                **via_params(via)))
        notify.request_decided(change_request, decision)
        return decision
    status = approval_status(change_request, routing_row)
    if status.satisfied:
        names = ", ".join(_name(d.approver) for d in status.approvals if d.approver_id)
        why = (events.reason("request.approved_with_comment", names=names, comment=comment, **via_params(via))
               if comment else events.reason("request.approved", names=names, **via_params(via)))
        approve(change_request, revision, user=user, reason=why)
        notify.request_decided(change_request, decision)
    return decision


# --- after the push -----------------------------------------------------------------


def latest_push(change_request: ChangeRequest) -> Push | None:
    return change_request.pushes.order_by("-created_at", "-id").first()


@transaction.atomic
def push_retry(*, change_request: ChangeRequest, user) -> Push:
    """A failed push, sent again (by its requester, an approver or a manager)."""
    change_request = lock(change_request)
    is_requester = (change_request.requester_id == getattr(user, "pk", None)
                    and _membership(user, change_request.company_id, {"accountant"}) is not None)
    if not is_requester and _membership(user, change_request.company_id, DECIDE_ROLES) is None:
        raise ApprovalError("not_allowed", {"variant": "retry"})
    if change_request.state != State.FAILED:
        raise ApprovalError("not_failed")
    # Locks go request first, push second, everywhere (see services.push.lock).
    push = Push.objects.select_for_update().filter(change_request=change_request).order_by("-created_at", "-id").first()
    if push is None or push.state != Push.State.FAILED:
        raise ApprovalError("not_failed")
    request_transition(change_request=change_request, to_state=State.APPROVED, user=user,
                       reason=events.reason("request.retried", name=_name(user)))
    push.state = Push.State.QUEUED
    push.max_attempts = push.attempts + push_service.max_attempts()
    push.finished_at = None
    push.next_attempt_at = None
    push.queued_at = timezone.now()
    push._change_reason = events.reason("push.retried", name=_name(user))
    push._history_user = user
    push.save()
    push_service.enqueue(push)
    return push


@transaction.atomic
def conflict_rebase(*, change_request: ChangeRequest, user) -> ChangeRequest:
    """Carry the edit onto Alegra's current version and send it back to approval."""
    # No lock here: request_rebase takes the invoice, then the request, and checks again.
    change_request = ChangeRequest.objects.select_related("company", "invoice").get(pk=change_request.pk)
    if change_request.state != State.CONFLICT:
        raise ApprovalError("not_conflict")
    rebased = request_rebase(change_request=change_request, user=user)
    return request_submit(change_request=rebased, user=user)


@transaction.atomic
def conflict_cancel(*, change_request: ChangeRequest, user, comment: str = "") -> ChangeRequest:
    return request_cancel(change_request=change_request, user=user, comment=comment)
