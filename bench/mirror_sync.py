"""Full-mirror throughput and invoice-list server time.

    .venv/bin/python bench/mirror_sync.py --invoices 10000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/enmienda_bench \
        .venv/bin/python bench/mirror_sync.py --invoices 100000 --list-pages

Works in a throw-away database: a temporary SQLite file by default, or the
PostgreSQL database named by DATABASE_URL (created and dropped by the script).

(a) seeds the sandbox with N invoices and mirrors them over the in-process HTTP
    transport with no rate limit: invoices per second, and the portal's own cost
    per invoice (total time minus the time spent inside the sandbox's answers);
(b) with the sandbox enforcing 150 requests/minute on a simulated clock: how
    close the client comes to the bound, and how many 429s it got;
(c) with --list-pages: median and p95 server time of the invoice list (several
    filters and sorts) beside Django admin's changelist of the same table.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


from bench.throwaway_db import drop as _drop_database  # noqa: E402
from bench.throwaway_db import prepare as _prepare_database  # noqa: E402


class TimedTransport:
    """Wraps the in-process transport and adds up the time spent inside the sandbox: wall clock,
    and the CPU time of the database server (`server_cpu`, when given) for the sandbox's queries,
    which run on the portal's own connection."""

    def __init__(self, inner, server_cpu=lambda: None):
        self.inner, self.seconds, self.requests = inner, 0.0, 0
        self.server_cpu, self.server_seconds = server_cpu, 0.0

    def handle_request(self, request):
        started, server_started = time.perf_counter(), self.server_cpu()
        try:
            return self.inner.handle_request(request)
        finally:
            self.seconds += time.perf_counter() - started
            server_ended = self.server_cpu()
            if server_started is not None and server_ended is not None:
                self.server_seconds += server_ended - server_started
            self.requests += 1

    def close(self):
        self.inner.close()


def mirror(invoices: int) -> dict:
    import httpx

    from alegra_sandbox import testing
    from alegra_sandbox.services import seed
    from invoices import sync
    from invoices.alegra import AlegraClient
    from invoices.models import Invoice
    from invoices.ratelimit import MemoryStore, RateLimiter
    from portal.services import company_create

    started = time.perf_counter()
    account = testing.make_account(seed=None, rate_limit_per_minute=10_000_000)
    seed(account, seed=42, invoices=invoices)
    seeded = time.perf_counter() - started
    company = company_create(name="Bench", base_url=testing.BASE_URL, api_email=account.email, token=account.token)
    from bench.backend import database_cpu

    server_cpu = database_cpu()
    transport = TimedTransport(testing.SandboxTransport(), server_cpu)
    client = AlegraClient.for_company(company, http=httpx.Client(transport=transport),
                                      limiter=RateLimiter(MemoryStore(), 10_000_000))
    from django.test import override_settings

    # The sandbox answers in this process. Reading the next page ahead would run it on a second
    # thread, where it competes with the portal for the interpreter: its measured time would then
    # include waiting for the portal, and "elapsed minus sandbox" would flatter the portal (0.75
    # against 1.3 ms an invoice, same code, same run). One thread: the split is exact. (Against a
    # real Alegra the read-ahead waits on the network; `targets.py latency` measures that case.)
    started, server_started = time.perf_counter(), server_cpu()
    with override_settings(SYNC_READ_AHEAD=False):
        run = sync.sync_full(company=company, client=client)
    elapsed, server_ended = time.perf_counter() - started, server_cpu()
    assert run.state == "succeeded", run.last_error
    assert Invoice.objects.filter(company=company).count() == invoices
    sandbox_seconds = transport.seconds
    local = elapsed - sandbox_seconds
    # What the database server worked for the portal's writes (its index upkeep, the versions and
    # the audit entries), apart from the sandbox's reads: a floor no change in Python lowers.
    database = (server_ended - server_started - transport.server_seconds
                if server_started is not None and server_ended is not None else None)
    second_started = time.perf_counter()
    again = sync.sync_full(company=company, client=client)
    second = time.perf_counter() - second_started
    return {
        "seeded_s": seeded, "elapsed_s": elapsed, "per_second": invoices / elapsed,
        "local_ms_per_invoice": 1000 * local / invoices, "sandbox_s": sandbox_seconds,
        "database_ms_per_invoice": 1000 * database / invoices if database is not None else None,
        "requests": run.requests_made, "second_pass_s": second, "second_changed": again.invoices_changed,
        "company": company,
    }


def paced(invoices: int) -> dict:
    """A full mirror against a sandbox that enforces 150/min, on a simulated clock."""
    import httpx

    from alegra_sandbox import testing
    from alegra_sandbox.models import SandboxRequestLog
    from alegra_sandbox.services import seed
    from invoices import sync
    from invoices.alegra import AlegraClient
    from invoices.ratelimit import MemoryStore, RateLimiter
    from portal.services import company_create

    account = testing.make_account(seed=None, email="paced@bench.test", rate_limit_per_minute=150)
    seed(account, seed=7, invoices=invoices)
    company = company_create(name="Paced", base_url=testing.BASE_URL, api_email=account.email, token=account.token)
    with testing.frozen_clock() as advance:
        now = [1_800_000_000.0]

        def clock():
            return now[0]

        def sleep(seconds):
            now[0] += seconds
            advance(seconds)

        sent: list[float] = []

        def tick(request):
            # Each request costs simulated time too, as it would on a real network.
            now[0] += 0.05
            advance(0.05)
            sent.append(now[0])

        limiter = RateLimiter(MemoryStore(), 150, clock=clock, sleep=sleep)
        http = httpx.Client(transport=testing.SandboxTransport(), event_hooks={"request": [tick]})
        client = AlegraClient.for_company(company, http=http, limiter=limiter, sleep=sleep)
        started = now[0]
        run = sync.sync_full(company=company, client=client)
        simulated = now[0] - started
    statuses = list(SandboxRequestLog.objects.filter(account=account).values_list("status", flat=True))
    busiest = max(sum(1 for t in sent if start <= t < start + 60) for start in sent)
    return {"requests": len(statuses), "minutes": simulated / 60, "per_minute": len(statuses) / (simulated / 60),
            "status_429": statuses.count(429), "state": run.state, "busiest_minute": busiest}


