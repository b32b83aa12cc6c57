"""Routing, decisions, auto-approval, push retries and the policies that govern them.

Deciding locks the request row, so two approvers answering at the same moment
are serialised: the approvals are counted inside the lock, the request is
approved once, and exactly one outbox row is written, in the same transaction
as the approval that completes it. The database refuses a decision by the
request's own requester (a check constraint), whatever code path writes it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from invoices import mirror
from portal.access import DECIDE_ROLES, MANAGE_ROLES
from portal.models import Company, Membership

from .. import notify, push as push_service, routing
from ..models import (
    ApprovalSettings, AutoApprovalRule, ChangeRequest, Decision, Push, Routing, RoutingPolicy,
)
from .requests import RequestRefused, request_cancel, request_rebase, request_submit, request_transition

State = ChangeRequest.State
MAX_COMMENT = 2000


class DecisionRefused(Exception):
    """A decision or policy write refused; `message` is for the user, in their language."""

    def __init__(self, code: str, message: str):
        self.code, self.message = code, message
        super().__init__(message)


def revision_of(change_request: ChangeRequest) -> str:
    """Names what exactly is being approved: this base and this proposal, nothing else."""
    proposal = mirror.content_hash(mirror.canonical(change_request.proposed_document or {}))
    return hashlib.sha256(f"{change_request.base_hash}:{proposal}".encode()).hexdigest()


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


def _lock(change_request: ChangeRequest) -> ChangeRequest:
    return (ChangeRequest.objects.select_for_update(of=("self",))
            .select_related("company", "invoice", "requester").get(pk=change_request.pk))


def _membership(user, company_id: int, roles) -> Membership | None:
    if user is None or not user.is_active:
        return None
    return Membership.objects.filter(user=user, company_id=company_id, role__in=sorted(roles)).first()


# --- routing and submission -----------------------------------------------------------


@transaction.atomic
def request_route(*, change_request: ChangeRequest) -> Routing:
    """Decide and store which approvals the request needs (the request shows why)."""
    route = routing.route(change_request)
    row, _created = Routing.objects.update_or_create(
        change_request=change_request,
        defaults={"policy": route.policy, "policy_name": route.policy_name[:120],
                  "approvals_required": route.approvals_required,
                  "manager_required": route.manager_required, "reason": route.reason,
                  "impact": route.impact, "auto_rule": None},
    )
    change_request.approvals_required = route.approvals_required
    change_request.routed_by = route.policy_name
    change_request.routing_reason = route.reason
    change_request._change_reason = f"routed by {route.policy_name}"
    change_request.save()
    return row


@transaction.atomic
def request_submitted(*, change_request: ChangeRequest) -> Routing:
    """After draft → pending: route, approve by policy if a rule allows, else tell the approvers.

    Safe to call twice: a request already routed for this revision is left alone.
    """
    change_request = _lock(change_request)
    revision = revision_of(change_request)
    existing = Routing.objects.filter(change_request=change_request).first()
    if change_request.state != State.PENDING:
        return existing
    if existing and existing.revision == revision:
        return existing
    routing_row = request_route(change_request=change_request)
    routing_row.revision = revision
    rule = routing.auto_rule_for(change_request)
    if rule is None:
        routing_row.save()
        notify.request_routed(change_request, routing_reason=routing_row.reason)
        return routing_row
    routing_row.auto_rule = rule
    routing_row.save()
    decision = Decision.objects.create(
        change_request=change_request, revision=revision, approver=None, requester=change_request.requester,
        outcome=Decision.Outcome.APPROVE, auto_rule=rule,
        comment=_("Approved by policy “%(name)s”.") % {"name": rule.name},
    )
    _approve(change_request, revision, user=None, reason=f"approved by policy {rule.name}")
    notify.request_decided(change_request, decision)
    return routing_row


def _routing_for(change_request: ChangeRequest) -> Routing:
    row = Routing.objects.filter(change_request=change_request).first()
    return row if row is not None else request_route(change_request=change_request)


def _approve(change_request: ChangeRequest, revision: str, *, user, reason: str) -> Push:
    request_transition(change_request=change_request, to_state=State.APPROVED, user=user, reason=reason)
    try:
        with transaction.atomic():
            return push_service.push_create(change_request=change_request, revision=revision, reason=reason)
    except IntegrityError:
        # Already written for this revision (only reachable if the lock was bypassed).
        return Push.objects.get(change_request=change_request, revision=revision)


# --- deciding -----------------------------------------------------------------------


@transaction.atomic
def request_decide(*, change_request: ChangeRequest, user, outcome: str, comment: str = "") -> Decision:
    """One approver's answer; the approval that completes the routing approves the request."""
    comment = (comment or "").strip()
    if outcome not in Decision.Outcome.values:
        raise DecisionRefused("invalid_outcome", _("Choose approve or reject."))
    change_request = _lock(change_request)
    membership = _membership(user, change_request.company_id, DECIDE_ROLES)
    if membership is None:
        raise DecisionRefused("not_allowed", _("Only the company's approvers and managers can decide requests."))
    if change_request.requester_id == user.pk:
        raise DecisionRefused("own_request", _("You cannot approve or reject your own request."))
    if change_request.state != State.PENDING:
        raise DecisionRefused("not_pending", _(
            "This request is %(state)s: it no longer waits for a decision."
        ) % {"state": change_request.get_state_display()})
    if outcome == Decision.Outcome.REJECT and not comment:
        raise DecisionRefused("comment_required", _("Say why you reject the request: a comment is required."))
    if len(comment) > MAX_COMMENT:
        raise DecisionRefused("comment_too_long", _(
            "The comment can have at most %(max)s characters (it has %(length)s)."
        ) % {"max": MAX_COMMENT, "length": len(comment)})
    routing_row = _routing_for(change_request)
    revision = revision_of(change_request)
    if Decision.objects.filter(change_request=change_request, revision=revision, approver=user).exists():
        raise DecisionRefused("already_decided", _("You have already decided this request."))
    decision = Decision.objects.create(
        change_request=change_request, revision=revision, approver=user, approver_role=membership.role,
        requester_id=change_request.requester_id, outcome=outcome, comment=comment,
    )
    name = user.get_full_name() or user.get_username()
    if outcome == Decision.Outcome.REJECT:
        request_transition(change_request=change_request, to_state=State.REJECTED, user=user,
                           reason=f"rejected by {name}: {comment}")
        notify.request_decided(change_request, decision)
        return decision
    status = approval_status(change_request, routing_row)
    if status.satisfied:
        names = ", ".join(d.approver.get_full_name() or d.approver.get_username()
                          for d in status.approvals if d.approver_id)
        reason = f"approved by {names}" + (f": {comment}" if comment else "")
        _approve(change_request, revision, user=user, reason=reason)
        notify.request_decided(change_request, decision)
    return decision


