"""Anomaly detection: precision and recall against the seed's labels, beside the Alegra guard's
six rules on the same data in the same run; full-scan and incremental-scan times.

    .venv/bin/python bench/anomalies.py --sizes 2000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/enmienda_bench_anomalies \\
        .venv/bin/python bench/anomalies.py --sizes 2000,100000

Works in a throw-away database (a temporary SQLite file, or the PostgreSQL database named by
DATABASE_URL, created and dropped by the script). For each size it seeds the sandbox with the
`year` profile (a year of trade with hard negatives and labelled planted mistakes), mirrors it
into a portal company through the sync's own storing code (no HTTP, which is not measured
here), analyzes the tables as autovacuum would after a bulk load (once mirrored, and again
once scanned), then:

(a) times a full scan from nothing and a second full scan over the same mirror;
(b) scores the open findings against the labels: precision (flagged invoices that hold a planted
    mistake / flagged invoices) and recall (planted mistakes found, by a finding of the right
    kind on the right line), overall and per kind, and the same for the guard's six rules
    (credited with any rule on the invoice, since they name no line); and counts, for each kind
    of hard negative, the invoices without a planted mistake each of them flagged;
(c) times the incremental scan of one changed invoice (a price or a quantity edited in Alegra
    and stored in the mirror, as a webhook brings it), and of a page of 30 changed invoices (as a
    sync brings them) per invoice: median and 95th percentile. The machine's load average is
    printed beside the times: on a shared machine it moves them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TODAY = datetime.date(2025, 12, 31)
FAMILY = {
    "price_slip": "price", "price_other_item": "price", "price_unusual": "price", "tax_catalogue": "tax",
    "tax_client": "tax", "quantity_slip": "quantity", "discount_unusual": "discount",
    "duplicate_lines": "duplicate_lines", "duplicate_number": "duplicate_number",
    "due_before_date": "due_before_date", "due_terms": "due_terms", "empty_invoice": "empty",
    "missing_identification": "missing_identification",
}

from bench.throwaway_db import drop as _drop_database  # noqa: E402
from bench.throwaway_db import prepare as _prepare_database  # noqa: E402


def _setup() -> str:
    where = _prepare_database()
    os.environ["FINDINGS_SCAN_ON_CHANGE"] = "false"  # the bench runs each scan itself
    os.environ["DEBUG"] = "false"  # no query log: it would be measured too
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-not-for-production")
    os.environ.setdefault("AUDIT_HMAC_KEY", "bench-only-audit-key-0123456789abcdefghijklmnopqrstuv")
    os.environ.setdefault("ALLOWED_HOSTS", "localhost")
    os.environ.setdefault("CSRF_TRUSTED_ORIGINS", "http://localhost")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return where


def _parsed(document: dict) -> dict:
    return json.loads(json.dumps(document), parse_float=Decimal)


def mirror(size: int, seed: int, shape=None):
    """Seed a sandbox account and store it in a portal company as the sync would. `shape(account)`,
    if given, changes the seeded invoices before the mirror reads them (a bench profile)."""
    from django.db import transaction

    from alegra_sandbox import services as sandbox
    from alegra_sandbox.models import SandboxInvoice
    from invoices import mirror as columns
    from invoices import sync
    from invoices.models import Contact, Item, Tax
    from portal.services import company_create

    account = sandbox.account_create(email=f"bench{size}@anomalies.test", token="t")
    started = time.perf_counter()
    sandbox.seed(account, seed=seed, invoices=size, today=TODAY, profile="year")
    if shape is not None:
        shape(account)
    seeded = time.perf_counter() - started
    company = company_create(name=f"Bench {size}", base_url="http://testserver/sandbox/api/v1",
                             api_email=account.email, token="t")
    for model, kind, to_columns in ((Tax, "tax", columns.tax_columns), (Item, "item", columns.item_columns),
                                    (Contact, "contact", columns.contact_columns)):
        documents = [_parsed(d) for d in sandbox.catalogue_list(account, kind, {}, paged=False)]
        with transaction.atomic():
            sync._store_catalogue(model, company, documents, to_columns)
    run = sync.run_start(company=company, kind="full")
    started = time.perf_counter()
    numbers = list(SandboxInvoice.objects.filter(account=account).order_by("number").values_list("number", flat=True))
    for start in range(0, len(numbers), 1000):
        part = numbers[start:start + 1000]
        documents = SandboxInvoice.objects.filter(account=account, number__in=part).order_by("number")
        with transaction.atomic():
            sync._store_all(run, company, [_parsed(d) for d in documents.values_list("document", flat=True)], "sync")
    sync._finish(run, "succeeded")
    return account, company, seeded, time.perf_counter() - started


def analyze() -> None:
    """What PostgreSQL's autovacuum does after a bulk load, done at once (this machine runs it off;
    without statistics on the fact tables the incremental scan's plans are guesses)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def full_scans(company) -> list[tuple[float, float | None]]:
    """(wall clock, CPU time of the portal and the database) of a scan from nothing, then again."""
    from findings import scan

    cpu = _backend_cpu()
    found = []
    for _ in range(2):
        started, cpu_started = time.perf_counter(), cpu()
        scan.scan_full(company_id=company.pk)
        ended = cpu()
        found.append((time.perf_counter() - started, ended - cpu_started if cpu_started is not None else None))
    return found


