"""Pages that keep themselves up to date and read well: the request page after a decision, the sync page
after "Sync now", the audit log as a story, the credit-note composer and the invoice list.

Screenshots go under tests/browser/screenshots/ (ignored by git), as in test_ux.py.
"""

import pytest
from playwright.sync_api import expect

from tests.approvals.pushkit import mirrored_invoice, submit
from tests.browser.test_ux import demo, log_in, shot  # noqa: F401  (demo is a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STAYED = "window.__stayed = true"  # gone if the page reloads


@pytest.mark.parametrize(("language", "outcome", "label"), [("es", "reject", "Rechazada"), ("en", "approve", "Applied")])
def test_the_request_page_shows_the_decision_in_its_heading_and_timeline_without_a_reload(
        page, live_server, demo, language, outcome, label):  # noqa: F811
    account, company, people = demo
    invoice = mirrored_invoice(company, account)
    change_request = submit(invoice, people["accountant"], observations="Entregar en bodega 2")
    log_in(page, live_server, people["approver"], language)
    page.goto(f"{live_server.url}/c/{company.pk}/requests/{change_request.pk}/")
    entries = page.locator("#request-timeline li")
    before = entries.count()
    page.evaluate(STAYED)
    page.fill("#decision-comment", "No procede" if language == "es" else "Agreed")
    page.get_by_test_id(outcome).click()
    expect(page.get_by_test_id("state")).to_have_text(label)
    expect(entries.first).to_contain_text(label)
    assert entries.count() > before
    assert page.evaluate("window.__stayed === true"), "the page reloaded"
    shot(page, f"{language}-request-after-{outcome}")