# --- after the push -----------------------------------------------------------------


def latest_push(change_request: ChangeRequest) -> Push | None:
    return change_request.pushes.order_by("-created_at", "-id").first()


@transaction.atomic
def push_retry(*, change_request: ChangeRequest, user) -> Push:
    """A failed push, sent again (by its requester, an approver or a manager)."""
    change_request = _lock(change_request)
    is_requester = (change_request.requester_id == getattr(user, "pk", None)
                    and _membership(user, change_request.company_id, {"accountant"}) is not None)
    if not is_requester and _membership(user, change_request.company_id, DECIDE_ROLES) is None:
        raise DecisionRefused("not_allowed", _("Only the requester, an approver or a manager can retry."))
    if change_request.state != State.FAILED:
        raise DecisionRefused("not_failed", _("Only a failed push can be retried."))
    # Locks go request first, push second, everywhere (see approvals.push._lock).
    push = Push.objects.select_for_update().filter(change_request=change_request).order_by("-created_at", "-id").first()
    if push is None or push.state != Push.State.FAILED:
        raise DecisionRefused("not_failed", _("Only a failed push can be retried."))
    name = user.get_full_name() or user.get_username()
    request_transition(change_request=change_request, to_state=State.APPROVED, user=user,
                       reason=f"push retried by {name}")
    push.state = Push.State.QUEUED
    push.max_attempts = push.attempts + push_service.max_attempts()
    push.finished_at = None
    push.next_attempt_at = None
    push.queued_at = timezone.now()
    push._change_reason = f"retried by {name}"
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
        raise DecisionRefused("not_conflict", _("Only a request in conflict can be re-based here."))
    try:
        rebased = request_rebase(change_request=change_request, user=user)
        submitted = request_submit(change_request=rebased, user=user)
    except RequestRefused as refused:
        raise DecisionRefused(refused.codes[0] if refused.codes else "refused", str(refused)) from None
    request_submitted(change_request=submitted)
    return submitted


