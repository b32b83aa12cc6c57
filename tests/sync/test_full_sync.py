"""Full mirror from the sandbox: counts, idempotence, deletions, resumption, faults and 429s."""

import datetime

import httpx
import pytest
from django.core.management import call_command

from alegra_sandbox import testing
from alegra_sandbox.models import SandboxRequestLog
from alegra_sandbox.services import faults_set
from alegra_sandbox.services.invoices import invoice_delete, invoice_get, invoice_update
from invoices import sync
from invoices.models import Contact, Invoice, InvoiceLine, Item, PriceList, Seller, SyncRun, Tax
from tests.sync.conftest import connect
from tests.sync.helpers import mirror_state, sandbox_state
from portal import events

pytestmark = pytest.mark.django_db


def _history_rows(company) -> int:
    return Invoice.history.filter(company=company).count()


def test_full_sync_mirrors_every_invoice_and_a_second_run_writes_nothing(clock):
    link = connect(clock, invoices=2000)
    client = link.client()
    run = sync.sync_full(company=link.company, client=client)
    assert run.state == "succeeded", run.last_error
    assert run.invoices_seen == run.invoices_created == 2000
    assert run.pages_done == run.pages_total == 67
    assert run.requests_made == client.requests_made == 67
    assert mirror_state(link.company) == sandbox_state(link.account)
    assert InvoiceLine.objects.filter(company=link.company).count() == sum(
        Invoice.objects.filter(company=link.company).values_list("line_count", flat=True))
    history = _history_rows(link.company)
    assert history == 2000
    assert set(Invoice.history.filter(company=link.company).values_list("history_change_reason", flat=True)) == {
        events.reason("mirror.sync")}

    again = sync.sync_full(company=link.company, client=link.client())
    assert again.state == "succeeded"
    assert (again.invoices_seen, again.invoices_created, again.invoices_changed, again.invoices_deleted) == (2000, 0, 0, 0)
    assert _history_rows(link.company) == history


def test_columns_follow_alegra_totals_exactly(connected):
    sync.sync_full(company=connected.company, client=connected.client())
    for invoice in Invoice.objects.filter(company=connected.company)[:40]:
        doc = invoice_get(connected.account, invoice.alegra_id)
        assert str(invoice.total.normalize()) == str(__import__("decimal").Decimal(str(doc["total"])).normalize())
        assert invoice.number == doc["numberTemplate"]["fullNumber"]
        assert invoice.status == doc["status"]
        assert invoice.is_stamped == bool(doc.get("stamp"))


def test_reconciliation_finds_old_edits_and_deletions_without_webhooks(connected):
    sync.sync_full(company=connected.company, client=connected.client())
    oldest = Invoice.objects.filter(company=connected.company, is_stamped=False, status="open").order_by("date").first()
    deletable = Invoice.objects.filter(company=connected.company, is_stamped=False, total_paid=0).exclude(
        pk=oldest.pk).order_by("-id").first()
    invoice_update(connected.account, oldest.alegra_id, {"observations": "cambiado directamente en Alegra"})
    invoice_delete(connected.account, deletable.alegra_id)

    run = sync.sync_full(company=connected.company, client=connected.client())
    assert (run.invoices_changed, run.invoices_deleted, run.invoices_created) == (1, 1, 0)
    oldest.refresh_from_db()
    deletable.refresh_from_db()
    assert oldest.document["observations"] == "cambiado directamente en Alegra"
    assert deletable.is_deleted
    assert mirror_state(connected.company) == sandbox_state(connected.account)
    assert oldest.history.first().history_change_reason == events.reason("mirror.sync")


def test_recent_reread_picks_up_late_edits_of_recent_invoices(connected, settings):
    sync.sync_full(company=connected.company, client=connected.client())
    recent = Invoice.objects.filter(company=connected.company, is_stamped=False, status="open").order_by("-date").first()
    invoice_update(connected.account, recent.alegra_id, {"anotation": "nota impresa corregida"})
    settings.SYNC_RECENT_DAYS = max(1, (datetime.date.today() - recent.date).days + 1)
    run = sync.sync_recent(company=connected.company, client=connected.client())
    assert run.state == "succeeded" and run.invoices_changed == 1
    assert run.invoices_seen < Invoice.objects.filter(company=connected.company).count()
    recent.refresh_from_db()
    assert recent.document["anotation"] == "nota impresa corregida"


class FailAfter(httpx.BaseTransport):
    """The network goes away after N requests (the edge we fake)."""

    def __init__(self, inner, allowed: int):
        self.inner, self.allowed = inner, allowed

    def handle_request(self, request):
        if self.allowed <= 0:
            raise httpx.ConnectError("network unreachable", request=request)
        self.allowed -= 1
        return self.inner.handle_request(request)


