"""The incremental scan: the invoices that changed, and what their change reaches.

Facts of the changed invoices are replaced. A line's neighbourhood is the K sales of the item to
the client either side of it, so a line added or removed reaches the K lines either side; those
are recomputed from a slice of 2K either side (what their own windows need). The same holds for
the client's invoices. Twins and shared numbers are small groups, read whole. The item's monthly
prices and the client's tax habits are count tables updated by the change; the lines judged
against a median or a habit that moved are recomputed too. Only invoices whose facts moved are
judged again, and their findings reconciled.
"""

from __future__ import annotations

import operator
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from . import derive, store, windows
from .facts import INVOICE_DERIVED, LINE_DERIVED, InvoiceRow, LineRow
from .models import ClientTaxHabit, PriceMonth
from .reconcile import reconcile
from .scan import LazyCatalogue, ScanResult, gone_from, judge, lock, result


@dataclass
class Change:
    """The changed invoices' facts before and after."""

    old_lines: list[LineRow]
    old_invoices: list[InvoiceRow]
    new_lines: list[LineRow]
    new_invoices: list[InvoiceRow]

    def month_delta(self) -> dict:
        delta = derive.month_counts(self.old_lines, -1)
        derive.month_counts(self.new_lines, 1, into=delta)
        return {key: counts for key, counts in delta.items() if any(counts.values())}

    def habit_delta(self) -> dict:
        delta = derive.habit_counts(self.old_lines, -1)
        derive.habit_counts(self.new_lines, 1, into=delta)
        return {key: counts for key, counts in delta.items() if any(counts.values())}


MONTH_KEY = ("item", "price_list", "month")  # a PriceMonth row's key
HABIT_KEY = ("client",)  # a ClientTaxHabit row's key


class Pool:
    """Stored facts being recomputed, one object per row whichever query brought it, with the
    derived fields as stored (to write back only the rows that moved)."""

    def __init__(self, names: list[str]):
        self.derived = operator.attrgetter(*names)  # one C call per row, not a generator
        self.rows, self.before = {}, {}

    def add(self, found: Iterable[tuple[object, object]]) -> list:
        kept = []
        for key, row in found:
            if key not in self.rows:
                self.rows[key], self.before[key] = row, self.derived(row)
            kept.append(self.rows[key])
        return kept

    def moved(self) -> list[tuple[object, object]]:
        return [(key, row) for key, row in self.rows.items()
                if self.derived(row) != self.before[key]]


@transaction.atomic
def scan_changed(*, company_id: int, invoice_ids: Iterable[int]) -> ScanResult:
    started = time.monotonic()
    changed = sorted(set(invoice_ids))
    state = lock(company_id)
    old_lines, old_invoices = store.take_facts(company_id, changed)
    new_invoices, new_lines = store.changed_invoices(company_id, changed)
    change = Change(old_lines, old_invoices, new_lines, new_invoices)

    moved_lines = _lines_again(company_id, change)
    moved_invoices, reached = _invoices_again(company_id, change)
    store.insert_invoices(company_id, new_invoices)
    store.insert_lines(company_id, new_lines)

    judged_ids = set(changed) | {line.invoice_id for line in moved_lines} | moved_invoices | reached
    known = {invoice.invoice_id: invoice for invoice in new_invoices}
    others = [pk for pk in judged_ids if pk not in known]
    judged = new_invoices + (store.invoice_rows(company_id=company_id, invoice_id__in=others) if others else [])
    own_lines: dict[int, list[LineRow]] = defaultdict(list)
    for line in new_lines:
        own_lines[line.invoice_id].append(line)
    if others:
        for _pk, line in store.line_rows(company_id=company_id, invoice_id__in=others):
            own_lines[line.invoice_id].append(line)
    related = {invoice.invoice_id: invoice for invoice in judged}
    missing = [pk for i in judged for pk in (i.twin_of, i.number_of) if pk is not None and pk not in related]
    if missing:
        related.update({i.invoice_id: i for i in store.invoice_rows(invoice_id__in=missing)})
    drafts = list(judge(judged, own_lines, related, LazyCatalogue(company_id)))
    gone = gone_from(company_id, changed) if len(new_invoices) < len(changed) else {}
    outcome = reconcile(company_id, drafts, invoice_ids=judged_ids, gone=gone)
    return result(state, company_id, started, len(judged), outcome, full=False)


# --- lines ----------------------------------------------------------------------------------


def _lines_again(company_id: int, change: Change) -> list[LineRow]:
    """Recompute the line facts the change reaches; store those that moved; return them."""
    k = windows.LINE_NEIGHBOURS
    inserted = defaultdict(list)
    removed = defaultdict(list)
    for line in change.new_lines:
        inserted[(line.client, line.item)].append(line.rank)
    for line in change.old_lines:
        removed[(line.client, line.item)].append(line.rank)
    anchors = [(c, i, r) for (c, i), ranks in list(inserted.items()) + list(removed.items()) for r in ranks]
    pool = Pool(LINE_DERIVED)
    stored = pool.add(store.line_slices(company_id, anchors, 2 * k))
    in_memory = stored + change.new_lines
    for key, group in derive.line_groups(in_memory).items():
        ranks = [line.rank for line in group]
        windows.line_windows(group, windows.reached(ranks, inserted.get(key, ()), removed.get(key, ()), k))
    _months_again(company_id, change.month_delta(), in_memory, pool)
    _habits_again(company_id, change.habit_delta(), in_memory, pool)
    moved = pool.moved()
    store.update_lines(moved)
    return [row for _pk, row in moved]


