"""The derived fields of facts, computed over whatever groups are at hand: all of them in a full
scan, the groups a change touched in an incremental one. The same functions do both, which is
what makes the two scans agree."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal

from . import stats, windows
from .facts import InvoiceRow, LineRow

MonthKey = tuple  # (item, price list, first day of the month)


def line_groups(lines: Iterable[LineRow]) -> dict[tuple[str, str], list[LineRow]]:
    groups: dict[tuple[str, str], list[LineRow]] = defaultdict(list)
    for line in lines:
        groups[(line.client, line.item)].append(line)
    for group in groups.values():
        group.sort(key=lambda line: line.rank)
    return groups


def neighbourhoods(groups: Mapping[tuple[str, str], list[LineRow]]) -> None:
    for group in groups.values():
        windows.line_windows(group)


def month_key(line: LineRow) -> MonthKey:
    return (line.item, line.price_list, windows.month_start(line.date))


def month_counts(lines: Iterable[LineRow], sign: int = 1, into: dict | None = None) -> dict[MonthKey, Counter]:
    counts = into if into is not None else defaultdict(Counter)
    for line in lines:
        counts[month_key(line)][stats.number_text(line.price)] += sign
    return counts


def month_median(counts: Mapping[MonthKey, Mapping[str, int]], item: str, price_list: str, month) -> Decimal | None:
    median = stats.histogram_median(counts.get((item, price_list, m), {}) for m in windows.month_window(month))
    # As stored (six decimals), so that a fact read back equals the one computed.
    return None if median is None else stats.stored(median, 6)


def company_refs(lines: Iterable[LineRow], counts: Mapping[MonthKey, Mapping[str, int]]) -> None:
    """The company's median price of the item on the price list, for lines the client's own
    history cannot judge (fewer than two neighbours)."""
    for line in lines:
        line.company_ref = (month_median(counts, line.item, line.price_list, line.date)
                            if line.near_n < 2 else None)


def habit_counts(lines: Iterable[LineRow], sign: int = 1, into: dict | None = None) -> dict[str, Counter]:
    counts = into if into is not None else defaultdict(Counter)
    for line in lines:
        if line.catalogue_tax is not None:
            counts[line.client][windows.tax_key(line.catalogue_tax, line.tax)] += sign
    return counts


def habits(lines: Iterable[LineRow], counts: Mapping[str, Mapping[str, int]]) -> None:
    # A client's lines share a few catalogue taxes: each habit is worked out once (the charged
    # tax matters only as zero or not).
    known: dict[tuple, Decimal | None] = {}
    for line in lines:
        key = (line.client, line.catalogue_tax, line.tax == 0)
        if key not in known:
            known[key] = windows.tax_habit(counts.get(line.client, {}), line.catalogue_tax, line.tax)
        line.habit_tax = known[key]


def invoice_relations(invoices: Iterable[InvoiceRow], *, numbers: Iterable[InvoiceRow] | None = None) -> None:
    """Neighbourhoods and twins within each client; first users of each number (over `numbers`,
    which defaults to the same invoices)."""
    by_client: dict[str, list[InvoiceRow]] = defaultdict(list)
    for invoice in invoices:
        by_client[invoice.client].append(invoice)
    for group in by_client.values():
        group.sort(key=lambda invoice: invoice.rank)
        windows.invoice_windows(group)
        by_signature: dict[str, list[InvoiceRow]] = defaultdict(list)
        for invoice in group:
            by_signature[invoice.signature].append(invoice)
        for twins in by_signature.values():
            windows.twins(twins)
    by_number: dict[str, list[InvoiceRow]] = defaultdict(list)
    for invoice in (numbers if numbers is not None else [i for g in by_client.values() for i in g]):
        by_number[invoice.number].append(invoice)
    for group in by_number.values():
        group.sort(key=lambda invoice: invoice.rank)
        windows.same_numbers(group)
