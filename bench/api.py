"""REST API throughput (invoice list and detail) and outbound event latency (commit to receipt).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/enmienda_bench_api \\
        .venv/bin/python bench/api.py --invoices 100000

Works in a throw-away database (SQLite by default, or the PostgreSQL database DATABASE_URL
names, created and dropped by the script). It fills the mirror with N sandbox invoices, then:

(a) the invoice list (a few filters, a deep keyset page) and the invoice detail through the
    REST API with a real token, sequentially through Django's test client in this process:
    requests per second of one process and median and p95 server time;
(b) event delivery latency: a real Celery worker (its own process, the `events` queue) delivers
    `change_request.submitted` to a local HTTP receiver in this process; the time from the
    submission's commit to the signed request's arrival (median and p95), signatures verified.
"""

from __future__ import annotations

import argparse
import copy
import http.server
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.throwaway_db import prepare  # noqa: E402


def _p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[int(0.95 * (len(ordered) - 1))]


def throughput(company, rounds: int) -> list[tuple[str, float, float, float]]:
    from django.test import Client

    from api.services import token_create
    from invoices.models import Invoice
    from portal.services import membership_set, user_ensure

    user = user_ensure(username="bench-api", password="bench-pass-123456", email="api@bench.test")
    membership_set(user=user, company=company, role="accountant")
    _token, secret = token_create(user=user, company=company, name="bench", scopes="invoices:read")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")
    deep = client.get("/api/v1/invoices", {"limit": 100}).json()
    for _ in range(20):  # twenty pages down (or the last one)
        if not deep["next_cursor"]:
            break
        cursor = deep["next_cursor"]
        deep = client.get("/api/v1/invoices", {"limit": 100, "cursor": cursor}).json()
    deep = {"next_cursor": deep["next_cursor"] or cursor}
    ids = list(Invoice.objects.filter(company=company).order_by("?").values_list("id", flat=True)[:rounds])
    cases = [
        ("list, newest first, 50", lambda i: ("/api/v1/invoices", {})),
        ("list, status=open, 50", lambda i: ("/api/v1/invoices", {"status": "open"})),
        ("list, search 'FE1', 50", lambda i: ("/api/v1/invoices", {"q": "FE1"})),
        ("list, 21st page of 100", lambda i: ("/api/v1/invoices", {"limit": 100, "cursor": deep["next_cursor"]})),
        ("detail (random invoice)", lambda i: (f"/api/v1/invoices/{ids[i % len(ids)]}", {})),
    ]
    os.environ["API_RATE_LIMIT_PER_MINUTE"] = "1000000"
    from django.conf import settings

    settings.API_RATE_LIMIT_PER_MINUTE = 1_000_000
    results = []
    for label, make in cases:
        path, params = make(0)
        client.get(path, params)
        samples = []
        started_all = time.perf_counter()
        for i in range(rounds):
            path, params = make(i)
            started = time.perf_counter()
            response = client.get(path, params)
            samples.append(1000 * (time.perf_counter() - started))
            assert response.status_code == 200, (path, response.status_code)
        elapsed = time.perf_counter() - started_all
        results.append((label, rounds / elapsed, statistics.median(samples), _p95(samples)))
    return results


