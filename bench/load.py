"""Load test of a production-shaped deployment: many people at once, several processes, real Alegra limits.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/enmienda_load \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/0 REDIS_URL=redis://127.0.0.1:6379/1 \\
        .venv/bin/python bench/load.py                         # 50 users, 3 minutes, 4 then 1 web worker
    ... bench/load.py --users 20 --minutes 1 --web-workers 2    # a quick look

What runs, all real, with the production profile (DEBUG=false, JSON logs, hashed static files
served by WhiteNoise): a throw-away PostgreSQL database (created and dropped, see
throwaway_db.py) with the demo data of setup_demo plus one login per simulated person; the
sandbox standing in for Alegra on a server of its own (2 gunicorn workers, 150 requests a
minute per account, webhooks to the portal); the portal on gunicorn; two Celery workers (one
for pushes, one for sync, events and the rest) and the scheduler, on Redis; Locust driving
the people (bench/load_users.py).

Each phase reports throughput, median and p95 per page and server errors; then waits for the
pushes to settle and checks that every approved change is in the sandbox exactly once (the
sandbox's own request log counts the PUTs of each push) and that the audit chains verify.
Nothing here is part of the test run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
    raise SystemExit("bench/load.py runs on PostgreSQL: set DATABASE_URL (a database it may drop), "
                     "CELERY_BROKER_URL and REDIS_URL (see the docstring)")
if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis") or not os.environ.get("REDIS_URL"):
    raise SystemExit("bench/load.py runs on Redis: set CELERY_BROKER_URL and REDIS_URL")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


WORK = Path(tempfile.mkdtemp(prefix="enmienda-load-"))
PORTAL_PORT, SANDBOX_PORT = free_port(), free_port()
PORTAL = f"http://127.0.0.1:{PORTAL_PORT}"
SANDBOX = f"http://127.0.0.1:{SANDBOX_PORT}"
METRICS_TOKEN = secrets.token_urlsafe(16)
# The production profile, on loopback HTTP (so no HTTPS redirect and no Secure cookies).
os.environ.update({
    "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "CSRF_TRUSTED_ORIGINS": f"{PORTAL},{SANDBOX}", "SECURE_SSL_REDIRECT": "false", "SECURE_HSTS_SECONDS": "0",
    "SESSION_COOKIE_SECURE": "false", "CSRF_COOKIE_SECURE": "false", "PORTAL_BASE_URL": PORTAL,
    "ENMIENDA_VAR_DIR": str(WORK / "var"), "STATIC_ROOT": str(WORK / "static"), "LOG_FORMAT": "json",
    "LOG_LEVEL": "INFO", "METRICS_TOKEN": METRICS_TOKEN, "DB_CONN_MAX_AGE": "60",
    "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    "DJANGO_SETTINGS_MODULE": "portal.settings", "HEARTBEAT_EVERY_SECONDS": "10",
})
os.environ.pop("ENMIENDA_TESTING", None)

from bench.throwaway_db import drop as drop_database  # noqa: E402
from bench.throwaway_db import prepare as prepare_database  # noqa: E402

PASSWORD = "carga-" + secrets.token_urlsafe(8)
ROLES = {"accountants": ("accountant", 30), "approvers": ("approver", 12), "managers": ("manager", 8)}


class Processes:
    def __init__(self):
        self.running: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str]) -> None:
        log = open(WORK / f"{name}.log", "ab")
        self.running[name] = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ), stdout=log,
                                              stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self, name: str) -> None:
        process = self.running.pop(name)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name)


def gunicorn(port: int, workers: int) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}",
            "--workers", str(workers), "portal.wsgi"]


def celery_worker(name: str, queues: str) -> list[str]:
    return [sys.executable, "-m", "celery", "-A", "portal", "worker", "-Q", queues, "-n", f"{name}@%h",
            "--concurrency=2", "--without-gossip", "--without-mingle", "--loglevel=INFO"]


def wait_for(url: str, what: str) -> None:
    import httpx

    for _ in range(600):
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{what} did not start; see {WORK}")


def setup_world() -> dict:
    """The demo companies (on the sandbox server), their first mirror, and the people."""
    from django.core.management import call_command

    from invoices import sync
    from portal.models import Company
    from portal.services import membership_set, user_ensure

    os.environ["PORTAL_BASE_URL"] = SANDBOX  # setup_demo points the companies at <PORTAL_BASE_URL>/sandbox
    from django.conf import settings

    settings.PORTAL_BASE_URL = SANDBOX
    call_command("setup_demo", stdout=open(os.devnull, "w"))
    settings.PORTAL_BASE_URL = os.environ["PORTAL_BASE_URL"] = PORTAL  # webhooks come to the portal
    companies = list(Company.objects.order_by("pk"))
    for company in companies:
        run = sync.sync_full(company=company, with_catalogues=True)
        assert run.state == "succeeded", run.last_error
    people: dict = {"password": PASSWORD}
    for key, (role, count) in ROLES.items():
        people[key] = []
        for number in range(count):
            # Two of every three people work in the larger company (300 invoices against 120).
            company = companies[0] if number % 3 else companies[1]
            user = user_ensure(username=f"{role}{number:02d}", password=PASSWORD, email=f"{role}{number}@load.test",
                               first_name=role.capitalize(), last_name=f"{number:02d}")
            membership_set(user=user, company=company, role=role)
            people[key].append({"username": user.username, "company": company.pk})
    path = WORK / "people.json"
    path.write_text(json.dumps(people))
    return {"people": str(path), "companies": [c.pk for c in companies]}


def run_locust(label: str, users: int, minutes: float, people: str) -> Path:
    prefix = WORK / label
    env = {**os.environ, "BENCH_USERS": people}
    command = [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "load_users.py"), "--headless",
               "--users", str(users), "--spawn-rate", str(max(1, users // 10)), "--run-time", f"{int(minutes * 60)}s",
               "--host", PORTAL, "--csv", str(prefix), "--only-summary", "--stop-timeout", "15",
               "--loglevel", "WARNING"]
    with open(WORK / f"locust-{label}.log", "wb") as log:
        subprocess.run(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    return prefix


def read_stats(prefix: Path) -> tuple[list[dict], dict]:
    with open(f"{prefix}_stats.csv") as handle:
        rows = list(csv.DictReader(handle))
    pages = [r for r in rows if r["Name"] != "Aggregated"]
    total = next(r for r in rows if r["Name"] == "Aggregated")
    return pages, total


def failures(prefix: Path) -> Counter:
    counts: Counter = Counter()
    with open(f"{prefix}_failures.csv") as handle:
        for row in csv.DictReader(handle):
            counts[f"{row['Method']} {row['Name']}: {row['Error'][:90]}"] += int(row["Occurrences"])
    return counts


def server_errors() -> list[str]:
    """Lines the portal's gunicorn logged this phase for answers of 500 and above, or errors."""
    found = []
    for line in (WORK / "web.log").read_text(errors="replace").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("logger") == "portal.request" and entry.get("status", 0) >= 500:
            found.append(line[:200])
        elif entry.get("level") == "ERROR" and entry.get("logger", "").startswith("django"):
            found.append(line[:200])
    return found


