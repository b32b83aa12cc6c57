"""A real Celery worker delivers events to a real local HTTP server; SIGKILLed mid-delivery, restarted.

The receiver holds the first request it gets open, so the kill lands while the worker waits for
the answer. Nothing may be lost: every event arrives (at least once, under its own webhook-id),
each invoice's events in the order they happened, every signature valid.
"""

from __future__ import annotations

import json
import time

import pytest
from standardwebhooks import Webhook

from api import outbound
from api.models import DeliveryAttempt, EventDelivery
from approvals.services.decisions import request_decide
from tests.api.receivers import Receiver
from tests.api.test_events import _submit
from tests.factories.edit import make_invoice, mirror_catalogue
from tests.workers import Worker, worker_on_own_queue

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

POLL_SECONDS = 0.1
MAX_POLLS = 1200  # a generous cap; the test normally finishes in a few seconds of polling


@pytest.fixture
def receiver():
    found = Receiver(hold_first=True)
    yield found
    found.close()


@pytest.fixture
def worker(settings, tmp_path):
    with worker_on_own_queue(settings, "EVENTS_QUEUE", tmp_path,
                             env={"EVENT_DELIVERY_PRIVATE_HOSTS": "127.0.0.1"}) as started:
        yield started


def wait_until(condition, worker: Worker, what: str, *, sweep: bool = False):
    for _ in range(MAX_POLLS):
        if sweep:
            outbound.sweep()  # what the scheduler does every minute
        value = condition()
        if value:
            return value
        if worker.process.poll() is not None:
            pytest.fail(f"the worker exited with {worker.process.returncode}:\n{worker.log()}")
        time.sleep(POLL_SECONDS if not sweep else 1.0)
    states = dict(EventDelivery.objects.values_list("message_id", "state"))
    pytest.fail(f"gave up waiting for {what}; deliveries {states}\n{worker.log()}")


def test_a_worker_killed_mid_delivery_and_restarted_loses_no_event(company, accountant, approver, manager,
                                                                   receiver, worker):
    mirror_catalogue(company)
    invoices = [make_invoice(company, number=n) for n in (1, 2, 3)]
    subscription = outbound.subscription_create(company=company, user=manager, url=receiver.url,
                                                events=["change_request.submitted", "change_request.decided"])
    for invoice in invoices:  # each commit queues a delivery run on the broker; no worker yet
        change_request = _submit(invoice, accountant, "95")
        request_decide(change_request=change_request, user=approver, outcome="reject", comment="No")
    assert EventDelivery.objects.filter(state="pending").count() == 6

    worker.start()
    wait_until(lambda: receiver.arrived, worker, "the first delivery to reach the receiver")
    worker.kill()  # while the receiver holds that request open
    receiver.release.set()
    held_id = receiver.arrived[0][0]["webhook-id"]
    # The dead worker's transaction rolled back: the held delivery is pending, with no attempt logged.
    held = EventDelivery.objects.get(message_id=held_id)
    assert held.state == "pending" and held.attempts == 0 and not DeliveryAttempt.objects.filter(delivery=held)

    worker.start()
    wait_until(lambda: not EventDelivery.objects.exclude(state="delivered").exists(), worker,
               "every event delivered", sweep=True)

    deliveries = list(EventDelivery.objects.order_by("id"))
    arrived_ids = [headers["webhook-id"] for headers, _body in receiver.arrived]
    assert {d.message_id for d in deliveries} <= set(arrived_ids), "an event was lost"
    assert arrived_ids.count(held_id) >= 2, "the interrupted delivery was not sent again"
    for headers, body in receiver.arrived:
        Webhook(subscription.secret).verify(body, headers)
    firsts: dict[int, list[str]] = {}
    seen: set[str] = set()
    for headers, body in receiver.arrived:
        if headers["webhook-id"] not in seen:
            seen.add(headers["webhook-id"])
            payload = json.loads(body)
            firsts.setdefault(payload["data"]["invoice_id"], []).append(payload["type"])
    assert firsts == {invoice.pk: ["change_request.submitted", "change_request.decided"] for invoice in invoices}
    print(f"\n6 events, {len(receiver.arrived)} requests received, {worker.starts} worker starts")
