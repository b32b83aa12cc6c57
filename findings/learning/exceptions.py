"""Learned exceptions: the narrowest scope that explains a dismissal, and what it silences.

A scope is the finding's kind, its client (and item, for line findings) and the accepted value:
a price a client negotiated silences that client's later invoices of the item at about that
price, not a price ten times it; an exemption from tax at 0 % silences 0 %, not 5 %; a standing
discount of 12 % silences discounts up to 12 %. An exception never reaches another kind of finding:
a client's negotiated price does not silence a tax error on the same line.

Kinds with no scope narrower than the single invoice (a number used twice, a due date before the
invoice's date, an empty invoice) teach nothing: the dismissal answers that finding alone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

PRICE_WITHIN = Decimal("0.02")  # a negotiated price rounded differently is still that price
QUANTITY_MARGIN = Decimal("1.10")  # an order accepted as large covers orders up to 10 % larger
DAYS_WITHIN = 2  # a due date moved off a weekend is still the same terms
# kind → (the evidence key holding the accepted value, whether the scope names the item)
LEARNABLE: dict[str, tuple[str, bool]] = {
    "price": ("price", True), "tax": ("tax", True), "quantity": ("quantity", True),
    "discount": ("discount", False), "due_terms": ("days", False), "duplicate_lines": ("total", False),
    "missing_identification": ("identification", False),
}


def number(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        found = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return found if found.is_finite() else None


def scope_of(kind: str, client: str, item: str, evidence: Mapping) -> dict | None:
    """The scope a dismissal of this finding teaches, or None when it teaches nothing."""
    if kind not in LEARNABLE or not client:
        return None
    key, needs_item = LEARNABLE[kind]
    if needs_item and not item:
        return None
    value = evidence.get(key)
    if key == "identification":
        return {key: str(value or "")}
    if number(value) is None:
        return None
    return {key: str(value)}


def covers(kind: str, scope: Mapping, evidence: Mapping) -> bool:
    """Whether an exception of this kind and scope explains a finding with this evidence
    (client and item already agree)."""
    key, _needs_item = LEARNABLE.get(kind, ("", False))
    if not key:
        return False
    if key == "identification":
        return str(evidence.get(key) or "") == scope.get(key, "")
    accepted, seen = number(scope.get(key)), number(evidence.get(key))
    if accepted is None or seen is None:
        return False
    if kind == "price":
        return accepted > 0 and abs(seen - accepted) <= accepted * PRICE_WITHIN
    if kind == "quantity":
        return seen <= accepted * QUANTITY_MARGIN
    if kind == "discount":
        return seen <= accepted
    if kind == "due_terms":
        return abs(seen - accepted) <= DAYS_WITHIN
    return seen == accepted  # tax rate, a repeated order's total


@dataclass(frozen=True)
class Rule:
    """An active exception as the scan reads it."""

    pk: int
    kind: str
    client: str
    item: str
    scope: Mapping
    taught_at: object = None  # when it was learned (a datetime), for the words on a finding


class Index:
    """The company's active exceptions by (kind, client), for the scan's one pass over drafts."""

    def __init__(self, rules: Iterable[Rule]):
        self._by_scope: dict[tuple[str, str], list[Rule]] = defaultdict(list)
        for rule in sorted(rules, key=lambda r: r.pk):
            self._by_scope[(rule.kind, rule.client)].append(rule)

    def __bool__(self) -> bool:
        return bool(self._by_scope)

    def match(self, kind: str, client: str, item: str, evidence: Mapping) -> Rule | None:
        """The oldest active exception that explains the finding, if any."""
        for rule in self._by_scope.get((kind, client), ()):
            if (not rule.item or rule.item == item) and covers(kind, rule.scope, evidence):
                return rule
        return None

    def near(self, kind: str, client: str, item: str) -> list[Rule]:
        """Exceptions of the same kind and scope that did not explain it: the learning a raised
        finding went against."""
        return [rule for rule in self._by_scope.get((kind, client), ()) if not rule.item or rule.item == item]


def index_of(company_id: int, clients: Iterable[str] | None = None) -> Index:
    """The company's active exceptions (only those of `clients`, when named: every exception
    names its client, so a scan of a few invoices reads no one else's)."""
    from ..models import LearnedException

    rows = LearnedException.objects.filter(company_id=company_id, revoked_at__isnull=True)
    if clients is not None:
        rows = rows.filter(client_alegra_id__in=set(clients))
    rows = rows.values_list("pk", "kind", "client_alegra_id", "item_alegra_id", "scope", "taught_at")
    return Index(Rule(pk, kind, client, item, scope or {}, at) for pk, kind, client, item, scope, at in rows)