def _months_again(company_id: int, delta: dict, in_memory: list[LineRow], pool: Pool) -> None:
    """Apply the change to the monthly price counts; then the company reference of the lines in
    memory, and of every thin-history line judged against a month window whose median moved."""
    centers = {(i, p, c) for i, p, m in delta for c in windows.month_window(m)}
    looked_at = centers | {derive.month_key(line) for line in in_memory if line.near_n < 2}
    needed = {(i, p, m) for i, p, c in looked_at for m in windows.month_window(c)}
    stored = {}
    if needed:
        stored = store.counts_read(PriceMonth, company_id, MONTH_KEY, item__in={k[0] for k in needed},
                                   price_list__in={k[1] for k in needed}, month__in={k[2] for k in needed})
    counts = {key: counts for key, (_pk, counts) in stored.items()}
    medians_before = {c: derive.month_median(counts, *c) for c in centers}
    for key, change in delta.items():
        after = Counter(counts.get(key, {}))
        after.update(change)
        counts[key] = Counter({price: n for price, n in after.items() if n > 0})
    store.counts_write(PriceMonth, company_id, MONTH_KEY, stored, {key: counts[key] for key in delta})
    derive.company_refs(in_memory, counts)
    moved = [c for c in centers if derive.month_median(counts, *c) != medians_before[c]]
    if moved:
        derive.company_refs(pool.add(store.line_rows(
            [{"item": item, "price_list": price_list, "date__gte": month, "date__lt": windows.month_window(month)[2]}
             for item, price_list, month in moved], company_id=company_id, near_n__lt=2)), counts)


def _habits_again(company_id: int, delta: dict, in_memory: list[LineRow], pool: Pool) -> None:
    """Apply the change to the clients' tax habit counts; then the habit of the lines in memory,
    and of every line of a client whose habit for a catalogue tax moved."""
    clients = {line.client for line in in_memory} | set(delta)
    stored = store.counts_read(ClientTaxHabit, company_id, HABIT_KEY, client__in=clients)
    counts = {client: counts for (client,), (_pk, counts) in stored.items()}
    queries = []
    for client, change in delta.items():
        before = counts.get(client, Counter())
        after = Counter(before)
        after.update(change)
        counts[client] = after = Counter({key: n for key, n in after.items() if n > 0})
        for name in {key.split(">")[0] for key in set(before) | set(after)}:
            value = Decimal(name)
            if windows.tax_habit(before, value) != windows.tax_habit(after, value):
                queries.append({"client": client, "catalogue_tax": value})
        if windows.exempt_everywhere(before) != windows.exempt_everywhere(after):
            queries.append({"client": client, "tax": 0})
    store.counts_write(ClientTaxHabit, company_id, HABIT_KEY, stored, {(client,): counts[client] for client in delta})
    derive.habits(in_memory, counts)
    if queries:
        derive.habits(pool.add(store.line_rows(queries, company_id=company_id)), counts)


# --- invoices -------------------------------------------------------------------------------


def _invoices_again(company_id: int, change: Change) -> tuple[set[int], set[int]]:
    """Recompute the invoice facts the change reaches (neighbourhoods among the client's invoices,
    twins, first users of a number); store those that moved. Returns the ids that moved, and
    the ids of every invoice sharing a number or a twin group with a changed one (its evidence
    names the other)."""
    k = windows.INVOICE_NEIGHBOURS
    both = change.old_invoices + change.new_invoices
    pool = Pool(INVOICE_DERIVED)
    pool.add((row.invoice_id, row) for row in store.invoice_slices(
        company_id, [(row.client, row.rank) for row in both], 2 * k))
    signatures = {(row.client, row.signature) for row in both if row.signature}
    numbers = {row.number for row in both if row.number}
    queries = [{"client": c, "signature": s} for c, s in signatures] + ([{"number__in": numbers}] if numbers else [])
    if queries:
        pool.add((row.invoice_id, row) for row in store.invoice_rows(queries, company_id=company_id))
    everyone = list(pool.rows.values()) + change.new_invoices
    inserted, removed = defaultdict(list), defaultdict(list)
    for row in change.new_invoices:
        inserted[row.client].append(row.rank)
    for row in change.old_invoices:
        removed[row.client].append(row.rank)
    by_client, by_signature, by_number = defaultdict(list), defaultdict(list), defaultdict(list)
    for row in everyone:
        by_client[row.client].append(row)
        if (row.client, row.signature) in signatures:
            by_signature[(row.client, row.signature)].append(row)
        if row.number in numbers:
            by_number[row.number].append(row)
    for client in set(inserted) | set(removed):
        group = sorted(by_client[client], key=lambda row: row.rank)
        ranks = [row.rank for row in group]
        windows.invoice_windows(group, windows.reached(ranks, inserted[client], removed[client], k))
    for group in by_signature.values():
        windows.twins(sorted(group, key=lambda row: row.rank))
    for group in by_number.values():
        windows.same_numbers(sorted(group, key=lambda row: row.rank))
    moved = pool.moved()
    store.update_invoices([row for _pk, row in moved])
    reached = {row.invoice_id for group in list(by_signature.values()) + list(by_number.values()) for row in group}
    return {pk for pk, _row in moved}, reached
