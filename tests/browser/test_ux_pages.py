"""Pages that keep themselves up to date and read well: the request page after a decision, the sync page
after "Sync now", the audit log as a story, the credit-note composer and the invoice list.

Screenshots go under tests/browser/screenshots/ (ignored by git), as in test_ux.py.
"""

import contextlib

import pytest
from playwright.sync_api import expect

from tests.approvals.pushkit import mirrored_invoice, submit
from tests.browser.test_ux import demo, log_in, shot  # noqa: F401  (demo is a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STAYED = "window.__stayed = true"  # gone if the page reloads


@pytest.mark.parametrize(("language", "outcome", "label"), [("es", "reject", "Rechazada"), ("en", "approve", "Applied")])
def test_the_request_page_shows_the_decision_in_its_heading_and_timeline_without_a_reload(
        page, live_server, demo, language, outcome, label):  # noqa: F811
    account, company, people = demo
    invoice = mirrored_invoice(company, account)
    change_request = submit(invoice, people["accountant"], observations="Entregar en bodega 2")
    log_in(page, live_server, people["approver"], language)
    page.goto(f"{live_server.url}/c/{company.pk}/requests/{change_request.pk}/")
    entries = page.locator("#request-timeline li")
    before = entries.count()
    page.evaluate(STAYED)
    page.fill("#decision-comment", "No procede" if language == "es" else "Agreed")
    page.get_by_test_id(outcome).click()
    expect(page.get_by_test_id("state")).to_have_text(label)
    expect(entries.first).to_contain_text(label)
    assert entries.count() > before
    assert page.evaluate("window.__stayed === true"), "the page reloaded"
    shot(page, f"{language}-request-after-{outcome}")


@pytest.fixture
def queue_held():
    """Tasks wait in the broker (as they do for a busy worker) until the test plays the worker."""
    from portal.celery import app

    app.conf.task_always_eager = False
    yield
    app.conf.task_always_eager = True
    # Leave nothing behind on the broker (a queue that never existed has nothing to purge).
    with app.connection_for_write() as conn, contextlib.suppress(Exception):
        conn.default_channel.queue_purge("sync")


@pytest.mark.parametrize(("language", "queued", "running", "done"), [
    ("es", "Sincronización en cola", "página 2 de 4", "Terminada"), ("en", "Sync queued", "page 2 of 4", "Succeeded")])
def test_sync_now_shows_the_new_run_at_once_and_follows_its_progress(
        page, live_server, demo, queue_held, language, queued, running, done):  # noqa: F811
    from django.utils import timezone

    from invoices import sync
    from invoices.models import SyncRun

    _account, company, people = demo
    log_in(page, live_server, people["manager"], language)
    page.goto(f"{live_server.url}/c/{company.pk}/sync/")
    page.locator("button[name=kind][value=full]").click()
    progress = page.get_by_test_id("sync-progress")
    expect(progress).to_contain_text(queued)
    expect(page.get_by_test_id("sync-run").first).to_have_attribute("data-state", "queued")
    shot(page, f"{language}-sync-queued")
    page.evaluate(STAYED)
    run = SyncRun.objects.get(company=company, state="queued")
    sync.run_start(company=company, kind="full", queued=run.pk)  # a worker takes it up
    SyncRun.objects.filter(pk=run.pk).update(pages_done=2, pages_total=4, invoices_seen=60)
    expect(progress).to_contain_text(running)
    expect(page.locator("progress")).to_have_attribute("aria-valuenow", "50")
    shot(page, f"{language}-sync-running")
    SyncRun.objects.filter(pk=run.pk).update(state="succeeded", pages_done=4, finished_at=timezone.now())
    expect(page.get_by_test_id("sync-run").first).to_have_attribute("data-state", "succeeded")
    expect(page.get_by_test_id("sync-run").first).to_contain_text(done)
    expect(progress).to_have_count(0)
    expect(page.locator("#sync-runs")).not_to_have_attribute("hx-trigger", "every 2s")
    assert page.evaluate("window.__stayed === true"), "the page reloaded"


@pytest.mark.parametrize(("language", "first", "second", "marker"), [
    ("es", "1–50 de 60", "51–60 de 60", "vencida"), ("en", "1–50 of 60", "51–60 of 60", "overdue")])
def test_the_invoice_list_marks_overdue_rows_and_pages_back_and_forth(
        page, live_server, demo, language, first, second, marker):  # noqa: F811
    import datetime

    from django.utils import timezone

    from invoices.models import Invoice
    from tests.invoices.test_list_position import many

    _account, company, people = demo
    many(company, 60)
    Invoice.objects.filter(company=company, alegra_id="7").update(
        status="open", balance=100, due_date=timezone.localdate() - datetime.timedelta(days=5),
        date=datetime.date(2027, 1, 1))  # the newest: first on the first page
    log_in(page, live_server, people["accountant"], language)
    page.goto(f"{live_server.url}/c/{company.pk}/invoices/")
    position = page.get_by_test_id("position")
    expect(position).to_have_text(first)
    overdue = page.locator("tr.overdue")
    expect(overdue).to_have_count(1)
    expect(overdue.get_by_test_id("overdue")).to_have_text(marker)
    expect(overdue.get_by_test_id("overdue")).to_be_visible()
    expect(page.get_by_test_id("list-summary")).to_contain_text("60")
    shot(page, f"{language}-invoice-list")
    page.get_by_test_id("next").click()
    expect(position).to_have_text(second)
    expect(page.locator("tr.overdue")).to_have_count(0)
    page.get_by_test_id("previous").click()
    expect(position).to_have_text(first)
    expect(page.locator("tr.overdue")).to_have_count(1)


def test_the_credit_note_composer_waits_for_the_user_and_speaks_of_the_balance(page, live_server, demo):  # noqa: F811
    account, company, people = demo
    invoice = mirrored_invoice(company, account)
    log_in(page, live_server, people["accountant"])
    page.goto(f"{live_server.url}/c/{company.pk}/invoices/{invoice.pk}/edit/?kind=credit_note")
    page.wait_for_selector("#note-form")
    expect(page.get_by_test_id("violations")).to_have_count(0)
    expect(page.locator("#note-form .error")).to_have_count(0)
    expect(page.locator("#preview")).to_contain_text("Saldo antes")
    page.fill("input[name='credit-0-quantity']", "1")
    expect(page.get_by_test_id("violations")).to_contain_text("La causa que se imprime en la nota crédito es obligatoria")
    expect(page.locator("#preview")).to_contain_text("Saldo después")
    expect(page.locator("#preview")).not_to_contain_text("Total anterior")
    assert "nota crédito en su lugar" not in page.locator("main").inner_text()
    shot(page, "es-credit-note-composer")
