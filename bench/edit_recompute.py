"""Server time to recompute and redraw the edit screen's totals and diff.

    .venv/bin/python bench/edit_recompute.py
    .venv/bin/python bench/edit_recompute.py --lines 5 50 500 --rounds 40
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/enmienda_bench .venv/bin/python bench/edit_recompute.py

Works in a throw-away database (a temporary SQLite file, or the PostgreSQL database named by
DATABASE_URL, created and dropped here). For an invoice of each size it times, through Django's
test client (the whole request: middleware, access checks, forms, arithmetic, diff, template):

- recompute: the htmx post sent as the accountant types (a unit price changed each round);
  answers the totals, the side-by-side diff and one out-of-band line total per line;
- line op: a line added from the catalogue (the whole editor redrawn);
- full page: the edit screen opened.

The server's time only: each request's body is encoded before its clock starts, and the process's
garbage collector is settled as the web server's is (portal.memory).
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


def _timed(call, rounds: int) -> tuple[float, float]:
    """`call(n)` answers a function that sends request n: what the client prepares is not timed."""
    samples = []
    for n in range(rounds):
        send = call(n)
        started = time.perf_counter()
        response = send()
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (response.status_code, response.content[:300])
    samples.sort()
    return statistics.median(samples), samples[int(0.95 * (len(samples) - 1))]


def measure(sizes: list[int], rounds: int) -> list[tuple]:
    from django.test import Client
    from django.urls import reverse

    from approvals.forms import data as form_data
    from invoices.models import Invoice
    from invoices.sync import invoice_store
    from portal.services import company_create, membership_set, user_ensure
    from tests.factories.edit import invoice_body, mirror_catalogue

    company = company_create(name="Bench S.A.S.", base_url="http://testserver/sandbox/api/v1",
                             api_email="bench@example.com", token="bench-token")
    mirror_catalogue(company, items=500, contacts=500)
    user = user_ensure(username="bench", password="bench-password-123", email="bench@example.com")
    membership_set(user=user, company=company, role="accountant")
    client = Client()
    client.force_login(user)
    results = []
    for number, size in enumerate(sizes, start=1):
        body = invoice_body(number, size)
        invoice_store(company=company, document=body, source="sync")
        invoice = Invoice.objects.get(company=company, alegra_id=body["id"])
        args = [company.pk, invoice.pk]
        edit_url = reverse("approvals:invoice_edit", args=args)
        recompute_url = reverse("approvals:invoice_edit_recompute", args=args)
        form = form_data.form_data(form_data.header_initial(invoice.document),
                                    form_data.document_lines_raw(invoice.document, origins=True),
                                    {"base_hash": invoice.content_hash, "reason": ""})
        client.get(edit_url)  # warm the session and the template cache

        def post(data):
            # As htmx sends it: url-encoded, not multipart. Encoding 4,500 fields is the browser's
            # work (30 ms of Python at 500 lines): done before the clock starts.
            body = data.urlencode()
            return lambda: client.post(recompute_url, body, HTTP_HX_REQUEST="true",
                                       content_type="application/x-www-form-urlencoded")

        def recompute(n):
            data = form.copy()
            data[f"lines-{n % size}-price"] = str(41 + n)
            return post(data)

        def line_op(n):
            data = form.copy()
            data["op"] = f"add:{n % 8 + 1}"
            return post(data)

        results.append((size, _timed(recompute, rounds), _timed(line_op, max(5, rounds // 2)),
                        _timed(lambda n: lambda: client.get(edit_url), max(5, rounds // 2)),
                        len(recompute(0)().content)))
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, nargs="+", default=[5, 50, 500])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    where = _prepare_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ["ALLOWED_HOSTS"] = "testserver,localhost"
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789abcdef0123456789")
    # DEBUG off is production's strict profile: it asks for these too.
    os.environ.setdefault("AUDIT_HMAC_KEY", "bench-only-audit-key-0123456789abcdefghijklmnopqrstuv")
    os.environ.setdefault("CSRF_TRUSTED_ORIGINS", "http://testserver")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
    os.environ.setdefault("SESSION_COOKIE_SECURE", "false")
    os.environ.setdefault("CSRF_COOKIE_SECURE", "false")
    os.environ.setdefault("STATIC_MANIFEST", "false")
    import django

    django.setup()
    from django.core.management import call_command

    from django.conf import settings

    # A 500-line form posts ~4,500 fields; Django's default ceiling is 1,000.
    fields_limit = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    if fields_limit is not None and fields_limit < 25_000:
        settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 25_000
    try:
        call_command("migrate", verbosity=0)
        from portal import memory

        memory.settle()  # as the web server does once the application is loaded (portal.wsgi)
        print(f"database: {where}; {os.cpu_count()} cores; catalogue of 500 items and 500 contacts")
        if fields_limit != settings.DATA_UPLOAD_MAX_NUMBER_FIELDS:
            print(f"note: DATA_UPLOAD_MAX_NUMBER_FIELDS raised from {fields_limit} to 25000 for this run")
        print(f"{'lines':>6} | {'recompute median':>16} {'p95':>8} | {'line op median':>14} {'p95':>8} | "
              f"{'full page median':>16} {'p95':>8} | {'recompute answer':>16}")
        for size, (rm, rp), (om, op), (pm, pp), answer in measure(args.lines, args.rounds):
            print(f"{size:>6} | {rm:>13.1f} ms {rp:>5.1f} ms | {om:>11.1f} ms {op:>5.1f} ms | "
                  f"{pm:>13.1f} ms {pp:>5.1f} ms | {answer / 1024:>13.0f} KiB")
    finally:
        _drop_database()


if __name__ == "__main__":
    main()
