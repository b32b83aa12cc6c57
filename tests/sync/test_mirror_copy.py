"""A first mirror written with COPY stores exactly what the ordinary bulk path stores (PostgreSQL)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from invoices import sync
from invoices.models import Invoice
from tests.factories import make_company
from tests.invoices.docs import invoice_doc
from tests.sync.conftest import connect

pytestmark = [pytest.mark.django_db, pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")]

# Every column but the ids, the company and the instants of writing, documents as the database holds them.
ROWS = """SELECT alegra_id, id_sort, document::text, content_hash, is_deleted, number, number_sort,
                 client_alegra_id, client_name, client_identification, date, due_date, status, currency,
                 decimal_precision, subtotal::text, discount::text, tax::text, total::text, total_paid::text,
                 balance::text, is_stamped, legal_status, line_count, changed_at = first_seen_at
          FROM invoices_invoice WHERE company_id = %s ORDER BY alegra_id"""
HISTORY = """SELECT h.alegra_id, h.id_sort, h.document::text, h.content_hash, h.is_deleted, h.number, h.number_sort,
                    h.client_alegra_id, h.client_name, h.client_identification, h.date, h.due_date, h.status,
                    h.currency, h.decimal_precision, h.subtotal::text, h.discount::text, h.tax::text,
                    h.total::text, h.total_paid::text, h.balance::text, h.is_stamped, h.legal_status,
                    h.line_count, h.history_change_reason, h.history_type, h.history_user_id,
                    h.changed_at = i.changed_at, h.history_date >= i.first_seen_at
             FROM invoices_historicalinvoice h JOIN invoices_invoice i ON i.id = h.id
             WHERE h.company_id = %s AND i.company_id = %s ORDER BY h.alegra_id, h.history_id"""
LINES = """SELECT i.alegra_id, l.position, l.item_alegra_id, l.name, l.price::text, l.quantity::text,
                  l.discount_percent::text, l.tax_percent::text, l.total::text, l.company_id = i.company_id
           FROM invoices_invoiceline l JOIN invoices_invoice i ON i.id = l.invoice_id
           WHERE i.company_id = %s ORDER BY i.alegra_id, l.position"""


def _stored(company) -> dict:
    with connection.cursor() as cursor:
        found = {}
        for name, sql, params in (("rows", ROWS, [company.pk]), ("history", HISTORY, [company.pk, company.pk]),
                                  ("lines", LINES, [company.pk])):
            cursor.execute(sql, params)
            found[name] = cursor.fetchall()
    return found


def test_copy_and_the_ordinary_path_store_the_same_rows_history_and_lines(clock, settings):
    link = connect(clock, invoices=75)
    twin = make_company(name="Gemela", api_email=link.account.email, token=link.account.token,
                        base_url=link.company.base_url)
    settings.MIRROR_COPY = True
    with CaptureQueriesContext(connection) as by_copy_queries:
        copied = sync.sync_full(company=link.company, client=link.client())
    settings.MIRROR_COPY = False
    with CaptureQueriesContext(connection) as ordinary_queries:
        ordinary = sync.sync_full(company=twin, client=_client_for(link, twin))
    # The ids were reserved for COPY in one path; the other inserted rows as Django does.
    assert any("generate_series" in q["sql"] for q in by_copy_queries.captured_queries)
    assert not any("generate_series" in q["sql"] for q in ordinary_queries.captured_queries)
    assert any(q["sql"].startswith('INSERT INTO "invoices_invoice"') for q in ordinary_queries.captured_queries)
    assert not any(q["sql"].startswith('INSERT INTO "invoices_invoice"') for q in by_copy_queries.captured_queries)
    assert copied.state == ordinary.state == "succeeded"
    assert copied.invoices_created == ordinary.invoices_created == 75
    by_copy, by_insert = _stored(link.company), _stored(twin)
    assert len(by_copy["rows"]) == len(by_copy["history"]) == 75 and len(by_copy["lines"]) > 75
    assert by_copy == by_insert
    # Each copied invoice is the one its version and its lines name, and the sequences moved past them.
    for invoice in Invoice.objects.filter(company=link.company)[:5]:
        assert invoice.history.get().document == invoice.document
        assert invoice.lines.count() == invoice.line_count
    settings.MIRROR_COPY = True
    assert sync.invoice_store(company=link.company, document=invoice_doc(99_001), source="sync") == "created"
    assert Invoice.history.filter(company=link.company).count() == 76


def _client_for(link, company):
    import httpx

    from alegra_sandbox import testing
    from invoices.alegra import AlegraClient
    from invoices.ratelimit import MemoryStore, RateLimiter

    return AlegraClient.for_company(company, http=httpx.Client(transport=testing.SandboxTransport()),
                                    limiter=RateLimiter(MemoryStore(), 150, clock=link.clock, sleep=link.clock.sleep),
                                    sleep=link.clock.sleep)


def test_each_value_copied_is_what_the_field_itself_would_prepare():
    """COPY skips the field's own preparation only for values the driver writes as it would."""
    import datetime
    import json
    from decimal import Decimal

    from django.utils import timezone

    from invoices import bulk
    from invoices.models import InvoiceLine

    database = bulk._database()
    samples = ["FE-1", "", 7, 0, True, False, None, Decimal("12.50"), Decimal("-0"), Decimal("1E+3"),
               datetime.date(2025, 7, 1), datetime.datetime(2025, 7, 1, 10, 30, tzinfo=datetime.UTC),
               timezone.now(), {"items": [{"price": "1.5"}], "é": "ñ"}, [1, "dos"]]
    checked = 0
    for model in (Invoice, Invoice.history.model, InvoiceLine):
        for field in model._meta.concrete_fields:
            prepare = bulk._preparer(field, database)
            for value in samples:
                try:
                    expected = field.get_db_prep_save(value, database)
                except Exception as error:  # the field refuses it: so must the copy
                    with pytest.raises(type(error)):
                        prepare(value)
                    continue
                got = prepare(value)
                if isinstance(field, bulk.models.JSONField) and isinstance(got, str):
                    assert json.loads(got) == value, field
                elif hasattr(expected, "obj"):  # the driver's JSON wrapper
                    assert got.obj == expected.obj, field
                elif isinstance(expected, int) and not isinstance(expected, bool):
                    # The backend tags small ints with their width (Int2); COPY writes the same digits.
                    assert got == expected and isinstance(got, int) and not isinstance(got, bool), (field, value)
                else:
                    assert got == expected and type(got) is type(expected), (field, value, got, expected)
                checked += 1
    assert checked > 500
    for value in (Decimal("NaN"), Decimal("Infinity")):  # finite only, as the field demands
        with pytest.raises(Exception):
            bulk._preparer(Invoice._meta.get_field("total"), database)(value)
