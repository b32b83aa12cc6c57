"""The incremental scan lands on exactly what a full rescan finds (hypothesis).

Random edits reach the mirror one by one, each followed by the incremental scan of the invoice
it changed (what the mirror's hook runs); a full rescan afterwards must find the same facts
and the same findings, to the digit.
"""

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from findings import incremental, scan
from findings.facts import INVOICE_FIELDS, LINE_FIELDS
from findings.models import ClientTaxHabit, Finding, InvoiceFact, LineFact, PriceMonth
from tests.factories import make_company
from tests.factories.anomalies import ITEMS, body, delete, line, mirror_catalogue, store

pytestmark = pytest.mark.django_db
PRICES = {"1": ["27647", "27647", "27647", "29000", "276470", "2764.7", "24500"],
          "2": ["24500", "24500", "245000", "18000"], "3": ["18000", "18000", "1800", "27647"],
          "4": ["242857", "242857", "2428570", "230000"]}


@st.composite
def lines(draw):
    items = draw(st.lists(st.sampled_from(sorted(ITEMS)), min_size=0, max_size=3, unique=True))
    return [line(item, quantity=draw(st.sampled_from(["10", "10", "12", "12", "100", "120"])),
                 price=draw(st.sampled_from(PRICES[item])), discount=draw(st.sampled_from(["0", "0", "0", "10", "30"])),
                 tax=draw(st.sampled_from([None, None, None, "1", "3"]))) for item in items]


@st.composite
def edits(draw):
    """(invoice number, what happens to it)."""
    number = draw(st.integers(1, 12))
    kind = draw(st.sampled_from(["store", "store", "store", "store", "twin", "void", "delete"]))
    if kind == "twin":  # the same lines and client as another invoice, a few days later
        return number, kind, {"of": draw(st.integers(1, 12)), "days": draw(st.integers(0, 5))}
    if kind != "store":
        return number, kind, None
    return number, kind, {
        "lines": draw(lines()), "client": draw(st.sampled_from(["1", "1", "2", "3", "4"])),
        "day": draw(st.integers(0, 120)), "due_days": draw(st.sampled_from([None, None, None, -3, 0, 30, 90])),
        "price_list": draw(st.sampled_from(["1", "1", "2"])),
        "shown_number": draw(st.sampled_from([None, None, None, 1, 2])),
        "identification": draw(st.sampled_from([None, None, None, "", "0"])),
        "stamped": draw(st.booleans()),
    }


def snapshot(company):
    findings = sorted((f.fingerprint, f.kind, f.cause, f.line, f.severity, f.confidence, f.impact, f.evidence,
                       f.suggestion, f.state) for f in Finding.objects.filter(company=company))
    lines_ = sorted(LineFact.objects.filter(company=company).values_list(*LINE_FIELDS))
    invoices = sorted(InvoiceFact.objects.filter(company=company).values_list(*INVOICE_FIELDS))
    months = sorted((m.item, m.price_list, m.month, sorted(m.counts.items()))
                    for m in PriceMonth.objects.filter(company=company))
    habits = sorted((h.client, sorted(h.counts.items())) for h in ClientTaxHabit.objects.filter(company=company))
    return {"findings": findings, "lines": lines_, "invoices": invoices, "months": months, "habits": habits}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(st.lists(edits(), min_size=1, max_size=30))
def test_incremental_scans_equal_a_full_rescan(db, steps):
    company = make_company()
    mirror_catalogue(company)
    specs = {}
    for number, kind, spec in steps:
        if kind == "twin" and spec["of"] in specs:
            original = specs[spec["of"]]
            spec = {**original, "day": original["day"] + spec["days"], "shown_number": None}
            kind = "store"
        if kind == "store":
            specs[number] = spec
            invoice = store(company, body(number, **spec))
        elif kind == "void":
            document = body(number, [line("1")], day=number)
            document["status"] = "void"
            invoice = store(company, document)
        elif kind == "delete":
            store(company, body(number, [line("1")], day=number))
            invoice = delete(company, number)
        else:
            continue
        incremental.scan_changed(company_id=company.pk, invoice_ids=[invoice.pk])
    after_incremental = snapshot(company)
    for kind in sorted({row[1] for row in after_incremental["findings"]}):
        event(f"found: {kind}")  # what the examples exercise (--hypothesis-show-statistics)
    scan.scan_full(company_id=company.pk)
    after_full = snapshot(company)
    for part in after_full:
        assert after_incremental[part] == after_full[part], part


def test_batches_of_changes_equal_a_full_rescan(db):
    """A sync page changes many invoices at once: one incremental scan for all of them."""
    company = make_company()
    mirror_catalogue(company)
    ids = [store(company, body(n, [line("1", "10"), line(str(1 + n % 4), "2")], client=str(1 + n % 3), day=n)).pk
           for n in range(1, 40)]
    incremental.scan_changed(company_id=company.pk, invoice_ids=ids)
    ids = [store(company, body(n, [line("1", "100" if n % 7 == 0 else "10")], client=str(1 + n % 3), day=n)).pk
           for n in range(1, 40, 2)]
    incremental.scan_changed(company_id=company.pk, invoice_ids=ids)
    after_incremental = snapshot(company)
    scan.scan_full(company_id=company.pk)
    assert snapshot(company) == after_incremental
    assert Finding.objects.filter(company=company, kind="quantity", state="open").exists()
