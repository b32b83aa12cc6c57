"""Audit log and invoice timeline server time, and export throughput and memory, at a million entries.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/enmienda_bench_audit \\
        .venv/bin/python bench/audit_pages.py --entries 1000000

Works in a throw-away PostgreSQL database (created and dropped by the script; the
name in DATABASE_URL is used). It writes, with COPY, one company's audit log of
N entries spread over a year (a hash chain the verifier accepts) and the invoice
versions those entries describe, then:

(a) median and p95 server time of the audit log page (several filters, a deep page)
    and of the invoice timeline (a busy invoice and an ordinary one), through Django's
    test client in this process, so the figures are the server's own time;
(b) the export of all N entries as CSV and as JSON, each in a fresh process: rows per
    second and the peak resident memory of that process (getrusage);
(c) the time `verify_audit` takes to recompute the chain.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/enmienda_bench_audit"
YEAR_START = datetime.datetime(2025, 12, 1, tzinfo=datetime.UTC)


from bench.backend import process_cpu  # noqa: E402
from bench.throwaway_db import create_postgres as _prepare_database  # noqa: E402
from bench.throwaway_db import drop_postgres as _drop_database  # noqa: E402


def _environment(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    # Production-like: no query log kept in memory, no debug pages.
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
    os.environ.setdefault("AUDIT_HMAC_KEY", "bench-only-audit-key-0123456789abcdefghijklmnopqrstuv")
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost"
    os.environ["SESSION_COOKIE_SECURE"] = "false"
    os.environ["CSRF_COOKIE_SECURE"] = "false"


# --- data ------------------------------------------------------------------------------------


def _document(alegra_id: str, version: int) -> dict:
    quantity = version % 5 + 1
    return {
        "id": alegra_id, "date": "2026-01-15", "status": "open", "decimalPrecision": "2",
        "numberTemplate": {"prefix": "FE", "number": alegra_id, "fullNumber": f"FE{alegra_id}"},
        "client": {"id": "1", "name": "Constructora Los Andes S.A.S."},
        "observations": f"versión {version}",
        "items": [{"id": 1, "name": "Cemento gris 50 kg", "price": "40000", "quantity": str(quantity),
                   "discount": "0", "tax": []},
                  {"id": 2, "name": "Varilla corrugada", "price": "8000", "quantity": "3", "discount": "0",
                   "tax": []}],
        "total": str(40000 * quantity + 24000), "totalPaid": "0", "balance": str(40000 * quantity + 24000),
    }


def seed(entries: int, invoices: int, busy_every: int) -> dict:
    """One company, its people, `invoices` invoices and `entries` chained audit entries (COPY)."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from audit import versions
    from audit.chain import entry_hash, storable_what
    from audit.models import Action, AuditChain
    from invoices import mirror
    from invoices.models import Invoice
    from portal.services import company_create, membership_set

    started = time.perf_counter()
    company = company_create(name="Bench", base_url="http://testserver/sandbox/api/v1",
                             api_email="bench@bench.test", token="bench-token")
    User = get_user_model()
    people = []
    for username, role in (("maria", "manager"), ("ana", "accountant"), ("luis", "accountant"),
                           ("pedro", "approver"), ("lucia", "approver"), ("jorge", "manager")):
        user = User.objects.create_user(username, f"{username}@bench.test", "bench-pass-123",
                                        first_name=username.capitalize())
        membership_set(user=user, company=company, role=role)
        people.append(user)
    rows = []
    for n in range(1, invoices + 1):
        body = _document(str(n), 0)
        rows.append(Invoice(company=company, id_sort=mirror.id_sort_key(str(n)),
                            document=body, content_hash=mirror.content_hash(body),
                            **mirror.invoice_columns(body)))
    created = Invoice.objects.bulk_create(rows, batch_size=2000)
    invoice_ids = [invoice.pk for invoice in created]
    alegra_of = {invoice.pk: invoice.alegra_id for invoice in created}
    busy = invoice_ids[0]

    history_model = Invoice.history.model
    history_columns = [f.column for f in history_model._meta.fields]
    entry_columns = ["company_id", "seq", "at", "actor_id", "on_behalf_of", "action", "invoice_id",
                     "change_request_id", "source", "source_id", "why", "what", "version_layout", "version_hash",
                     "scheme", "prev_hash", "hash"]
    step = datetime.timedelta(days=365) / entries
    # The chain already holds the company's default policies: the bench's entries follow them.
    head = AuditChain.objects.get(key=company.pk)
    first, previous = head.last_seq, head.last_hash
    layout, layout_names = versions.layout(history_model)
    versions.layouts_store([history_model])
    versions_of: dict[int, int] = {}
    history_id = 0
    other_actions = [Action.LOGIN, Action.DECISION, Action.SUBMITTED, Action.PUSH_ATTEMPT, Action.PUSHED,
                     Action.APPROVED, Action.LOGIN_FAILED, Action.POLICY_CHANGED]
    import psycopg

    # Two COPY streams at once need two connections: versions on a second one.
    with connection.cursor() as django_cursor, psycopg.connect(os.environ["DATABASE_URL"]) as versions_db:
        raw = django_cursor.cursor
        with versions_db.cursor().copy(
                f"COPY {history_model._meta.db_table} ({', '.join(history_columns)}) FROM STDIN") as hist_copy, \
                raw.copy(f"COPY audit_auditentry ({', '.join(entry_columns)}) FROM STDIN") as entry_copy:
            for n in range(1, entries + 1):
                seq = first + n
                at = YEAR_START + step * n
                invoice_id = busy if seq % busy_every == 0 else invoice_ids[(seq * 7919) % len(invoice_ids)]
                actor = people[seq % len(people)] if seq % 4 else None
                source_id, version_layout, version_hash = None, "", ""
                if seq % 5 < 3:  # three in five entries are a version of an invoice
                    version = versions_of.get(invoice_id, 0) + 1
                    versions_of[invoice_id] = version
                    history_id += 1
                    source_id = history_id
                    alegra_id = alegra_of[invoice_id]
                    body = _document(alegra_id, version)
                    columns = mirror.invoice_columns(body)
                    values = {
                        "id": invoice_id, "company_id": company.pk, "document": json.dumps(body),
                        "content_hash": mirror.content_hash(body), "is_deleted": False, "changed_at": at,
                        "id_sort": mirror.id_sort_key(alegra_id), "history_id": history_id, "history_date": at,
                        "history_change_reason": "sync" if seq % 2 else "webhook",
                        "history_type": "+" if version == 1 else "~", "history_user_id": None, **columns,
                    }
                    hist_copy.write_row([values[column] for column in history_columns])
                    # The digest the database will give back: the document parsed, the rest as typed.
                    version_layout = layout
                    version_hash = versions.content_digest({name: body if name == "document" else values[name]
                                                            for name in layout_names})
                    action = str(Action.SYNCED if version == 1 else Action.REMOTE_CHANGE)
                    source, why, behalf, actor = "invoice", values["history_change_reason"], "sync", None
                    what = {"number": f"FE{alegra_id}", "alegra_id": alegra_id, "total": body["total"],
                            "status": "open", "content_hash": values["content_hash"],
                            **({"changes": ["items.quantity", "observations"]} if version > 1 else {})}
                else:
                    action = str(other_actions[seq % len(other_actions)])
                    source, why, behalf = "session", f"motivo {seq}", "" if actor else "system"
                    what = {"username": "ana", "ip": "10.0.0.1"}
                    if action in (Action.LOGIN, Action.LOGIN_FAILED):
                        invoice_id = None
                what = storable_what(what)
                fields = {"company_id": company.pk, "seq": seq, "at": at, "actor_id": actor.pk if actor else None,
                          "on_behalf_of": behalf, "action": action, "invoice_id": invoice_id,
                          "change_request_id": None, "source": source, "source_id": source_id, "why": why,
                          "what": what, "version_layout": version_layout, "version_hash": version_hash}
                digest = entry_hash(**fields, prev_hash=previous)
                entry_copy.write_row([*list(fields.values())[:-3], json.dumps(what, ensure_ascii=False),
                                      version_layout, version_hash, 2, previous, digest])
                previous = digest
                if seq % 200_000 == 0:
                    print(f"    … {seq:,} entries written ({time.perf_counter() - started:.0f} s)", flush=True)
        versions_db.commit()
        django_cursor.execute(f"SELECT setval(pg_get_serial_sequence('{history_model._meta.db_table}', "
                              f"'history_id'), {max(history_id, 1)})")
        # What autovacuum does to rows written long ago (this server may run without it): the
        # visibility map set, so reading an index does not visit every row it names.
        django_cursor.execute(f"VACUUM ANALYZE {history_model._meta.db_table}")
        django_cursor.execute("VACUUM ANALYZE audit_auditentry")
    AuditChain.objects.filter(key=company.pk).update(last_seq=first + entries, last_hash=previous)
    return {"company": company, "people": people, "busy": busy, "ordinary": invoice_ids[len(invoice_ids) // 2],
            "versions": history_id, "busy_versions": versions_of.get(busy, 0), "before": first,
            "seconds": time.perf_counter() - started}


# --- pages -----------------------------------------------------------------------------------


def pages(world: dict, rounds: int) -> list[tuple[str, float, float]]:
    from django.test import Client

    from audit.models import AuditEntry
    from audit.queries import encode_cursor
    from invoices.models import Invoice

    company, people = world["company"], world["people"]
    manager = people[0]
    client = Client()
    client.force_login(manager)
    busy = Invoice.objects.get(pk=world["busy"])
    ordinary = Invoice.objects.get(pk=world["ordinary"])
    deep = AuditEntry.objects.filter(company=company).order_by("-at", "-seq").values("at", "seq")[10_000]
    log = f"/c/{company.pk}/audit/"
    versions = list(busy.history.order_by("history_id").values_list("history_id", flat=True))
    cases = [
        ("audit log, newest first", log),
        ("audit log, action = changed in Alegra", log + "?action=remote_change"),
        ("audit log, person = an approver", log + f"?person={people[3].pk}"),
        ("audit log, person + action (rare pair)", log + f"?person={people[3].pk}&action=login"),
        ("audit log, invoice (busy one)", log + f"?invoice=FE{busy.alegra_id}"),
        ("audit log, one month", log + "?date_from=2026-05-01&date_to=2026-05-31"),
        ("audit log, page 201 (keyset)", log + f"?after={encode_cursor(deep['at'], deep['seq'])}"),
        ("audit log, htmx fragment", log + "?action=pushed"),
        (f"timeline, busy invoice ({world['busy_versions']} versions)", f"/c/{company.pk}/invoices/{busy.pk}/history/"),
        ("timeline, busy, compare first vs last",
         f"/c/{company.pk}/invoices/{busy.pk}/history/?a={versions[0]}&b={versions[-1]}"),
        ("timeline, ordinary invoice", f"/c/{company.pk}/invoices/{ordinary.pk}/history/"),
    ]
    results = []
    for label, url in cases:
        headers = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "audit-results"} if "htmx" in label else {}
        assert client.get(url, **headers).status_code == 200, url
        samples, cpu = [], []
        for _ in range(rounds):
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url, **headers)
            samples.append(1000 * (time.perf_counter() - started))
            cpu.append(1000 * (time.process_time() - started_cpu))
            assert response.status_code == 200, (url, response.status_code)
        samples.sort()
        results.append((label, statistics.median(samples), samples[int(0.95 * (len(samples) - 1))],
                        statistics.median(cpu)))
    return results


