"""What a new user meets, in Spanish and in English: one language per screen, local formats, a home
page per role, error pages in the portal's layout, a phone-wide screen, the bell, the keyboard.

Every test saves screenshots of the screens it drives under tests/browser/screenshots/ (ignored by
git) so a reviewer can look at them.
"""

import re
import uuid
from pathlib import Path

import pytest
from django.core import mail
from django.test import Client
from playwright.sync_api import expect

from alegra_sandbox.testing import make_account
from approvals.models import ChangeRequest
from approvals.services.decisions import request_decide
from portal import notifications
from portal.models import Notification
from tests.approvals.pushkit import mirrored_invoice, sandbox_company, submit
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).parent / "screenshots"
# Words that give a screen away as written in the other language (or as Alegra's raw codes).
NOT_SPANISH = ["CREDIT", "DEBIT-CARD", "STAMPED_AND_ACCEPTED", "vía push", "vía scan", "vía sync", "líneas: price",
               "(default policy)", "Every change", "approval(s)", " ago", "Pending approval", "Draft", "Applied",
               "hace 0 minutos"]
NOT_ENGLISH = ["Crédito", "Tarjeta débito", "Todo cambio", "hace ", "Borrador", "Aplicada", "Pendiente",
               "STAMPED_AND_ACCEPTED", "CREDIT", "DEBIT-CARD", "lines: price"]


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page, live_server, user, language: str = "es") -> None:
    client = Client()
    client.force_login(user)
    page.context.add_cookies([
        {"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url},
        {"name": "django_language", "value": language, "url": live_server.url}])


def screen_text(page) -> str:
    return page.locator("main").inner_text() + "\n" + page.locator("header").inner_text()


def assert_one_language(text: str, language: str, where: str) -> None:
    words = NOT_SPANISH if language == "es" else NOT_ENGLISH
    found = [word for word in words if word in text]
    assert not found, f"{where} in {language} shows {found}"


@pytest.fixture
def demo(live_server, settings):
    account = make_account(email=f"ux-{uuid.uuid4().hex[:8]}@example.com")
    account, company = sandbox_company(account, base_url=live_server.url + "/sandbox/api/v1")
    people = {"accountant": make_user("ana", company, "accountant"),
              "approver": make_user("pedro", company, "approver"),
              "manager": make_user("maria", company, "manager")}
    return account, company, people


@pytest.fixture
def applied_request(demo):
    """An invoice paid on credit by debit card whose price correction was approved and applied in Alegra."""
    account, company, people = demo
    invoice = mirrored_invoice(company, account, paymentForm="CREDIT", paymentMethod="DEBIT-CARD")
    items = [dict(line) for line in invoice.document["items"]]
    items[0]["price"] = "1250.5"
    change_request = submit(invoice, people["accountant"], reason="Precio acordado", items=items)
    request_decide(change_request=change_request, user=people["approver"], outcome="approve", comment="")
    change_request.refresh_from_db()
    assert change_request.state == ChangeRequest.State.APPLIED
    return invoice, change_request


@pytest.mark.parametrize("language", ["es", "en"])
def test_every_main_screen_speaks_one_language(page, live_server, demo, applied_request, language):
    _account, company, people = demo
    invoice, change_request = applied_request
    screens = {
        "accountant": [("home", f"/c/{company.pk}/"), ("invoices", f"/c/{company.pk}/invoices/"),
                       ("invoice", f"/c/{company.pk}/invoices/{invoice.pk}/"),
                       ("request", f"/c/{company.pk}/requests/{change_request.pk}/"),
                       ("history", f"/c/{company.pk}/invoices/{invoice.pk}/history/"),
                       ("my-requests", f"/c/{company.pk}/requests/mine/")],
        "manager": [("manager-home", f"/c/{company.pk}/"), ("audit", f"/c/{company.pk}/audit/"),
                    ("policies", f"/c/{company.pk}/approvals/policies/")],
    }
    for role, pages in screens.items():
        log_in(page, live_server, people[role], language)
        for name, path in pages:
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            shot(page, f"{language}-{name}")
            assert_one_language(screen_text(page), language, name)
    page.goto(f"{live_server.url}/c/{company.pk}/invoices/{invoice.pk}/")
    facts = page.locator("main").inner_text()
    assert ("Crédito" in facts and "Tarjeta débito" in facts) if language == "es" else \
        ("Credit" in facts and "Debit card" in facts)
    # The unit price at the invoice's precision, with the company's separators.
    assert "1.250,50" in facts


def test_numbers_are_typed_as_in_colombia_and_an_unreadable_one_is_flagged_on_its_box(page, live_server, demo):
    account, company, people = demo
    invoice = mirrored_invoice(company, account)
    log_in(page, live_server, people["accountant"])
    page.goto(f"{live_server.url}/c/{company.pk}/invoices/{invoice.pk}/edit/")
    page.wait_for_selector("#edit-form")
    assert page.input_value("input[name='lines-0-price']") == "1.000"  # as a Colombian writes it
    page.fill("input[name='lines-0-price']", "6.500,50")
    expect(page.get_by_test_id("new-total")).to_contain_text("15.921,19")  # 2 × 6.500,50 + IVA 19 % + 450
    page.fill("input[name='lines-1-quantity']", "dos")
    message = page.locator("#fe-1-quantity")
    expect(message).to_contain_text("“dos” no es un número")
    expect(page.locator("input[name='lines-1-quantity']")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_test_id("violations")).to_contain_text("Línea 2, Cantidad")
    shot(page, "es-edit-unreadable-number")
    page.fill("input[name='lines-1-quantity']", "1")
    expect(message).to_have_text("")
    expect(page.locator("input[name='lines-1-quantity']")).not_to_have_attribute("aria-invalid", "true")


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("language", ["es", "en"])
def test_error_pages_in_the_portals_layout_and_language(page, live_server, demo, settings, language, debug):
    settings.DEBUG = debug
    _account, company, people = demo
    log_in(page, live_server, people["accountant"], language)
    expected = {"es": ("Página no encontrada", "Esta página no corresponde a su rol"),
                "en": ("Page not found", "This page is not for your role")}[language]
    for path, status, title in ((f"/c/{company.pk}/invoices/999999/", 404, expected[0]),
                                ("/no/such/page/", 404, expected[0]),
                                (f"/c/{company.pk}/audit/", 403, expected[1])):
        response = page.goto(live_server.url + path)
        assert response.status == status
        assert page.locator(f"[data-testid=error-page][data-status='{status}']").is_visible()
        assert title in page.locator("h1").inner_text()
        assert page.locator("header.topbar").is_visible() and "Traceback" not in page.content()
    shot(page, f"{language}-error-403{'-debug' if debug else ''}")


@pytest.mark.parametrize("language", ["es", "en"])
def test_a_home_page_per_role(page, live_server, demo, language):
    account, company, people = demo
    invoice = mirrored_invoice(company, account)
    pending = submit(invoice, people["accountant"], observations="Entregar en bodega 2")
    titles = {
        "es": {"accountant": "Mis solicitudes que me necesitan", "approver": "Esperan su decisión",
               "manager": "Las correcciones de este mes"},
        "en": {"accountant": "My requests that need me", "approver": "Awaiting your decision",
               "manager": "This month's corrections"}}[language]
    for role, title in titles.items():
        log_in(page, live_server, people[role], language)
        page.goto(live_server.url + "/")
        home = page.get_by_test_id("home")
        expect(home).to_have_attribute("data-role", role)
        assert title in home.inner_text()
        assert "You work here as" not in home.inner_text()
        shot(page, f"{language}-home-{role}")
    # The approver's list names the request that awaits them, and leads to it.
    log_in(page, live_server, people["approver"], language)
    page.goto(live_server.url + "/")
    page.get_by_test_id("panel-awaiting").get_by_role("link", name=re.compile(f"#{pending.pk}")).click()
    page.wait_for_url(re.compile(f"/requests/{pending.pk}/$"))


def test_a_phone_wide_screen_keeps_everything_inside(_playwright_browser, live_server, demo, applied_request):
    _account, company, people = demo
    invoice, change_request = applied_request
    context = _playwright_browser.new_context(locale="es-CO", viewport={"width": 390, "height": 844})
    page = context.new_page()
    try:
        log_in(page, live_server, people["accountant"])
        for name, path in (("home", f"/c/{company.pk}/"), ("invoices", f"/c/{company.pk}/invoices/"),
                           ("request", f"/c/{company.pk}/requests/{change_request.pk}/"),
                           ("edit", f"/c/{company.pk}/invoices/{invoice.pk}/edit/"),
                           ("history", f"/c/{company.pk}/invoices/{invoice.pk}/history/"),
                           ("review", f"/c/{company.pk}/review/")):
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            shot(page, f"es-390-{name}")
            # Nothing makes the page itself scroll sideways (a table scrolls inside its own box).
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, (name, page.evaluate(
                "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)"
                ".slice(0, 5).map(e => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right)"))
            if name == "review":  # its actions were reachable only by scrolling the table sideways
                assert page.evaluate("[...document.querySelectorAll('main button, main summary')]"
                                     ".filter(e => e.offsetParent && e.getBoundingClientRect().right > 391)"
                                     ".length") == 0
            for selector in ("header.topbar", "main", "main .card"):
                boxes = page.locator(selector)
                for index in range(min(boxes.count(), 12)):
                    box = boxes.nth(index).bounding_box()
                    if box is not None:
                        assert box["x"] >= 0 and box["x"] + box["width"] <= 391, f"{name}: {selector} #{index}"
    finally:
        context.close()


def test_the_approver_decides_with_the_keyboard_alone(page, live_server, demo):
    account, company, people = demo
    invoice = mirrored_invoice(company, account)
    change_request = submit(invoice, people["accountant"], observations="Entregar en bodega 2")
    log_in(page, live_server, people["approver"])
    page.goto(f"{live_server.url}/c/{company.pk}/requests/{change_request.pk}/")
    page.get_by_test_id("approve").wait_for()
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.locator("[data-testid=approve]:focus").count():
            break
    else:
        pytest.fail("the approve button cannot be reached with Tab")
    shot(page, "es-approve-focused")
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=decision-panel]")).not_to_have_attribute("data-state", "pending")
    change_request.refresh_from_db()
    assert change_request.state != ChangeRequest.State.PENDING


