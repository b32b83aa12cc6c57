"""What an incremental scan costs in statements: a webhook brings one invoice, and its scan must
not grow with the company's history (the statements behind bench/anomalies.py's incremental times)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from findings import incremental, scan
from findings.models import Finding
from tests.factories.anomalies import body, history, line, mirror_catalogue, store

pytestmark = pytest.mark.django_db
# Lock, take the old facts (2), read the mirror (2), the slices and count tables around the
# change, write what moved, read the invoices judged again, their findings; with the savepoint.
MOST = 21


def _statements(company, invoice) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        incremental.scan_changed(company_id=company.pk, invoice_ids=[invoice.pk])
    return [q["sql"] for q in captured.captured_queries]


def test_a_clean_invoice_s_scan_runs_the_same_few_statements_whatever_the_history(company):
    mirror_catalogue(company)
    history(company, count=6)
    scan.scan_full(company_id=company.pk)
    first = _statements(company, store(company, body(90, [line("1", "10"), line("2", "3")], day=200)))
    history(company, count=30, start=200)
    scan.scan_full(company_id=company.pk)
    clean = store(company, body(91, [line("1", "11"), line("2", "4")], day=201))
    second = _statements(company, clean)
    assert not Finding.objects.filter(invoice=clean).exists()
    assert len(second) == len(first) <= MOST, second
    # Nothing was found: no learned exception is read, nothing is written to findings or the trail.
    assert not [s for s in second if "learnedexception" in s or "audit_" in s or "INTO \"findings_finding" in s]


def test_the_catalogue_is_read_again_only_once_it_changed(company):
    from invoices import mirror, sync
    from invoices.models import Item
    from tests.factories.anomalies import item_doc

    def reads_catalogue(statements):
        return any('"invoices_item"' in s and "document" in s for s in statements)

    mirror_catalogue(company)
    history(company, count=6)
    scan.scan_full(company_id=company.pk)
    first = store(company, body(90, [line("1", "10", price="18000")], day=200))  # the coffee's price
    assert reads_catalogue(_statements(company, first))
    assert Finding.objects.get(invoice=first, kind="price").evidence["other_item"] == "3"
    second = store(company, body(91, [line("1", "11", price="18000")], day=201))
    assert not reads_catalogue(_statements(company, second))  # unchanged: not read again
    assert Finding.objects.get(invoice=second, kind="price").evidence["other_item"] == "3"
    coffee = item_doc("3")
    coffee["price"][0]["price"] = "19990"  # the coffee costs more now: 18,000 is no other item's price
    sync._store_catalogue(Item, company, [coffee], mirror.item_columns)
    assert reads_catalogue(_statements(company, second))  # judged again, against the new catalogue
    assert "other_item" not in Finding.objects.get(invoice=second, kind="price").evidence
