"""The edit screen, the credit-note composer, the contact update and the request pages.

Form data is read back from the rendered page, as a browser would post it, so the tests also
check that the template names its fields the way the views read them.
"""

import copy
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals.models import ChangeRequest
from approvals.services import proposals
from approvals.services import requests as services
from invoices import mirror
from invoices.models import Contact, Item
from invoices.sync import _store_catalogue, invoice_mark_deleted
from tests.factories.edit import (
    change_in_alegra,
    contact_doc,
    item_doc,
    make_invoice,
    mirror_catalogue,
)
from tests.factories import make_user

pytestmark = pytest.mark.django_db
State = ChangeRequest.State
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def english(settings):
    """Messages are asserted in English; the Spanish catalogue is maintained separately."""
    settings.LANGUAGE_CODE = "en"


class FormReader(HTMLParser):
    """The values a browser would submit from the form with the given id (no button pressed)."""

    def __init__(self, form_id: str):
        super().__init__()
        self.form_id, self.inside, self.pairs = form_id, False, []
        self._textarea = self._select = None
        self._option_value = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or "disabled" in a:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button"):
                self.pairs.append([a["name"], a.get("value", "")])
        elif tag == "textarea" and a.get("name"):
            self._textarea = [a["name"], ""]
            self.pairs.append(self._textarea)
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
        elif tag == "option" and self._select and "selected" in a:
            self.pairs.append([self._select, a.get("value", "")])

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea is not None:
            # A browser drops the newline right after <textarea>.
            self._textarea[1] += data if self._textarea[1] or not data.startswith("\n") else data[1:]


def form_of(html: str, form_id: str = "edit-form") -> dict:
    reader = FormReader(form_id)
    reader.feed(html)
    data: dict = {}
    for name, value in reader.pairs:
        data.setdefault(name, []).append(value)
    return {k: v if len(v) > 1 or k.endswith("-tax") else v[0] for k, v in data.items()}


@pytest.fixture
def invoice(company):
    mirror_catalogue(company)
    return make_invoice(company)


def urls(invoice):
    args = [invoice.company_id, invoice.pk]
    return {
        "edit": reverse("approvals:invoice_edit", args=args),
        "recompute": reverse("approvals:invoice_edit_recompute", args=args),
        "items": reverse("approvals:invoice_edit_items", args=args),
        "contacts": reverse("approvals:invoice_edit_contacts", args=args),
        "contact": reverse("approvals:invoice_contact_edit", args=args),
    }


def opened(client, invoice) -> dict:
    response = client.get(urls(invoice)["edit"])
    assert response.status_code == 200
    return form_of(response.content.decode())


# --- access ---------------------------------------------------------------------------------


def test_outsiders_get_404_and_members_without_the_role_403(client, invoice, approver, outsider):
    endpoints = urls(invoice)
    client.force_login(outsider)
    for name, url in endpoints.items():
        response = client.post(url) if name == "recompute" else client.get(url)
        assert response.status_code == 404, name
    assert client.get(reverse("approvals:my_requests", args=[invoice.company_id])).status_code == 404
    client.force_login(approver)
    for name, url in endpoints.items():
        response = client.post(url) if name == "recompute" else client.get(url)
        assert response.status_code == 403, name


def test_anonymous_users_are_sent_to_log_in(client, invoice):
    response = client.get(urls(invoice)["edit"])
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_another_companys_invoice_is_not_found(client, invoice, accountant, other_company):
    other = make_invoice(other_company, number=9)
    client.force_login(accountant)
    assert client.get(reverse("approvals:invoice_edit", args=[invoice.company_id, other.pk])).status_code == 404


def test_the_invoice_page_links_accountants_to_the_editor(client, invoice, accountant):
    client.force_login(accountant)
    html = client.get(reverse("invoices:invoice_detail", args=[invoice.company_id, invoice.pk])).content.decode()
    assert urls(invoice)["edit"] in html


# --- the full page and its fragments ----------------------------------------------------------


def test_full_page_shows_the_editor_and_no_changes_yet(client, invoice, accountant):
    client.force_login(accountant)
    html = client.get(urls(invoice)["edit"]).content.decode()
    assert "<html" in html and 'id="edit-form"' in html
    assert 'name="lines-1-price"' in html and 'value="80"' in html
    assert "Constructora Los Andes" in html
    assert 'data-testid="no-changes"' in html
    assert "$ 142,80" in html