class Receiver:
    def __init__(self):
        self.arrivals: dict[str, tuple[float, dict, bytes]] = {}
        arrivals = self.arrivals

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                arrivals.setdefault(self.headers["webhook-id"], (time.time(), dict(self.headers.items()), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"


def latency(events: int) -> dict:
    import json

    from standardwebhooks import Webhook

    from api import outbound
    from api.models import EventDelivery
    from approvals.models import ChangeRequest
    from approvals.services.requests import request_save_and_submit
    from portal.services import company_create, membership_set, user_ensure

    receiver = Receiver()
    company = company_create(name="Events", base_url="http://testserver/sandbox/api/v1",
                             api_email="events@bench.test", token="x")
    accountant = user_ensure(username="bench-acc", password="bench-pass-123456", email="a@bench.test")
    manager = user_ensure(username="bench-man", password="bench-pass-123456", email="m@bench.test")
    membership_set(user=accountant, company=company, role="accountant")
    membership_set(user=manager, company=company, role="manager")
    subscription = outbound.subscription_create(company=company, user=manager, url=receiver.url,
                                                events=["change_request.submitted"])
    sys.path.insert(0, str(ROOT / "tests"))
    from tests.factories.edit import make_invoice, mirror_catalogue

    mirror_catalogue(company)
    warm_up = make_invoice(company, number=events + 1)
    invoices = [make_invoice(company, number=n) for n in range(1, events + 1)]
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "-Q", "events", "-c", "1", "--pool", "solo",
         "-l", "warning", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    committed: dict[int, float] = {}

    def submit(invoice) -> int:
        proposed = copy.deepcopy(invoice.document)
        proposed["observations"] = f"bench {invoice.pk}"
        change_request = request_save_and_submit(invoice=invoice, user=accountant, proposed=proposed,
                                                 reason="bench", kind="update")
        return change_request.pk

    try:
        # Measured once the worker is up: one event first, not counted, until it arrives.
        warm_up_id = submit(warm_up)
        deadline = time.time() + 120
        while not receiver.arrivals and time.time() < deadline:
            time.sleep(0.05)
        for invoice in invoices:
            pk = submit(invoice)
            committed[pk] = time.time()  # the atomic block has committed
            time.sleep(0.05)
        deadline = time.time() + 120
        while len(receiver.arrivals) < events + 1 and time.time() < deadline:
            time.sleep(0.05)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    samples, verified = [], 0
    for arrived, headers, body in receiver.arrivals.values():
        payload = Webhook(subscription.secret).verify(body, headers)
        verified += 1
        if payload["data"]["change_request_id"] == warm_up_id:
            continue
        samples.append(1000 * (arrived - committed[payload["data"]["change_request_id"]]))
    delivered = EventDelivery.objects.filter(state="delivered").count()
    receiver.server.shutdown()
    return {"events": events, "received": len(samples), "verified": verified - 1, "delivered": delivered - 1,
            "median_ms": statistics.median(samples) if samples else float("nan"),
            "p95_ms": _p95(samples) if samples else float("nan"),
            "requests": ChangeRequest.objects.filter(company=company).count(),
            "json": json.dumps(sorted(samples)[:3])}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--events", type=int, default=50)
    args = parser.parse_args()
    where = prepare()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
    os.environ.setdefault("AUDIT_HMAC_KEY", "bench-only-audit-key-0123456789abcdefghijklmnopqrstuv")
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost"
    os.environ.update({
        "SESSION_COOKIE_SECURE": "false", "CSRF_COOKIE_SECURE": "false", "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0", "CSRF_TRUSTED_ORIGINS": "http://localhost", "LOG_LEVEL": "WARNING",
        "PORTAL_BASE_URL": "http://localhost", "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        # The receiver listens on this machine: named, as an operator names an intranet ERP.
        "EVENT_DELIVERY_PRIVATE_HOSTS": "127.0.0.1"})
    os.environ.pop("ENMIENDA_TESTING", None)
    if not os.environ.get("CELERY_BROKER_URL"):
        os.environ["CELERY_BROKER_URL"] = "filesystem://"
        os.environ.setdefault("ENMIENDA_VAR_DIR", tempfile.mkdtemp(prefix="enmienda-bench-api-"))
    import django

    django.setup()
    from django.core.management import call_command
    from django.test.utils import setup_test_environment

    from bench.mirror_sync import fill_mirror

    try:
        call_command("migrate", verbosity=0)
        setup_test_environment()
        print(f"database: {where}; {os.cpu_count()} cores")
        started = time.perf_counter()
        company = fill_mirror(args.invoices)
        print(f"mirror of {args.invoices:,} invoices filled in {time.perf_counter() - started:.0f} s")
        print(f"(a) REST API, {args.rounds} sequential requests each, one process:")
        print(f"    {'request':<28} {'req/s':>7} {'median ms':>10} {'p95 ms':>8}")
        for label, rps, median, p95 in throughput(company, args.rounds):
            print(f"    {label:<28} {rps:7.1f} {median:10.1f} {p95:8.1f}")
        figures = latency(args.events)
        print(f"(b) events, commit to receipt through a real worker: {figures['received']}/{figures['events']} "
              f"received, {figures['verified']} signatures verified, {figures['delivered']} rows delivered; "
              f"median {figures['median_ms']:.0f} ms, p95 {figures['p95_ms']:.0f} ms")
    finally:
        url = os.environ.get("DATABASE_URL", "")
        if url.startswith("postgres"):
            from bench.throwaway_db import drop_postgres

            drop_postgres(url)


if __name__ == "__main__":
    main()
