"""Auto-approval rules history suggests to a manager, with the evidence.

Decided requests (approved or rejected by people, newest first) fall into the buckets an
auto-approval rule can describe: only notes changed, only the client's address, only line
discounts, only the due date. A bucket whose approvals reach MIN_SUPPORT, below the smallest change
ever rejected in it (the days moved, the money), is proposed with the largest approved limit
("the last 30 requests that only moved the due date by ≤ 30 days were all approved"). Nothing is
created until a manager accepts it (services.proposal_accept), and never where a rule of that
kind is already active.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ..requests import AutoApprovalRule, ChangeRequest, Decision, routing
from .hints import DECIDED

LOOK_BACK = 500
MIN_SUPPORT = 10
NOTES = frozenset({"observations", "anotation", "termsConditions"})


@dataclass
class Proposal:
    kind: str  # an AutoApprovalRule.Kind
    count: int  # approved requests it covers
    requests: list[int] = field(default_factory=list)  # the newest of them, for the evidence
    max_days: int | None = None
    max_discount: Decimal | None = None
    max_impact: Decimal | None = None

    @property
    def key(self) -> str:
        return self.kind


def _discounts(document) -> list[Decimal]:
    found = []
    for line in (document or {}).get("items") or ():
        try:
            found.append(Decimal(str(line.get("discount") or 0)))
        except (ArithmeticError, AttributeError, ValueError):
            return [Decimal(100)]
    return found


def bucket(change_request: ChangeRequest) -> tuple[str, Decimal, dict] | None:
    """(rule kind, the size of the change, the limits it needs) for a request a rule could cover."""
    changed = routing.changed_fields(change_request)
    kind = change_request.kind
    impact = routing.money_impact(change_request)
    if not changed:
        return None
    if kind == ChangeRequest.Kind.UPDATE and changed <= NOTES:
        return AutoApprovalRule.Kind.NOTES_ONLY, Decimal(0), {}
    if kind == ChangeRequest.Kind.CONTACT and changed <= {"address"}:
        return AutoApprovalRule.Kind.CONTACT_ADDRESS, Decimal(0), {}
    if kind == ChangeRequest.Kind.UPDATE and changed <= {"items.discount"}:
        discount = max(_discounts(change_request.proposed_document), default=Decimal(0))
        return AutoApprovalRule.Kind.SMALL_DISCOUNT, impact, {"discount": discount, "impact": impact}
    if kind == ChangeRequest.Kind.UPDATE and changed == {"dueDate"}:
        days = routing.due_date_shift(change_request)
        return (AutoApprovalRule.Kind.DUE_DATE, Decimal(days), {"days": days}) if days is not None else None
    return None


def mine(decided: list[tuple[ChangeRequest, bool]]) -> list[Proposal]:
    """Proposals from (request, approved) pairs, newest first (pure: tested on built histories)."""
    by_kind: dict[str, list[tuple[int, bool, Decimal, dict]]] = {}
    for change_request, approved in decided:
        found = bucket(change_request)
        if found is not None:
            kind, size, limits = found
            by_kind.setdefault(kind, []).append((change_request.pk, approved, size, limits))
    proposals = []
    for kind, rows in by_kind.items():
        rejected = [size for _pk, approved, size, _l in rows if not approved]
        if kind in (AutoApprovalRule.Kind.NOTES_ONLY, AutoApprovalRule.Kind.CONTACT_ADDRESS) and rejected:
            continue  # no size to stay under: one rejection and people still want to look
        below = min(rejected) if rejected else None
        covered = [(pk, limits) for pk, approved, size, limits in rows if approved and (below is None or size < below)]
        if len(covered) < MIN_SUPPORT:
            continue
        proposal = Proposal(kind, len(covered), [pk for pk, _l in covered[:30]])
        if kind == AutoApprovalRule.Kind.DUE_DATE:
            proposal.max_days = max(limits["days"] for _pk, limits in covered)
        elif kind == AutoApprovalRule.Kind.SMALL_DISCOUNT:
            proposal.max_discount = max(limits["discount"] for _pk, limits in covered)
            proposal.max_impact = max(limits["impact"] for _pk, limits in covered)
        proposals.append(proposal)
    return sorted(proposals, key=lambda p: -p.count)


def proposals_for(company_id: int) -> list[Proposal]:
    """The proposals for a company, leaving out the kinds a rule is already active for."""
    rows = list(ChangeRequest.objects.filter(company_id=company_id,
                                             state__in=[*DECIDED["approved"], *DECIDED["rejected"]],
                                             origin_rule__isnull=True)
                .only("id", "kind", "state", "base_document", "proposed_document", "old_total", "new_total",
                      "company_id").order_by("-id")[:LOOK_BACK])
    by_rule = set(Decision.objects.filter(change_request__in=[r.pk for r in rows], auto_rule__isnull=False)
                  .values_list("change_request_id", flat=True))
    active = set(AutoApprovalRule.objects.filter(company_id=company_id, is_active=True).values_list("kind", flat=True))
    decided = [(r, r.state in DECIDED["approved"]) for r in rows if r.pk not in by_rule]
    return [p for p in mine(decided) if p.kind not in active]
