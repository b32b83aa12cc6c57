"""Which approvals a change request needs, and whether the system may approve it alone.

Pure decisions over a request and a company's policies; the services in
`approvals.services.decisions` store what is decided here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from functools import lru_cache

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from invoices import arithmetic, diff
from portal import events

from .models import AutoApprovalRule, ChangeRequest, RoutingPolicy

NOTE_FIELDS = frozenset({"observations", "anotation", "termsConditions"})
DATE_FIELDS = frozenset({"date", "dueDate"})
# Contact keys Alegra fills in by itself; a difference there is not a change someone made.
CONTACT_IGNORED = frozenset({"id", "status", "internalContacts"})

# Out-of-the-box thresholds per currency: (two approvers above, a manager above).
DEFAULT_THRESHOLDS = {
    "COP": (Decimal("5000000"), Decimal("20000000")),
    "MXN": (Decimal("25000"), Decimal("100000")),
    "CRC": (Decimal("750000"), Decimal("3000000")),
    "PEN": (Decimal("5000"), Decimal("20000")),
    "ARS": (Decimal("1500000"), Decimal("6000000")),
}
FALLBACK_THRESHOLDS = (Decimal("1500"), Decimal("6000"))


@dataclass(frozen=True)
class Route:
    policy: RoutingPolicy | None
    approvals_required: int
    manager_required: bool
    reason: str
    impact: Decimal

    @property
    def policy_name(self) -> str:
        """As stored: a default policy's name is its English message id, told on display."""
        return self.policy.name if self.policy else BUILT_IN_DEFAULT


# The system's names: stored in English (their message id), shown in the reader's language by
# `policy_label`, which also knows them in every language of the portal (older rows were
# stored in the language of whoever created the company).
BUILT_IN_DEFAULT = gettext_noop("Built-in default")
DEFAULT_NAMES = (gettext_noop("Every change"), gettext_noop("Large amounts"), gettext_noop("Very large amounts"),
                 gettext_noop("Credit notes"), gettext_noop("Client changes"), gettext_noop("Date changes"),
                 BUILT_IN_DEFAULT)


@lru_cache(maxsize=1)
def _default_names_by_spelling() -> dict[str, str]:
    spellings = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for msgid in DEFAULT_NAMES:
                spellings.setdefault(_(msgid), msgid)
    for msgid in DEFAULT_NAMES:
        spellings[msgid] = msgid
    return spellings


def policy_label(name: Any) -> str:
    """A policy's name for the reader: the system's own in their language, a manager's as typed."""
    text = "" if name is None else str(name)
    msgid = _default_names_by_spelling().get(text)
    return _(msgid) if msgid else text


# --- what a request changes -------------------------------------------------------


def money_impact(change_request: ChangeRequest) -> Decimal:
    """The absolute amount a request moves: the total's change, or a credit note's amount."""
    if change_request.kind == ChangeRequest.Kind.CONTACT:
        return Decimal(0)
    impact = abs(change_request.new_total - change_request.old_total)
    if change_request.kind == ChangeRequest.Kind.CREDIT_NOTE:
        credited = Decimal(0)
        for ref in (change_request.proposed_document or {}).get("invoices") or ():
            if isinstance(ref, Mapping):
                try:
                    credited += abs(arithmetic.to_decimal(ref.get("amount")))
                except (ValueError, TypeError):
                    continue
        impact = max(impact, credited)
    return impact


def _same(a: Any, b: Any) -> bool:
    return diff.normalise_header("_", a) == diff.normalise_header("_", b)


def contact_changed_fields(base: Mapping[str, Any], proposed: Mapping[str, Any]) -> set[str]:
    names = (set(base) | set(proposed)) - CONTACT_IGNORED
    return {name for name in names if not _same(base.get(name), proposed.get(name))}


def changed_fields(change_request: ChangeRequest) -> set[str]:
    base = change_request.base_document or {}
    proposed = change_request.proposed_document or {}
    if change_request.kind == ChangeRequest.Kind.CONTACT:
        return contact_changed_fields(base, proposed)
    if change_request.kind == ChangeRequest.Kind.CREDIT_NOTE:
        return {"credit_note"}
    return diff.changed_field_names(base, proposed)


# --- routing ------------------------------------------------------------------------


def policy_reasons(policy: RoutingPolicy, change_request: ChangeRequest, impact: Decimal,
                   changed: set[str]) -> list[dict] | None:
    """Why the policy applies (one condition each, as data), or None when it does not."""
    reasons: list[dict] = []
    if policy.kind:
        if change_request.kind != policy.kind:
            return None
        reasons.append({"is": "kind", "kind": change_request.kind})
    if policy.changes == RoutingPolicy.Changes.CLIENT:
        if "client" not in changed:
            return None
        reasons.append({"is": "client"})
    elif policy.changes == RoutingPolicy.Changes.DATE:
        if not changed & DATE_FIELDS:
            return None
        reasons.append({"is": "date"})
    elif policy.changes == RoutingPolicy.Changes.LINES:
        if not any(name.startswith("items.") for name in changed):
            return None
        reasons.append({"is": "lines"})
    if policy.min_impact is not None:
        if impact <= policy.min_impact:
            return None
        company = change_request.company
        reasons.append({"is": "impact", "impact": str(impact), "limit": str(policy.min_impact),
                        "currency": company.currency, "precision": company.decimal_precision,
                        "country": company.country})
    if policy.requested_by_id is not None:
        if change_request.requester_id != policy.requested_by_id:
            return None
        reasons.append({"is": "requester",
                        "name": policy.requested_by.get_full_name() or policy.requested_by.get_username()})
    if policy.origin:
        # "api" matches every request made through a token, an agent's included.
        made = change_request.origin
        if made != policy.origin and not (policy.origin == "api" and made == "agent"):
            return None
        reasons.append({"is": "origin", "origin": policy.origin, "token": change_request.via_token_name})
    return reasons