def settle(limit_seconds: float = 900) -> tuple[float, Counter]:
    """Wait until no push is queued, pushing or waiting to retry."""
    from approvals.models import Push

    started = time.monotonic()
    pending = ("queued", "pushing", "retrying")
    while time.monotonic() - started < limit_seconds:
        if not Push.objects.filter(state__in=pending).exists():
            break
        time.sleep(2)
    return time.monotonic() - started, Counter(Push.objects.values_list("state", flat=True))


def exactly_once() -> dict:
    """Every applied push wrote once (the sandbox's log); every invoice holds its last approved version."""
    from django.db.models import Max

    from alegra_sandbox import services as sandbox
    from alegra_sandbox.models import SandboxAccount, SandboxRequestLog
    from approvals.models import ChangeRequest, Push

    accounts = {a.email: a for a in SandboxAccount.objects.all()}
    pushes = list(Push.objects.select_related("change_request__invoice", "company").order_by("pk"))
    puts_per_push, mismatched, wrong_state = Counter(), [], []
    for push in pushes:
        account = accounts[push.company.api_email]
        invoice = push.change_request.invoice
        end = push.finished_at or push.updated_at
        puts = SandboxRequestLog.objects.filter(account=account, method="PUT", status=200,
                                                path__endswith=f"/invoices/{invoice.alegra_id}",
                                                created__gte=push.created_at, created__lte=end).count()
        puts_per_push[(push.state, puts)] += 1
    latest = (Push.objects.filter(state="applied").values("change_request__invoice")
              .annotate(last=Max("pk")).values_list("last", flat=True))
    for push in Push.objects.filter(pk__in=list(latest)).select_related("change_request__invoice", "company"):
        proposed = push.change_request.proposed_document
        remote = sandbox.invoice_get(accounts[push.company.api_email], push.change_request.invoice.alegra_id)
        if remote.get("observations") != proposed.get("observations"):
            mismatched.append(push.change_request_id)
    approved_not_pushed = ChangeRequest.objects.filter(state__in=["approved", "pushing"]).count()
    for push in pushes:
        if push.state == "applied" and push.change_request.state != "applied":
            wrong_state.append(push.change_request_id)
    applied_once = puts_per_push.get(("applied", 1), 0)
    applied = sum(n for (state, _), n in puts_per_push.items() if state == "applied")
    return {"pushes": len(pushes), "applied": applied, "applied_with_one_put": applied_once,
            "puts_by_state": {f"{s}:{p}": n for (s, p), n in sorted(puts_per_push.items())},
            "invoices_checked": len(latest), "invoices_not_matching": mismatched,
            "approved_not_pushed": approved_not_pushed, "request_state_wrong": wrong_state,
            "writes_field_not_one": Push.objects.filter(state="applied").exclude(writes=1).count()}


