"""Throughput of the Alegra client, and what the client itself costs per request.

Run from the repository root:

    .venv/bin/python bench/client_throughput.py            # defaults: 2000 calls per case
    .venv/bin/python bench/client_throughput.py -n 500     # quicker
    REDIS_URL=redis://127.0.0.1:6379/1 .venv/bin/python bench/client_throughput.py

What it measures (all in one process, no network):

1. Overhead: the same GET answered by an `httpx.MockTransport` with a canned
   body, sent (a) with raw httpx + json.loads and (b) through `AlegraClient`
   (rate limiter, retry loop, Decimal parsing). The difference is the client's
   own cost per request; each limiter backend is measured on its own.
2. Sandbox: requests per second through the client against the bundled Alegra
   sandbox over its in-process WSGI transport (an account with a high rate
   limit, in a throw-away database that is removed at the end).

Figures are median and p95 per request, in microseconds, plus requests per second.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
from django.conf import settings  # noqa: E402

from invoices.alegra import AlegraClient  # noqa: E402
from invoices.ratelimit import FileStore, MemoryStore, RateLimiter, RedisStore, Store  # noqa: E402

BASE = "https://alegra.bench/api/v1"


def canned_page() -> str:
    """Thirty invoices shaped like the recorded ones (amounts as text, as Alegra sends them)."""
    invoice = {
        "id": "1", "date": "2026-05-02", "dueDate": "2026-06-01", "status": "open",
        "total": "19928.00", "totalPaid": "0.0000000000", "balance": "19928.00", "decimalPrecision": "2",
        "client": {"id": "12", "name": "Rivera Refrigeración S.A.S."},
        "numberTemplate": {"id": "19", "prefix": "FE", "number": "341", "fullNumber": "FE341"},
        "items": [{"id": 101, "name": "Mantenimiento", "price": "16746.218487", "quantity": 1,
                   "discount": "0.00", "tax": [{"id": "3", "name": "IVA 19%", "percentage": "19.00"}],
                   "total": 19928.0}],
    }
    return json.dumps([dict(invoice, id=str(n)) for n in range(1, 31)], ensure_ascii=False)


def timed(call: Callable[[], object], n: int) -> list[float]:
    return timed_together({"call": call}, n)["call"]


def timed_together(calls: dict[str, Callable[[], object]], n: int) -> dict[str, list[float]]:
    """Time several calls in turn, n rounds, so background noise hits them all alike."""
    for call in calls.values():
        for _ in range(min(50, n)):  # warm up
            call()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(n):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            samples[name].append(time.perf_counter() - started)
    return samples


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18]


def report(label: str, samples: list[float], baseline: list[float] | None = None) -> None:
    median = statistics.median(samples)
    line = f"{label:<44} median {median * 1e6:7.0f} µs   p95 {p95(samples) * 1e6:7.0f} µs   {1 / median:6.0f} req/s"
    if baseline is not None:
        # Paired differences: round i of the client against round i of raw httpx.
        extra = [s - b for s, b in zip(samples, baseline, strict=True)]
        line += f"   overhead {statistics.median(extra) * 1e6:+5.0f} µs median, {p95(extra) * 1e6:+5.0f} µs p95"
    print(line)


def overhead(n: int) -> None:
    body = canned_page()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text=body, headers={
            "Content-Type": "text/html; charset=UTF-8", "X-Rate-Limit-Limit": "150",
            "X-Rate-Limit-Remaining": "149", "X-Rate-Limit-Reset": "-2"})

    http = httpx.Client(transport=httpx.MockTransport(handler))
    auth = httpx.BasicAuth("bench@example.com", "bench-token")
    params = {"start": 0, "limit": 30, "metadata": "true"}

    def raw() -> None:
        response = http.get(BASE + "/invoices", params=params, auth=auth, timeout=httpx.Timeout(20))
        json.loads(response.text, parse_float=Decimal)

    stores: list[tuple[str, Store]] = [("memory", MemoryStore())]
    stores.append(("file (fcntl)", FileStore(tempfile.mkdtemp(prefix="enmienda-bench-"))))
    redis_url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/1"
    try:
        redis_store = RedisStore(redis_url, prefix=f"bench:{uuid.uuid4().hex}:")
        redis_store.redis.ping()
        stores.append(("redis", redis_store))
    except Exception as exc:  # no Redis here: measure the others
        print(f"(no Redis at {redis_url}: {exc})")

    calls: dict[str, Callable[[], object]] = {"raw httpx + json.loads(parse_float=Decimal)": raw}
    for name, store in stores:
        # 150 per 50 ms: the stored window holds about as many grants as a busy
        # real minute (≤ 150), while calls that take ~0.3 ms never have to wait.
        limiter = RateLimiter(store, 150, window_seconds=0.05)
        client = AlegraClient(BASE, "bench@example.com", "bench-token", http=http, limiter=limiter)
        calls[f"AlegraClient, limiter: {name}"] = (
            lambda c=client: c.request("GET", "/invoices", params=params))

    print(f"== client overhead: one GET of 30 invoices, canned by MockTransport, {n} rounds ==")
    samples = timed_together(calls, n)
    baseline = samples.pop("raw httpx + json.loads(parse_float=Decimal)")
    report("raw httpx + json.loads(parse_float=Decimal)", baseline)
    for label, values in samples.items():
        report(label, values, baseline)


def sandbox(n: int) -> None:
    try:
        from alegra_sandbox import testing
    except ImportError as exc:
        print(f"== sandbox: skipped, alegra_sandbox.testing is not available ({exc}) ==")
        return
    from django.db import connection

    # A throw-away database, named apart from the test suite's so both can run at once.
    test_settings = settings.DATABASES["default"].setdefault("TEST", {})
    if connection.vendor == "sqlite":
        test_settings["NAME"] = str(Path(tempfile.mkdtemp(prefix="enmienda-bench-")) / "bench.sqlite3")
    else:
        test_settings["NAME"] = f"bench_{uuid.uuid4().hex[:10]}"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        account, email, token = _sandbox_account(testing)
        http = httpx.Client(transport=testing.SandboxTransport())
        client = AlegraClient(testing.BASE_URL, email, token, http=http,
                              limiter=RateLimiter(MemoryStore(), 10 * n + 1000))
        first = client.iter_invoice_pages(limit=30)
        page = next(first)
        first.close()
        invoice_id = page.items[0]["id"] if page.items else "1"
        print(f"== sandbox over SandboxTransport ({connection.vendor}), {n} calls each ==")
        report("GET /invoices/{id}", timed(lambda: client.get_invoice(invoice_id), n))
        report("GET /invoices?limit=30 (one page)",
               timed(lambda: client.request("GET", "/invoices",
                                            params={"start": 0, "limit": 30, "metadata": "true"}), n))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def _sandbox_account(testing) -> tuple[object, str, str]:
    email, token = "bench@example.com", "bench-token-" + uuid.uuid4().hex[:8]
    account = testing.make_account(email=email, token=token, rate_limit_per_minute=1_000_000, invoices=60)
    return account, email, token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="calls per case (default 2000)")
    args = parser.parse_args()
    overhead(args.n)
    sandbox(args.n)


if __name__ == "__main__":
    main()
