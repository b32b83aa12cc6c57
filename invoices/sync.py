"""Mirroring Alegra into the local tables: full, recent-dates, single invoice, catalogues.

Alegra has no modification date, so changes are found three ways: webhooks
(one invoice re-read), a rolling re-read of recent dates, and a full pass
that also finds deletions. Every write compares content hashes first, so an
unchanged invoice writes nothing and adds no history row.
"""

import datetime
import logging
from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from portal.models import Company

from . import bulk, events, hooks, mirror
from .documents import references
from .alegra import MAX_PAGE_SIZE as PAGE_SIZE
from .alegra import AlegraClient, AlegraError
from .models import Contact, Invoice, InvoiceLine, Item, PriceList, Seller, SyncRun, Tax

log = logging.getLogger(__name__)

STALE_AFTER = datetime.timedelta(minutes=5)
# A run asked for on the Sync page that no worker took up by then is given up (the worker was down).
QUEUED_AT_MOST = datetime.timedelta(minutes=30)
RESUME_WITHIN = datetime.timedelta(days=1)

Progress = Callable[[SyncRun], None]


class SyncBusy(Exception):
    """Another sync of the same company is running."""


# --- single invoices --------------------------------------------------------


def invoice_store(*, company: Company, document: dict, source: str, user=None, reason: str = "") -> str:
    """Upsert one invoice body; returns 'created', 'changed' or 'unchanged'."""
    columns = mirror.invoice_columns(document)
    body = mirror.canonical(document)
    digest = mirror.content_hash(body)
    with transaction.atomic():
        invoice = (
            Invoice.objects.select_for_update()
            .filter(company=company, alegra_id=columns["alegra_id"])
            .first()
        )
        if invoice and invoice.content_hash == digest and not invoice.is_deleted:
            return "unchanged"
        outcome = "created" if invoice is None else "changed"
        if invoice is None:
            invoice = Invoice(company=company)
        for name, value in columns.items():
            setattr(invoice, name, value)
        invoice.id_sort = mirror.id_sort_key(columns["alegra_id"])
        invoice.document = body
        invoice.content_hash = digest
        invoice.is_deleted = False
        invoice._change_reason = reason or events.read(source)
        if user is not None:
            invoice._history_user = user
        invoice.save()
        _rebuild_lines(invoice, body)
        hooks.invoices_changed(company_id=company.pk, invoice_ids=[invoice.pk], source=source)
    return outcome


def _rebuild_lines(invoice: Invoice, document: dict) -> None:
    InvoiceLine.objects.filter(invoice=invoice).delete()
    InvoiceLine.objects.bulk_create(
        InvoiceLine(invoice=invoice, company_id=invoice.company_id, **row)
        for row in mirror.invoice_lines(document)
    )


def invoice_mark_deleted(*, company: Company, alegra_id: str, source: str) -> bool:
    with transaction.atomic():
        invoice = (
            Invoice.objects.select_for_update()
            .filter(company=company, alegra_id=alegra_id, is_deleted=False)
            .first()
        )
        if invoice is None:
            return False
        invoice.is_deleted = True
        invoice._change_reason = events.deleted(source)
        invoice.save()
        hooks.invoices_changed(company_id=company.pk, invoice_ids=[invoice.pk], source=source)
    return True


def invoice_refresh(*, company: Company, alegra_id: str, source: str = "webhook",
                    client: AlegraClient | None = None) -> str:
    """Re-read one invoice from Alegra; 'deleted' when Alegra no longer has it, 'skipped' when its
    body cannot be mirrored (the stored version stays, as a page skips such an invoice)."""
    client = client or AlegraClient.for_company(company)
    try:
        document = client.get_invoice(alegra_id)
    except AlegraError as exc:
        if exc.status == 404:
            return "deleted" if invoice_mark_deleted(company=company, alegra_id=alegra_id, source=source) else "unchanged"
        raise
    try:
        return invoice_store(company=company, document=document, source=source)
    except mirror.BadDocument as exc:
        log.warning("company %s: invoice %s not refreshed: %s", company.pk, alegra_id, exc)
        return "skipped"


# --- runs -------------------------------------------------------------------


def _close_stale(company: Company, now: datetime.datetime) -> None:
    SyncRun.objects.filter(
        company=company, state=SyncRun.State.RUNNING, heartbeat_at__lt=now - STALE_AFTER
    ).update(state=SyncRun.State.INTERRUPTED, finished_at=now)
    SyncRun.objects.filter(
        company=company, state=SyncRun.State.QUEUED, heartbeat_at__lt=now - QUEUED_AT_MOST
    ).update(state=SyncRun.State.INTERRUPTED, finished_at=now)


