"""Every write of learning: feedback, learned exceptions and their revocation, the manager's
threshold. Keyword-only, atomic, refusing with `FindingRefused` in the user's language."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import events, formats
from portal.models import Membership, Role

from ..errors import FindingRefused
from ..models import Feedback, Finding, LearnedException, LearningSettings
from . import exceptions

MAX_REASON = 2000
MAX_LIMIT = Decimal("1e15")  # a money limit past this is a typing slip, not a policy
WORK_ROLES = {Role.ACCOUNTANT, Role.MANAGER}
MANAGE_ROLES = {Role.MANAGER}


def member(user, company_id: int, roles) -> bool:
    return bool(user is not None and user.is_active and Membership.objects.filter(
        user=user, company_id=company_id, role__in=list(roles)).exists())


def clean_reason(reason: str | None, *, required: bool, message: str) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise FindingRefused(message)
    if len(reason) > MAX_REASON:
        raise FindingRefused(_("The reason can have at most %(max)s characters (it has %(length)s).")
                             % {"max": MAX_REASON, "length": len(reason)})
    return reason


def feedback_record(*, finding: Finding, user, verdict: str, reason: str = "") -> Feedback:
    """One person's word on one finding (called inside the dismissal or confirmation)."""
    return Feedback.objects.create(company_id=finding.company_id, finding=finding, kind=finding.kind,
                                   cause=finding.cause, verdict=verdict, user=user, reason=reason)


@transaction.atomic
def finding_confirm(*, finding: Finding, user, reason: str = "") -> Finding:
    """The accountant says the finding is right (a correction may come later, or elsewhere)."""
    if not member(user, finding.company_id, WORK_ROLES):
        raise FindingRefused(_("Only the company's accountants and managers can confirm findings."))
    reason = clean_reason(reason, required=False, message="")
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    if finding.state != Finding.State.OPEN:
        raise FindingRefused(_("This finding is %(state)s: only an open finding can be confirmed.")
                             % {"state": finding.get_state_display()})
    finding.state = Finding.State.CONFIRMED
    finding._change_reason = events.reason("finding.confirmed")
    finding._history_user = user
    finding.save()
    feedback_record(finding=finding, user=user, verdict=Feedback.Verdict.CONFIRM, reason=reason)
    return finding


def _item_name(finding: Finding) -> str:
    return str((finding.evidence or {}).get("item_name") or "")[:300]


def exception_learn(*, finding: Finding, user, reason: str) -> LearnedException | None:
    """What the dismissal of `finding` teaches, stored and applied at once to the company's open
    findings it explains; None when the kind teaches nothing beyond this one finding.

    Runs inside the dismissal's transaction (findings.services.finding_dismiss).
    """
    scope = exceptions.scope_of(finding.kind, finding.client_alegra_id, finding.item_alegra_id,
                                finding.evidence or {})
    if scope is None:
        return None
    _key, needs_item = exceptions.LEARNABLE[finding.kind]
    learned = LearnedException(
        company_id=finding.company_id, kind=finding.kind, client_alegra_id=finding.client_alegra_id,
        client_name=finding.client_name, item_alegra_id=finding.item_alegra_id if needs_item else "",
        item_name=_item_name(finding) if needs_item else "", scope=scope, taught_by=user, taught_at=timezone.now(),
        reason=reason, from_finding=finding, from_invoice_date=finding.invoice_date)
    learned._change_reason = events.reason("learning.learned", finding=finding.pk)
    learned._history_user = user
    learned.save()
    index = exceptions.Index([exceptions.Rule(learned.pk, learned.kind, learned.client_alegra_id,
                                              learned.item_alegra_id, learned.scope)])
    candidates = Finding.objects.filter(company_id=finding.company_id, kind=finding.kind,
                                        client_alegra_id=finding.client_alegra_id, state=Finding.State.OPEN)
    if learned.item_alegra_id:
        candidates = candidates.filter(item_alegra_id=learned.item_alegra_id)
    for other in candidates.exclude(pk=finding.pk).select_for_update():
        if index.match(other.kind, other.client_alegra_id, other.item_alegra_id, other.evidence or {}):
            other.state, other.silenced_by = Finding.State.SILENCED, learned
            other._change_reason = events.reason("finding.silenced", exception=learned.pk)
            other._history_user = user
            other.save()
    return learned


