"""Pushes through the sandbox's own fault injection: errors, dropped answers, 429 storms.

Every applied PUT makes the sandbox fire one `edit-invoice` webhook, so counting deliveries per
invoice counts the writes Alegra actually applied (a dropped answer still applied the write).
"""

from __future__ import annotations

import json
from collections import Counter

import httpx
import pytest

from alegra_sandbox import services as sandbox
from alegra_sandbox.testing import deliveries_through, frozen_clock
from approvals.services import push as push_module
from approvals.models import ChangeRequest, Push
from approvals.services.decisions import request_decide
from tests.approvals.pushkit import alegra_client, later, mirrored_invoice, submit, world  # noqa: F401 (fixtures)

REQUESTS = 12


class Receiver:
    """Where the sandbox's webhooks land: counts applied invoice edits per invoice id."""

    def __init__(self):
        self.edits: Counter[str] = Counter()
        self.transport = httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.content:
            payload = json.loads(request.content)
            if payload.get("subject") == "edit-invoice":
                self.edits[str(payload["message"]["invoice"]["id"])] += 1
        return httpx.Response(200)


@pytest.fixture
def approved(world, django_capture_on_commit_callbacks):
    """REQUESTS approved requests, each on its own invoice, their pushes queued."""
    invoices = [world.invoice] + [mirrored_invoice(world.company, world.account) for _ in range(REQUESTS - 1)]
    pushes = []
    for number, invoice in enumerate(invoices):
        change_request = submit(invoice, world.accountant, observations=f"Corrección {number}")
        with django_capture_on_commit_callbacks(execute=False):
            request_decide(change_request=change_request, user=world.approver, outcome="approve")
        pushes.append(change_request.pushes.get())
    return invoices, pushes


@pytest.fixture
def receiver(world):
    receiver = Receiver()
    with deliveries_through(receiver.transport):
        sandbox.subscription_create(world.account, {"event": "edit-invoice", "url": "https://hooks.example/in"})
        yield receiver


def drain(pushes, client, capture, *, on_retry=lambda seconds: None, rounds: int = 400) -> dict:
    """Run the pushes the way workers would (round robin, retries when due) until all finish."""
    waiting = {push.pk: None for push in pushes}  # push id → the attempt that scheduled its retry
    attempts = 0
    for _ in range(rounds):
        if not waiting:
            break
        for push_id, after in list(waiting.items()):
            with capture(execute=True):
                outcome = push_module.push_run(push_id=push_id, after_attempt=after, client=client)
            attempts += 1
            if outcome.retry_in is None:
                del waiting[push_id]
            else:
                waiting[push_id] = outcome.attempt
                on_retry(outcome.retry_in)
                later(client, outcome.retry_in)
    return {"runs": attempts, "unfinished": len(waiting)}


def assert_all_applied_once(world, invoices, pushes, receiver):
    attempts = sum(Push.objects.filter(pk__in=[p.pk for p in pushes]).values_list("attempts", flat=True))
    print(f"\n{len(pushes)} approved, {attempts} push attempts, "
          f"{sum(1 for i in invoices if receiver.edits[i.alegra_id] == 1)} applied once, "
          f"{sum(1 for i in invoices if receiver.edits[i.alegra_id] > 1)} applied twice or more, "
          f"{sum(1 for i in invoices if receiver.edits[i.alegra_id] == 0)} lost")
    states = Counter(Push.objects.filter(pk__in=[p.pk for p in pushes]).values_list("state", flat=True))
    assert states == {Push.State.APPLIED: len(pushes)}
    assert set(ChangeRequest.objects.values_list("state", flat=True)) == {ChangeRequest.State.APPLIED}
    for number, invoice in enumerate(invoices):
        assert sandbox.invoice_get(world.account, invoice.alegra_id)["observations"] == f"Corrección {number}"
        assert receiver.edits[invoice.alegra_id] == 1, f"invoice {invoice.alegra_id} written {receiver.edits[invoice.alegra_id]} times"


def test_errors_and_dropped_connections_all_applied_none_twice(world, approved, receiver, settings,
                                                               django_capture_on_commit_callbacks):
    settings.PUSH_MAX_ATTEMPTS = 20
    invoices, pushes = approved
    sandbox.faults_set(world.account, error_rate="0.25", drop_rate="0.15", seed=20261127)

    result = drain(pushes, alegra_client(world.company), django_capture_on_commit_callbacks)

    assert result["unfinished"] == 0
    assert_all_applied_once(world, invoices, pushes, receiver)
    attempts = sum(Push.objects.filter(pk__in=[p.pk for p in pushes]).values_list("attempts", flat=True))
    assert attempts > len(pushes)  # the storm did make pushes retry
    retried_after_drop = Push.history.filter(history_change_reason__contains="RemoteProtocolError").exists()
    assert retried_after_drop or Push.history.filter(history_change_reason__contains="disconnected").exists()


def test_a_429_storm_waits_for_each_reset_and_applies_everything_once(world, approved, receiver,
                                                                     django_capture_on_commit_callbacks):
    invoices, pushes = approved
    world.account.rate_limit_per_minute = 5
    world.account.save(update_fields=["rate_limit_per_minute"])
    waits = []
    with frozen_clock() as advance:
        def wait(seconds):
            waits.append(seconds)
            advance(seconds)

        result = drain(pushes, alegra_client(world.company), django_capture_on_commit_callbacks, on_retry=wait)

    assert result["unfinished"] == 0
    assert_all_applied_once(world, invoices, pushes, receiver)
    assert waits and min(waits) >= 1
    assert Push.history.filter(history_change_reason__contains="HTTP 429").exists()
