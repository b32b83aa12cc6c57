"""/ready/: database, broker, the scheduler's heartbeat and each company's last sync; 503 when not ready."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from invoices.models import SyncRun
from operations import tasks
from operations.models import Heartbeat
from operations.services import heartbeat_record
from portal.celery import app
from tests.factories import make_company

pytestmark = pytest.mark.django_db


def synced(company, minutes_ago: float, state=SyncRun.State.SUCCEEDED) -> SyncRun:
    finished = timezone.now() - timedelta(minutes=minutes_ago)
    return SyncRun.objects.create(company=company, kind="recent", state=state, finished_at=finished)


def ready(client):
    response = client.get(reverse("operations:ready"))
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    return response.status_code, response.json()


def test_ready_when_everything_answers(client, company, other_company):
    tasks.heartbeat.delay()  # what beat sends and a worker runs
    synced(company, 5)
    synced(other_company, 50, state=SyncRun.State.FAILED)
    synced(other_company, 20)
    status, body = ready(client)
    assert status == 200 and body["ready"] is True
    checks = body["checks"]
    assert {name: check["ok"] for name, check in checks.items()} == {
        "database": True, "broker": True, "scheduler": True, "sync": True}
    assert checks["scheduler"]["age_seconds"] < 60
    ages = {c["company_id"]: c["age_seconds"] for c in checks["sync"]["companies"]}
    assert set(ages) == {company.pk, other_company.pk}
    assert 5 * 60 <= ages[company.pk] < 6 * 60 and 20 * 60 <= ages[other_company.pk] < 21 * 60


def test_not_ready_without_a_heartbeat(client, company):
    status, body = ready(client)
    assert status == 503 and body["ready"] is False
    assert body["checks"]["scheduler"] == {"ok": False, "error": "no heartbeat recorded yet", "max_age_seconds": 180}
    assert body["checks"]["database"]["ok"] and body["checks"]["broker"]["ok"]


def test_not_ready_when_the_heartbeat_is_old(client, settings):
    settings.READY_HEARTBEAT_MAX_AGE_SECONDS = 60
    heartbeat_record(at=timezone.now() - timedelta(seconds=90))
    status, body = ready(client)
    assert status == 503 and body["checks"]["scheduler"]["ok"] is False
    assert body["checks"]["scheduler"]["age_seconds"] >= 90
    heartbeat_record()
    assert ready(client)[0] == 200
    assert Heartbeat.objects.count() == 1  # one row, updated


def test_a_stale_mirror_makes_it_not_ready_unless_only_reported(client, settings, company):
    heartbeat_record()
    settings.READY_SYNC_MAX_AGE_MINUTES = 60
    synced(company, 61)
    fresh = make_company(name="Recién llegada")  # never synced, added just now: not stale
    status, body = ready(client)
    assert status == 503
    rows = {c["company_id"]: c for c in body["checks"]["sync"]["companies"]}
    assert rows[company.pk]["stale"] is True and rows[company.pk]["last_success"] is not None
    assert rows[fresh.pk]["stale"] is False and rows[fresh.pk]["last_success"] is None

    settings.READY_SYNC_MAX_AGE_MINUTES = 0
    status, body = ready(client)
    assert status == 200 and body["checks"]["sync"]["max_age_seconds"] is None
    assert body["checks"]["sync"]["companies"][0]["age_seconds"] >= 61 * 60


def test_an_unreachable_broker_makes_it_not_ready_without_naming_its_address(client, monkeypatch):
    heartbeat_record()
    unreachable = "redis://:s3cret@127.0.0.1:1/0"
    monkeypatch.setenv("CELERY_BROKER_URL", unreachable)  # Celery reads the variable before its settings
    monkeypatch.setitem(app.conf, "broker_url", unreachable)
    status, body = ready(client)
    assert status == 503 and body["checks"]["broker"]["ok"] is False
    assert "s3cret" not in str(body) and "127.0.0.1" not in str(body)


@pytest.mark.parametrize("companies", [1, 6])
def test_ready_costs_the_same_queries_for_any_number_of_companies(client, companies, django_assert_num_queries):
    heartbeat_record()
    for number in range(companies):
        synced(make_company(name=f"Empresa {number}"), 1)
    with django_assert_num_queries(3):  # SELECT 1, the heartbeat, every company's last sync
        assert ready(client)[0] == 200


def test_ready_answers_get_only(client):
    assert client.post(reverse("operations:ready")).status_code == 405
