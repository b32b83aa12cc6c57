"""An accountant reviews the findings, dismisses one with a reason, and turns another into a
correction: the edit screen opens with the fix applied and the reason written; she submits it."""

import re

import pytest
from playwright.sync_api import expect

from approvals.models import ChangeRequest
from findings import scan
from findings.models import Finding
from tests.browser.test_edit_journey import log_in
from tests.factories.anomalies import body, history, line, mirror_catalogue, store

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_review_dismiss_then_create_correction_and_submit(page, live_server, company, accountant):
    mirror_catalogue(company)
    history(company, count=6)
    slipped = store(company, body(1, [line("1", "10", price="276470")], day=50))
    late = store(company, body(2, [line("1", "10")], day=52, due_days=-5))
    scan.scan_full(company_id=company.pk)
    price = Finding.objects.get(invoice=slipped, kind="price")
    due = Finding.objects.get(invoice=late, kind="due_before_date")
    log_in(page, live_server, accountant)

    page.goto(f"{live_server.url}/c/{company.pk}/review/")
    assert "¿Un cero de más?" in page.locator(f"#finding-{price.pk}").inner_text()
    row = page.locator(f"#finding-{due.pk}")
    row.locator("summary").click()
    row.locator("textarea[name=reason]").fill("Plazo acordado por teléfono")
    row.locator("form[action$='/dismiss/'] button").click()
    # expect() polls from outside the page: the Content-Security-Policy forbids wait_for_function's eval.
    expect(page.locator(f"#finding-{due.pk}")).to_contain_text("Descartado")
    due.refresh_from_db()
    assert due.state == "dismissed" and due.dismiss_reason == "Plazo acordado por teléfono"

    page.locator(f"#finding-{price.pk}").get_by_test_id("correct").click()
    page.wait_for_selector("#edit-form")
    assert page.url.endswith(f"/c/{company.pk}/invoices/{slipped.pk}/edit/")
    assert page.input_value("input[name='lines-0-price']") == "27.647"  # as a Colombian writes it
    assert page.input_value("textarea[name='reason']").startswith(f"Del hallazgo #{price.pk}:")
    changed = page.locator(".lines-diff td.after-side.changed")
    assert any("27.647" in changed.nth(i).inner_text() for i in range(changed.count()))

    page.click("button[value='submit']")
    page.wait_for_url(re.compile(r"/requests/\d+/$"))
    change_request = ChangeRequest.objects.get(invoice=slipped)
    assert change_request.state == "pending" and change_request.proposed_document["items"][0]["price"] == "27647"
    price.refresh_from_db()
    assert price.state == "confirmed" and price.correction == change_request