@transaction.atomic
def conflict_cancel(*, change_request: ChangeRequest, user, comment: str = "") -> ChangeRequest:
    try:
        return request_cancel(change_request=change_request, user=user, comment=comment)
    except RequestRefused as refused:
        raise DecisionRefused(refused.codes[0] if refused.codes else "refused", str(refused)) from None


# --- policies -----------------------------------------------------------------------


def _require_manager(user, company: Company) -> None:
    if _membership(user, company.pk, MANAGE_ROLES) is None:
        raise DecisionRefused("not_allowed", _("Only the company's managers can change approval policies."))


@transaction.atomic
def policies_ensure_defaults(*, company: Company) -> bool:
    """The default policies, created with the company (a manager who deletes them all keeps none).

    The system creates them, whoever's request or command created the company: their history
    names no user.
    """
    if ApprovalSettings.objects.filter(company=company).exists():
        return False
    settings_row = ApprovalSettings(company_id=company.pk)  # not cached on the caller's company
    settings_row._history_user, settings_row._change_reason = None, "default settings"
    settings_row.save()
    if RoutingPolicy.objects.filter(company=company).exists():
        return False
    for values in routing.default_policies(company.currency):
        policy = RoutingPolicy(company=company, **values)
        policy._history_user, policy._change_reason = None, "default policy"
        policy.save()
    return True


def _decimal(value, label: str, *, allow_none: bool = True, maximum: Decimal | None = None) -> Decimal | None:
    if value in (None, ""):
        if allow_none:
            return None
        raise DecisionRefused("required", _("%(field)s is required.") % {"field": label})
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise DecisionRefused("invalid_number", _("%(field)s must be a number.") % {"field": label}) from None
    if not number.is_finite() or number < 0 or (maximum is not None and number > maximum) or number >= Decimal("1e17"):
        raise DecisionRefused("out_of_range", _("%(field)s is out of range.") % {"field": label})
    return number


@transaction.atomic
def policy_save(*, company: Company, user, name: str, approvals_required: int, manager_required: bool = False,
                kind: str = "", changes: str = "", min_impact=None, requested_by_id: int | None = None,
                position: int = 100, is_active: bool = True, policy: RoutingPolicy | None = None) -> RoutingPolicy:
    _require_manager(user, company)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise DecisionRefused("name_required", _("Give the policy a name of at most 120 characters."))
    if kind not in ("", *ChangeRequest.Kind.values):
        raise DecisionRefused("invalid_kind", _("Unknown kind of change."))
    if changes not in RoutingPolicy.Changes.values:
        raise DecisionRefused("invalid_changes", _("Unknown kind of change."))
    try:
        approvals_required = int(approvals_required)
        position = int(position)
    except (TypeError, ValueError):
        raise DecisionRefused("invalid_number", _("Approvals and position must be whole numbers.")) from None
    if not 1 <= approvals_required <= 5:
        raise DecisionRefused("out_of_range", _("A policy asks for 1 to 5 approvals."))
    if not 0 <= position <= 32767:
        raise DecisionRefused("out_of_range", _("The position must be between 0 and 32767."))
    if requested_by_id and not Membership.objects.filter(company=company, user_id=requested_by_id).exists():
        raise DecisionRefused("unknown_user", _("That person is not a member of the company."))
    if policy is not None and policy.company_id != company.pk:
        raise DecisionRefused("not_found", _("No such policy."))
    if RoutingPolicy.objects.filter(company=company, name=name).exclude(pk=getattr(policy, "pk", None)).exists():
        raise DecisionRefused("duplicate_name", _("Another policy already has that name."))
    policy = policy or RoutingPolicy(company=company)
    policy.name, policy.kind, policy.changes = name, kind, changes
    policy.min_impact = _decimal(min_impact, _("Impact above"))
    policy.requested_by_id = requested_by_id or None
    policy.approvals_required, policy.manager_required = approvals_required, bool(manager_required)
    policy.position, policy.is_active = position, bool(is_active)
    policy._history_user = user
    policy._change_reason = "policy saved"
    policy.save()
    return policy


