import contextlib

import pytest
from django.urls import reverse

from invoices import sync
from invoices.models import SyncRun
from invoices.tasks import sync_company

pytestmark = pytest.mark.django_db


@pytest.fixture
def celery_sync_queue():
    """Leaves nothing behind in the sync queue of the broker a test sent a message to."""
    from portal.celery import app

    yield
    # A queue that never existed has nothing to purge.
    with app.connection_for_write() as conn, contextlib.suppress(Exception):
        conn.default_channel.queue_purge("sync")


def test_running_sync_shows_progress_and_polls(client, company, manager):
    client.force_login(manager)
    run = sync.run_start(company=company, kind="full")
    SyncRun.objects.filter(pk=run.pk).update(pages_done=3, pages_total=10, invoices_seen=90)
    page = client.get(reverse("invoices:sync_page", args=[company.pk])).content.decode()
    assert 'role="progressbar"' in page and 'aria-valuenow="30"' in page
    assert 'hx-trigger="every 2s"' in page
    fragment = client.get(reverse("invoices:sync_page", args=[company.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert 'id="sync-runs"' in fragment and "<html" not in fragment


def test_finished_sync_stops_polling(client, company, manager):
    client.force_login(manager)
    run = sync.run_start(company=company, kind="full")
    run.state = "succeeded"
    run.save()
    page = client.get(reverse("invoices:sync_page", args=[company.pk])).content.decode()
    assert "every 2s" not in page


def test_start_sync_runs_once_and_records_who_asked(client, company, manager, in_process_http):
    from alegra_sandbox.testing import make_account

    account = make_account(invoices=35)
    company.api_email = account.email
    company.set_token(account.token)
    company.save()
    client.force_login(manager)
    response = client.post(reverse("invoices:sync_start", args=[company.pk]), {"kind": "full"})
    assert response.status_code == 302
    run = SyncRun.objects.get(company=company)
    assert (run.state, run.invoices_created, run.triggered_by) == ("succeeded", 35, manager)
    sync.run_start(company=company, kind="full")
    client.post(reverse("invoices:sync_start", args=[company.pk]), {"kind": "full"})
    assert SyncRun.objects.filter(company=company).count() == 2


@pytest.mark.parametrize("role,status", [("approver", 403), ("accountant", 302), ("manager", 302)])
def test_who_may_start_a_sync(client, company, role, status, in_process_http):
    from tests.factories import make_user

    client.force_login(make_user(f"u-{role}", company, role))
    assert client.post(reverse("invoices:sync_start", args=[company.pk]), {"kind": "full"}).status_code == status
    if status == 302:
        # No sandbox account behind this company: Alegra answers 401 and the run says so.
        run = SyncRun.objects.get(company=company)
        assert run.state == "failed" and "401" in run.last_error


def test_outsider_cannot_start_a_sync(client, company, outsider):
    client.force_login(outsider)
    assert client.post(reverse("invoices:sync_start", args=[company.pk])).status_code == 404


def test_a_finished_run_shows_its_duration_to_the_second(client, company, manager):
    import datetime

    client.force_login(manager)
    run = sync.run_start(company=company, kind="full")
    run.state = "succeeded"
    run.finished_at = run.started_at + datetime.timedelta(seconds=83)
    run.save()
    assert run.duration == "1 min 23 s"
    assert "1 min 23 s" in client.get(reverse("invoices:sync_page", args=[company.pk])).content.decode()


def test_sync_now_shows_the_queued_run_at_once_and_the_worker_takes_up_that_same_row(
        client, company, manager, in_process_http, celery_sync_queue):
    from alegra_sandbox.testing import make_account

    account = make_account(invoices=3)
    company.api_email = account.email
    company.set_token(account.token)
    company.save()
    client.force_login(manager)
    from portal.celery import app

    app.conf.task_always_eager = False  # the message waits in the broker, as it does for a busy worker
    try:
        response = client.post(reverse("invoices:sync_start", args=[company.pk]), {"kind": "full"})
    finally:
        app.conf.task_always_eager = True
    page = client.get(response["Location"]).content.decode()
    run = SyncRun.objects.get(company=company)
    assert (run.state, run.triggered_by) == ("queued", manager)
    assert 'data-testid="sync-run" data-state="queued"' in page and 'hx-trigger="every 2s"' in page
    assert 'data-testid="sync-progress" data-state="queued"' in page
    # A second click while it waits queues nothing more.
    client.post(reverse("invoices:sync_start", args=[company.pk]), {"kind": "full"})
    assert SyncRun.objects.filter(company=company).count() == 1
    sync_company(company.pk, "full", manager.pk, run.pk)  # what the worker does when the message arrives
    assert list(SyncRun.objects.filter(company=company).values_list("pk", "state", "invoices_created")) == [
        (run.pk, "succeeded", 3)]
    done = client.get(reverse("invoices:sync_page", args=[company.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "every 2s" not in done and 'data-state="succeeded"' in done


def test_a_queued_run_no_worker_took_up_is_given_up_and_one_that_lost_the_race_says_so(company):
    queued = sync.run_queue(company=company, kind="full")
    assert sync.run_queue(company=company, kind="recent") is None
    SyncRun.objects.filter(pk=queued.pk).update(heartbeat_at=queued.heartbeat_at - sync.QUEUED_AT_MOST * 2)
    fresh = sync.run_queue(company=company, kind="recent")
    queued.refresh_from_db()
    assert queued.state == "interrupted" and fresh.state == "queued"
    sync.run_start(company=company, kind="full")  # the nightly sync got there first
    with pytest.raises(sync.SyncBusy):
        sync.run_start(company=company, kind="recent", queued=fresh.pk)
    fresh.refresh_from_db()
    assert fresh.state == "interrupted"