@transaction.atomic
def exception_revoke(*, exception: LearnedException, user, reason: str) -> int:
    """A manager undoes what was learned: the exception stops applying and every finding it keeps
    silenced comes back (or stays silenced by an older exception that explains it too).
    Returns how many findings came back."""
    if not member(user, exception.company_id, MANAGE_ROLES):
        raise FindingRefused(_("Only the company's managers can revoke what Enmienda has learned."))
    reason = clean_reason(reason, required=True, message=_("Say why it is revoked: a reason is required."))
    exception = LearnedException.objects.select_for_update().get(pk=exception.pk)
    if exception.revoked_at is not None:
        raise FindingRefused(_("This learned exception was already revoked."))
    silenced = list(Finding.objects.select_for_update().filter(silenced_by=exception))
    exception.revoked_by, exception.revoked_at, exception.revoke_reason = user, timezone.now(), reason
    exception.silenced_until_revoked = len(silenced)
    exception._change_reason = events.reason("learning.revoked", reason=reason)
    exception._history_user = user
    exception.save()
    others = exceptions.index_of(exception.company_id)
    came_back = 0
    for finding in silenced:
        if finding.state != Finding.State.SILENCED:
            continue  # resolved meanwhile: it stays resolved, and counts as silenced by this exception
        rule = others.match(finding.kind, finding.client_alegra_id, finding.item_alegra_id, finding.evidence or {})
        if rule is not None:
            finding.silenced_by_id = rule.pk
            finding._change_reason = events.reason("finding.silenced", exception=rule.pk)
        else:
            finding.state, finding.silenced_by = Finding.State.OPEN, None
            finding._change_reason = events.reason("finding.returned", exception=exception.pk)
            came_back += 1
        finding._history_user = user
        finding.save()
    return came_back


def parse_threshold(value) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise FindingRefused(_("Write the threshold as a number between 0 and 1 (for example 0.3).")) from None
    if not number.is_finite() or not Decimal(0) <= number <= Decimal(1):
        raise FindingRefused(_("Write the threshold as a number between 0 and 1 (for example 0.3)."))
    return number.quantize(Decimal("0.001"))


@transaction.atomic
def learning_settings_save(*, company_id: int, user, hide_below) -> LearningSettings:
    if not member(user, company_id, MANAGE_ROLES):
        raise FindingRefused(_("Only the company's managers can change how learning hides findings."))
    threshold = parse_threshold(hide_below)
    row = LearningSettings.objects.select_for_update().filter(company_id=company_id).first() \
        or LearningSettings(company_id=company_id)
    row.hide_below = threshold
    row._change_reason = events.reason("learning.threshold", threshold=str(threshold))
    row._history_user = user
    row.save()
    return row


def threshold_of(company_id: int) -> Decimal:
    found = LearningSettings.objects.filter(company_id=company_id).values_list("hide_below", flat=True).first()
    return found if found is not None else Decimal(0)


# --- rules: accepted from history, and finding fixes ------------------------------------------


def _manager_or_refuse(user, company_id: int, message: str) -> None:
    if not member(user, company_id, MANAGE_ROLES):
        raise FindingRefused(message)


@transaction.atomic
def proposal_accept(*, company, user, kind: str):
    """The manager's click on a rule history proposed: the rule is created, switched on, and its
    version says it was proposed by history (with the evidence) and approved by this manager."""
    from ..requests import RequestRefused, auto_rule_save
    from .proposals import proposals_for

    _manager_or_refuse(user, company.pk, _("Only the company's managers can create auto-approval rules."))
    found = next((p for p in proposals_for(company.pk) if p.kind == kind), None)
    if found is None:
        raise FindingRefused(_("History no longer proposes this rule."))
    from .presenters import proposal_name

    try:
        return auto_rule_save(company=company, user=user, name=proposal_name(found, company.country)[:120], kind=kind,
                              is_active=True, max_discount_percent=found.max_discount, max_impact=found.max_impact,
                              max_days=found.max_days,
                              reason=events.reason("rule.accepted_from_history", count=found.count, kind=kind,
                                                   requests=found.requests[:10]))
    except RequestRefused as exc:
        raise FindingRefused(str(exc)) from None