def test_the_page_posts_back_unchanged(client, invoice, accountant):
    client.force_login(accountant)
    data = opened(client, invoice)
    response = client.post(urls(invoice)["recompute"], data, **HX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'data-testid="no-changes"' in html and 'data-testid="violations"' not in html


def test_typing_a_price_redraws_totals_line_total_and_diff(client, invoice, accountant):
    client.force_login(accountant)
    data = opened(client, invoice)
    data["lines-0-price"] = "45"
    html = client.post(urls(invoice)["recompute"], data, **HX).content.decode()
    assert html.lstrip().startswith('<section class="card" id="preview"')
    assert "<html" not in html and 'id="editor"' not in html
    assert 'data-testid="new-total">$ 148,75<' in html
    assert 'data-testid="difference">+$ 5,95<' in html
    assert re.search(r'id="line-total-0"[^>]*hx-swap-oob="true">\$ 53,55<', html)
    assert 'class="after-side num changed">45,00<' in html


def test_a_bad_value_is_explained_and_totals_wait(client, invoice, accountant):
    client.force_login(accountant)
    data = opened(client, invoice)
    data["lines-1-quantity"] = "dos"
    html = client.post(urls(invoice)["recompute"], data, **HX).content.decode()
    assert "“dos” is not a number" in html and html.count("is not a number") == 2  # beside its box and in the summary
    assert re.search(r'id="fe-1-quantity"[^>]*hx-swap-oob="true">“dos” is not a number; write it like 6.500,50.<', html)
    assert re.search(r'id="fe-1-price"[^>]*hx-swap-oob="true"><', html)
    assert 'data-testid="new-total"' not in html
    data["lines-1-quantity"] = "0"
    html = client.post(urls(invoice)["recompute"], data, **HX).content.decode()
    assert 'data-code="quantity_not_positive"' in html
    assert re.search(r'id="line-err-1"[^>]*hx-swap-oob="true"><div>Line 2', html)


def test_what_was_typed_comes_back_escaped_beside_its_box(client, invoice, accountant):
    client.force_login(accountant)
    data = opened(client, invoice)
    data["lines-0-price"] = '<img src=x onerror="alert(1)">'
    html = client.post(urls(invoice)["recompute"], data, **HX).content.decode()
    assert "<img" not in html
    assert re.search(r'id="fe-0-price"[^>]*hx-swap-oob="true">“&lt;img', html)
    # One total, three boxes' errors and the line's own errors, for every line, out of band.
    assert html.count('hx-swap-oob="true"') == 5 * len(invoice.document["items"])


def test_line_operations_redraw_the_editor(client, invoice, accountant):
    client.force_login(accountant)
    data = opened(client, invoice)
    html = client.post(urls(invoice)["recompute"], {**data, "op": "add:5"}, **HX).content.decode()
    assert html.lstrip().startswith('<div id="editor"') and 'name="lines-2-item" value="5"' in html
    assert 'class="mark added"' in html and "Teja de barro" in html
    data = form_of(f'<form id="edit-form">{html}</form>')
    html = client.post(urls(invoice)["recompute"], {**data, "op": "up:2"}, **HX).content.decode()
    assert 'name="lines-1-item" value="5"' in html
    data = form_of(f'<form id="edit-form">{html}</form>')
    html = client.post(urls(invoice)["recompute"], {**data, "op": "remove:0"}, **HX).content.decode()
    assert 'name="lines-0-item" value="5"' in html and 'name="lines-2-item"' not in html
    assert 'class="mark removed"' in html


def test_line_operations_work_without_javascript(client, invoice, accountant):
    client.force_login(accountant)
    data = opened(client, invoice)
    html = client.post(urls(invoice)["edit"], {**data, "op": "down:0"}).content.decode()
    assert "<html" in html
    assert html.index('name="lines-0-item" value="2"') < html.index('name="lines-1-item" value="1"')
    assert not ChangeRequest.objects.exists()


@pytest.mark.parametrize("op", ["remove:²", "up:²", "down:¹", "remove:99999999999999999999999", "up:-1"])
def test_a_line_operation_on_no_such_line_changes_nothing(client, invoice, accountant, op):
    """"²" passes str.isdigit() and fails int(): both editor addresses answered a 500."""
    client.force_login(accountant)
    data = opened(client, invoice)
    for url, headers in ((urls(invoice)["recompute"], HX), (urls(invoice)["edit"], {})):
        response = client.post(url, {**data, "op": op}, **headers)
        html = response.content.decode()
        assert response.status_code == 200, (url, response.status_code)
        assert html.index('name="lines-0-item" value="1"') < html.index('name="lines-1-item" value="2"')
    assert not ChangeRequest.objects.exists()


def test_picking_another_client(client, invoice, accountant):
    client.force_login(accountant)
    data = opened(client, invoice)
    html = client.post(urls(invoice)["recompute"], {**data, "op": "client:3"}, **HX).content.decode()
    assert 'data-testid="client">Cliente 3 S.A.S.<' in html
    assert "<td>Client</td>" in html


def test_search_as_you_type_fragments(client, invoice, accountant):
    client.force_login(accountant)
    html = client.get(urls(invoice)["items"], {"item_q": "teja"}).content.decode()
    assert 'value="add:5"' in html and "Teja de barro" in html and "Cemento" not in html
    html = client.get(urls(invoice)["items"], {"item_q": "zzz"}).content.decode()
    assert "No item matches" in html
    html = client.get(urls(invoice)["contacts"], {"client_q": "900100004"}).content.decode()
    assert 'value="client:4"' in html
    html = client.get(urls(invoice)["items"], {"item_q": "REF-00"}).content.decode()
    assert html.count('value="add:') == 8


def test_search_without_javascript_shows_results_in_the_page(client, invoice, accountant):
    client.force_login(accountant)
    data = opened(client, invoice)
    html = client.post(urls(invoice)["edit"], {**data, "op": "search", "item_q": "ladrillo"}).content.decode()
    assert 'value="add:3"' in html


# --- saving ------------------------------------------------------------------------------------


def test_save_a_draft_and_come_back_to_it(client, invoice, accountant):
    client.force_login(accountant)
    data = opened(client, invoice)
    data.update({"lines-1-quantity": "2", "reason": "Eran dos varillas", "action": "draft"})
    response = client.post(urls(invoice)["edit"], data)
    assert response.status_code == 302 and response["Location"] == urls(invoice)["edit"]
    change_request = ChangeRequest.objects.get()
    assert change_request.state == State.DRAFT and change_request.reason == "Eran dos varillas"
    page = client.get(urls(invoice)["edit"]).content.decode()
    assert 'name="lines-1-quantity" value="2"' in page and "Eran dos varillas" in page
    assert f"#{change_request.pk}" in page
    data = form_of(page)
    data.update({"lines-0-price": "41", "action": "submit"})
    response = client.post(urls(invoice)["edit"], data)
    assert response["Location"] == reverse("approvals:request_detail", args=[invoice.company_id, change_request.pk])
    change_request.refresh_from_db()
    assert change_request.state == State.PENDING
    assert change_request.proposed_document["items"][0]["price"] == "41"


def test_submit_without_a_reason_is_refused_and_nothing_is_written(client, invoice, accountant):
    client.force_login(accountant)
    data = {**opened(client, invoice), "lines-0-price": "45", "action": "submit"}
    response = client.post(urls(invoice)["edit"], data)
    assert response.status_code == 200
    assert 'data-code="reason_required"' in response.content.decode()
    assert not ChangeRequest.objects.exists()


def test_a_rule_refused_on_save_keeps_the_form_and_writes_nothing(client, invoice, accountant):
    client.force_login(accountant)
    data = {**opened(client, invoice), "dueDate": "2026-01-01", "reason": "r", "action": "draft"}
    html = client.post(urls(invoice)["edit"], data).content.decode()
    assert 'data-code="due_before_date"' in html and 'value="2026-01-01"' in html
    assert not ChangeRequest.objects.exists()


def test_nothing_changed_means_nothing_to_submit(client, invoice, accountant):
    client.force_login(accountant)
    data = {**opened(client, invoice), "reason": "r", "action": "submit"}
    html = client.post(urls(invoice)["edit"], data).content.decode()
    assert 'data-code="nothing_to_submit"' in html
    assert not ChangeRequest.objects.exists()


def test_a_second_accountant_is_shown_the_open_request(client, invoice, company, accountant):
    change_request = services.request_save_draft(
        invoice=invoice, user=accountant, reason="r", kind="update",
        proposed={**invoice.document, "observations": "Mía"})
    luis = make_user("luis", company, "accountant")
    client.force_login(luis)
    html = client.get(urls(invoice)["edit"]).content.decode()
    assert 'data-testid="blocked"' in html and 'id="edit-form"' not in html
    assert reverse("approvals:request_detail", args=[company.pk, change_request.pk]) in html
    response = client.post(urls(invoice)["edit"], {"action": "submit", "reason": "x"})
    assert 'data-testid="blocked"' in response.content.decode()
    assert ChangeRequest.objects.count() == 1


def test_void_and_deleted_invoices_are_read_only(client, company, accountant):
    mirror_catalogue(company)
    void = make_invoice(company, number=2, status="void")
    deleted = make_invoice(company, number=3)
    invoice_mark_deleted(company=company, alegra_id=deleted.alegra_id, source="sync")
    client.force_login(accountant)
    for invoice in (void, deleted):
        html = client.get(urls(invoice)["edit"]).content.decode()
        assert 'data-testid="readonly"' in html and 'id="edit-form"' not in html
        client.post(urls(invoice)["edit"], {"action": "submit", "reason": "x"})
        html = client.get(urls(invoice)["contact"]).content.decode()
        assert 'data-testid="readonly"' in html
    assert "void" in client.get(urls(void)["edit"]).content.decode()
    assert not ChangeRequest.objects.exists()


# --- the mirror moved ------------------------------------------------------------------------


def test_told_what_changed_meanwhile_and_rebased_before_submitting(client, invoice, accountant):
    client.force_login(accountant)
    data = {**opened(client, invoice), "lines-0-price": "45", "reason": "Precio"}
    change_in_alegra(invoice, observations="Entregado en obra")
    html = client.post(urls(invoice)["edit"], {**data, "action": "submit"}).content.decode()
    assert 'data-testid="stale"' in html and 'data-code="base_changed"' in html
    assert "Entregado en obra" in html  # what changed meanwhile
    assert not ChangeRequest.objects.exists()
    html = client.post(urls(invoice)["recompute"], {**data, "op": "rebase"}, **HX).content.decode()
    assert 'data-testid="stale"' not in html and invoice.content_hash in html
    rebased = form_of(f'<form id="edit-form">{html}</form>')
    assert rebased["observations"] == "Entregado en obra" and rebased["lines-0-price"] == "45"
    response = client.post(urls(invoice)["edit"], {**rebased, "action": "submit"})
    assert response.status_code == 302
    assert ChangeRequest.objects.get().proposed_document["observations"] == "Entregado en obra"


def test_a_saved_draft_on_an_old_version_shows_the_banner(client, invoice, accountant):
    services.request_save_draft(invoice=invoice, user=accountant, reason="r", kind="update",
                                proposed={**invoice.document, "anotation": "Nueva nota"})
    change_in_alegra(invoice, observations="Entregado")
    client.force_login(accountant)
    html = client.get(urls(invoice)["edit"]).content.decode()
    assert 'data-testid="stale"' in html and 'value="rebase"' in html


# --- query counts ---------------------------------------------------------------------------


def _count(client, method, url, data=None, **extra) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url, data or {}, **extra)
    assert response.status_code == 200
    return len(queries.captured_queries)


