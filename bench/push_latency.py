"""From the final approval to the change being in Alegra: latency and throughput of the push.

Run from the repository root (takes about a quarter of an hour with the defaults, because
Alegra's budget of 150 requests a minute is the bound being measured):

    .venv/bin/python bench/push_latency.py                     # 500 approvals per phase
    .venv/bin/python bench/push_latency.py --approvals 60      # a quick look
    DATABASE_URL=postgres://… CELERY_BROKER_URL=redis://… REDIS_URL=redis://… \\
        .venv/bin/python bench/push_latency.py

What runs, all real: a throw-away database; the sandbox served over HTTP by `manage.py
runserver` (standing in for Alegra, with Alegra's 150 requests/minute per credential); a
Celery worker process (prefork) consuming the broker the environment names; the push path of
the portal unchanged. Each push is one GET (the re-read) and one PUT.

Two phases, each with its own approvals:

1. steady: approvals arrive one by one at --arrival per minute (below capacity); the figure is
   the time from the final approval to the PUT answered by the sandbox (median, p95, max).
2. burst: every approval at once; the figures are pushes per minute while draining, requests
   per minute against the 150 bound (average, and the busiest 60-second window), and 429s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
# Notifications are sent as in production, but not printed: a thousand e-mails hide the figures.
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
if not os.environ.get("REDIS_URL"):
    # A budget of our own: nothing else's requests in this window.
    os.environ["ALEGRA_RATE_LIMIT_STORE"] = tempfile.mkdtemp(prefix="enmienda-bench-limit-")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count  # noqa: E402

from alegra_sandbox import services as sandbox  # noqa: E402
from alegra_sandbox.models import SandboxRequestLog  # noqa: E402
from alegra_sandbox.testing import make_account  # noqa: E402
from approvals.models import ChangeRequest, Decision, Push  # noqa: E402
from approvals.services.decisions import request_decide
from approvals.services.submission import request_submitted  # noqa: E402
from approvals.services.requests import request_save_and_submit  # noqa: E402
from invoices import mirror  # noqa: E402
from invoices.alegra import loads  # noqa: E402
from invoices.models import Invoice, Tax  # noqa: E402
from invoices.sync import contact_store, invoice_store  # noqa: E402
from portal.celery import app  # noqa: E402
from portal.services import company_create, membership_set, user_ensure  # noqa: E402


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def busiest_window(times: list[float], window: float = 60.0) -> int:
    times, best, first = sorted(times), 0, 0
    for i, t in enumerate(times):
        while times[first] <= t - window:
            first += 1
        best = max(best, i - first + 1)
    return best


class Processes:
    """The sandbox's web server and the Celery worker, on the throw-away database."""

    def __init__(self, db_name: str, queue: str, concurrency: int, log_dir: Path):
        self.env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.approvals.worker_settings",
                    "ENMIENDA_WORKER_DB_NAME": db_name, "LOG_LEVEL": "WARNING"}
        self.queue, self.concurrency, self.log_dir = queue, concurrency, log_dir
        self.port = free_port()
        self.running: list[subprocess.Popen] = []

    def _start(self, name: str, command: list[str]) -> None:
        log = open(self.log_dir / f"{name}.log", "wb")
        self.running.append(subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT))

    def start(self) -> str:
        self._start("server", [sys.executable, "manage.py", "runserver", f"127.0.0.1:{self.port}",
                               "--noreload", "--skip-checks"])
        self._start("worker", [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool=prefork",
                               f"--concurrency={self.concurrency}", "-Q", self.queue, "-n", f"{self.queue}@%h",
                               "--without-gossip", "--without-mingle", "--loglevel=WARNING"])
        import httpx

        url = f"http://127.0.0.1:{self.port}"
        for _ in range(300):
            try:
                if httpx.get(url + "/health/", timeout=1).status_code == 200:
                    return url
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise SystemExit(f"the sandbox server did not start; see {self.log_dir}/server.log")

    def stop(self) -> None:
        for process in self.running:
            process.terminate()
        for process in self.running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def build_world(base_url: str, count: int):
    """A sandbox account, the company on it, and `count` pending requests (no HTTP spent)."""
    account = make_account(email=f"bench-{uuid.uuid4().hex[:8]}@example.com", seed=1)
    company = company_create(name="Bench S.A.S.", base_url=base_url, api_email=account.email,
                             token=account.token)
    for document in sandbox.catalogue_list(account, "tax", {}, paged=False):
        body = mirror.canonical(loads(json.dumps(document)))
        Tax.objects.create(company=company, alegra_id=str(body["id"]), id_sort=mirror.id_sort_key(str(body["id"])),
                           document=body, content_hash=mirror.content_hash(body), **mirror.tax_columns(body))
    client_id = sandbox.catalogue_list(account, "contact", {"limit": "1"})[0]["id"]
    contact_store(company=company, document=loads(json.dumps(sandbox.catalogue_document(account, "contact", client_id))),
                  source="sync")
    accountant = user_ensure(username="bench-ana", password=uuid.uuid4().hex, email="ana@bench.test", first_name="Ana")
    approver = user_ensure(username="bench-pedro", password=uuid.uuid4().hex, email="pedro@bench.test",
                           first_name="Pedro")
    membership_set(user=accountant, company=company, role="accountant")
    membership_set(user=approver, company=company, role="approver")
    requests = []
    for number in range(count):
        document = sandbox.invoice_create(account, {
            "date": "2026-03-10", "dueDate": "2026-04-09", "client": client_id, "observations": "",
            "items": [{"id": 1 + number % 20, "price": "1000", "quantity": "2", "tax": [{"id": "3"}]}]})
        invoice_store(company=company, document=loads(json.dumps(document)), source="sync")
        invoice = Invoice.objects.get(company=company, alegra_id=str(document["id"]))
        proposed = dict(invoice.document, observations=f"Bench {number}")
        change_request = request_save_and_submit(invoice=invoice, user=accountant, proposed=proposed,
                                                 reason="Medición de la ruta de envío", kind="update")
        request_submitted(change_request=change_request)
        requests.append(change_request)
    return account, approver, requests