def test_interrupted_sync_leaves_a_consistent_mirror_and_resumes(clock):
    link = connect(clock, invoices=300)
    broken = link.client(transport=FailAfter(testing.SandboxTransport(), 4), max_attempts=2)
    first = sync.sync_full(company=link.company, client=broken)
    assert first.state == "failed" and "network unreachable" in first.last_error
    assert first.next_start == 120
    assert Invoice.objects.filter(company=link.company).count() == 120
    remote = sandbox_state(link.account)
    for invoice in Invoice.objects.filter(company=link.company):
        assert invoice.content_hash == remote[invoice.alegra_id]

    totals = []
    resumed = sync.sync_full(company=link.company, client=link.client(),
                             progress=lambda run: totals.append((run.pages_done, run.pages_total)))
    assert resumed.resumed_from_id == first.pk
    assert resumed.state == "succeeded"
    assert resumed.pages_done == 7  # pages 4..10, one page of overlap
    # The progress bar counts the pages this run reads, from its first page on.
    assert totals == [(n, 7) for n in range(1, 8)]
    assert mirror_state(link.company) == sandbox_state(link.account)


class NoisyNeighbour(httpx.BaseTransport):
    """Another process sharing the credential without sharing our budget: it spends the window."""

    def __init__(self, inner, account, every: int = 4):
        self.inner, self.account, self.every, self.calls = inner, account, every, 0
        self.other = httpx.Client(transport=testing.SandboxTransport(), base_url=testing.BASE_URL,
                                  auth=(account.email, account.token))

    def handle_request(self, request):
        self.calls += 1
        if self.calls % self.every == 0:
            for _ in range(self.account.rate_limit_per_minute):
                self.other.get("/taxes")
        return self.inner.handle_request(request)


def test_sync_under_faults_and_429s_ends_complete_and_consistent(clock):
    link = connect(clock, invoices=400, rate_limit=20)
    faults_set(link.account, error_rate="0.25", drop_rate="0.1", seed=7)
    noisy = NoisyNeighbour(testing.SandboxTransport(), link.account)
    run = sync.sync_full(company=link.company, client=link.client(transport=noisy, max_attempts=10))
    assert run.state == "succeeded", run.last_error
    assert mirror_state(link.company) == sandbox_state(link.account)
    statuses = list(SandboxRequestLog.objects.filter(account=link.account).values_list("status", flat=True))
    assert 429 in statuses and any(s >= 500 for s in statuses)


def test_one_company_never_has_two_syncs_but_two_companies_can(clock):
    a = connect(clock, invoices=0)
    b = connect(clock, invoices=0)
    running = sync.run_start(company=a.company, kind="full")
    with pytest.raises(sync.SyncBusy):
        sync.run_start(company=a.company, kind="recent")
    other = sync.run_start(company=b.company, kind="full")
    assert other.is_running and running.is_running


def test_a_dead_workers_run_is_closed_and_a_new_one_starts(clock):
    link = connect(clock, invoices=30)
    stale = sync.run_start(company=link.company, kind="full")
    SyncRun.objects.filter(pk=stale.pk).update(heartbeat_at=stale.started_at - datetime.timedelta(hours=1))
    run = sync.sync_full(company=link.company, client=link.client())
    assert run.state == "succeeded"
    stale.refresh_from_db()
    assert stale.state == "interrupted"


def test_catalogues_are_mirrored(connected):
    counts = sync.catalogues_sync(company=connected.company, client=connected.client())
    assert counts["taxes"] == Tax.objects.filter(company=connected.company).count() > 0
    assert counts["items"] == Item.objects.filter(company=connected.company).count() > 0
    assert counts["contacts"] == Contact.objects.filter(company=connected.company).count() > 0
    assert counts["sellers"] == Seller.objects.filter(company=connected.company).count() > 0
    assert counts["price_lists"] == PriceList.objects.filter(company=connected.company).count() > 0
    assert sync.catalogues_sync(company=connected.company, client=connected.client()) == {
        "taxes": 0, "items": 0, "contacts": 0, "sellers": 0, "price_lists": 0}


def test_a_malformed_invoice_is_skipped_and_never_corrupts_the_mirror(connected):
    sync.sync_full(company=connected.company, client=connected.client())
    invoice = Invoice.objects.filter(company=connected.company).first()
    before = (invoice.content_hash, invoice.total)
    for bad in [{"id": invoice.alegra_id, "date": "not-a-date"},
                {"id": invoice.alegra_id, "date": "2026-01-01", "total": "abc"},
                {"id": invoice.alegra_id, "date": "2026-01-01", "items": "nope"},
                {"id": invoice.alegra_id, "date": "2026-01-01", "decimalPrecision": "x"},
                {"date": "2026-01-01"}, ["not", "an", "object"], None]:
        with pytest.raises(sync.mirror.BadDocument):
            sync.invoice_store(company=connected.company, document=bad, source="sync")
    invoice.refresh_from_db()
    assert (invoice.content_hash, invoice.total) == before


