"""An accountant submits, an approver decides in the browser, and Alegra (the sandbox) follows.

The portal talks to the sandbox over real HTTP (the live server); the push runs as soon as the
approval commits (Celery's eager mode in tests), exactly as a worker would run it.
"""

import re
import uuid

import pytest
from django.test import Client

from alegra_sandbox import services as sandbox
from alegra_sandbox.testing import make_account
from approvals.models import ChangeRequest
from tests.approvals.pushkit import mirrored_invoice, sandbox_company
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, user) -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                               "url": live_server.url}])


@pytest.fixture
def alegra(live_server):
    account = make_account(email=f"journey-{uuid.uuid4().hex[:8]}@example.com")
    account, company = sandbox_company(account, base_url=live_server.url + "/sandbox/api/v1")
    return account, company, make_user("ana", company, "accountant"), make_user("pedro", company, "approver")


@pytest.fixture
def second_page(_playwright_browser):
    """Another person at another computer."""
    context = _playwright_browser.new_context(locale="es-CO", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def submit_in_browser(page, live_server, company, invoice, observations: str, reason: str) -> int:
    page.goto(f"{live_server.url}/c/{company.pk}/invoices/{invoice.pk}/edit/")
    page.wait_for_selector("#edit-form")
    page.fill("[name=observations]", observations)
    page.fill("textarea[name=reason]", reason)
    page.click("button[value=submit]")
    page.wait_for_url(re.compile(r"/requests/\d+/$"))
    return int(re.search(r"/requests/(\d+)/$", page.url).group(1))


def test_submit_approve_and_the_change_is_in_alegra_with_who_and_why(page, second_page, live_server, alegra):
    account, company, accountant, approver = alegra
    invoice = mirrored_invoice(company, account)

    log_in(page, live_server, accountant)
    number = submit_in_browser(page, live_server, company, invoice, "Entregar en la bodega 2",
                               "El cliente pidió cambiar el sitio de entrega")
    panel = page.get_by_test_id("decision-panel")
    assert panel.get_attribute("data-state") == "pending"
    assert page.get_by_test_id("routed-by").inner_text().strip()
    assert page.get_by_test_id("approve").count() == 0  # nobody approves their own request

    log_in(second_page, live_server, approver)
    second_page.goto(f"{live_server.url}/c/{company.pk}/approvals/")
    row = second_page.locator(f"[data-testid=inbox-row][data-request='{number}']")
    assert "El cliente pidió cambiar el sitio de entrega" in row.inner_text()
    row.locator("summary").click()
    row.locator("[data-component=diff]").wait_for()
    assert "Entregar en la bodega 2" in row.locator("[data-component=diff]").inner_text()
    row.get_by_test_id("approve").click()
    row.get_by_test_id("row-notice").wait_for()

    second_page.goto(f"{live_server.url}/c/{company.pk}/requests/{number}/")
    second_page.locator("[data-testid=push-state][data-state=applied]").wait_for()
    assert sandbox.invoice_get(account, invoice.alegra_id)["observations"] == "Entregar en la bodega 2"

    # The invoice's history names who asked, who approved and why.
    page.goto(f"{live_server.url}/c/{company.pk}/invoices/{invoice.pk}/")
    history = page.locator("body").inner_text()
    assert f"enviada por la solicitud #{number} (Pedro)" in history and "sitio de entrega" in history
    assert "Ana" in history
    assert ChangeRequest.objects.get(pk=number).state == ChangeRequest.State.APPLIED


def test_reject_needs_a_comment_and_the_requester_can_copy_it_into_a_new_draft(page, second_page, live_server,
                                                                               alegra):
    account, company, accountant, approver = alegra
    invoice = mirrored_invoice(company, account)
    log_in(page, live_server, accountant)
    number = submit_in_browser(page, live_server, company, invoice, "Descuento especial",
                               "Acordado por teléfono")

    log_in(second_page, live_server, approver)
    second_page.goto(f"{live_server.url}/c/{company.pk}/requests/{number}/")
    second_page.get_by_test_id("reject").click()
    second_page.get_by_test_id("decision-error").wait_for()
    assert ChangeRequest.objects.get(pk=number).state == ChangeRequest.State.PENDING
    second_page.fill("#decision-comment", "Sin soporte escrito del acuerdo")
    second_page.get_by_test_id("reject").click()
    second_page.locator("[data-testid=decision-panel][data-state=rejected]").wait_for()
    assert "Sin soporte escrito del acuerdo" in second_page.get_by_test_id("decisions").inner_text()
    assert sandbox.invoice_get(account, invoice.alegra_id)["observations"] != "Descuento especial"

    page.reload()
    assert page.get_by_test_id("state").inner_text().strip().lower() in {"rejected", "rechazada", "rechazado"}
    page.get_by_test_id("copy-to-draft").click()
    page.wait_for_url(re.compile(r"/edit/$"))
    draft = ChangeRequest.objects.exclude(pk=number).get()
    assert draft.state == ChangeRequest.State.DRAFT
    assert draft.proposed_document["observations"] == "Descuento especial"
