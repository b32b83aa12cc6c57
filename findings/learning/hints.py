"""What past change-request decisions say about a pending one: the approver's hint.

Similar requests are the company's decided ones (approved or rejected by people) of the same kind
that changed the same fields; the money each moved and who asked are compared with the request's.
The hint informs and never decides: it only counts and explains ("9 of the 10 similar requests
were approved; the rejected one had a larger impact").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Exists, F, OuterRef, Window
from django.db.models.functions import RowNumber

from ..requests import ChangeRequest, Decision, routing

LOOK_BACK = 300  # decided requests of the same kind read, newest first
SIMILAR = 10  # the newest similar ones the hint counts
IMPACT_FACTOR = Decimal(3)  # impacts within ×3 of each other are alike
DECIDED = {"approved": ("approved", "pushing", "applied", "conflict", "failed"), "rejected": ("rejected",)}


@dataclass
class Past:
    pk: int
    approved: bool
    impact: Decimal
    requester_id: int
    fields: frozenset


@dataclass
class Hint:
    similar: list[Past] = field(default_factory=list)
    impact: Decimal = Decimal(0)
    requester_id: int | None = None

    @property
    def approved(self) -> int:
        return sum(1 for p in self.similar if p.approved)

    @property
    def rejected(self) -> list[Past]:
        return [p for p in self.similar if not p.approved]

    def why_rejected(self) -> list[str]:
        """Codes of what sets the rejected ones apart from this request: "larger", "smaller",
        "other_requester" (empty if nothing does)."""
        rejected = self.rejected
        if not rejected:
            return []
        codes = []
        if all(p.impact > self.impact for p in rejected):
            codes.append("larger")
        elif all(p.impact < self.impact for p in rejected):
            codes.append("smaller")
        if all(p.requester_id != self.requester_id for p in rejected):
            codes.append("other_requester")
        return codes


def _alike(a: Decimal, b: Decimal) -> bool:
    if a == 0 or b == 0:
        return a == b
    big, small = max(a, b), min(a, b)
    return big <= small * IMPACT_FACTOR


def similar_to(target: Past, kind_history: list[Past]) -> list[Past]:
    """The newest decided requests that changed the same fields, preferring alike impacts:
    same fields and an alike impact first, then same fields (pure: tested on built histories)."""
    same = [p for p in kind_history if p.fields == target.fields and p.pk != target.pk]
    close = [p for p in same if _alike(p.impact, target.impact)]
    return (close if len(close) >= 3 else same)[:SIMILAR]


def _past(change_request: ChangeRequest, approved: bool) -> Past:
    return Past(change_request.pk, approved, routing.money_impact(change_request), change_request.requester_id,
                frozenset(routing.changed_fields(change_request)))


def hint_for(change_request: ChangeRequest) -> Hint:
    """The hint for a request, from the company's decided requests of its kind before it."""
    return hints_for([change_request])[change_request.pk]


def hints_for(requests: Sequence[ChangeRequest]) -> dict[int, Hint]:
    """The hints of many requests of one company (an inbox page) in one query, whatever their number.

    Each kind's history is its newest LOOK_BACK decided requests before the newest request asked
    about; each request counts those before it. For one request that is exactly its own history;
    on a page, a request that waited while more than LOOK_BACK others of its kind were decided is
    compared with the fewer of them that came before it.
    """
    targets = [r for r in requests if r.pk is not None]
    if not targets:
        return {}
    # Approved by a rule alone says nothing of what people decide.
    by_rule = Exists(Decision.objects.filter(change_request_id=OuterRef("pk"), auto_rule__isnull=False))
    rows = (ChangeRequest.objects.filter(company_id=targets[0].company_id, kind__in={r.kind for r in targets},
                                         state__in=[*DECIDED["approved"], *DECIDED["rejected"]],
                                         origin_rule__isnull=True, id__lt=max(r.pk for r in targets))
            .only("id", "kind", "state", "requester_id", "base_document", "proposed_document", "old_total",
                  "new_total", "company_id")
            .annotate(place=Window(RowNumber(), partition_by=[F("kind")], order_by=F("id").desc()),
                      by_rule=by_rule)
            .filter(place__lte=LOOK_BACK).order_by("-id"))
    history: dict[str, list[Past]] = {}
    for row in rows:
        if not row.by_rule:
            history.setdefault(row.kind, []).append(_past(row, row.state in DECIDED["approved"]))
    found = {}
    for change_request in targets:
        target = _past(change_request, False)
        before = [p for p in history.get(change_request.kind, []) if p.pk < change_request.pk]
        found[change_request.pk] = Hint(similar_to(target, before), target.impact, change_request.requester_id)
    return found


def inbox_notes(*, company_id: int, requests: Sequence[ChangeRequest]) -> dict[int, list[dict]]:
    """The compact hint on each row of the approvers' inbox ("9 of 10 similar approved"), with the
    full one as its title; nothing on a request no similar one was decided before."""
    from django.urls import reverse

    from .presenters import hint_short, hint_text

    notes = {}
    for pk, hint in hints_for([r for r in requests if r.company_id == company_id]).items():
        if hint.similar:
            notes[pk] = [{"text": hint_short(hint), "title": hint_text(hint),
                          "url": reverse("findings:request_hint", args=[company_id, pk])}]
    return notes
