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