def verify_audit() -> str:
    result = subprocess.run([sys.executable, "manage.py", "verify_audit"], cwd=ROOT, env=dict(os.environ),
                            capture_output=True, text=True)
    return (result.stdout.strip().splitlines() or ["?"])[-1] + ("" if result.returncode == 0 else " FAILED")


def operations_view() -> dict:
    import httpx

    ready = httpx.get(PORTAL + "/ready/", timeout=10)
    metrics = httpx.get(PORTAL + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10)
    wanted = ("enmienda_pushes{", "enmienda_alegra_rate_limited_total", "enmienda_sync_lag_seconds",
              "enmienda_scheduler_heartbeat_age_seconds")
    return {"ready": ready.status_code, "checks": {k: v["ok"] for k, v in ready.json()["checks"].items()},
            "metrics": [line for line in metrics.text.splitlines() if line.startswith(wanted)]}


def phase(label: str, web_workers: int, args, world: dict, processes: Processes) -> dict:
    from approvals.models import ChangeRequest, Decision

    from invoices import subscriptions
    from portal.models import Company

    processes.start("web", gunicorn(PORTAL_PORT, web_workers))
    wait_for(PORTAL + "/health/", "the portal")
    for company in Company.objects.all():  # the sandbox checks that the portal answers first
        subscriptions.webhooks_ensure(company=company)
    from portal.counters import alegra_rate_limited

    requests_before = ChangeRequest.objects.count()
    decisions_before = Decision.objects.count()
    refused_before = alegra_rate_limited.value()
    prefix = run_locust(label, args.users, args.minutes, world["people"])
    load_average = os.getloadavg()
    pages, total = read_stats(prefix)
    drained, states = settle()
    errors = server_errors()
    report = {
        "label": label, "web_workers": web_workers, "load_average": load_average, "pages": pages,
        "total": total, "failures": failures(prefix), "server_errors": errors, "drain_seconds": drained, "push_states": states,
        "requests_submitted": ChangeRequest.objects.count() - requests_before,
        "decisions": Decision.objects.count() - decisions_before,
        "alegra_429": alegra_rate_limited.value() - refused_before,
        "exactly_once": exactly_once(), "audit": verify_audit(), "operations": operations_view(),
    }
    processes.stop("web")
    (WORK / "web.log").rename(WORK / f"web-{label}.log")
    return report