def test_the_bell_counts_what_awaits_me_and_mail_goes_in_each_persons_language(page, live_server, demo, mailoutbox):
    account, company, people = demo
    english = make_user("john", company, "approver")
    quiet = make_user("sara", company, "approver")
    notifications.preference_save(user=english, language="en")
    notifications.preference_save(user=quiet, mail="none")
    invoice = mirrored_invoice(company, account)
    mail.outbox.clear()  # what the mirror's scan told the accountants is not this test's news
    change_request = submit(invoice, people["accountant"], observations="Entregar en bodega 2")

    by_address = {message.to[0]: message for message in mail.outbox}
    assert set(by_address) == {"pedro@example.com", "maria@example.com", "john@example.com"}  # not sara
    assert f"La solicitud #{change_request.pk} espera su decisión" in by_address["pedro@example.com"].subject
    assert f"Request #{change_request.pk} awaits your decision" in by_address["john@example.com"].subject
    assert Notification.objects.filter(user=quiet, kind="request.awaiting").exists()

    log_in(page, live_server, quiet)
    page.goto(f"{live_server.url}/c/{company.pk}/")
    expect(page.get_by_test_id("bell-count")).to_have_text("1")
    shot(page, "es-bell")
    page.get_by_test_id("bell").click()
    expect(page.get_by_test_id("notification")).to_contain_text(f"La solicitud #{change_request.pk}")
    shot(page, "es-notifications")
    page.goto(f"{live_server.url}/c/{company.pk}/")
    expect(page.get_by_test_id("bell")).to_have_attribute("data-count", "0")


