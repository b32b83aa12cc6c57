"""The request budget holds when many threads (each with its own DB connection) share it."""

import threading

import pytest
from django.db import connection

from alegra_sandbox import services
from alegra_sandbox.models import SandboxRateWindow, SandboxRequestLog
from alegra_sandbox.testing import frozen_clock, make_client


@pytest.mark.django_db(transaction=True)
def test_budget_is_shared_across_threads():
    account = services.account_create(email="hilos@example.com", token="t", rate_limit_per_minute=25,
                                      with_catalogue=False)
    statuses: list[int] = []

    def worker():
        try:
            with make_client(account) as client:
                for _ in range(8):
                    statuses.append(client.get("/company").status_code)
        finally:
            connection.close()

    with frozen_clock():
        threads = [threading.Thread(target=worker) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert len(statuses) == 40
    assert statuses.count(200) == 25 and statuses.count(429) == 15
    assert SandboxRateWindow.objects.get(account=account).count == 40
    assert SandboxRequestLog.objects.filter(account=account).count() == 40