def _labels(account, company):
    from alegra_sandbox.models import SandboxHardNegative, SandboxPlantedMistake
    from invoices.models import Invoice

    pks = dict(Invoice.objects.filter(company=company).values_list("alegra_id", "id"))
    planted = [(pks[str(m.invoice.number)], m.kind, m.detail)
               for m in SandboxPlantedMistake.objects.filter(account=account).select_related("invoice")]
    negatives = defaultdict(set)
    for negative in SandboxHardNegative.objects.filter(account=account).select_related("invoice"):
        negatives[negative.kind].add(pks[str(negative.invoice.number)])
    return planted, negatives


def _guard(company) -> dict[int, list[str]]:
    from findings.facts import rank_of
    from findings.guard import GuardInvoice, guard_scan
    from invoices.models import Invoice, InvoiceLine

    discounts = defaultdict(Decimal)
    for invoice_id, discount in InvoiceLine.objects.filter(company=company).values_list("invoice_id",
                                                                                          "discount_percent"):
        discounts[invoice_id] = max(discounts[invoice_id], discount)
    rows = Invoice.objects.filter(company=company, is_deleted=False).exclude(status="void").values_list(
        "id", "client_alegra_id", "date", "id_sort", "client_identification", "total", "line_count", "due_date")
    return guard_scan(GuardInvoice(pk, client, rank_of(date, id_sort), identification, total, lines,
                                   discounts[pk], date.isoformat(), due.isoformat() if due else None)
                      for pk, client, date, id_sort, identification, total, lines, due in rows)


def _ratio(hit: int, total: int) -> str:
    return f"{hit / total:.3f}" if total else "—"