def fill_mirror(invoices: int):
    """The mirror of N sandbox invoices written straight from the sandbox's documents (no HTTP)."""
    from alegra_sandbox import testing
    from alegra_sandbox.models import SandboxInvoice
    from alegra_sandbox.services import seed
    from invoices import mirror
    from invoices.models import Invoice
    from portal.services import company_create

    account = testing.make_account(seed=None, email="list@bench.test")
    seed(account, seed=42, invoices=invoices)
    company = company_create(name="List", base_url=testing.BASE_URL, api_email=account.email, token=account.token)
    batch = []
    for document in SandboxInvoice.objects.filter(account=account).values_list("document", flat=True).iterator(2000):
        body = mirror.canonical(document)
        columns = mirror.invoice_columns(body)
        batch.append(Invoice(company=company, document=body, content_hash=mirror.content_hash(body),
                             id_sort=mirror.id_sort_key(columns["alegra_id"]), **columns))
        if len(batch) == 2000:
            Invoice.objects.bulk_create(batch)
            batch = []
    Invoice.objects.bulk_create(batch)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE invoices_invoice")
    return company


def list_pages(company, rounds: int) -> list[tuple[str, float, float]]:
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.test.utils import setup_test_environment

    from portal.services import membership_set

    setup_test_environment()
    User = get_user_model()
    user = User.objects.create_superuser("bench", "bench@bench.test", "bench-pass-123")
    membership_set(user=user, company=company, role="manager")
    client = Client()
    client.force_login(user)
    base = f"/c/{company.pk}/invoices/"
    cases = [
        ("portal list, newest first", base),
        ("portal list, status=open", base + "?status=open"),
        ("portal list, search 'FE1'", base + "?q=FE1"),
        ("portal list, overdue, by total", base + "?due=overdue&sort=-total"),
        ("admin changelist", "/admin/invoices/invoice/"),
        ("admin changelist, status=open", "/admin/invoices/invoice/?status__exact=open"),
        ("admin changelist, search 'FE1'", "/admin/invoices/invoice/?q=FE1"),
    ]
    results = []
    for label, url in cases:
        client.get(url)
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            response = client.get(url)
            samples.append(1000 * (time.perf_counter() - started))
            assert response.status_code == 200, (url, response.status_code)
        samples.sort()
        results.append((label, statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]))
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--paced", type=int, default=9_000, help="invoices for the 150/min run (0 to skip)")
    parser.add_argument("--list-pages", action="store_true")
    parser.add_argument("--list-only", action="store_true",
                        help="skip (a) and (b): fill the mirror straight from the sandbox, then time the pages")
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    where = _prepare_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost"
    import django

    django.setup()
    from django.core.management import call_command

    try:
        call_command("migrate", verbosity=0)
        print(f"database: {where}; {os.cpu_count()} cores")
        if args.list_only:
            company = fill_mirror(args.invoices)
            print(f"(c) list pages at {args.invoices:,} invoices, {args.rounds} requests each (ms):")
            print(f"    {'page':<36} {'median':>8} {'p95':>8}")
            for label, median, p95 in list_pages(company, args.rounds):
                print(f"    {label:<36} {median:8.1f} {p95:8.1f}")
            return
        figures = mirror(args.invoices)
        print(f"(a) full mirror of {args.invoices:,} invoices: {figures['elapsed_s']:.1f} s, "
              f"{figures['per_second']:.0f} invoices/s, {figures['requests']} requests; "
              f"portal's own cost {figures['local_ms_per_invoice']:.2f} ms/invoice "
              f"(sandbox answering: {figures['sandbox_s']:.1f} s); seeding took {figures['seeded_s']:.1f} s")
        print(f"    second full pass (nothing changed): {figures['second_pass_s']:.1f} s, "
              f"{figures['second_changed']} invoices written")
        if args.paced:
            p = paced(args.paced)
            print(f"(b) {args.paced:,} invoices against a sandbox enforcing 150/min (simulated clock): "
                  f"{p['requests']} requests in {p['minutes']:.1f} simulated min; busiest 60-s window "
                  f"{p['busiest_minute']} requests ({100 * p['busiest_minute'] / 150:.0f} % of the 150 allowed); "
                  f"{p['status_429']} answers 429; run {p['state']}")
        if args.list_pages:
            print(f"(c) list pages at {args.invoices:,} invoices, {args.rounds} requests each (ms):")
            print(f"    {'page':<36} {'median':>8} {'p95':>8}")
            for label, median, p95 in list_pages(figures["company"], args.rounds):
                print(f"    {label:<36} {median:8.1f} {p95:8.1f}")
    finally:
        _drop_database()


if __name__ == "__main__":
    main()
