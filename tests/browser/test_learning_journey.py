"""Learning, end to end in a real browser: an accountant dismisses a finding (a negotiated
price), an exception is learned, a similar finding is suppressed by the next scan, the manager
revokes the exception on the Aprendizajes page, and the finding comes back on Review."""

import pytest
from playwright.sync_api import expect

from findings import scan
from findings.models import Finding, LearnedException
from tests.browser.test_edit_journey import log_in
from tests.factories.anomalies import body, history, line, mirror_catalogue, store

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
AGREED = "276470"


def test_dismiss_learn_suppress_revoke_and_it_comes_back(page, live_server, company, accountant, manager):
    mirror_catalogue(company)
    history(company, count=6)
    first = store(company, body(1, [line("1", "10", price=AGREED)], day=50))
    scan.scan_full(company_id=company.pk)
    price = Finding.objects.get(invoice=first, kind="price")

    log_in(page, live_server, accountant)
    page.goto(f"{live_server.url}/c/{company.pk}/review/")
    row = page.locator(f"#finding-{price.pk}")
    row.locator("summary").click()
    expect(row.locator("input[name=learn]")).to_be_checked()
    row.locator("textarea[name=reason]").fill("Precio pactado para la obra del puente")
    row.locator("form[action$='/dismiss/'] button").click()
    expect(page.locator(f"#finding-{price.pk}")).to_contain_text("Descartado")
    learned = LearnedException.objects.get(company=company)
    assert learned.scope == {"price": AGREED} and learned.taught_by == accountant

    # The same agreed price on a later invoice is silenced by the scan that follows.
    second = store(company, body(2, [line("1", "10", price=AGREED)], day=57))
    scan.scan_full(company_id=company.pk)
    similar = Finding.objects.get(invoice=second, kind="price")
    assert similar.state == "silenced" and similar.silenced_by == learned
    page.goto(f"{live_server.url}/c/{company.pk}/review/")
    expect(page.get_by_test_id("findings").or_(page.locator(".empty"))).to_be_visible()
    expect(page.locator(f"#finding-{similar.pk}")).to_have_count(0)

    # The manager sees what was learned, who taught it and why, and revokes it.
    page.context.clear_cookies()
    log_in(page, live_server, manager)
    page.goto(f"{live_server.url}/c/{company.pk}/learning/")
    exception_row = page.locator(f"#exception-{learned.pk}")
    expect(exception_row).to_contain_text("Precio pactado para la obra del puente")
    expect(exception_row).to_contain_text("Ana")
    expect(exception_row.get_by_test_id("silenced-count")).to_have_text("1")
    exception_row.locator("summary").click()
    exception_row.locator("textarea[name=reason]").fill("El contrato del puente terminó")
    exception_row.get_by_test_id("revoke").click()
    expect(page.locator(".messages")).to_contain_text("1 hallazgo vuelve a la página de Revisión")

    page.goto(f"{live_server.url}/c/{company.pk}/review/")
    expect(page.locator(f"#finding-{similar.pk}")).to_be_visible()
    similar.refresh_from_db()
    learned.refresh_from_db()
    assert similar.state == "open" and learned.revoked_by == manager