def quality(account, company) -> None:
    from findings.models import Finding
    from findings.presenters import explanation

    planted, negatives = _labels(account, company)
    findings = list(Finding.objects.filter(company=company, state="open"))
    unexplained = sum(1 for f in findings if not explanation(f).strip())
    by_invoice = defaultdict(list)
    for finding in findings:
        by_invoice[finding.invoice_id].append(finding)
    planted_invoices = {pk for pk, _, _ in planted}
    families_of = defaultdict(set)
    for pk, kind, _ in planted:
        families_of[pk].add(FAMILY[kind])
    guard = _guard(company)

    print(f"\n  planted mistakes: {len(planted)} on {len(planted_invoices)} invoices; "
          f"findings open: {len(findings)} on {len(by_invoice)} invoices; without an explanation: {unexplained}")
    flagged, guarded = set(by_invoice), set(guard)
    found = Counter()
    guard_found = Counter()
    totals = Counter(kind for _, kind, _ in planted)
    for pk, kind, detail in planted:
        line = detail.get("line")
        if any(f.kind == FAMILY[kind] and (line is None or f.line is None or f.line == line) for f in by_invoice[pk]):
            found[kind] += 1
        if pk in guarded:
            guard_found[kind] += 1
    print(f"  {'':28} {'detectors':>22}   {'guard (six rules)':>22}")
    print(f"  {'overall':28} precision {_ratio(len(flagged & planted_invoices), len(flagged)):>6} "
          f"recall {_ratio(sum(found.values()), len(planted)):>6}   precision "
          f"{_ratio(len(guarded & planted_invoices), len(guarded)):>6} recall "
          f"{_ratio(sum(guard_found.values()), len(planted)):>6}")
    print(f"  {'flagged invoices':28} {len(flagged):>22}   {len(guarded):>22}")
    print("\n  recall by planted kind (n)        detectors   guard")
    for kind in FAMILY:
        print(f"  {kind:26} ({totals[kind]:>4})  {_ratio(found[kind], totals[kind]):>9}   "
              f"{_ratio(guard_found[kind], totals[kind]):>6}")
    print("\n  precision by finding kind (n)")
    by_kind = defaultdict(list)
    for finding in findings:
        by_kind[finding.kind].append(finding.kind in families_of[finding.invoice_id])
    for kind, hits in sorted(by_kind.items()):
        print(f"  {kind:26} ({len(hits):>4})  {_ratio(sum(hits), len(hits)):>9}")
    print("\n  precision by guard rule (n)")
    by_rule = defaultdict(list)
    for pk, rules in guard.items():
        for rule in rules:
            by_rule[rule].append(pk in planted_invoices)
    for rule, hits in sorted(by_rule.items()):
        print(f"  {rule:26} ({len(hits):>4})  {_ratio(sum(hits), len(hits)):>9}")
    print("\n  hard negatives without a planted mistake: invoices flagged (detectors / guard)")
    for kind, pks in sorted(negatives.items()):
        clean = pks - planted_invoices
        print(f"  {kind:26} {len(clean):>6}   {len(clean & flagged):>5} / {len(clean & guarded):>5}")


def _edit(rng, company, pk: int) -> None:
    """One line's price or quantity edited in Alegra, stored in the mirror as a sync would."""
    import copy

    from invoices import sync
    from invoices.models import Invoice

    document = copy.deepcopy(Invoice.objects.get(pk=pk).document)
    line = rng.choice(document["items"])
    if rng.random() < 0.5:
        line["price"] = str(Decimal(str(line["price"])) * Decimal("1.5"))
    else:
        line["quantity"] = str(Decimal(str(line["quantity"])) + 1)
    sync.invoice_store(company=company, document=document, source="webhook")


def _backend_cpu() -> callable:
    """CPU seconds used so far by this process and by its database server process (bench.backend),
    or None where that cannot be read; on SQLite the database works inside this process."""
    from django.db import connection

    from bench.backend import database_cpu

    if connection.vendor != "postgresql":
        return time.process_time
    server = database_cpu()

    def used():
        seconds = server()
        return None if seconds is None else time.process_time() + seconds

    return used


def incremental(company, samples: int, seed: int, batch: int = 1) -> tuple[list[float], list[float], list[bool]]:
    """Seconds per changed invoice of incremental scans of `batch` edited invoices at a time
    (1: a webhook; 30: a page of a sync): wall clock, CPU time of the portal and the database,
    and whether the scan wrote a finding (created, updated or resolved one, with its history and
    its audit entry) or only facts."""
    from findings import incremental as scan
    from invoices.models import Invoice

    rng = random.Random(seed)
    ids = list(Invoice.objects.filter(company=company, line_count__gt=0).exclude(status="void")
               .values_list("id", flat=True))
    chosen = rng.sample(ids, min(samples * batch, len(ids)))
    cpu = _backend_cpu()
    timings, cpu_timings, wrote = [], [], []
    for start in range(0, len(chosen) - batch + 1, batch):
        group = chosen[start:start + batch]
        for pk in group:
            _edit(rng, company, pk)
        started, cpu_started = time.perf_counter(), cpu()
        outcome = scan.scan_changed(company_id=company.pk, invoice_ids=group).outcome
        timings.append((time.perf_counter() - started) / batch)
        if cpu_started is not None:
            cpu_timings.append((cpu() - cpu_started) / batch)
        wrote.append(any(vars(outcome).values()))
    return timings, cpu_timings, wrote


