"""What the mirror tells the layers above it, without importing them.

The mirror sits below approvals, findings and audit, so it cannot call them. A
higher layer registers a function here in its `AppConfig.ready()`; the mirror
calls every registered function at the documented moment. Registration is
explicit and idempotent (the same function twice is kept once).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import transaction

# (model, instances) for rows written by a bulk create that simple-history's signal does not see;
# called inside the transaction that wrote them.
_bulk_history: list[Callable] = []
# (history rows) written in bulk (any audited model's versions, created or changed); called inside
# the transaction that wrote them.
_versions_written: list[Callable] = []
# (company_id, invoice ids, source) once the transaction that changed those invoices has committed.
_invoices_changed: list[Callable] = []
# (company_id, kind, alegra ids) once a transaction that changed catalogue entries ("contact",
# "item") has committed: what higher layers derived from them is stale.
_catalogue_changed: list[Callable] = []
# (company_id, invoice ids of a list page) → {invoice id: [badge, …]}; a badge is a dict with
# "label", "title", "url" and "tone". One query per registered function, whatever the page size.
_list_badges: list[Callable] = []


def on_bulk_history(function: Callable) -> None:
    if function not in _bulk_history:
        _bulk_history.append(function)


def on_versions_written(function: Callable) -> None:
    if function not in _versions_written:
        _versions_written.append(function)


def on_invoices_changed(function: Callable) -> None:
    if function not in _invoices_changed:
        _invoices_changed.append(function)


def on_catalogue_changed(function: Callable) -> None:
    if function not in _catalogue_changed:
        _catalogue_changed.append(function)


def on_list_badges(function: Callable) -> None:
    if function not in _list_badges:
        _list_badges.append(function)


def bulk_history_written(model, instances: Iterable) -> None:
    instances = list(instances)
    for function in _bulk_history:
        function(model, instances)


def versions_written(rows: Iterable) -> None:
    rows = list(rows)
    for function in _versions_written:
        function(rows)


def invoices_changed(*, company_id: int, invoice_ids: Iterable[int], source: str) -> None:
    ids = sorted({pk for pk in invoice_ids if pk is not None})
    if not ids or not _invoices_changed:
        return

    def tell() -> None:
        for function in _invoices_changed:
            function(company_id=company_id, invoice_ids=ids, source=source)

    transaction.on_commit(tell)


def catalogue_changed(*, company_id: int, kind: str, alegra_ids: Iterable[str]) -> None:
    ids = sorted(set(alegra_ids))
    if not ids or not _catalogue_changed:
        return

    def tell() -> None:
        for function in _catalogue_changed:
            function(company_id=company_id, kind=kind, alegra_ids=ids)

    transaction.on_commit(tell)


def list_badges(*, company_id: int, invoice_ids: list[int]) -> dict[int, list[dict]]:
    """What the layers above have to say about each invoice of a list page."""
    badges: dict[int, list[dict]] = {}
    if not invoice_ids:
        return badges
    for function in _list_badges:
        for invoice_id, found in function(company_id=company_id, invoice_ids=invoice_ids).items():
            badges.setdefault(invoice_id, []).extend(found)
    return badges
