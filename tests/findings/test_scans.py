"""Scans over the mirror: void invoices never flagged, fingerprints update instead of adding twins,
a finding resolves by itself (and says so), reopens if the problem comes back, and a changed
contact or item rescans the invoices built on it."""

import pytest

from findings import incremental, scan, services
from findings.models import Finding, InvoiceFact
from invoices import sync
from portal import events
from invoices.models import Contact
from tests.factories.anomalies import body, contact_doc, history, line, mirror_catalogue, store

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(company):
    mirror_catalogue(company)
    history(company, count=6)
    return company


def test_void_invoices_are_never_flagged(world):
    document = body(1, [line("1", "10", price="276470")], day=50, status="void")
    void = store(world, document)
    scan.scan_full(company_id=world.pk)
    assert not Finding.objects.filter(invoice=void).exists()
    assert not InvoiceFact.objects.filter(invoice=void).exists()  # nor counted in anyone's history


def test_a_rescan_updates_the_same_finding_and_writes_nothing_when_nothing_changed(world):
    slipped = store(world, body(1, [line("1", "10", price="276470")], day=50))
    scan.scan_full(company_id=world.pk)
    finding = Finding.objects.get(invoice=slipped)
    versions = finding.history.count()
    scan.scan_full(company_id=world.pk)
    incremental.scan_changed(company_id=world.pk, invoice_ids=[slipped.pk])
    assert Finding.objects.filter(invoice=slipped).count() == 1 and finding.history.count() == versions
    store(world, body(1, [line("1", "20", price="276470")], day=50))  # another quantity: the same finding
    incremental.scan_changed(company_id=world.pk, invoice_ids=[slipped.pk])
    again = Finding.objects.get(invoice=slipped)
    assert again.pk == finding.pk and events.describe(again.history.first().history_change_reason) == "updated by a scan"


def test_a_finding_resolves_by_itself_and_reopens_if_the_problem_returns(world):
    slipped = store(world, body(1, [line("1", "10", price="276470")], day=50))
    incremental.scan_changed(company_id=world.pk, invoice_ids=[slipped.pk])
    finding = Finding.objects.get(invoice=slipped)
    store(world, body(1, [line("1", "10")], day=50))  # the correction reached Alegra and came back
    incremental.scan_changed(company_id=world.pk, invoice_ids=[slipped.pk])
    finding.refresh_from_db()
    assert finding.state == "resolved" and finding.resolved_at is not None
    assert events.describe(finding.history.first().history_change_reason) == "resolved: the invoice no longer shows the problem"
    store(world, body(1, [line("1", "10", price="276470")], day=50))
    incremental.scan_changed(company_id=world.pk, invoice_ids=[slipped.pk])
    finding.refresh_from_db()
    assert finding.state == "open" and events.describe(finding.history.first().history_change_reason).startswith("reopened")


def test_voiding_a_flagged_invoice_resolves_its_findings(world):
    slipped = store(world, body(1, [line("1", "10", price="276470")], day=50))
    scan.scan_full(company_id=world.pk)
    store(world, body(1, [line("1", "10", price="276470")], day=50, status="void"))
    incremental.scan_changed(company_id=world.pk, invoice_ids=[slipped.pk])
    finding = Finding.objects.get(invoice=slipped)
    assert finding.state == "resolved" and events.describe(finding.history.first().history_change_reason) == \
        "resolved: the invoice is void"


def test_a_contact_given_its_identification_resolves_the_finding(world, django_capture_on_commit_callbacks):
    blank = {**contact_doc("2"), "identification": ""}
    sync._store_catalogue(Contact, world, [blank], lambda d: {"name": d["name"], "identification": "", "email": ""})
    invoice = store(world, body(1, [line("1")], client="2", identification=""))
    scan.scan_full(company_id=world.pk)
    finding = Finding.objects.get(invoice=invoice, kind="missing_identification")
    with django_capture_on_commit_callbacks(execute=True):
        sync.contact_store(company=world, document={**blank, "identification": "79123456"}, source="push")
    finding.refresh_from_db()
    assert finding.state == "resolved"