@transaction.atomic
def fix_rule_create(*, company, user, finding_kind: str, max_impact, name: str = ""):
    """A manager pre-approves the suggested fixes of one kind of finding, up to an impact."""
    from ..requests import AutoApprovalRule, RequestRefused, auto_rule_save
    from .autofix import AUTO_FIXABLE

    _manager_or_refuse(user, company.pk, _("Only the company's managers can pre-approve fixes."))
    if finding_kind not in AUTO_FIXABLE:
        raise FindingRefused(_("Fixes of this kind of finding cannot be applied by themselves."))
    max_impact = parse_limit(max_impact, company.country)  # the edit form's rule: one reading of a limit
    label = str(dict(Finding.Kind.choices)[finding_kind])
    name = (name or "").strip() or _("Fix “%(kind)s” findings by themselves") % {"kind": label}
    try:
        return auto_rule_save(company=company, user=user, name=name[:120], kind=AutoApprovalRule.Kind.FINDING_FIX,
                              is_active=True, max_impact=max_impact, finding_kind=finding_kind,
                              reason=events.reason("rule.finding_fix"))
    except RequestRefused as exc:
        raise FindingRefused(str(exc)) from None


@transaction.atomic
def fix_rule_switch_off(*, company, user, rule):
    from ..requests import AutoApprovalRule, RequestRefused, auto_rule_save

    _manager_or_refuse(user, company.pk, _("Only the company's managers can pre-approve fixes."))
    if rule.company_id != company.pk or rule.kind != AutoApprovalRule.Kind.FINDING_FIX:
        raise FindingRefused(_("No such rule."))
    # Read again under its lock: the copy the page loaded may predate another manager's edit,
    # which saving it back would undo.
    rule = AutoApprovalRule.objects.select_for_update().get(pk=rule.pk)
    if not rule.is_active:
        return rule  # already off: nothing to write
    try:
        return auto_rule_save(company=company, user=user, name=rule.name, kind=rule.kind, is_active=False,
                              max_impact=rule.max_impact, finding_kind=rule.finding_kind, rule=rule)
    except RequestRefused as exc:
        raise FindingRefused(str(exc)) from None


def parse_limit(value, country: str) -> Decimal:
    """A money limit as the company's country writes it ("50.000" in Colombia), to the cent, half-up."""
    try:
        number = value if isinstance(value, Decimal) else formats.parse_decimal(str(value), country)
    except (InvalidOperation, ValueError):
        raise FindingRefused(_("Write the limit as an amount of money (for example 50.000)."),
                             field="max_impact") from None
    if not number.is_finite() or number < 0:
        raise FindingRefused(_("The limit cannot be negative."), field="max_impact")
    if number >= MAX_LIMIT:
        raise FindingRefused(_("That limit is too large to be meant: write the largest impact a fix may have."),
                             field="max_impact")
    return number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


@transaction.atomic
def fix_rule_edit(*, company, user, rule, max_impact, is_active: bool):
    """A manager changes a finding-fix rule's money limit or switches it on or off. The version
    says what it was and what it is (a coded reason the audit trail shows). Nothing changed: no
    version is written."""
    from ..requests import AutoApprovalRule, RequestRefused, auto_rule_save

    _manager_or_refuse(user, company.pk, _("Only the company's managers can pre-approve fixes."))
    rule = AutoApprovalRule.objects.select_for_update().filter(pk=rule.pk).first()
    if rule is None or rule.company_id != company.pk or rule.kind != AutoApprovalRule.Kind.FINDING_FIX:
        raise FindingRefused(_("No such rule."))
    limit, is_active = parse_limit(max_impact, company.country), bool(is_active)
    if rule.max_impact == limit and rule.is_active == is_active:
        return rule
    reason = events.reason("learning.fix_rule_edited", limit=str(limit), active=is_active,
                           was_limit=str(rule.max_impact.quantize(Decimal("0.01"))), was_active=rule.is_active)
    try:
        return auto_rule_save(company=company, user=user, name=rule.name, kind=rule.kind, is_active=is_active,
                              max_impact=limit, finding_kind=rule.finding_kind, rule=rule, reason=reason)
    except RequestRefused as exc:
        raise FindingRefused(str(exc)) from None