def burst(company, samples: int, seed: int, size: int = 30) -> list[float]:
    """Seconds per invoice of a burst of `size` webhooks drained by one task, as the worker runs
    it: the invoices queued (findings.services.scan_queue), then one scan_pending (the scan, the
    manager's fix rules and the notices)."""
    from findings import services
    from invoices.models import Invoice

    rng = random.Random(seed)
    ids = list(Invoice.objects.filter(company=company, line_count__gt=0).exclude(status="void")
               .values_list("id", flat=True))
    timings = []
    for _ in range(samples):
        group = rng.sample(ids, size)
        for pk in group:
            _edit(rng, company, pk)
        started = time.perf_counter()
        for pk in group:  # one webhook each
            services.scan_queue(company_id=company.pk, invoice_ids=[pk])
        services.scan_pending(company_id=company.pk)
        timings.append((time.perf_counter() - started) / size)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="2000", help="comma-separated invoice counts (default 2000)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--samples", type=int, default=200, help="incremental scans timed per size (0: none)")
    parser.add_argument("--keep", action="store_true", help="leave the database for a closer look")
    args = parser.parse_args()
    where = _setup()
    print(f"anomaly bench in {where}")
    try:
        for size in [int(s) for s in args.sizes.split(",")]:
            account, company, seeded, mirrored = mirror(size, args.seed)
            analyze()
            print(f"\n== {size:,} invoices (seeded in {seeded:.1f} s, mirrored in {mirrored:.1f} s) ==")
            (cold, cold_cpu), (warm, warm_cpu) = full_scans(company)
            cpu_text = f"; CPU time {cold_cpu:.2f} s and {warm_cpu:.2f} s" if cold_cpu is not None else ""
            print(f"  full scan: {cold:.2f} s from nothing, {warm:.2f} s again over the same mirror "
                  f"(wall clock, load average {os.getloadavg()[0]:.1f}{cpu_text})")
            quality(account, company)
            analyze()  # the fact tables the full scans just wrote
            for batch, what in ((1, "one changed invoice (a webhook)"), (30, "a sync page of 30, per invoice")):
                if not args.samples:
                    break
                timings, cpu_timings, wrote = incremental(company, max(10, args.samples // batch), args.seed + batch,
                                                          batch)
                if timings:
                    ordered = sorted(timings)
                    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
                    cpu_text = (f"; CPU time (portal + database) median {1000 * statistics.median(cpu_timings):.1f} ms"
                                if cpu_timings else "")
                    print(f"  incremental scan of {what} ({len(timings)} samples): wall clock median "
                          f"{1000 * statistics.median(timings):.1f} ms, p95 {1000 * p95:.1f} ms{cpu_text}")
                    if batch == 1:
                        for label, flag in (("facts only", False), ("a finding written too", True)):
                            part = [t for t, w in zip(timings, wrote) if w == flag]
                            if part:
                                print(f"    of which {label} ({len(part)}): median {1000 * statistics.median(part):.1f} ms")
            if args.samples:
                timings = burst(company, max(10, args.samples // 30), args.seed + 7)
                print(f"  a burst of 30 webhooks drained by one task (queue, scan, fix rules, notices), per invoice "
                      f"({len(timings)} samples): wall clock median {1000 * statistics.median(timings):.1f} ms")
            print(f"  (load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    finally:
        if not args.keep:
            _drop_database()


if __name__ == "__main__":
    main()