def test_query_counts_do_not_grow_with_lines_or_catalogue(client, company, accountant):
    mirror_catalogue(company, items=3, contacts=2)
    small = make_invoice(company, number=1, lines=2)
    client.force_login(accountant)
    client.get(urls(small)["edit"])  # warm the session
    small_counts = (_count(client, "get", urls(small)["edit"]),
                    _count(client, "post", urls(small)["recompute"], {**opened(client, small), "lines-0-price": "1"}, **HX))
    _store_catalogue(Item, company, [item_doc(n) for n in range(4, 120)], mirror.item_columns)
    _store_catalogue(Contact, company, [contact_doc(n) for n in range(3, 120)], mirror.contact_columns)
    large = make_invoice(company, number=2, lines=60)
    large_counts = (_count(client, "get", urls(large)["edit"]),
                    _count(client, "post", urls(large)["recompute"], {**opened(client, large), "lines-0-price": "1"}, **HX))
    assert small_counts == large_counts
    assert large_counts[0] <= 10 and large_counts[1] <= 10


# --- credit notes ------------------------------------------------------------------------------


@pytest.fixture
def stamped(company):
    mirror_catalogue(company)
    return make_invoice(company, number=5, stamped=True)


def test_a_stamped_invoice_opens_the_credit_note_composer(client, stamped, accountant):
    client.force_login(accountant)
    html = client.get(urls(stamped)["edit"]).content.decode()
    assert 'id="note-form"' in html and 'id="edit-form"' not in html
    assert 'name="credit-1-quantity" value="0"' in html and "legally immutable" in html


