"""The full rescan of a company, and what it shares with the incremental scan (`incremental`).

The full scan rebuilds every fact from the mirror and judges every invoice; the incremental one
recomputes only what a change reaches. Both end in `reconcile`, and a property test holds them
to the same findings. Scans of one company run one at a time (a row lock on its ScanState).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from invoices.models import Invoice

from . import derive, store
from .detectors import detect
from .facts import CatalogueItem, InvoiceRow, LineRow
from .models import OPEN_STATES, ClientTaxHabit, Finding, PriceMonth, ScanState
from .reconcile import Outcome, reconcile


@dataclass
class ScanResult:
    company_id: int
    invoices: int
    outcome: Outcome
    seconds: float


# company id → (catalogue version, items): this process's last read of each company's catalogue.
_CATALOGUES: dict[int, tuple[tuple, dict[str, CatalogueItem]]] = {}


class LazyCatalogue(Mapping):
    """The whole catalogue, read only if a detector asks (to name the item a price belongs to),
    and read again only when it changed: a company's thousands of items cost a webhook's scan
    more than everything else it does."""

    def __init__(self, company_id: int):
        self.company_id, self._items = company_id, None

    def _load(self) -> dict[str, CatalogueItem]:
        if self._items is None:
            version = store.catalogue_version(self.company_id)
            cached = _CATALOGUES.get(self.company_id)
            if cached is not None and cached[0] == version:
                self._items = cached[1]
            else:
                self._items = store.catalogue(self.company_id)
                _CATALOGUES[self.company_id] = (version, self._items)
        return self._items

    def __getitem__(self, key):
        return self._load()[key]

    def __iter__(self) -> Iterator:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


def lock(company_id: int) -> ScanState:
    try:
        return ScanState.objects.select_for_update().get(company_id=company_id)
    except ScanState.DoesNotExist:
        try:
            with transaction.atomic():
                ScanState.objects.create(company_id=company_id)
        except IntegrityError:
            pass  # created meanwhile by another scan
    return ScanState.objects.select_for_update().get(company_id=company_id)


def judge(invoices: Iterable[InvoiceRow], lines: Mapping[int, list[LineRow]], related: Mapping[int, InvoiceRow],
          catalogue: Mapping[str, CatalogueItem]):
    for invoice in invoices:
        own = sorted(lines.get(invoice.invoice_id, ()), key=lambda line: line.position)
        for draft in detect(invoice, own, catalogue, related):
            yield invoice, draft


def result(state: ScanState, company_id: int, started: float, judged: int, outcome: Outcome, *,
            full: bool) -> ScanResult:
    seconds = time.monotonic() - started
    if full:  # an incremental scan writes nothing it does not have to
        state.last_scan_at = state.last_full_at = timezone.now()
        state.invoices_scanned, state.last_full_seconds = judged, seconds
        state.save()
    return ScanResult(company_id, judged, outcome, seconds)


# --- full -----------------------------------------------------------------------------------


@transaction.atomic
def scan_full(*, company_id: int) -> ScanResult:
    started = time.monotonic()
    state = lock(company_id)
    invoices = store.mirror_invoices(company_id)
    items = store.catalogue(company_id)
    invoice_rows, line_rows = store.build_all(invoices, store.mirror_lines(company_id), items,
                                              store.contacts(company_id))
    derive.neighbourhoods(derive.line_groups(line_rows))
    months = derive.month_counts(line_rows)
    derive.company_refs(line_rows, months)
    habits = derive.habit_counts(line_rows)
    derive.habits(line_rows, habits)
    derive.invoice_relations(invoice_rows)
    store.replace_all(company_id, invoice_rows, line_rows)
    _replace_counts(PriceMonth, company_id, ("item", "price_list", "month"),
                    {key: {p: n for p, n in counts.items() if n} for key, counts in months.items()})
    _replace_counts(ClientTaxHabit, company_id, ("client",),
                    {(client,): {k: n for k, n in counts.items() if n} for client, counts in habits.items()})
    by_invoice: dict[int, list[LineRow]] = defaultdict(list)
    for line in line_rows:
        by_invoice[line.invoice_id].append(line)
    related = {invoice.invoice_id: invoice for invoice in invoice_rows}
    drafts = list(judge(invoice_rows, by_invoice, related, items))
    outcome = reconcile(company_id, drafts, invoice_ids=None, gone=gone_from(company_id, None))
    return result(state, company_id, started, len(invoice_rows), outcome, full=True)


def _replace_counts(model, company_id: int, key: tuple[str, ...], wanted: dict[tuple, dict]) -> None:
    """Make the company's count tables hold exactly `wanted`, touching only the rows that differ."""
    existing = {tuple(getattr(row, k) for k in key): row for row in model.objects.filter(company_id=company_id)}
    changed, created = [], []
    for values, counts in wanted.items():
        row = existing.pop(values, None)
        if row is None:
            created.append(model(company_id=company_id, counts=counts, **dict(zip(key, values))))
        elif row.counts != counts:
            row.counts = counts
            changed.append(row)
    model.objects.bulk_create(created, batch_size=store.CHUNK)
    model.objects.bulk_update(changed, ["counts"], batch_size=store.CHUNK)
    stale = [row.pk for row in existing.values()]
    for start in range(0, len(stale), store.CHUNK):
        model.objects.filter(pk__in=stale[start:start + store.CHUNK]).delete()


def gone_from(company_id: int, invoice_ids: list[int] | None) -> dict[int, str]:
    """Invoices with open findings that can no longer be flagged, and why."""
    rows = Invoice.objects.filter(company_id=company_id).filter(Q(is_deleted=True) | Q(status="void"))
    if invoice_ids is not None:
        rows = rows.filter(id__in=invoice_ids)
    else:
        rows = rows.filter(id__in=Finding.objects.filter(company_id=company_id, state__in=OPEN_STATES)
                           .values("invoice_id"))
    return {pk: "deleted" if deleted else "void" for pk, deleted in rows.values_list("id", "is_deleted")}