def test_sync_command_prints_a_one_line_summary(connected, capsys, in_process_http):
    call_command("sync_invoices", company=str(connected.company.pk), full=True)
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith(connected.company.name) and "90 seen" in out[-1] and "90 new" in out[-1]


def test_a_pushed_contact_version_names_its_source_user_and_reason(connected, accountant):
    sync.catalogues_sync(company=connected.company, client=connected.client())
    contact = Contact.objects.filter(company=connected.company).first()
    changed = {**contact.document, "email": "nueva@direccion.test"}
    sync.contact_store(company=connected.company, document=changed, source="push", user=accountant,
                       reason="push: el cliente cambió de correo")
    latest = Contact.objects.get(pk=contact.pk).history.first()
    assert latest.history_change_reason == "push: el cliente cambió de correo"
    assert latest.history_user == accountant


class _OnePage:
    """Alegra answering one page of these documents (the edge the sync reads through)."""

    requests_made = 0

    def __init__(self, documents):
        self.documents = documents

    def iter_invoice_pages(self, **_order):
        yield 0, len(self.documents), self.documents


@pytest.mark.parametrize("bad_id", [1.5, {"x": 1}, [1], "   ", "9" * 80])
def test_an_invoice_with_an_id_the_mirror_cannot_key_is_skipped_and_the_sync_goes_on(company, settings, bad_id):
    """It raised out of the sync: nothing of the page was stored, the run stayed "running" and the
    next sync was refused as busy."""
    from tests.invoices.docs import invoice_doc

    settings.SYNC_READ_AHEAD = False
    run = sync.sync_full(company=company, client=_OnePage([invoice_doc(1), invoice_doc(2, id=bad_id), invoice_doc(3)]))
    assert (run.state, run.errors) == ("succeeded", 1) and "id is malformed" in run.last_error
    assert sorted(Invoice.objects.filter(company=company).values_list("alegra_id", flat=True)) == ["1", "3"]
    again = _OnePage([invoice_doc(1), invoice_doc(3)])
    assert sync.sync_full(company=company, client=again).state == "succeeded"  # not refused as busy
    stored = sync._store_catalogue(Item, company, [{"id": bad_id, "name": "Raro"}, {"id": "7", "name": "Tornillo"}],
                                   sync.mirror.item_columns)
    assert stored == 1 and list(Item.objects.filter(company=company).values_list("alegra_id", flat=True)) == ["7"]



def test_a_once_mirrored_invoice_alegra_now_answers_unmirrorable_keeps_its_version_and_the_sync_goes_on(
        connected, settings):
    """Re-read by id (the page skipped it, the webhook names it), it raised out of the sync, which
    stayed "running", and out of the webhook's task."""
    from alegra_sandbox.models import SandboxInvoice

    settings.SYNC_READ_AHEAD = False
    assert sync.sync_full(company=connected.company, client=connected.client()).state == "succeeded"
    stored = Invoice.objects.get(company=connected.company, alegra_id="5")
    row = SandboxInvoice.objects.get(account=connected.account, number=5)
    row.document = {**row.document, "date": "12/03/2025"}
    row.save()

    run = sync.sync_full(company=connected.company, client=connected.client())
    assert (run.state, run.errors) == ("succeeded", 1) and "date is not a yyyy-MM-dd date" in run.last_error
    assert sync.invoice_refresh(company=connected.company, alegra_id="5", client=connected.client()) == "skipped"
    kept = Invoice.objects.get(pk=stored.pk)
    assert (kept.content_hash, kept.is_deleted, kept.history.count()) == (stored.content_hash, False, 1)
    assert sync.sync_full(company=connected.company, client=connected.client()).state == "succeeded"


@pytest.mark.parametrize("count", [30, 45])
def test_a_catalogue_alegra_answers_whole_is_read_once_whatever_its_size(connected, count):
    """Thirty sellers or more: the list came back whole for every `start`, was taken for a list
    that does not page, and failed every full sync."""
    from alegra_sandbox.models import CatalogueKind, SandboxCatalogueEntry

    existing = SandboxCatalogueEntry.objects.filter(account=connected.account, kind=CatalogueKind.SELLER).count()
    for n in range(existing + 1, count + 1):
        SandboxCatalogueEntry.objects.create(account=connected.account, kind=CatalogueKind.SELLER, number=n,
                                             name=f"Vendedor {n}",
                                             document={"id": str(n), "name": f"Vendedor {n}", "status": "active"})
    assert len(connected.client().list_sellers()) == count
    run = sync.sync_full(company=connected.company, client=connected.client(), with_catalogues=True)
    assert run.state == "succeeded"
    assert Seller.objects.filter(company=connected.company).count() == count