def run_queue(*, company: Company, kind: str, user=None) -> SyncRun | None:
    """A run asked for on the screen, shown at once as queued; the worker takes it up (run_start).

    None when a sync of the company is already queued or running."""
    now = timezone.now()
    with transaction.atomic():
        _close_stale(company, now)
        if SyncRun.objects.filter(company=company, state__in=(SyncRun.State.QUEUED, SyncRun.State.RUNNING)).exists():
            return None
        return SyncRun.objects.create(company=company, kind=kind, state=SyncRun.State.QUEUED,
                                      heartbeat_at=now, triggered_by=user)


def _claim(company: Company, kind: str, run_id: int | None, now: datetime.datetime) -> SyncRun | None:
    """The queued run the screen showed, if it still waits; it becomes the run that starts now."""
    if run_id is None:
        return None
    run = (SyncRun.objects.select_for_update()
           .filter(pk=run_id, company=company, kind=kind, state=SyncRun.State.QUEUED).first())
    if run is not None:
        run.state, run.started_at = SyncRun.State.RUNNING, now
    return run


def run_start(*, company: Company, kind: str, user=None, queued: int | None = None) -> SyncRun:
    """Open a run (or take up the queued one), refusing a second concurrent one; a run whose worker
    died is closed first."""
    now = timezone.now()
    with transaction.atomic():
        _close_stale(company, now)
        previous = None
        if kind == SyncRun.Kind.FULL:
            previous = (
                SyncRun.objects.filter(company=company, kind=kind, started_at__gte=now - RESUME_WITHIN)
                .exclude(pk=queued).order_by("-started_at", "-id")
                .first()
            )
            if previous and (previous.state not in (SyncRun.State.INTERRUPTED, SyncRun.State.FAILED)
                             or previous.next_start == 0):
                previous = None
        run = _claim(company, kind, queued, now) or SyncRun(company=company, kind=kind, triggered_by=user)
        run.heartbeat_at, run.resumed_from = now, previous
        # Step one page back: a page may have shifted while we were away.
        run.next_start = max(0, previous.next_start - PAGE_SIZE) if previous else 0
        run.id_cursor = previous.id_cursor if previous and previous.next_start > PAGE_SIZE else ""
        try:
            with transaction.atomic():
                run.save()
            return run
        except IntegrityError:
            pass
    if run.pk:  # another sync started meanwhile: the queued one will not run
        SyncRun.objects.filter(pk=run.pk).update(state=SyncRun.State.INTERRUPTED, finished_at=now)
    raise SyncBusy(f"a sync of {company.name} is already running")


def _finish(run: SyncRun, state: str, error: str = "") -> SyncRun:
    run.state = state
    run.finished_at = timezone.now()
    if error:
        run.last_error = error[:2000]
        run.errors += 1
    run.save()
    return run