def _load() -> str:
    """The machine's load average: the figures are wall-clock times on shared cores."""
    return "load average " + " ".join(f"{figure:.2f}" for figure in os.getloadavg())


# --- export (a process of its own, so its peak memory is the export's) -------------------------


def _peak_rss_kb() -> int:
    """This process's own peak resident set (VmHWM).

    getrusage's ru_maxrss is reported beside it, but on Linux it keeps the high-water mark of
    the process that forked this one, so in a child of a large parent it says the parent's size.
    """
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def export_child(company_id: int, fmt: str) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from django.db.backends.signals import connection_created

    backends: list[int] = []

    def remember_backend(sender, connection, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            backends.append(cursor.fetchone()[0])

    connection_created.connect(remember_backend)
    client = Client()
    client.force_login(get_user_model().objects.get(username="maria"))
    # A worker that serves exports has imported what they use: an export of nothing first.
    assert client.get(f"/c/{company_id}/audit/export.{fmt}?date_from=1990-01-01&date_to=1990-01-01").status_code == 200
    baseline = _peak_rss_kb()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    response = client.get(f"/c/{company_id}/audit/export.{fmt}")
    assert response.status_code == 200 and response.streaming
    size = lines = 0
    for chunk in response.streaming_content:
        size += len(chunk)
        lines += chunk.count(b"\n")
    database_cpu = process_cpu(backends[-1]) if backends else None  # the request's own connection
    response.close()
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    peak = _peak_rss_kb()
    rusage = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows = lines - 1 if fmt == "csv" else lines - 2
    print(json.dumps({"rows": rows, "bytes": size, "seconds": seconds, "cpu_seconds": cpu, "database_cpu_seconds": database_cpu, "baseline_kb": baseline, "peak_kb": peak,
                      "ru_maxrss_kb": rusage}))


def _seconds(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f} s"


def export(url: str, company_id: int, fmt: str) -> dict:
    output = subprocess.run([sys.executable, __file__, "--export-child", str(company_id), fmt],
                            check=True, capture_output=True, text=True, env={**os.environ, "DATABASE_URL": url})
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--invoices", type=int, default=20_000)
    parser.add_argument("--busy-every", type=int, default=500, help="one entry in this many is about the busy invoice")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="leave the database for a closer look")
    parser.add_argument("--export-child", nargs=2, metavar=("COMPANY", "FORMAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or DEFAULT_URL
    if not url.startswith("postgres"):
        raise SystemExit("this benchmark needs PostgreSQL: set DATABASE_URL=postgres://…")
    _environment(url)
    if args.export_child:
        export_child(int(args.export_child[0]), args.export_child[1])
        return
    _prepare_database(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    try:
        call_command("migrate", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
        print(f"PostgreSQL {version}, database {url.rsplit('/', 1)[1]}; {os.cpu_count()} cores")
        world = seed(args.entries, args.invoices, args.busy_every)
        print(f"seeded {args.entries:,} audit entries and {world['versions']:,} invoice versions "
              f"({args.invoices:,} invoices) in {world['seconds']:.0f} s")
        print(f"(a) server time over {args.rounds} requests each (ms; cpu: this process's CPU time, median; {_load()}):")
        print(f"    {'page':<46} {'median':>8} {'p95':>8} {'cpu':>8}")
        for label, median, p95, cpu in pages(world, args.rounds):
            print(f"    {label:<46} {median:8.1f} {p95:8.1f} {cpu:8.1f}")
        print(f"(b) export of all {args.entries:,} entries, each in a fresh process ({_load()}):")
        for fmt in ("csv", "json"):
            figures = export(url, world["company"].pk, fmt)
            assert figures["rows"] == args.entries + world["before"], figures
            print(f"    {fmt.upper():<5} {figures['rows']:,} rows in {figures['seconds']:.1f} s = "
                  f"{figures['rows'] / figures['seconds']:,.0f} rows/s, {figures['bytes'] / 2**20:,.0f} MiB, "
                  f"CPU {figures['cpu_seconds']:.1f} s here + {_seconds(figures['database_cpu_seconds'])} in the database; "
                  f"peak RSS {figures['peak_kb'] / 1024:.0f} MiB (after start-up and login: "
                  f"{figures['baseline_kb'] / 1024:.0f} MiB; getrusage ru_maxrss {figures['ru_maxrss_kb'] / 1024:.0f} MiB)")
        from audit import services

        report = services.chain_verify(company_id=world["company"].pk)
        assert report.ok, report
        print(f"(c) verify_audit recomputed the chain of {report.checked:,} entries in {report.seconds:.1f} s "
              f"({report.checked / report.seconds:,.0f} entries/s): intact")
    finally:
        if not args.keep:
            _drop_database(url)


if __name__ == "__main__":
    main()