def test_the_composer_shows_the_balance_after_the_note_and_submits(client, stamped, accountant):
    client.force_login(accountant)
    data = form_of(client.get(urls(stamped)["edit"]).content.decode(), "note-form")
    data.update({"credit-1-quantity": "1", "cause": "Varilla devuelta"})
    html = client.post(urls(stamped)["recompute"], data, **HX).content.decode()
    assert "<html" not in html and 'data-testid="note-amount">$ 95,20<' in html
    assert 'data-testid="balance-after">$ 47,60<' in html
    response = client.post(urls(stamped)["edit"], {**data, "reason": "Devolución", "action": "submit"})
    assert response.status_code == 302
    change_request = ChangeRequest.objects.get()
    assert (change_request.kind, change_request.state) == ("credit_note", State.PENDING)
    assert change_request.proposed_document["items"] == [
        {"id": 2, "price": "80", "quantity": "1", "tax": [{"id": "3"}]}]


def test_the_composer_credits_the_price_it_shows_and_never_more_than_the_line_sold_at(client, stamped, accountant):
    """A net price with decimals was written plain ("12.345") and read back where "." groups
    thousands: the unchanged form credited twelve thousand. A typed price above the line's is
    refused on the line."""
    from tests.factories.edit import change_in_alegra

    items = copy.deepcopy(stamped.document["items"])
    items[0]["price"] = "12.345"
    stamped = change_in_alegra(stamped, items=items)
    client.force_login(accountant)
    data = form_of(client.get(urls(stamped)["edit"]).content.decode(), "note-form")
    assert data["credit-0-price"] == "12,345"
    data.update({"credit-0-quantity": "1", "cause": "Devolución", "reason": "Devolución", "action": "draft"})
    too_much = client.post(urls(stamped)["edit"], {**data, "credit-0-price": "12,35"}).content.decode()
    assert "cannot be above what the line sold at (12,345)" in too_much and not ChangeRequest.objects.exists()
    assert client.post(urls(stamped)["edit"], data).status_code == 302
    (line,) = ChangeRequest.objects.get().proposed_document["items"]
    assert Decimal(line["price"]) == Decimal("12.345")