@transaction.atomic
def policy_delete(*, policy: RoutingPolicy, user) -> None:
    _require_manager(user, policy.company)
    policy._history_user = user
    policy._change_reason = "policy deleted"
    policy.delete()


@transaction.atomic
def auto_rule_save(*, company: Company, user, name: str, kind: str, is_active: bool = False,
                   max_discount_percent=None, max_impact=None,
                   rule: AutoApprovalRule | None = None) -> AutoApprovalRule:
    _require_manager(user, company)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise DecisionRefused("name_required", _("Give the rule a name of at most 120 characters."))
    if kind not in AutoApprovalRule.Kind.values:
        raise DecisionRefused("invalid_kind", _("Unknown kind of rule."))
    if rule is not None and rule.company_id != company.pk:
        raise DecisionRefused("not_found", _("No such rule."))
    discount = _decimal(max_discount_percent, _("Discount up to (%)"), maximum=Decimal(100))
    impact = _decimal(max_impact, _("Impact up to"))
    if kind == AutoApprovalRule.Kind.SMALL_DISCOUNT and (discount is None or impact is None):
        raise DecisionRefused("limits_required", _(
            "A discount rule needs both limits: the highest discount and the highest impact."))
    if AutoApprovalRule.objects.filter(company=company, name=name).exclude(pk=getattr(rule, "pk", None)).exists():
        raise DecisionRefused("duplicate_name", _("Another rule already has that name."))
    rule = rule or AutoApprovalRule(company=company)
    rule.name, rule.kind, rule.is_active = name, kind, bool(is_active)
    rule.max_discount_percent, rule.max_impact = discount, impact
    rule._history_user = user
    rule._change_reason = "rule saved"
    rule.save()
    return rule


@transaction.atomic
def auto_rule_delete(*, rule: AutoApprovalRule, user) -> None:
    _require_manager(user, rule.company)
    if rule.decisions.exists():
        # Decisions name the rule that made them: keep it, switched off.
        rule.is_active = False
        rule._history_user = user
        rule._change_reason = "rule switched off (it has decisions)"
        rule.save()
        return
    rule._history_user = user
    rule._change_reason = "rule deleted"
    rule.delete()


@transaction.atomic
def approval_settings_save(*, company: Company, user, remind_after_hours) -> ApprovalSettings:
    _require_manager(user, company)
    try:
        hours = int(str(remind_after_hours).strip())
    except (TypeError, ValueError):
        raise DecisionRefused("invalid_number", _("The reminder limit must be a whole number of hours.")) from None
    if not 1 <= hours <= 24 * 60:
        raise DecisionRefused("out_of_range", _("The reminder limit must be between 1 and 1440 hours."))
    settings_row, _created = ApprovalSettings.objects.get_or_create(company=company)
    settings_row.remind_after_hours = hours
    settings_row._history_user = user
    settings_row._change_reason = "settings saved"
    settings_row.save()
    return settings_row
