"""An accountant corrects a price and a quantity, watches totals and diff follow, and submits."""

import re

import pytest
from django.test import Client
from playwright.sync_api import expect

from approvals.models import ChangeRequest
from tests.factories.edit import make_invoice, mirror_catalogue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])


def test_accountant_changes_price_and_quantity_and_submits(page, live_server, company, accountant):
    mirror_catalogue(company)
    invoice = make_invoice(company, lines=3)  # 40 + 80 + 120, IVA 19 %: $ 285,60
    log_in(page, live_server, accountant)
    page.goto(f"{live_server.url}/c/{company.pk}/invoices/{invoice.pk}/")
    page.click("a.button.primary[href$='/edit/']")
    page.wait_for_selector("#edit-form")
    assert page.get_by_test_id("no-changes").is_visible()

    page.fill("input[name='lines-0-price']", "55")
    new_total = page.get_by_test_id("new-total")
    new_total.wait_for()
    # expect() polls from outside the page: the Content-Security-Policy forbids the eval of wait_for_function.
    expect(new_total).to_contain_text("303,45")
    assert page.locator("#line-total-0").inner_text() == "$ 65,45"

    page.fill("input[name='lines-1-quantity']", "3")
    expect(new_total).to_contain_text("493,85")
    assert page.locator("#line-total-1").inner_text() == "$ 285,60"
    assert page.get_by_test_id("old-total").inner_text() == "$ 285,60"
    assert page.get_by_test_id("difference").inner_text() == "+$ 208,25"
    changed = page.locator(".lines-diff td.after-side.changed")
    assert [changed.nth(i).inner_text() for i in range(changed.count())] == [
        "55,00", "$ 65,45", "3", "$ 285,60"]

    page.click("button[value='submit']")
    page.wait_for_selector("[data-testid=violations]")
    assert "reason" in page.get_by_test_id("violations").inner_text().lower() or \
        "motivo" in page.get_by_test_id("violations").inner_text().lower()
    assert not ChangeRequest.objects.exists()

    page.fill("textarea[name='reason']", "Se facturó con la lista de precios anterior")
    page.click("button[value='submit']")
    page.wait_for_url(re.compile(r"/requests/\d+/$"))
    assert page.get_by_test_id("reason").inner_text() == "Se facturó con la lista de precios anterior"
    assert page.get_by_test_id("new-total").inner_text() == "$ 493,85"
    change_request = ChangeRequest.objects.get()
    assert change_request.state == "pending"
    assert [line["price"] for line in change_request.proposed_document["items"]][:2] == ["55", "80.000000"]
    assert change_request.proposed_document["items"][1]["quantity"] == "3"
