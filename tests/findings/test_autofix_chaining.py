"""Fixes applied by themselves never chain: an invoice gets at most one fix by rule per day (the
company's day), whatever the scans that follow find; what they find stays open for a person."""

from __future__ import annotations

import datetime

import pytest

from approvals.models import ChangeRequest
from findings import scan, services
from findings.learning import autofix
from findings.learning import services as learning
from findings.models import Finding
from invoices import mirror
from invoices.models import Item
from tests.approvals.pushkit import alegra_client, mirrored_invoice, world  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_fixable(world):
    """An invoice with two findings a rule covers: a line without the catalogue's 19 % tax, and a due
    date away from the client's terms; one rule for each kind."""
    with alegra_client(world.company) as client:
        body = mirror.canonical(client.get_item("1"))
    Item.objects.create(company=world.company, alegra_id="1", id_sort=mirror.id_sort_key("1"), document=body,
                        content_hash=mirror.content_hash(body), **mirror.item_columns(body))
    invoice = mirrored_invoice(world.company, world.account,
                               items=[{"id": 1, "price": "1000", "quantity": "2", "tax": []}])
    for kind in ("tax", "due_terms"):
        learning.fix_rule_create(company=world.company, user=world.manager, finding_kind=kind, max_impact="50000")
    return invoice


def _fixes(invoice) -> int:
    return ChangeRequest.objects.filter(invoice=invoice, origin_rule__isnull=False).count()


def test_two_scans_the_same_day_fix_an_invoice_once_and_leave_the_rest_for_a_person(
        world, two_fixable, in_process_http, settings, django_capture_on_commit_callbacks):
    settings.FINDINGS_SCAN_ON_CHANGE = True  # the push's refresh scans the invoice again, by itself
    settings.ALEGRA_RATE_LIMIT_STORE = "memory://"
    with django_capture_on_commit_callbacks(execute=True):
        summary = services.scan_company(company_id=world.company.pk)
    assert summary.endswith("2 fixed by rule")  # one on each invoice
    (made,) = ChangeRequest.objects.filter(invoice=two_fixable, origin_rule__isnull=False)
    made.refresh_from_db()
    assert made.state == "applied"  # pushed, the mirror refreshed and the invoice scanned again
    with django_capture_on_commit_callbacks(execute=True):
        again = services.scan_company(company_id=world.company.pk)
    assert "fixed by rule" not in again and _fixes(two_fixable) == 1
    fixed = Finding.objects.get(correction=made)
    (left,) = Finding.objects.filter(invoice=two_fixable, kind__in=("tax", "due_terms"), state="open")
    assert left.kind != fixed.kind and left.correction is None
    # Another invoice of the company is not held back by this one's fix.
    assert ChangeRequest.objects.filter(invoice=world.invoice, origin_rule__isnull=False).count() == 1


def test_the_next_day_the_invoice_may_be_fixed_again(world, two_fixable, settings):
    settings.FINDINGS_SCAN_ON_CHANGE = False
    services.scan_company(company_id=world.company.pk)
    (made,) = ChangeRequest.objects.filter(invoice=two_fixable, origin_rule__isnull=False)
    made.state = "applied"  # as its push would leave it (the push is not the point here)
    made.save()
    assert autofix.apply_rules(company_id=world.company.pk) == [] and _fixes(two_fixable) == 1
    yesterday = autofix.day_start(world.company) - datetime.timedelta(minutes=1)
    ChangeRequest.objects.filter(pk=made.pk).update(created_at=yesterday)
    (second,) = [r for r in autofix.apply_rules(company_id=world.company.pk) if r.invoice_id == two_fixable.pk]
    assert second.pk != made.pk and _fixes(two_fixable) == 2


def test_the_day_is_the_company_s_not_the_server_s(world, settings):
    # Kiritimati is 25 hours ahead of Pago Pago: a minute past the company's midnight is the day
    # before yesterday on the server, and still counts as today for the company.
    settings.TIME_ZONE = "Pacific/Pago_Pago"
    world.company.time_zone = "Pacific/Kiritimati"
    world.company.save()
    rule = learning.fix_rule_create(company=world.company, user=world.manager, finding_kind="due_terms",
                                    max_impact="50000")
    services.scan_company(company_id=world.company.pk)  # no fix yet: the scan's own pass makes the first
    (made,) = ChangeRequest.objects.filter(invoice=world.invoice, origin_rule=rule)
    midnight = autofix.day_start(world.company)
    assert midnight.utcoffset() == datetime.timedelta(hours=14)
    ChangeRequest.objects.filter(pk=made.pk).update(created_at=midnight + datetime.timedelta(minutes=1))
    assert autofix.fixed_today(world.company) == {world.invoice.pk}
    ChangeRequest.objects.filter(pk=made.pk).update(created_at=midnight - datetime.timedelta(minutes=1))
    assert autofix.fixed_today(world.company) == set()


def test_a_fix_that_credits_a_whole_stamped_line_to_invoice_it_again_is_left_for_a_person(company, manager):
    from tests.factories.anomalies import body, history, line, mirror_catalogue, store

    mirror_catalogue(company)
    history(company, item="3", count=6)
    # 19 % charged on a stamped line of a 5 % item: the fix credits the whole line, then re-invoices it.
    invoice = store(company, body(1, [line("3", "10", tax="3"), line("1", "1")], day=50, stamped=True))
    scan.scan_full(company_id=company.pk)
    finding = Finding.objects.get(invoice=invoice, kind="tax")
    assert finding.suggestion["type"] == "credit_note" and finding.suggestion["reissue"]
    learning.fix_rule_create(company=company, user=manager, finding_kind="tax", max_impact="500000")
    assert finding.impact <= 500000

    assert autofix.apply_rules(company_id=company.pk) == []

    finding.refresh_from_db()
    assert (finding.state, finding.correction_id) == (Finding.State.OPEN, None)
    assert not ChangeRequest.objects.filter(invoice=invoice).exists()