def wait_applied(requests: list[ChangeRequest], limit_seconds: float) -> None:
    ids = [r.pk for r in requests]
    deadline = time.monotonic() + limit_seconds
    while time.monotonic() < deadline:
        done = Push.objects.filter(change_request_id__in=ids, state__in=["applied", "failed", "conflict"]).count()
        print(f"\r  {done}/{len(ids)} pushed", end="", flush=True)
        if done == len(ids):
            print()
            return
        time.sleep(0.5)
    raise SystemExit(f"\nnot every push finished within {limit_seconds:.0f} s")


def measure(account, requests: list[ChangeRequest]) -> dict:
    approved_at = dict(Decision.objects.filter(change_request__in=requests).values_list("change_request_id", "created_at"))
    put_at = {}
    for path, created in (SandboxRequestLog.objects.filter(account=account, method="PUT", status=200)
                          .values_list("path", "created")):
        put_at.setdefault(path.rstrip("/").rsplit("/", 1)[-1], created)
    latencies = []
    for change_request in requests:
        landed = put_at.get(change_request.invoice.alegra_id)
        if landed is not None:
            latencies.append((landed - approved_at[change_request.pk]).total_seconds())
    start = min(approved_at[r.pk] for r in requests)
    end = max(put_at[r.invoice.alegra_id] for r in requests if r.invoice.alegra_id in put_at)
    logs = SandboxRequestLog.objects.filter(account=account, created__gte=start, created__lte=end + timedelta(seconds=1))
    stamps = [c.timestamp() for c in logs.values_list("created", flat=True)]
    minutes = max((end - start).total_seconds(), 1e-6) / 60
    states = dict(Push.objects.filter(change_request__in=requests).values_list("state").annotate(n=Count("id")))
    return {
        "approvals": len(requests),
        "applied": states.get("applied", 0),
        "latency_s": {"median": statistics.median(latencies), "p95": percentile(latencies, 0.95),
                      "max": max(latencies)} if latencies else None,
        "duration_s": round((end - start).total_seconds(), 1),
        "pushes_per_minute": round(len(latencies) / minutes, 1),
        "requests_per_minute": round(len(stamps) / minutes, 1),
        "busiest_60s_window": busiest_window(stamps),
        "http_429": logs.filter(status=429).count(),
        "puts": logs.filter(method="PUT").count(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--approvals", type=int, default=500, help="approvals per phase")
    parser.add_argument("--arrival", type=float, default=60.0, help="approvals per minute in the steady phase")
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes")
    parser.add_argument("--phases", default="steady,burst")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    phases = [p for p in args.phases.split(",") if p]

    test_settings = settings.DATABASES["default"].setdefault("TEST", {})
    if connection.vendor == "sqlite":
        test_settings["NAME"] = str(Path(tempfile.mkdtemp(prefix="enmienda-bench-")) / "bench.sqlite3")
    else:
        test_settings["NAME"] = f"enmienda_bench_{os.getpid()}"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    settings.PUSH_QUEUE = f"bench-push-{uuid.uuid4().hex[:8]}"
    app.conf.task_always_eager = False
    log_dir = Path(tempfile.mkdtemp(prefix="enmienda-bench-logs-"))
    processes = Processes(str(connection.settings_dict["NAME"]), settings.PUSH_QUEUE, args.concurrency, log_dir)
    results = {"database": connection.vendor, "broker": settings.CELERY_BROKER_URL.split(":")[0],
               "limit_per_minute": settings.ALEGRA_RATE_LIMIT_PER_MINUTE, "phases": {}}
    try:
        base_url = processes.start() + "/sandbox/api/v1"
        print(f"setting up {args.approvals * len(phases)} pending requests…")
        account, approver, requests = build_world(base_url, args.approvals * len(phases))
        for index, phase in enumerate(phases):
            batch = requests[index * args.approvals:(index + 1) * args.approvals]
            print(f"phase {phase}: {len(batch)} approvals" + (f" at {args.arrival:g}/min" if phase == "steady" else " at once"))
            gap = 60.0 / args.arrival if phase == "steady" else 0.0
            for change_request in batch:
                started = time.monotonic()
                request_decide(change_request=change_request, user=approver, outcome="approve")
                if gap:
                    time.sleep(max(0.0, gap - (time.monotonic() - started)))
            wait_applied(batch, limit_seconds=60 + 4 * len(batch))
            results["phases"][phase] = measure(account, batch)
    finally:
        processes.stop()
        with app.connection_for_write() as conn:
            try:
                conn.default_channel.queue_purge(settings.PUSH_QUEUE)
            except Exception:  # the queue was never declared
                pass
        connection.creation.destroy_test_db(old_name, verbosity=0)

    print(json.dumps(results, indent=2, default=str))
    for phase, figures in results["phases"].items():
        latency = figures["latency_s"]
        print(f"{phase:>6}: {figures['applied']}/{figures['approvals']} applied in {figures['duration_s']} s; "
              f"latency median {latency['median']:.2f} s, p95 {latency['p95']:.2f} s; "
              f"{figures['pushes_per_minute']} pushes/min; {figures['requests_per_minute']} requests/min "
              f"(busiest minute {figures['busiest_60s_window']} of {results['limit_per_minute']}); "
              f"{figures['http_429']} × 429; {figures['puts']} PUTs")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
