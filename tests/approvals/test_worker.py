"""A real Celery worker process pushes to the sandbox over HTTP; SIGKILLed mid-push, restarted.

The worker consumes from the broker the environment names (Redis on CI, the server-less
filesystem broker by default) and reads the test database. Every approved request must end
applied exactly once: the sandbox's request log counts the PUTs it answered.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from datetime import timedelta

import pytest

from alegra_sandbox import services as sandbox
from alegra_sandbox.models import SandboxRequestLog
from alegra_sandbox.testing import make_account
from approvals.models import ChangeRequest, Push
from approvals.services import push as push_module
from approvals.services.decisions import request_decide
from portal import events
from tests.approvals.pushkit import mirrored_invoice, sandbox_company, submit
from tests.factories import make_user
from tests.workers import Worker, worker_on_own_queue

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

POLL_SECONDS = 0.1
MAX_POLLS = 900  # a generous cap; the test normally finishes in a few seconds of polling


@pytest.fixture
def worker(settings, tmp_path):
    with worker_on_own_queue(settings, "PUSH_QUEUE", tmp_path) as started:
        yield started


def states() -> Counter:
    return Counter(Push.objects.values_list("state", flat=True))


def wait_until(condition, worker: Worker, what: str, *, sweep: bool = False):
    for _ in range(MAX_POLLS):
        if sweep:
            # What the scheduled sweeper does, with short limits to keep the test short.
            push_module.push_sweep(stale=timedelta(seconds=2), requeue=timedelta(seconds=5))
        value = condition()
        if value:
            return value
        if worker.process.poll() is not None:
            pytest.fail(f"the worker exited with {worker.process.returncode}:\n{worker.log()}")
        time.sleep(POLL_SECONDS)
    pytest.fail(f"gave up waiting for {what}; pushes {dict(states())}\n{worker.log()}")


def test_a_worker_killed_mid_push_and_restarted_applies_every_approval_exactly_once(live_server, worker):
    account = make_account(email=f"worker-{uuid.uuid4().hex[:8]}@example.com")
    account, company = sandbox_company(account, base_url=live_server.url + "/sandbox/api/v1")
    accountant = make_user("ana", company, "accountant")
    approver = make_user("pedro", company, "approver")
    invoices = [mirrored_invoice(company, account) for _ in range(8)]
    for number, invoice in enumerate(invoices):
        change_request = submit(invoice, accountant, observations=f"Corrección {number}")
        request_decide(change_request=change_request, user=approver, outcome="approve")  # queued on commit
    assert states() == {Push.State.QUEUED: len(invoices)}
    # Slow answers, so the kill lands while a push is talking to Alegra.
    sandbox.faults_set(account, latency_ms=150)

    worker.start()
    wait_until(lambda: states()[Push.State.APPLIED] >= 2 and states()[Push.State.PUSHING] == 1, worker,
               "a push in flight after two applied")
    worker.kill()
    at_kill = states()
    assert at_kill[Push.State.PUSHING] == 1

    worker.start()
    wait_until(lambda: states()[Push.State.APPLIED] == len(invoices), worker, "every push applied", sweep=True)

    puts = Counter(SandboxRequestLog.objects.filter(account=account, method="PUT", status=200)
                   .values_list("path", flat=True))
    per_invoice = [puts[f"/sandbox/api/v1/invoices/{invoice.alegra_id}"] for invoice in invoices]
    attempts = sum(Push.objects.values_list("attempts", flat=True))
    print(f"\n{len(invoices)} approved; at the kill {dict(at_kill)}; {attempts} attempts; "
          f"PUTs per invoice {per_invoice}")
    assert per_invoice == [1] * len(invoices), "an approved change was written twice or not at all"
    for number, invoice in enumerate(invoices):
        assert sandbox.invoice_get(account, invoice.alegra_id)["observations"] == f"Corrección {number}"
    assert set(ChangeRequest.objects.values_list("state", flat=True)) == {ChangeRequest.State.APPLIED}
    assert Push.history.filter(history_change_reason=events.reason("push.resent", why="worker_lost")).exists()