def test_a_note_above_the_balance_settles_it_and_leaves_the_rest_as_the_clients_credit(
        client, company, accountant):
    mirror_catalogue(company)
    invoice = make_invoice(company, number=6, stamped=True, paid="100")  # 142.80 total, 42.80 owed
    client.force_login(accountant)
    data = form_of(client.get(urls(invoice)["edit"]).content.decode(), "note-form")
    data.update({"credit-1-quantity": "1", "cause": "c", "reason": "r"})
    preview = client.post(urls(invoice)["recompute"], data, **HX).content.decode()
    assert re.search(r'data-testid="client-credit">\$ 52[.,]40<', preview)  # 95.20 credited − 42.80 owed
    assert re.search(r'data-testid="balance-after">\$ 0[.,]00<', preview)
    response = client.post(urls(invoice)["edit"], {**data, "action": "draft"})
    assert response.status_code == 302
    note = ChangeRequest.objects.get().proposed_document
    assert note["invoices"] == [{"id": invoice.alegra_id, "amount": "42.80"}]


def test_a_paid_stamped_invoice_is_corrected_with_a_note_kept_as_the_clients_credit(client, company, accountant):
    mirror_catalogue(company)
    invoice = make_invoice(company, number=7, stamped=True, paid="142.80", status="closed")
    client.force_login(accountant)
    data = form_of(client.get(urls(invoice)["edit"]).content.decode(), "note-form")
    data.update({"credit-0-quantity": "1", "cause": "Devolución", "reason": "Devolvió el cemento",
                 "action": "submit"})
    assert client.post(urls(invoice)["edit"], data).status_code == 302
    change_request = ChangeRequest.objects.get()
    assert change_request.state == State.PENDING
    assert change_request.proposed_document["invoices"] == [{"id": invoice.alegra_id, "amount": "0.00"}]


def test_a_credit_note_draft_comes_back_with_its_quantities(client, stamped, accountant):
    client.force_login(accountant)
    data = form_of(client.get(urls(stamped)["edit"]).content.decode(), "note-form")
    data.update({"credit-0-quantity": "0.5", "cause": "Rotura", "action": "draft"})
    assert client.post(urls(stamped)["edit"], data).status_code == 302
    html = client.get(urls(stamped)["edit"]).content.decode()
    assert 'name="credit-0-quantity" value="0,5"' in html and 'value="Rotura"' in html


def test_an_open_invoice_can_take_a_credit_note_for_returns(client, invoice, accountant):
    client.force_login(accountant)
    html = client.get(urls(invoice)["edit"] + "?kind=credit_note").content.decode()
    assert 'id="note-form"' in html and "Edit the invoice in place instead" in html


# --- contact updates --------------------------------------------------------------------------