# --- accessibility: axe-core (pinned through axe-playwright-python) over the main screens ----------


def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
            for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]


@pytest.mark.parametrize("language", ["es", "en"])
def test_no_serious_accessibility_violations_on_the_main_screens(page, live_server, demo, applied_request, language):
    account, company, people = demo
    invoice, change_request = applied_request
    other = mirrored_invoice(company, account)
    pending = submit(other, people["accountant"], observations="Entregar en bodega 2")
    found = {}
    for role, pages in {
        "accountant": [f"/c/{company.pk}/", f"/c/{company.pk}/invoices/", f"/c/{company.pk}/invoices/{invoice.pk}/",
                       f"/c/{company.pk}/invoices/{invoice.pk}/history/", f"/c/{company.pk}/review/",
                       f"/c/{company.pk}/requests/mine/", "/preferences/", "/notifications/"],
        "approver": [f"/c/{company.pk}/approvals/", f"/c/{company.pk}/requests/{pending.pk}/"],
        "manager": [f"/c/{company.pk}/audit/", f"/c/{company.pk}/approvals/policies/", f"/c/{company.pk}/sync/",
                    f"/c/{company.pk}/month-end/"],
    }.items():
        log_in(page, live_server, people[role], language)
        for path in pages:
            page.goto(live_server.url + path)
            page.wait_for_load_state("networkidle")
            problems = serious_violations(page)
            if problems:
                found[path] = problems
    # The edit screen of an invoice with no open request.
    log_in(page, live_server, people["accountant"], language)
    fresh = mirrored_invoice(company, account)
    page.goto(f"{live_server.url}/c/{company.pk}/invoices/{fresh.pk}/edit/")
    page.wait_for_selector("#edit-form")
    if problems := serious_violations(page):
        found["edit"] = problems
    assert not found, "\n".join(f"{path}: {problem}" for path, problems in found.items() for problem in problems)


def test_the_edit_screen_works_with_the_keyboard_alone(page, live_server, demo):
    account, company, people = demo
    invoice = mirrored_invoice(company, account)
    log_in(page, live_server, people["accountant"])
    page.goto(f"{live_server.url}/c/{company.pk}/invoices/{invoice.pk}/edit/")
    page.wait_for_selector("#edit-form")

    def tab_to(selector: str) -> None:
        for _ in range(120):
            page.keyboard.press("Tab")
            if page.locator(f"{selector}:focus").count():
                return
        pytest.fail(f"{selector} cannot be reached with Tab")

    tab_to("input[name='lines-0-price']")
    page.keyboard.press("Control+A")
    page.keyboard.type("1.100")
    expect(page.get_by_test_id("new-total")).to_contain_text("3.068,00")  # 2 × 1.100 + IVA 19 % + 450
    tab_to("textarea[name='reason']")
    page.keyboard.type("Precio de la lista nueva")
    tab_to("button[value='submit']")
    shot(page, "es-edit-keyboard")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/requests/\d+/$"))
    change_request = ChangeRequest.objects.get(invoice=invoice)
    assert change_request.proposed_document["items"][0]["price"] == "1100"