def _strictness(policy: RoutingPolicy) -> tuple:
    return (policy.approvals_required, policy.manager_required, -policy.position, -policy.pk)


def route(change_request: ChangeRequest, policies: Iterable[RoutingPolicy] | None = None) -> Route:
    """The strictest active policy the request matches; one approval when none does."""
    if policies is None:
        policies = RoutingPolicy.objects.filter(company_id=change_request.company_id, is_active=True
                                                ).select_related("requested_by")
    impact = money_impact(change_request)
    changed = changed_fields(change_request)
    best: tuple[RoutingPolicy, list[dict]] | None = None
    for policy in policies:
        if not policy.is_active:
            continue
        reasons = policy_reasons(policy, change_request, impact, changed)
        if reasons is not None and (best is None or _strictness(policy) > _strictness(best[0])):
            best = (policy, reasons)
    if best is None:
        return Route(None, 1, False, events.reason("route.none"), impact)
    policy, reasons = best
    reason = events.reason("route.policy", policy=policy.name, conditions=reasons,
                           approvals=policy.approvals_required, manager=policy.manager_required)
    return Route(policy, policy.approvals_required, policy.manager_required, reason, impact)


def default_policies(currency: str) -> list[dict]:
    """What a finance team would accept out of the box (named in English, told by `policy_label`)."""
    two, manager = DEFAULT_THRESHOLDS.get(currency.upper(), FALLBACK_THRESHOLDS)
    every, large, very_large, notes, clients, dates, _built_in = DEFAULT_NAMES
    return [
        {"name": every, "position": 100, "approvals_required": 1},
        {"name": large, "position": 20, "min_impact": two, "approvals_required": 2},
        {"name": very_large, "position": 10, "min_impact": manager,
         "approvals_required": 2, "manager_required": True},
        {"name": notes, "position": 30, "kind": ChangeRequest.Kind.CREDIT_NOTE,
         "approvals_required": 2},
        {"name": clients, "position": 40, "changes": RoutingPolicy.Changes.CLIENT,
         "approvals_required": 2},
        {"name": dates, "position": 50, "changes": RoutingPolicy.Changes.DATE,
         "approvals_required": 1, "manager_required": True},
    ]


# --- auto-approval ------------------------------------------------------------------


def _line_discounts(doc: Mapping[str, Any]) -> list[Decimal] | None:
    values = []
    for line in doc.get("items") or ():
        if not isinstance(line, Mapping):
            return None
        try:
            values.append(arithmetic.to_decimal(line.get("discount")))
        except (ValueError, TypeError):
            return None
    return values


def due_date_shift(change_request: ChangeRequest) -> int | None:
    """How many days the request moves the due date (either way), or None if unreadable."""
    import datetime

    try:
        before = datetime.date.fromisoformat(str((change_request.base_document or {}).get("dueDate"))[:10])
        after = datetime.date.fromisoformat(str((change_request.proposed_document or {}).get("dueDate"))[:10])
    except ValueError:
        return None
    return abs((after - before).days)


def rule_matches(rule: AutoApprovalRule, change_request: ChangeRequest, impact: Decimal | None = None,
                 changed: set[str] | None = None) -> bool:
    if not rule.is_active:
        return False
    impact = money_impact(change_request) if impact is None else impact
    changed = changed_fields(change_request) if changed is None else changed
    if not changed:
        return False
    kind = change_request.kind
    if rule.kind == AutoApprovalRule.Kind.NOTES_ONLY:
        return kind == ChangeRequest.Kind.UPDATE and changed <= NOTE_FIELDS
    if rule.kind == AutoApprovalRule.Kind.CONTACT_ADDRESS:
        return kind == ChangeRequest.Kind.CONTACT and changed <= {"address"}
    if rule.kind == AutoApprovalRule.Kind.FINDING_FIX:
        # Only what the system drafted under this rule, within its limit: never a person's request.
        return (change_request.origin_rule_id == rule.pk and rule.max_impact is not None
                and impact <= rule.max_impact and kind in (ChangeRequest.Kind.UPDATE, ChangeRequest.Kind.CREDIT_NOTE))
    if change_request.origin_rule_id is not None:
        return False
    if rule.kind == AutoApprovalRule.Kind.DUE_DATE:
        if kind != ChangeRequest.Kind.UPDATE or changed != {"dueDate"} or rule.max_days is None:
            return False
        moved = due_date_shift(change_request)
        return moved is not None and moved <= rule.max_days
    if rule.kind == AutoApprovalRule.Kind.SMALL_DISCOUNT:
        if kind != ChangeRequest.Kind.UPDATE or not changed <= {"items.discount"}:
            return False
        if rule.max_discount_percent is None or rule.max_impact is None or impact > rule.max_impact:
            return False
        discounts = _line_discounts(change_request.proposed_document or {})
        return discounts is not None and all(0 <= d <= rule.max_discount_percent for d in discounts)
    return False


def auto_rule_for(change_request: ChangeRequest,
                  rules: Iterable[AutoApprovalRule] | None = None) -> AutoApprovalRule | None:
    # An agent proposes; only people approve: no rule approves an agent's request by itself.
    if change_request.origin == ChangeRequest.Origin.AGENT:
        return None
    if rules is None:
        rules = AutoApprovalRule.objects.filter(company_id=change_request.company_id, is_active=True)
    impact = money_impact(change_request)
    changed = changed_fields(change_request)
    for rule in rules:
        if rule_matches(rule, change_request, impact, changed):
            return rule
    return None
