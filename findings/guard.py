"""The six rules of the Alegra team's "invoice anomaly guard" (an n8n workflow), as the baseline
the benchmark compares the detectors with. Not the product's rules: no finding comes from here.

Each invoice is checked on its own against fixed thresholds, as the workflow does for every new
invoice; the only history it reads is the client's earlier invoices (for a plain mean).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

DISCOUNT_LIMIT = Decimal(20)
AVERAGE_FACTOR = Decimal(3)
EARLIER_NEEDED = 3
NEW_CLIENT_LIMIT = Decimal(5_000_000)
RULES = ("no_identification", "discount_over_20", "three_times_average", "new_client_over_5m",
         "no_items_or_zero", "due_before_date")


@dataclass(frozen=True)
class GuardInvoice:
    invoice_id: int
    client: str
    rank: str  # date|id: the order the workflow would have seen them in
    identification: str
    total: Decimal
    line_count: int
    max_discount: Decimal
    date: str
    due_date: str | None


def rules_for(invoice: GuardInvoice, earlier_totals: list[Decimal]) -> list[str]:
    found = []
    if not invoice.identification.strip():
        found.append("no_identification")
    if invoice.max_discount > DISCOUNT_LIMIT:
        found.append("discount_over_20")
    if len(earlier_totals) >= EARLIER_NEEDED:
        average = sum(earlier_totals) / len(earlier_totals)
        if average > 0 and invoice.total >= AVERAGE_FACTOR * average:
            found.append("three_times_average")
    if not earlier_totals and invoice.total > NEW_CLIENT_LIMIT:
        found.append("new_client_over_5m")
    if invoice.line_count == 0 or invoice.total == 0:
        found.append("no_items_or_zero")
    if invoice.due_date and invoice.due_date < invoice.date:
        found.append("due_before_date")
    return found


def guard_scan(invoices: Iterable[GuardInvoice]) -> dict[int, list[str]]:
    """invoice id → the rules it breaks (only invoices breaking at least one)."""
    by_client: dict[str, list[GuardInvoice]] = defaultdict(list)
    for invoice in invoices:
        by_client[invoice.client].append(invoice)
    flagged = {}
    for group in by_client.values():
        group.sort(key=lambda i: i.rank)
        totals: list[Decimal] = []
        for invoice in group:
            rules = rules_for(invoice, totals)
            if rules:
                flagged[invoice.invoice_id] = rules
            totals.append(invoice.total)
    return flagged