def test_a_catalogue_price_change_rescans_the_invoices_of_the_item(world, django_capture_on_commit_callbacks):
    from invoices import mirror
    from invoices.models import Item
    from tests.factories.anomalies import item_doc

    lone = store(world, body(1, [line("4", "1", price="2428570")], client="3", day=50))  # no history: catalogue
    scan.scan_full(company_id=world.pk)
    assert Finding.objects.get(invoice=lone, kind="price").evidence["basis"] in ("catalogue", "company")
    dearer = item_doc("4")
    dearer["price"][0]["price"] = "2428570"  # the list price really is that now
    with django_capture_on_commit_callbacks(execute=True):
        sync._store_catalogue(Item, world, [dearer], mirror.item_columns)
    assert Finding.objects.get(invoice=lone, kind="price").state == "resolved"


def test_a_nightly_rescan_of_an_unchanged_mirror_writes_no_fact(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    store(world, body(1, [line("1", "10", price="276470")], day=50))
    scan.scan_full(company_id=world.pk)
    with CaptureQueriesContext(connection) as captured:
        scan.scan_full(company_id=world.pk)
    writes = [q["sql"] for q in captured.captured_queries
              if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE") and "findings_scanstate" not in q["sql"]]
    assert writes == []


def test_the_company_s_accountants_hear_of_new_findings_in_their_language(world, django_capture_on_commit_callbacks):
    from django.core import mail

    from portal import notifications
    from portal.models import Notification
    from tests.factories import make_user

    ana, pedro = make_user("ana", world, "accountant"), make_user("pedro", world, "approver")
    notifications.preference_save(user=ana, language="en")
    scan.scan_full(company_id=world.pk)  # the ordinary history: nothing to tell
    with django_capture_on_commit_callbacks(execute=True):
        services.scan_company(company_id=world.pk)
    assert not Notification.objects.exists()
    slipped = store(world, body(1, [line("1", "10", price="276470")], day=50))
    with django_capture_on_commit_callbacks(execute=True):
        services.scan_invoices(company_id=world.pk, invoice_ids=[slipped.pk])
    [told] = Notification.objects.all()
    assert (told.user, told.kind, told.params) == (ana, "findings.new", {"count": 1, "numbers": "FE1"})
    assert told.url.endswith(f"/c/{world.pk}/review/")
    assert [(m.to, m.subject) for m in mail.outbox] == [(["ana@example.com"], "[Enmienda] 1 new finding to review")]
    with django_capture_on_commit_callbacks(execute=True):
        services.scan_invoices(company_id=world.pk, invoice_ids=[slipped.pk])  # nothing new: nothing told
    assert Notification.objects.count() == 1 and not Notification.objects.filter(user=pedro).exists()


def test_queued_invoices_are_judged_together_by_one_scan(world):
    from findings.models import PendingScan

    scan.scan_full(company_id=world.pk)  # the history judged
    first = store(world, body(1, [line("1", "10", price="276470")], day=50))
    second = store(world, body(2, [line("1", "11", price="276470")], day=51))
    third = store(world, body(3, [line("1", "12")], day=52))
    services.scan_queue(company_id=world.pk, invoice_ids=[first.pk, second.pk])
    services.scan_queue(company_id=world.pk, invoice_ids=[second.pk, third.pk])  # queued once
    assert PendingScan.objects.filter(company=world).count() == 3
    summary, more = services.scan_pending(company_id=world.pk, batch=2)
    assert " judged, " in summary and more
    [left] = PendingScan.objects.values_list("invoice_id", flat=True)
    assert set(Finding.objects.values_list("invoice_id", flat=True)) == {first.pk, second.pk} - {left}
    summary, more = services.scan_pending(company_id=world.pk)
    assert " judged, " in summary and not more and not PendingScan.objects.exists()
    assert set(Finding.objects.filter(state="open").values_list("invoice_id", flat=True)) == {first.pk, second.pk}
    assert services.scan_pending(company_id=world.pk) == ("nothing queued", False)


def test_a_webhook_queues_its_invoice_and_the_task_scans_the_queue(world, django_capture_on_commit_callbacks):
    from findings.models import PendingScan

    with django_capture_on_commit_callbacks(execute=True):
        slipped = store(world, body(1, [line("1", "10", price="276470")], day=50))
    assert Finding.objects.filter(invoice=slipped, kind="price", state="open").exists()
    assert not PendingScan.objects.exists()


def test_a_full_scan_takes_what_was_queued_before_it(world):
    from findings.models import PendingScan

    slipped = store(world, body(1, [line("1", "10", price="276470")], day=50))
    services.scan_queue(company_id=world.pk, invoice_ids=[slipped.pk])
    services.scan_company(company_id=world.pk)
    assert Finding.objects.filter(invoice=slipped, kind="price").exists() and not PendingScan.objects.exists()


def test_a_finding_back_after_its_correction_can_be_corrected_again(company, accountant):
    """Reopened, it still pointed at its old correction, and Create correction was refused."""
    from findings.presenters import can_correct

    mirror_catalogue(company)
    history(company, count=6)
    invoice = store(company, body(1, [line("1", "10", tax="2")], day=50))  # 5 % on a 19 % item
    scan.scan_full(company_id=company.pk)
    finding = Finding.objects.get(invoice=invoice, kind="tax")
    first = services.correction_create(finding=finding, user=accountant)
    store(company, body(1, [line("1", "10")], day=50))  # fixed in Alegra
    scan.scan_full(company_id=company.pk)
    finding.refresh_from_db()
    assert (finding.state, finding.correction_id) == (Finding.State.RESOLVED, first.pk)
    first.state = "applied"
    first.save()
    store(company, body(1, [line("1", "10", tax="2")], day=50))  # and wrong again
    scan.scan_full(company_id=company.pk)

    finding.refresh_from_db()
    assert (finding.state, finding.correction_id) == (Finding.State.OPEN, None) and can_correct(finding)
    assert services.correction_create(finding=finding, user=accountant).pk != first.pk


@pytest.mark.django_db(transaction=True)
def test_a_scan_waits_for_a_dismissal_in_progress_and_keeps_it(company, accountant, settings):
    """The scan read the findings unlocked and wrote back the state it had read: a dismissal that
    committed in between was undone (the finding open again, its reason kept)."""
    import threading

    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("row locks: on SQLite the scan's write transaction already excludes the dismissal")
    mirror_catalogue(company)
    history(company, count=6)
    invoice = store(company, body(1, [line("1", "10", tax="2")], day=50))
    scan.scan_full(company_id=company.pk)
    finding = Finding.objects.get(invoice=invoice, kind="tax")
    settings.FINDINGS_SCAN_ON_CHANGE = False  # the scan below is the one that meets the dismissal
    store(company, body(1, [line("1", "12", tax="2")], day=50))  # still wrong: its numbers move
    done = threading.Event()

    def scan_meanwhile():
        try:
            incremental.scan_changed(company_id=company.pk, invoice_ids=[invoice.pk])
        finally:
            connection.close()
            done.set()

    with transaction.atomic():
        services.finding_dismiss(finding=finding, user=accountant, reason="Precio pactado con el cliente",
                                 learn=False)
        worker = threading.Thread(target=scan_meanwhile)
        worker.start()
        done.wait(timeout=1)  # with the fix the scan waits for this transaction's row lock
    worker.join(timeout=60)
    assert not worker.is_alive()

    finding.refresh_from_db()
    assert finding.state == Finding.State.DISMISSED
    assert finding.dismiss_reason == "Precio pactado con el cliente"