def test_a_contact_update_from_the_invoice(client, invoice, accountant):
    client.force_login(accountant)
    page = client.get(urls(invoice)["contact"]).content.decode()
    assert 'value="Calle 10 # 5-20"' in page
    data = {"base_hash": re.search(r'name="base_hash" value="([0-9a-f]+)"', page).group(1),
            "address": "Avenida 68 # 12-30", "city": "Cali", "email": "compras@losandes.test",
            "phonePrimary": "6015551234", "phoneSecondary": "", "mobile": "3004232123"}
    html = client.post(urls(invoice)["contact"], data, **HX).content.decode()
    assert "<html" not in html and "Avenida 68 # 12-30" in html
    html = client.post(urls(invoice)["contact"], {**data, "email": "malo", "action": "draft"}).content.decode()
    assert 'data-code="invalid_email"' in html and not ChangeRequest.objects.exists()
    response = client.post(urls(invoice)["contact"], {**data, "reason": "Se mudó", "action": "submit"})
    assert response.status_code == 302
    change_request = ChangeRequest.objects.get()
    assert change_request.kind == "contact" and change_request.proposed_document["address"]["city"] == "Cali"
    detail = client.get(response["Location"]).content.decode()
    assert "Avenida 68 # 12-30" in detail and "Calle 10 # 5-20" in detail


def test_a_contact_s_identification_corrected_is_shown_everywhere_the_request_is(client, invoice, accountant,
                                                                                approver):
    """The fix of a missing or wrong NIT: its preview, the request's page, the approver's diff and
    the editor again were each a 500 (no label for the field)."""
    client.force_login(accountant)
    page = client.get(urls(invoice)["contact"]).content.decode()
    data = {"base_hash": re.search(r'name="base_hash" value="([0-9a-f]+)"', page).group(1),
            "identification": "900123457", "address": "Calle 10 # 5-20", "city": "Bogotá",
            "email": "compras@losandes.test", "phonePrimary": "6015551234", "phoneSecondary": "",
            "mobile": "3004232123"}
    preview = client.post(urls(invoice)["contact"], data, **HX, HTTP_ACCEPT_LANGUAGE="es")
    assert preview.status_code == 200 and "Identificación" in preview.content.decode()
    response = client.post(urls(invoice)["contact"], {**data, "reason": "NIT mal digitado", "action": "submit"})
    assert response.status_code == 302
    change_request = ChangeRequest.objects.get()
    assert change_request.proposed_document["identification"] == "900123457"
    assert "900123457" in client.get(response["Location"]).content.decode()
    assert client.get(urls(invoice)["contact"]).status_code == 200
    client.force_login(approver)
    for name in ("approvals:request_detail", "approvals:approval_diff"):
        shown = client.get(reverse(name, args=[invoice.company_id, change_request.pk]), **HX)
        assert shown.status_code == 200 and "900123457" in shown.content.decode(), name


# --- my requests and one request ---------------------------------------------------------------


def test_my_requests_empty_state_then_listed_and_filtered(client, company, invoice, accountant):
    client.force_login(accountant)
    url = reverse("approvals:my_requests", args=[company.pk])
    html = client.get(url).content.decode()
    assert 'data-testid="empty"' in html
    pending = services.request_save_and_submit(invoice=invoice, user=accountant, reason="r",
                                               kind="update", proposed={**invoice.document, "observations": "x"})
    services.request_cancel(change_request=pending, user=accountant)
    second = make_invoice(company, number=2)
    services.request_save_draft(invoice=second, user=accountant, reason="", kind="update",
                                proposed={**second.document, "observations": "y"})
    html = client.get(url).content.decode()
    assert "FE1" in html and "FE2" in html and "Cancelled" in html
    html = client.get(url + "?state=open", **HX).content.decode()
    assert "<html" not in html and "FE2" in html and ">FE1<" not in html


def test_my_requests_query_count_is_constant(client, company, accountant):
    mirror_catalogue(company)
    client.force_login(accountant)
    url = reverse("approvals:my_requests", args=[company.pk])
    client.get(url)

    def add(number):
        invoice = make_invoice(company, number=number)
        services.request_save_draft(invoice=invoice, user=accountant, reason="", kind="update",
                                    proposed={**invoice.document, "observations": str(number)})
    add(1)
    few = _count(client, "get", url)
    for number in range(2, 25):
        add(number)
    assert _count(client, "get", url) == few


