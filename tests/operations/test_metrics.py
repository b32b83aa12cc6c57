"""/metrics: Prometheus text for a bearer token, computed from the database when scraped, plus the
count of Alegra's 429 answers kept in the store every process shares."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from django.urls import reverse
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from approvals.services.decisions import request_decide
from audit import services as audit_services
from invoices.alegra import AlegraClient
from invoices.models import SyncRun
from operations.services import heartbeat_record
from portal.counters import REDIS_PREFIX, Counter, alegra_rate_limited
from tests.approvals.pushkit import (  # noqa: F401 (fixtures)
    fresh_limiter, mirrored_invoice, sandbox_pushes, submit, world,
)
from tests.audit.test_integrity import tamper

TOKEN = "metrics-token-for-the-tests"
pytestmark = pytest.mark.django_db


@pytest.fixture
def counters(settings, tmp_path):
    """A counter store of this test's own: other tests running at the same time count elsewhere."""
    settings.METRICS_COUNTER_STORE = str(tmp_path / "counters")
    settings.METRICS_TOKEN = TOKEN


def scrape(client, token: str | None = TOKEN):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return client.get(reverse("operations:metrics"), **headers)


def samples(response) -> dict[tuple, float]:
    figures = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            figures[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return figures


def test_metrics_do_not_exist_without_a_configured_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert scrape(client, "anything").status_code == 404


def test_metrics_refuse_a_missing_or_wrong_token(client, counters):
    for token in (None, "wrong-token"):
        response = scrape(client, token)
        assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
        assert b"enmienda_" not in response.content
    basic = client.get(reverse("operations:metrics"), HTTP_AUTHORIZATION=f"Basic {TOKEN}")
    assert basic.status_code == 401


def test_pushes_by_state_sync_lag_audit_and_heartbeat(client, counters, world, sandbox_pushes,
                                                      django_capture_on_commit_callbacks):
    applied = submit(world.invoice, world.accountant, observations="Aplicada")
    with django_capture_on_commit_callbacks(execute=True):
        request_decide(change_request=applied, user=world.approver, outcome="approve")
    waiting = submit(mirrored_invoice(world.company, world.account), world.accountant, observations="En cola")
    with django_capture_on_commit_callbacks(execute=False):  # approved; no worker has taken it yet
        request_decide(change_request=waiting, user=world.approver, outcome="approve")
    SyncRun.objects.create(company=world.company, kind="full", state=SyncRun.State.SUCCEEDED,
                           finished_at=timezone.now() - timedelta(minutes=10))
    heartbeat_record(at=timezone.now() - timedelta(seconds=20))
    assert audit_services.chain_verify(company_id=world.company.pk).ok

    response = scrape(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    figures = samples(response)
    pushes = {dict(labels)["state"]: value for (name, labels), value in figures.items() if name == "enmienda_pushes"}
    assert pushes == {"queued": 1, "pushing": 0, "retrying": 0, "applied": 1, "conflict": 0, "failed": 0}
    assert figures[("enmienda_push_oldest_pending_seconds", ())] >= 0
    lag = figures[("enmienda_sync_lag_seconds", (("company", str(world.company.pk)),))]
    assert 600 <= lag < 660
    chain = (("chain", str(world.company.pk)),)
    assert figures[("enmienda_audit_chain_ok", chain)] == 1
    assert figures[("enmienda_audit_chain_verified_timestamp_seconds", chain)] <= timezone.now().timestamp()
    assert 20 <= figures[("enmienda_scheduler_heartbeat_age_seconds", ())] < 80
    assert figures[("enmienda_alegra_rate_limited_total", ())] == 0


def test_a_broken_chain_shows_as_zero(client, counters, world):
    first = audit_services.chain_verify(company_id=world.company.pk)
    assert first.ok
    tamper("UPDATE audit_auditentry SET why = %s WHERE company_id = %s AND seq = 1", ["otra", world.company.pk])
    assert not audit_services.chain_verify(company_id=world.company.pk).ok
    assert samples(scrape(client))[("enmienda_audit_chain_ok", (("chain", str(world.company.pk)),))] == 0


def test_alegra_429s_are_counted_where_every_process_reads_them(client, counters, company):
    answers = iter([httpx.Response(429, json={"message": "Too many requests"}, headers={"Retry-After": "0"}),
                    httpx.Response(429, json={"message": "Too many requests"}, headers={"Retry-After": "0"}),
                    httpx.Response(200, json={"id": "1", "name": "Empresa"})])
    transport = httpx.MockTransport(lambda request: next(answers))
    with AlegraClient.for_company(company, http=httpx.Client(transport=transport), limiter=fresh_limiter(),
                                  sleep=lambda seconds: None) as alegra:
        assert alegra.get_company()["name"] == "Empresa"
    assert alegra_rate_limited.value() == 2
    # Another process reads the same store: a fresh object with the same name sees the count.
    assert Counter("alegra_rate_limited").value() == 2
    assert samples(scrape(client))[("enmienda_alegra_rate_limited_total", ())] == 2


def test_the_count_is_shared_through_redis_where_one_runs(settings):
    import os

    import redis

    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("no REDIS_URL: the folder store is tested above")
    settings.METRICS_COUNTER_STORE = url
    counter = Counter(f"test_{uuid.uuid4().hex[:12]}")
    try:
        counter.inc()
        counter.inc(2)
        assert Counter(counter.name).value() == 3
        assert int(redis.Redis.from_url(url).get(REDIS_PREFIX + counter.name)) == 3
    finally:
        redis.Redis.from_url(url).delete(REDIS_PREFIX + counter.name)


def test_a_counter_store_that_is_down_never_fails_the_work(settings, caplog):
    settings.METRICS_COUNTER_STORE = "redis://127.0.0.1:1/0"
    alegra_rate_limited.inc()  # no exception
    assert "not incremented" in caplog.text


@pytest.mark.parametrize("companies", [1, 5])
def test_a_scrape_costs_the_same_queries_for_any_number_of_companies(client, counters, companies,
                                                                     django_assert_num_queries):
    from tests.factories import make_company

    for number in range(companies):
        company = make_company(name=f"Empresa {number}")
        audit_services.chain_verify(company_id=company.pk)
    with django_assert_num_queries(5):  # pushes, oldest push, sync lag, verifications, heartbeat
        assert scrape(client).status_code == 200
