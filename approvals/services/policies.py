"""Routing and auto-approval policies and the company's approval settings: managers' writes."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.text import capfirst

from portal import formats
from portal.access import MANAGE_ROLES
from portal.models import Company, Membership

from .. import events, routing
from ..errors import ApprovalError
from ..models import ApprovalSettings, AutoApprovalRule, ChangeRequest, RoutingPolicy


def _label(model, name: str):
    return capfirst(model._meta.get_field(name).verbose_name)


def _require_manager(user, company: Company) -> None:
    allowed = (user is not None and user.is_active
               and Membership.objects.filter(user=user, company=company, role__in=sorted(MANAGE_ROLES)).exists())
    if not allowed:
        raise ApprovalError("not_allowed", {"variant": "manage"})


@transaction.atomic
def policies_ensure_defaults(*, company: Company) -> bool:
    """The default policies, created with the company (a manager who deletes them all keeps none).

    The system creates them, whoever's request or command created the company: their history
    names no user.
    """
    if ApprovalSettings.objects.filter(company=company).exists():
        return False
    settings_row = ApprovalSettings(company_id=company.pk)  # not cached on the caller's company
    settings_row._history_user, settings_row._change_reason = None, events.reason("policy.default_settings")
    settings_row.save()
    if RoutingPolicy.objects.filter(company=company).exists():
        return False
    for values in routing.default_policies(company.currency):
        policy = RoutingPolicy(company=company, **values)
        policy._history_user, policy._change_reason = None, events.reason("policy.default")
        policy.save()
    return True


def _decimal(value, label: str, *, allow_none: bool = True, maximum: Decimal | None = None) -> Decimal | None:
    if value in (None, ""):
        if allow_none:
            return None
        raise ApprovalError("required", {"field": label})
    try:
        # As the company's country writes it ("1.500.000" in Colombia); a Decimal from a form as it is.
        number = value if isinstance(value, Decimal) else formats.parse_decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ApprovalError("invalid_number", {"variant": "field", "field": label}) from None
    if not number.is_finite() or number < 0 or (maximum is not None and number > maximum) or number >= Decimal("1e17"):
        raise ApprovalError("out_of_range", {"variant": "field", "field": label})
    return number


@transaction.atomic
def policy_save(*, company: Company, user, name: str, approvals_required: int, manager_required: bool = False,
                kind: str = "", changes: str = "", min_impact=None, requested_by_id: int | None = None,
                position: int = 100, is_active: bool = True, policy: RoutingPolicy | None = None,
                origin: str = "") -> RoutingPolicy:
    _require_manager(user, company)
    name = (name or "").strip()
    if policy is not None and name and name == routing.policy_label(policy.name):
        name = policy.name  # a default policy's name, as the form showed it in the reader's language
    if not name or len(name) > 120:
        raise ApprovalError("name_required", {"variant": "policy"})
    if kind not in ("", *ChangeRequest.Kind.values):
        raise ApprovalError("invalid_kind", {"variant": "change"})
    if changes not in RoutingPolicy.Changes.values:
        raise ApprovalError("invalid_changes")
    if origin not in ("", ChangeRequest.Origin.API, ChangeRequest.Origin.AGENT):
        raise ApprovalError("invalid_changes")
    try:
        approvals_required = int(approvals_required)
        position = int(position)
    except (TypeError, ValueError):
        raise ApprovalError("invalid_number", {"variant": "policy"}) from None
    if not 1 <= approvals_required <= 5:
        raise ApprovalError("out_of_range", {"variant": "approvals"})
    if not 0 <= position <= 32767:
        raise ApprovalError("out_of_range", {"variant": "position"})
    if requested_by_id and not Membership.objects.filter(company=company, user_id=requested_by_id).exists():
        raise ApprovalError("unknown_user")
    if policy is not None and policy.company_id != company.pk:
        raise ApprovalError("not_found", {"variant": "policy"})
    if RoutingPolicy.objects.filter(company=company, name=name).exclude(pk=getattr(policy, "pk", None)).exists():
        raise ApprovalError("duplicate_name", {"variant": "policy"})
    policy = policy or RoutingPolicy(company=company)
    policy.name, policy.kind, policy.changes = name, kind, changes
    policy.min_impact = _decimal(min_impact, _label(RoutingPolicy, "min_impact"))
    policy.requested_by_id = requested_by_id or None
    policy.origin = origin
    policy.approvals_required, policy.manager_required = approvals_required, bool(manager_required)
    policy.position, policy.is_active = position, bool(is_active)
    policy._history_user = user
    policy._change_reason = events.reason("policy.saved")
    policy.save()
    return policy


@transaction.atomic
def policy_delete(*, policy: RoutingPolicy, user) -> None:
    _require_manager(user, policy.company)
    policy._history_user = user
    policy._change_reason = events.reason("policy.deleted")
    policy.delete()


@transaction.atomic
def auto_rule_save(*, company: Company, user, name: str, kind: str, is_active: bool = False,
                   max_discount_percent=None, max_impact=None, max_days=None, finding_kind: str = "",
                   rule: AutoApprovalRule | None = None, reason: str | None = None) -> AutoApprovalRule:
    """Create or change an auto-approval rule. `reason` (a portal.events code) says where it came
    from when not typed by the manager (a rule proposed by history and accepted)."""
    _require_manager(user, company)
    name = (name or "").strip()
    if not name or len(name) > 120:
        raise ApprovalError("name_required", {"variant": "rule"})
    if kind not in AutoApprovalRule.Kind.values:
        raise ApprovalError("invalid_kind", {"variant": "rule"})
    if rule is not None and rule.company_id != company.pk:
        raise ApprovalError("not_found", {"variant": "rule"})
    discount = _decimal(max_discount_percent, _label(AutoApprovalRule, "max_discount_percent"), maximum=Decimal(100))
    impact = _decimal(max_impact, _label(AutoApprovalRule, "max_impact"))
    if kind == AutoApprovalRule.Kind.SMALL_DISCOUNT and (discount is None or impact is None):
        raise ApprovalError("limits_required")
    days = _decimal(max_days, _label(AutoApprovalRule, "max_days"), maximum=Decimal(3650))
    if kind == AutoApprovalRule.Kind.DUE_DATE and days is None:
        raise ApprovalError("limits_required", {"variant": "due_date"})
    finding_kind = (finding_kind or "").strip()[:30]
    if kind == AutoApprovalRule.Kind.FINDING_FIX and (impact is None or not finding_kind):
        raise ApprovalError("limits_required", {"variant": "finding_fix"})
    if AutoApprovalRule.objects.filter(company=company, name=name).exclude(pk=getattr(rule, "pk", None)).exists():
        raise ApprovalError("duplicate_name", {"variant": "rule"})
    rule = rule or AutoApprovalRule(company=company)
    rule.name, rule.kind, rule.is_active = name, kind, bool(is_active)
    rule.max_discount_percent, rule.max_impact = discount, impact
    rule.max_days = int(days) if days is not None else None
    rule.finding_kind = finding_kind if kind == AutoApprovalRule.Kind.FINDING_FIX else ""
    rule._history_user = user
    rule._change_reason = reason or events.reason("rule.saved")
    rule.save()
    return rule


@transaction.atomic
def auto_rule_delete(*, rule: AutoApprovalRule, user) -> None:
    _require_manager(user, rule.company)
    if rule.decisions.exists():
        # Decisions name the rule that made them: keep it, switched off.
        rule.is_active = False
        rule._history_user = user
        rule._change_reason = events.reason("rule.switched_off")
        rule.save()
        return
    rule._history_user = user
    rule._change_reason = events.reason("rule.deleted")
    rule.delete()


@transaction.atomic
def approval_settings_save(*, company: Company, user, remind_after_hours) -> ApprovalSettings:
    _require_manager(user, company)
    try:
        hours = int(str(remind_after_hours).strip())
    except (TypeError, ValueError):
        raise ApprovalError("invalid_number", {"variant": "hours"}) from None
    if not 1 <= hours <= 24 * 60:
        raise ApprovalError("out_of_range", {"variant": "hours"})
    settings_row, _created = ApprovalSettings.objects.get_or_create(company=company)
    settings_row.remind_after_hours = hours
    settings_row._history_user = user
    settings_row._change_reason = events.reason("settings.saved")
    settings_row.save()
    return settings_row
