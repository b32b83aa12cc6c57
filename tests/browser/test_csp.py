"""The main pages under the Content-Security-Policy, in a real Chromium: no violation reported, and
the htmx interactions still work (live recompute, searches that stay local, lazy fragments,
the company switcher) with no inline script, no eval and no inline style."""

from __future__ import annotations

import copy

import pytest
from django.test import Client
from django.urls import reverse
from playwright.sync_api import expect

from approvals.services.submission import request_submitted
from approvals.services.requests import request_save_and_submit
from invoices.models import SyncRun
from portal.services import membership_set
from tests.factories.edit import make_invoice, mirror_catalogue
from tests.factories import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Every violation the page sees, whatever reports it (the event, or the console's message).
WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " " + (e.sample || ""));
});
"""


class Watched:
    def __init__(self, page, live_server, user):
        self.page, self.base = page, live_server.url
        self.console: list[str] = []
        self.recomputes = 0
        page.add_init_script(WATCH)
        page.on("console", lambda message: self.console.append(message.text)
                if "Content Security Policy" in message.text or "Refused to" in message.text else None)
        page.on("request", self._count)
        client = Client()
        client.force_login(user)
        page.context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                                   "url": live_server.url}])

    def _count(self, request) -> None:
        if request.method == "POST" and request.url.endswith("/edit/recompute/"):
            self.recomputes += 1

    def open(self, path: str) -> None:
        response = self.page.goto(self.base + path)
        assert response.status == 200, path
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
        self.page.wait_for_load_state("networkidle")
        self.assert_clean(path)

    def assert_clean(self, where: str) -> None:
        reported = self.page.evaluate("window.__cspViolations")
        assert not reported and not self.console, f"{where}: {reported} {self.console}"


@pytest.fixture
def world(company, other_company):
    mirror_catalogue(company)
    invoice = make_invoice(company, lines=3)
    accountant = make_user("ana", company, "accountant")
    membership_set(user=accountant, company=other_company, role="accountant")
    approver = make_user("pedro", company, "approver")
    manager = make_user("maria", company, "manager")
    proposed = copy.deepcopy(invoice.document)
    proposed["observations"] = "Entregado en bodega 2"
    change_request = request_save_and_submit(invoice=invoice, user=accountant, proposed=proposed,
                                             reason="El cliente pidió anotar la bodega", kind="update")
    request_submitted(change_request=change_request)
    other = make_invoice(company, number=2, lines=2)
    SyncRun.objects.create(company=company, kind="full", pages_done=3, pages_total=10)  # a running sync
    return {"company": company, "other_company": other_company, "invoice": invoice, "other": other,
            "request": change_request, "accountant": accountant, "approver": approver, "manager": manager}


def test_an_accountants_pages_and_the_live_edit_screen(page, live_server, world):
    company, invoice, other = world["company"], world["invoice"], world["other"]
    watched = Watched(page, live_server, world["accountant"])
    c = company.pk
    for path in (reverse("portal:company_home", args=[c]), reverse("invoices:invoice_list", args=[c]),
                 reverse("invoices:invoice_detail", args=[c, invoice.pk]), reverse("invoices:sync_page", args=[c]),
                 reverse("approvals:my_requests", args=[c]),
                 reverse("approvals:request_detail", args=[c, world["request"].pk]),
                 reverse("approvals:invoice_contact_edit", args=[c, other.pk]),
                 reverse("approvals:invoice_edit", args=[c, other.pk]) + "?kind=credit_note"):
        watched.open(path)
    assert page.locator("progress.progress").count() == 0  # the credit note page has no sync bar
    watched.open(reverse("invoices:sync_page", args=[c]))
    assert page.locator("progress.progress").get_attribute("value") == "30"

    # The edit screen: a price typed redraws totals (htmx posts the form, swaps the preview).
    watched.open(reverse("approvals:invoice_edit", args=[c, other.pk]))
    page.evaluate("""() => { window.__formHeard = 0;
        document.querySelector('#edit-form').addEventListener('input', () => window.__formHeard++); }""")
    page.fill("input[name='lines-0-price']", "55")
    expect(page.locator("#line-total-0")).to_contain_text("65,45")
    expect(page.get_by_test_id("new-total")).to_contain_text("$")
    assert watched.recomputes >= 1 and page.evaluate("window.__formHeard") > 0
    watched.assert_clean("after the recompute")

    # A catalogue search answers in its own box; neither it nor the reason reaches the form
    # (which would recompute the invoice on every key).
    heard = page.evaluate("window.__formHeard")
    page.fill("#item-q", "Cemento")
    expect(page.locator("#item-results button").first).to_be_visible()
    page.fill("textarea[name='reason']", "Precio de la lista nueva")
    assert page.evaluate("window.__formHeard") == heard
    watched.assert_clean("after the searches")

    # The company switcher submits on change, from the static script.
    page.select_option("#company-switch", str(world["other_company"].pk))
    page.wait_for_url(f"**/c/{world['other_company'].pk}/")
    watched.assert_clean("after switching company")


def test_an_approvers_inbox_and_decision_panel(page, live_server, world):
    c = world["company"].pk
    watched = Watched(page, live_server, world["approver"])
    watched.open(reverse("approvals:approval_inbox", args=[c]))
    page.locator("details summary").first.click()  # the diff arrives by htmx on first opening
    expect(page.locator(".diff-slot [data-component=diff]").first).to_be_visible()
    watched.assert_clean("after opening the diff")
    watched.open(reverse("approvals:request_detail", args=[c, world["request"].pk]))


def test_a_managers_audit_timeline_and_policies(page, live_server, world):
    c, invoice = world["company"].pk, world["invoice"]
    watched = Watched(page, live_server, world["manager"])
    for path in (reverse("audit:audit_log", args=[c]), reverse("audit:invoice_timeline", args=[c, invoice.pk]),
                 reverse("approvals:approval_policies", args=[c])):
        watched.open(path)
    # The audit styles come from their own stylesheet: the timeline is drawn as before.
    watched.open(reverse("audit:invoice_timeline", args=[c, invoice.pk]))
    border = page.evaluate("getComputedStyle(document.querySelector('.timeline')).borderLeftStyle")
    assert border == "solid"


def test_a_violation_would_be_seen(page, live_server, world):
    """The watch is not blind: an inline script injected the way a template would is reported."""
    watched = Watched(page, live_server, world["accountant"])
    watched.open(reverse("portal:company_home", args=[world["company"].pk]))
    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.x = 1';
                             document.body.appendChild(s); }""")
    for _ in range(100):  # the report is an event queued after the refusal
        if page.evaluate("window.__cspViolations.length"):
            break
        page.wait_for_timeout(50)
    assert page.evaluate("window.__cspViolations.length") == 1
    assert page.evaluate("window.x") is None