def _pages_total(run: SyncRun, total: int | None) -> int:
    """Pages this run reads: those done plus those left after `next_start` (a resumed run starts late)."""
    if total is None:
        return run.pages_done
    return run.pages_done + max(0, -(-(total - run.next_start) // PAGE_SIZE))


def _page_done(run: SyncRun, *, start: int, count: int, total: int | None, requests: int,
               progress: Progress | None) -> None:
    run.next_start = start + count
    run.pages_done += 1
    run.pages_total = _pages_total(run, total)
    run.requests_made = requests
    run.heartbeat_at = timezone.now()
    run.save()
    if progress:
        progress(run)


def _count(run: SyncRun, outcome: str) -> None:
    run.invoices_seen += 1
    if outcome == "created":
        run.invoices_created += 1
    elif outcome == "changed":
        run.invoices_changed += 1


def _store_all(run: SyncRun, company: Company, documents: Iterable, source: str) -> set[str]:
    """Store one page: new invoices in bulk, changed ones one by one, unchanged ones not at all."""
    parsed: dict[str, tuple[dict, dict, str]] = {}
    skipped = set()
    for document in documents:
        try:
            columns = mirror.invoice_columns(document)
        except mirror.BadDocument as exc:
            run.errors += 1
            run.last_error = f"invoice skipped: {exc}"[:2000]
            log.warning("sync %s: invoice skipped: %s", run.pk, exc)
            skipped.add(mirror.document_id(document))  # seen: its stored version stays as it is
            continue
        body = mirror.canonical(document)
        parsed[columns["alegra_id"]] = (columns, body, mirror.canonical_hash(body))
    known = {
        alegra_id: (digest, deleted)
        for alegra_id, digest, deleted in Invoice.objects.filter(
            company=company, alegra_id__in=list(parsed)).values_list("alegra_id", "content_hash", "is_deleted")
    }
    new = []
    for alegra_id, (columns, body, digest) in parsed.items():
        if alegra_id not in known:
            new.append(_new_invoice(company, columns, body, digest))
            _count(run, "created")
        elif known[alegra_id] == (digest, False):
            _count(run, "unchanged")
        else:
            _count(run, invoice_store(company=company, document=body, source=source))
    if new:
        if bulk.available():
            # COPY: a first mirror writes thousands of these (ids reserved from the sequences).
            created = bulk.invoices_create(new, change_reason=events.read(source))
            bulk.lines_create(created, company.pk)
        else:
            created = bulk_create_with_history(new, Invoice, default_change_reason=events.read(source))
            if any(invoice.pk is None for invoice in created):
                created = list(Invoice.objects.filter(company=company, alegra_id__in=[i.alegra_id for i in new]))
            InvoiceLine.objects.bulk_create(
                InvoiceLine(invoice=invoice, company_id=company.pk, **row)
                for invoice in created
                for row in mirror.invoice_lines(invoice.document)
            )
        hooks.bulk_history_written(Invoice, created)  # bulk history sends no signal of its own
        hooks.invoices_changed(company_id=company.pk, invoice_ids=[i.pk for i in created], source=source)
    return set(parsed) | (skipped - {None})


def _new_invoice(company: Company, columns: dict, body: dict, digest: str) -> Invoice:
    invoice = Invoice(company=company, document=body, content_hash=digest,
                      id_sort=mirror.id_sort_key(columns["alegra_id"]), **columns)
    return invoice


# --- full and recent --------------------------------------------------------


def sync_full(*, company: Company, client: AlegraClient | None = None, user=None,
              progress: Progress | None = None, with_catalogues: bool = False, queued: int | None = None) -> SyncRun:
    """Page through every invoice by ascending id, then mark what Alegra no longer has.

    Pages are read in id order so offsets stay stable while invoices are added
    meanwhile; a local invoice missing inside a page's id range is re-read by id
    before it is marked deleted, since a deletion elsewhere may have shifted it.
    """
    client = client or AlegraClient.for_company(company)
    run = run_start(company=company, kind=SyncRun.Kind.FULL, user=user, queued=queued)
    requests_before = client.requests_made
    try:
        if with_catalogues:
            catalogues_sync(company=company, client=client)
        pages = client.iter_invoice_pages(start=run.next_start, order_field="id", order_direction="ASC")
        for start, total, documents in (_read_ahead(pages) if settings.SYNC_READ_AHEAD else pages):
            # No transaction is held across a request: on SQLite it would lock
            # out every other writer (the sandbox itself, in the demo).
            with transaction.atomic():
                seen = _store_all(run, company, documents, source="sync")
            sorted_ids = sorted(mirror.id_sort_key(key) for key in map(mirror.document_id, documents) if key)
            last = sorted_ids[-1] if sorted_ids else None
            is_last_page = len(documents) < PAGE_SIZE or (total is not None and start + len(documents) >= total)
            _reconcile_range(run, company, client, run.id_cursor, None if is_last_page else last, seen)
            run.id_cursor = last or run.id_cursor
            _page_done(run, start=start, count=len(documents), total=total,
                       requests=client.requests_made - requests_before, progress=progress)
        run.requests_made = client.requests_made - requests_before
        return _finish(run, SyncRun.State.SUCCEEDED)
    except AlegraError as exc:
        run.requests_made = client.requests_made - requests_before
        return _finish(run, SyncRun.State.FAILED, str(exc))


_DONE = object()


def _read_ahead(pages: Iterable) -> Iterable:
    """The pages, the next one requested while the current one is stored.

    Alegra's latency (hundreds of milliseconds a page) then overlaps the portal's own work, so
    a full mirror comes close to the rate limit, which still applies to every request (the
    limiter is shared and thread-safe). At most one page read waits to be stored; an error
    reading ahead is raised where that page would have been.
    """
    import queue
    import threading

    from django.db import connection

    ahead: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def read() -> None:
        try:
            for page in pages:
                ahead.put((page, None))
                if stop.is_set():
                    return
            ahead.put((_DONE, None))
        except BaseException as exc:  # noqa: BLE001 - handed over to the reader
            ahead.put((None, exc))
        finally:
            connection.close()  # a transport that reaches the database opened one in this thread

    reader = threading.Thread(target=read, name="sync-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            page, error = ahead.get()
            if error is not None:
                raise error
            if page is _DONE:
                return
            yield page
    finally:
        stop.set()
        try:
            ahead.get_nowait()  # unblocks a reader waiting to hand over a page nobody will store
        except queue.Empty:
            pass


def _reconcile_range(run: SyncRun, company: Company, client: AlegraClient,
                     lower: str, upper: str | None, seen: set[str]) -> None:
    """Local invoices in (lower, upper] that the page did not contain: re-read each by id."""
    candidates = Invoice.objects.filter(company=company, is_deleted=False)
    if lower:
        candidates = candidates.filter(id_sort__gt=lower)
    if upper is not None:
        candidates = candidates.filter(id_sort__lte=upper)
    missing = [a for a in candidates.values_list("alegra_id", flat=True) if a not in seen]
    for alegra_id in missing:
        outcome = invoice_refresh(company=company, alegra_id=alegra_id, source="sync", client=client)
        if outcome == "deleted":
            run.invoices_deleted += 1
        elif outcome == "skipped":
            run.errors += 1
            run.last_error = f"invoice {alegra_id} skipped: it cannot be mirrored"[:2000]
        else:
            _count(run, outcome)


def sync_recent(*, company: Company, days: int | None = None, client: AlegraClient | None = None,
                user=None, progress: Progress | None = None, queued: int | None = None) -> SyncRun:
    """Re-read every invoice dated in the last `days` days (late edits of recent invoices)."""
    client = client or AlegraClient.for_company(company)
    days = days or settings.SYNC_RECENT_DAYS
    since = (timezone.localdate() - datetime.timedelta(days=days)).isoformat()
    run = run_start(company=company, kind=SyncRun.Kind.RECENT, user=user, queued=queued)
    requests_before = client.requests_made
    try:
        for start, total, documents in client.iter_invoice_pages(date_afterOrNow=since):
            with transaction.atomic():
                _store_all(run, company, documents, source="sync")
            _page_done(run, start=start, count=len(documents), total=total,
                       requests=client.requests_made - requests_before, progress=progress)
        run.requests_made = client.requests_made - requests_before
        return _finish(run, SyncRun.State.SUCCEEDED)
    except AlegraError as exc:
        run.requests_made = client.requests_made - requests_before
        return _finish(run, SyncRun.State.FAILED, str(exc))


# --- catalogues ---------------------------------------------------------------


def _store_catalogue(model, company: Company, documents: Iterable[dict], columns, *,
                     reason: str = "", user=None) -> int:
    changed = []
    for document in documents:
        key = mirror.document_id(document)
        if key is None:  # no id the mirror can key it by: skipped, as a bad invoice is
            log.warning("catalogue %s of company %s: an entry without a usable id skipped",
                        model._meta.model_name, company.pk)
            continue
        body = mirror.canonical(document)
        digest = mirror.content_hash(body)
        row = model.objects.filter(company=company, alegra_id=key).first()
        if row and row.content_hash == digest and not row.is_deleted:
            continue
        row = row or model(company=company, alegra_id=key)
        for name, value in columns(body).items():
            setattr(row, name, value)
        row.id_sort = mirror.id_sort_key(key)
        row.document, row.content_hash, row.is_deleted = body, digest, False
        row._change_reason = reason or events.read("sync")
        if user is not None:
            row._history_user = user
        row.save()
        changed.append(key)
    if model in (Contact, Item):
        hooks.catalogue_changed(company_id=company.pk, kind=model._meta.model_name, alegra_ids=changed)
    return len(changed)


def catalogues_sync(*, company: Company, client: AlegraClient | None = None) -> dict[str, int]:
    """Contacts, items, taxes, sellers and price lists the edit screen picks from."""
    client = client or AlegraClient.for_company(company)
    taxes, items, contacts = client.list_taxes(), list(client.iter_items()), list(client.iter_contacts())
    sellers, price_lists = client.list_sellers(), client.list_price_lists()
    with transaction.atomic():
        return {
            "taxes": _store_catalogue(Tax, company, taxes, mirror.tax_columns),
            "sellers": _store_catalogue(Seller, company, sellers, mirror.named_columns),
            "price_lists": _store_catalogue(PriceList, company, price_lists, mirror.named_columns),
            "items": _store_catalogue(Item, company, items, mirror.item_columns),
            "contacts": _store_catalogue(Contact, company, contacts, mirror.contact_columns),
        }


def contact_store(*, company: Company, document: dict, source: str, user=None, reason: str = "") -> Contact:
    with transaction.atomic():
        _store_catalogue(Contact, company, [document], mirror.contact_columns,
                         reason=reason or events.read(source), user=user)
        contact = Contact.objects.get(company=company, alegra_id=references.alegra_id(document["id"]))
    return contact
