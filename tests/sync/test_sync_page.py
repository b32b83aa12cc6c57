import pytest
from django.urls import reverse

from invoices import sync
from invoices.models import SyncRun

pytestmark = pytest.mark.django_db


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