def test_request_page_shows_state_reason_diff_history_and_decision_panel(client, invoice, accountant, approver, outsider):
    change_request = services.request_save_and_submit(
        invoice=invoice, user=accountant, reason="Precio de lista equivocado", kind="update",
        proposed={**invoice.document, "items": [{**invoice.document["items"][0], "price": "45"},
                                                 invoice.document["items"][1]]})
    url = reverse("approvals:request_detail", args=[invoice.company_id, change_request.pk])
    client.force_login(approver)
    html = client.get(url).content.decode()
    assert 'data-testid="state"' in html and "Precio de lista equivocado" in html
    assert 'data-component="diff"' in html and 'data-testid="new-total">$ 148,75<' in html
    assert "submitted" in html
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_the_request_s_diff_writes_dates_and_tax_rates_as_the_company_does(client, invoice, accountant):
    """ISO dates ("2026-12-24") and a rate's decimal point ("ICA 9.66 %") were shown on the page."""
    from invoices.models import Tax

    _store_catalogue(Tax, invoice.company, [{"id": "9", "name": "ICA", "percentage": "9.66", "description": "",
                                             "type": "ICA"}], mirror.tax_columns)
    lines = copy.deepcopy(invoice.document["items"])
    lines[0]["tax"] = [{"id": "9", "name": "ICA", "percentage": "9.66"}]
    change_request = services.request_save_draft(
        invoice=invoice, user=accountant, reason="Vence después", kind="update",
        proposed={**invoice.document, "dueDate": "2026-12-24", "items": lines})
    client.force_login(accountant)
    html = client.get(reverse("approvals:request_detail", args=[invoice.company_id, change_request.pk]),
                      HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "24/12/2026" in html and "2026-12-24" not in html
    assert "ICA 9,66 %" in html and "9.66" not in html
    from approvals.texts import tax_label

    assert (tax_label("IVA", "19"), tax_label("ICA 9.66%", "9.66"), tax_label("ICA 9,66 %", "9.66")) == (
        "IVA 19 %", "ICA 9.66%", "ICA 9,66 %")


def test_request_actions_cancel_rebase_copy(client, invoice, accountant):
    change_request = services.request_save_draft(invoice=invoice, user=accountant, reason="r",
                                                 kind="update", proposed={**invoice.document, "anotation": "Nota"})
    client.force_login(accountant)
    args = [invoice.company_id, change_request.pk]
    assert client.get(reverse("approvals:request_cancel", args=args)).status_code == 405
    change_in_alegra(invoice, observations="Entregado")
    html = client.get(reverse("approvals:request_detail", args=args)).content.decode()
    assert 'data-testid="stale"' in html and reverse("approvals:request_rebase", args=args) in html
    response = client.post(reverse("approvals:request_rebase", args=args))
    assert response["Location"] == urls(invoice)["edit"]
    change_request.refresh_from_db()
    assert change_request.base_hash == invoice.content_hash
    client.post(reverse("approvals:request_submit", args=args))
    change_request.refresh_from_db()
    assert change_request.state == State.PENDING
    client.post(reverse("approvals:request_cancel", args=args), {"comment": "ya no"})
    change_request.refresh_from_db()
    assert change_request.state == State.CANCELLED
    response = client.post(reverse("approvals:request_copy", args=args))
    assert response["Location"] == urls(invoice)["edit"]
    assert ChangeRequest.objects.filter(state=State.DRAFT).count() == 1
    response = client.post(reverse("approvals:request_copy", args=args), follow=True)
    assert "is already open for this invoice" in response.content.decode()


def test_the_invoice_requests_fragment_lists_every_kind(client, invoice, accountant, approver, outsider):
    url = reverse("approvals:invoice_requests", args=[invoice.company_id, invoice.pk])
    client.force_login(accountant)
    html = client.get(url, **HX).content.decode()
    assert "No correction has been proposed" in html and urls(invoice)["contact"] in html
    base = proposals.current_base(invoice, "contact").document
    contact_update = services.request_save_draft(invoice=invoice, user=accountant, reason="Se mudó",
                                                 kind="contact", proposed={**base, "email": "nuevo@losandes.test"})
    client.force_login(approver)
    html = client.get(url, **HX).content.decode()
    assert f"#{contact_update.pk}" in html and "Client contact update" in html
    assert urls(invoice)["contact"] not in html
    client.force_login(outsider)
    assert client.get(url).status_code == 404


def test_a_note_composed_on_an_older_version_is_reviewed_then_submitted(client, stamped, accountant):
    client.force_login(accountant)
    data = form_of(client.get(urls(stamped)["edit"]).content.decode(), "note-form")
    data.update({"credit-1-quantity": "1", "cause": "Varilla devuelta", "reason": "r", "action": "submit"})
    change_in_alegra(stamped, observations="Entregado en obra")
    html = client.post(urls(stamped)["edit"], data).content.decode()
    assert 'data-testid="stale"' in html and "Entregado en obra" in html
    assert not ChangeRequest.objects.exists()
    again = form_of(html, "note-form")
    assert again["base_hash"] == stamped.content_hash
    assert client.post(urls(stamped)["edit"], {**again, "action": "submit"}).status_code == 302


def test_seller_and_price_list_are_chosen_from_the_mirrored_catalogues(client, invoice, accountant):
    client.force_login(accountant)
    page = client.get(urls(invoice)["edit"]).content.decode()
    assert "Carolina Restrepo" in page and "Mayoristas" in page
    assert "Mercedes Sosa" not in page  # an inactive seller is not offered
    data = form_of(page)
    data.update({"seller": "3", "priceList": "2", "reason": "Venta del vendedor correcto", "action": "submit"})
    response = client.post(urls(invoice)["edit"], data)
    assert response.status_code == 302
    saved = ChangeRequest.objects.get(invoice=invoice)
    assert saved.proposed_document["seller"] == {"id": "3"}
    assert saved.proposed_document["priceList"] == {"id": "2"}


def test_the_active_sellers_and_price_lists_are_read_in_one_query_by_name(invoice, other_company):
    mirror_catalogue(other_company)  # the same names in another company: never offered here
    company = invoice.company
    with CaptureQueriesContext(connection) as queries:
        choices = proposals.named_choices(company)
    assert len(queries.captured_queries) == 1
    assert choices == {"sellers": [("1", "Carolina Restrepo"), ("3", "Julián Ortiz")],
                       "price_lists": [("1", "General"), ("2", "Mayoristas")]}


def test_an_invoice_without_an_open_request_reads_no_request_documents(invoice, accountant):
    """The editor asks on every keystroke whether a request is open; most invoices have none."""
    with CaptureQueriesContext(connection) as queries:
        assert proposals.open_request_for(invoice) is None
    assert len(queries.captured_queries) == 1
    assert "proposed_document" not in queries.captured_queries[0]["sql"]
    draft = ChangeRequest.objects.create(company=invoice.company, invoice=invoice, kind=ChangeRequest.Kind.UPDATE,
                                         base_document=invoice.document, base_hash=invoice.content_hash,
                                         proposed_document=invoice.document, requester=accountant)
    found = proposals.open_request_for(invoice)
    assert found == draft and found.requester == accountant


def test_an_unknown_seller_is_refused_on_its_field_and_nothing_is_saved(client, invoice, accountant):
    client.force_login(accountant)
    data = form_of(client.get(urls(invoice)["edit"]).content.decode())
    data.update({"seller": "99", "reason": "x", "action": "submit"})
    response = client.post(urls(invoice)["edit"], data)
    assert response.status_code == 200 and not ChangeRequest.objects.filter(invoice=invoice).exists()
    assert "Select a valid choice" in response.content.decode()


def test_the_service_refuses_a_seller_or_price_list_alegra_does_not_have(invoice, accountant):
    from approvals.errors import ApprovalError

    proposed = {**invoice.document, "seller": {"id": "99"}, "priceList": {"id": "2"}}
    with pytest.raises(ApprovalError) as refused:
        services.request_save_draft(invoice=invoice, user=accountant, proposed=proposed, reason="", kind="update")
    assert refused.value.codes == ["unknown_seller"]
    inactive = {**invoice.document, "seller": {"id": "2"}}
    with pytest.raises(ApprovalError):
        services.request_save_draft(invoice=invoice, user=accountant, proposed=inactive, reason="", kind="update")
    assert not ChangeRequest.objects.filter(invoice=invoice).exists()


def test_the_request_timeline_tells_each_step_in_the_readers_language(client, invoice, accountant, settings):
    proposed = {**invoice.document, "observations": "Entregar en bodega"}
    change_request = services.request_save_draft(invoice=invoice, user=accountant, proposed=proposed, reason="r",
                                                 kind="update")
    client.force_login(accountant)
    url = reverse("approvals:request_detail", args=[invoice.company_id, change_request.pk])
    assert "draft created" in client.get(url).content.decode()
    settings.LANGUAGE_CODE = "es"
    client.post(reverse("set_language"), {"language": "es", "next": url})
    page = client.get(url).content.decode()
    assert "borrador creado" in page and '"code"' not in page