def print_report(report: dict) -> None:
    total = report["total"]
    print(f"\n== {report['label']}: {report['web_workers']} web worker(s) ==")
    one, five, _ = report["load_average"]
    print(f"machine: {os.cpu_count()} cores, load average at the end {one:.1f} (1 min), {five:.1f} (5 min)")
    print(f"throughput {float(total['Requests/s']):.1f} requests/s; {total['Request Count']} requests, "
          f"median {total['50%']} ms, p95 {total['95%']} ms; failures {total['Failure Count']}")
    print(f"{'page':<28}{'requests':>9}{'median ms':>11}{'p95 ms':>8}{'fail':>6}")
    for row in sorted(report["pages"], key=lambda r: -int(r["Request Count"])):
        print(f"{row['Type'] + ' ' + row['Name']:<28}{row['Request Count']:>9}{row['50%']:>11}"
              f"{row['95%']:>8}{row['Failure Count']:>6}")
    for what, count in report["failures"].items():
        print(f"  failure x{count}: {what}")
    print(f"server errors (5xx in the portal's log): {len(report['server_errors'])}")
    for line in report["server_errors"][:5]:
        print("  " + line)
    print(f"change requests submitted {report['requests_submitted']}, decisions {report['decisions']}; "
          f"pushes settled {report['drain_seconds']:.0f} s after the load: {dict(report['push_states'])}")
    once = report["exactly_once"]
    print(f"exactly once: {once['applied_with_one_put']} of {once['applied']} applied pushes made exactly one PUT "
          f"(by state:PUTs {once['puts_by_state']}); Push.writes != 1: {once['writes_field_not_one']}; "
          f"{once['invoices_checked']} invoices compared with their last approved version, "
          f"{len(once['invoices_not_matching'])} differ; approved but not pushed: {once['approved_not_pushed']}")
    print(f"Alegra (the sandbox) answered 429 to {report['alegra_429']} requests during the phase")
    print(f"audit: {report['audit']}")
    ops = report["operations"]
    print(f"/ready/ {ops['ready']} {ops['checks']}")
    for line in ops["metrics"]:
        print("  " + line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--web-workers", type=int, nargs="+", default=[4, 1])
    args = parser.parse_args()
    where = prepare_database()
    import django

    django.setup()
    processes = Processes()
    print(f"{where}; work folder {WORK}; portal {PORTAL}, sandbox {SANDBOX}")
    try:
        subprocess.run([sys.executable, "-m", "celery", "-A", "portal", "purge", "-f", "-Q",
                        "default,pushes,sync,events"], cwd=ROOT, env=dict(os.environ), capture_output=True)
        from django.core.management import call_command

        call_command("migrate", "--noinput", verbosity=0)
        call_command("collectstatic", "--noinput", verbosity=0)
        processes.start("sandbox", gunicorn(SANDBOX_PORT, 2))
        wait_for(SANDBOX + "/health/", "the sandbox server")
        world = setup_world()
        processes.start("worker-pushes", celery_worker("pushes", "pushes"))
        processes.start("worker-default", celery_worker("default", "default,sync,events"))
        processes.start("beat", [sys.executable, "-m", "celery", "-A", "portal", "beat", "--loglevel=INFO",
                                 "-s", str(WORK / "celerybeat-schedule")])
        reports = [phase(f"web{n}", n, args, world, processes) for n in args.web_workers]
        for report in reports:
            print_report(report)
    finally:
        processes.stop_all()
        drop_database()
    print(f"\nlogs in {WORK}")


if __name__ == "__main__":
    main()
