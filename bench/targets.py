"""The rows of the performance targets, each printed by one command, beside Django admin where it applies.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_targets .venv/bin/python bench/targets.py list
    … bench/targets.py list --invoices 1000000 --companies 10
    … bench/targets.py mirror      # the portal's own cost per new invoice (COPY on a first mirror)
    … bench/targets.py latency     # a full mirror against an Alegra answering in 300 ms
    … bench/targets.py edit        # edit recompute + diff at 50 and 500 lines
    … bench/targets.py audit       # timeline of an invoice with 2,000 versions, audit export rows/s (with CPU
                                   # time here and in the database, and the load average: the cores are shared)

Each command works in a throw-away PostgreSQL database (the one DATABASE_URL names, created
and dropped here), in a production-like configuration (DEBUG off, no query log). The list is
measured on a seeded mirror (rows written with COPY from sandbox documents, not through HTTP),
through Django's test client in this process: the server's own time, medians and p95.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.throwaway_db import create_postgres, drop_postgres  # noqa: E402

PRODUCTION_LIKE = {
    "DJANGO_SETTINGS_MODULE": "portal.settings",
    "DEBUG": "false",
    "SECRET_KEY": "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
    "AUDIT_HMAC_KEY": "bench-only-audit-key-0123456789abcdefghijklmnopqrstuv",
    "ALLOWED_HOSTS": "testserver,localhost",
    "CSRF_TRUSTED_ORIGINS": "http://testserver",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "STATIC_MANIFEST": "false",
    "SANDBOX_ENABLED": "true",  # the sandbox plays Alegra for the mirror rows
    "LOG_LEVEL": "WARNING",  # one line per request would be measured too
    "DB_CONN_MAX_AGE": "60",  # as deploy/enmienda.env.example: a request does not connect anew
}


def _setup(url: str) -> None:
    for name, value in PRODUCTION_LIKE.items():
        os.environ.setdefault(name, value)
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from portal import memory

    memory.settle()  # as the web server and the workers do once loaded (portal.wsgi, portal.celery)


def _timed(call, rounds: int) -> tuple[float, float]:
    call()  # warm
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        samples.append(1000 * (time.perf_counter() - started))
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


# --- the invoice list ----------------------------------------------------------------------

MIRROR_COLUMNS = ("company_id", "alegra_id", "id_sort", "document", "content_hash", "is_deleted",
                  "first_seen_at", "changed_at", "number", "number_sort", "client_alegra_id", "client_name",
                  "client_identification", "date", "due_date", "status", "currency", "decimal_precision",
                  "subtotal", "discount", "tax", "total", "total_paid", "balance", "is_stamped", "legal_status",
                  "line_count")


def list_seed(invoices: int, companies: int, pool: int) -> list:
    """`companies` companies sharing `invoices` mirrored invoices, drawn from `pool` sandbox documents."""
    from django.db import connection
    from django.utils import timezone

    from alegra_sandbox import testing
    from alegra_sandbox.models import SandboxInvoice
    from alegra_sandbox.services import seed
    from invoices import mirror
    from portal.services import company_create

    account = testing.make_account(seed=None, email="list@bench.test")
    seed(account, seed=42, invoices=pool)
    documents = list(SandboxInvoice.objects.filter(account=account).values_list("document", flat=True))
    made = [company_create(name=f"Bench {n}", base_url=testing.BASE_URL, api_email=account.email,
                           token=account.token) for n in range(1, companies + 1)]
    now = timezone.now()
    with connection.cursor() as cursor, cursor.cursor.copy(
            f"COPY invoices_invoice ({', '.join(MIRROR_COLUMNS)}) FROM STDIN") as copy:
        for n in range(invoices):
            company = made[n % companies]
            ident = str(n // companies + 1)
            source = documents[n % len(documents)]
            template = source.get("numberTemplate") or {}
            prefix = template.get("prefix") or "FE"
            document = {**source, "id": ident,
                        "numberTemplate": {**template, "number": ident, "fullNumber": f"{prefix}{ident}"}}
            body = mirror.canonical(document)
            columns = mirror.invoice_columns(body)
            values = {"company_id": company.pk, "id_sort": mirror.id_sort_key(ident),
                      "document": json.dumps(body, ensure_ascii=False), "content_hash": mirror.content_hash(body),
                      "is_deleted": False, "first_seen_at": now, "changed_at": now, **columns}
            copy.write_row([values[name] for name in MIRROR_COLUMNS])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE invoices_invoice")
    return made


def _fragments(company) -> tuple[str, str]:
    """A client-name fragment (a middle word of a frequent client) and a number fragment."""
    from django.db.models import Count

    from invoices.models import Invoice

    name = (Invoice.objects.filter(company=company).values("client_name").annotate(n=Count("*"))
            .order_by("-n").first()["client_name"])
    words = [word for word in name.split() if len(word) >= 5] or [name]
    return words[len(words) // 2][1:7], "4521"


def list_pages(companies: list, rounds: int) -> list[tuple[str, tuple, tuple | None]]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from portal.services import membership_set

    company = companies[0]
    user = get_user_model().objects.create_superuser("bench", "bench@bench.test", "bench-pass-123")
    membership_set(user=user, company=company, role="manager")
    client = Client()
    client.force_login(user)
    name, number = _fragments(company)
    base = f"/c/{company.pk}/invoices/"
    admin = "/admin/invoices/invoice/"
    cases = [
        ("newest first", base, admin),
        ("status = open", base + "?status=open", admin + "?status__exact=open"),
        ("overdue", base + "?due=overdue", None),
        (f"search client name '{name}'", base + f"?q={name}", admin + f"?q={name}"),
        (f"search number fragment '{number}'", base + f"?q={number}", admin + f"?q={number}"),
        # Too short for the trigram indexes, and rare: the whole company is looked through.
        ("search two characters 'zq'", base + "?q=zq", admin + "?q=zq"),
        # Its matches are the lowest numbers: walking the number index from the top meets them last.
        ("search 'FE1', by number high to low", base + "?q=FE1&sort=-number", None),
        ("next page (keyset), newest first", None, admin + "?p=2"),
    ]
    client.get(base)  # remembers the company
    results = []
    for label, portal_url, admin_url in cases:
        if portal_url is None:
            from invoices.queries import invoice_page

            portal_url = base + "?after=" + invoice_page(company, {}).next_cursor
        figures = []
        # The list's count, totals and position come in a request of their own, after the rows.
        summary_url = portal_url.replace(base, base + "summary/", 1)
        for url in (portal_url, admin_url, summary_url):
            if url is None:
                figures.append(None)
                continue

            def get(url=url):
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)

            figures.append(_timed(get, rounds))
        results.append((label, figures[0], figures[1], figures[2]))
    return results


def run_list(args) -> None:
    from django.db import connection

    started = time.perf_counter()
    companies = list_seed(args.invoices, args.companies, args.pool)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_total_relation_size('invoices_invoice'))")
        size = cursor.fetchone()[0]
    print(f"{args.invoices:,} invoices across {args.companies} companies ({size} with indexes), "
          f"seeded in {time.perf_counter() - started:.0f} s; {args.rounds} requests each, ms median (p95):")
    print(f"    {'page':<44} {'portal':>16} {'admin':>18} {'admin/portal':>12} {'its count and totals':>22}")
    for label, portal, admin, summary in list_pages(companies, args.rounds):
        cell = f"{portal[0]:7.1f} ({portal[1]:6.1f})" if portal else f"{'—':>16}"
        other = f"{admin[0]:7.1f} ({admin[1]:6.1f})" if admin else f"{'—':>18}"
        ratio = f"{admin[0] / portal[0]:11.1f}×" if admin and portal else f"{'':>12}"
        totals = f"{summary[0]:7.1f} ({summary[1]:6.1f})" if summary else f"{'—':>16}"
        print(f"    {label:<44} {cell:>16} {other:>18} {ratio} {totals:>22}")
    print(f"    (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


# --- the mirror ----------------------------------------------------------------------------


def run_mirror(args) -> None:
    from bench.mirror_sync import mirror

    figures = mirror(args.invoices)
    database = figures["database_ms_per_invoice"]
    split = (f", of which the database server's CPU {database:.2f} ms and the rest (this process, round trips) "
             f"{figures['local_ms_per_invoice'] - database:.2f} ms" if database is not None else "")
    print(f"full mirror of {args.invoices:,} new invoices: {figures['elapsed_s']:.1f} s, "
          f"{figures['per_second']:.0f} invoices/s, {figures['requests']} requests; portal's own cost "
          f"{figures['local_ms_per_invoice']:.2f} ms per invoice{split} (sandbox answering: "
          f"{figures['sandbox_s']:.1f} s); second pass, nothing changed: {figures['second_pass_s']:.1f} s")


def run_latency(args) -> None:
    """A full mirror against a sandbox that answers each request after `latency` ms and allows 150/min."""
    import httpx

    from alegra_sandbox import testing
    from alegra_sandbox.models import SandboxRequestLog
    from alegra_sandbox.services import seed
    from alegra_sandbox.services.faults import faults_set
    from invoices import sync
    from invoices.alegra import AlegraClient
    from invoices.ratelimit import MemoryStore, RateLimiter
    from portal.services import company_create

    account = testing.make_account(seed=None, email="latency@bench.test", rate_limit_per_minute=150)
    seed(account, seed=7, invoices=args.invoices)
    faults_set(account, latency_ms=args.latency)
    company = company_create(name="Latency", base_url=testing.BASE_URL, api_email=account.email,
                             token=account.token)
    sent: list[float] = []
    http = httpx.Client(transport=testing.SandboxTransport(),
                        event_hooks={"request": [lambda request: sent.append(time.perf_counter())]})
    client = AlegraClient.for_company(company, http=http, limiter=RateLimiter(MemoryStore(), 150))
    started = time.perf_counter()
    run = sync.sync_full(company=company, client=client)
    minutes = (time.perf_counter() - started) / 60
    statuses = list(SandboxRequestLog.objects.filter(account=account).values_list("status", flat=True))
    # The first minute may take 150 at once; after it the bound is 150 a minute: the steady rate
    # is what the requests after the 150th came to.
    steady = (len(sent) - 150) / ((sent[-1] - sent[149]) / 60) if len(sent) > 151 else float("nan")
    print(f"full mirror of {args.invoices:,} invoices, Alegra answering in {args.latency} ms: "
          f"{len(statuses)} requests in {minutes:.2f} min; after the first 150, {steady:.0f} requests/min = "
          f"{100 * steady / 150:.0f} % of the 150/min bound; {statuses.count(429)} answers 429; run {run.state}")


# --- the edit screen -----------------------------------------------------------------------


def run_edit(args) -> None:
    from django.conf import settings

    from bench.edit_recompute import measure

    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = max(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS or 0, 25_000)
    print(f"edit screen, {args.rounds} requests each, ms median (p95):")
    for size, (rm, rp), (om, op), (pm, pp), _answer in measure(args.lines, args.rounds):
        print(f"    {size:>4} lines: recompute + diff {rm:6.1f} ({rp:6.1f}); line added {om:6.1f} ({op:6.1f}); "
              f"screen opened {pm:6.1f} ({pp:6.1f})")


# --- the audit log -------------------------------------------------------------------------


def run_audit(args, url: str) -> None:
    """The audit bench with a busy invoice of `versions` versions (one entry in `busy_every`)."""
    busy_every = 100
    entries = args.versions * busy_every
    command = [sys.executable, str(ROOT / "bench" / "audit_pages.py"), "--entries", str(entries),
               "--busy-every", str(busy_every), "--rounds", str(args.rounds), "--invoices", "5000"]
    subprocess.run(command, check=True, env={**os.environ, **PRODUCTION_LIKE, "DATABASE_URL": url})


def main() -> None:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list")
    listing.add_argument("--invoices", type=int, default=100_000)
    listing.add_argument("--companies", type=int, default=1)
    listing.add_argument("--pool", type=int, default=3_000, help="distinct sandbox documents the rows copy")
    listing.add_argument("--rounds", type=int, default=30)
    mirroring = commands.add_parser("mirror")
    mirroring.add_argument("--invoices", type=int, default=10_000)
    latency = commands.add_parser("latency")
    latency.add_argument("--invoices", type=int, default=9_000)
    latency.add_argument("--latency", type=int, default=300, help="ms per Alegra answer")
    edit = commands.add_parser("edit")
    edit.add_argument("--lines", type=int, nargs="+", default=[50, 500])
    edit.add_argument("--rounds", type=int, default=30)
    audit = commands.add_parser("audit")
    audit.add_argument("--versions", type=int, default=2_000)
    audit.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("the targets are for PostgreSQL: set DATABASE_URL=postgres://…/bench_something")
    if args.command == "audit":
        run_audit(args, url)  # the audit bench makes and drops its own database
        return
    create_postgres(url)
    try:
        _setup(url)
        {"list": run_list, "mirror": run_mirror, "latency": run_latency, "edit": run_edit}[args.command](args)
    finally:
        drop_postgres(url)


if __name__ == "__main__":
    main()
