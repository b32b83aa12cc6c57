"""The credit-note composer speaks of a credit note: nothing to fix before the user types, messages in a
credit note's words, and the invoice's balance (not its total) before and after the note."""

import pytest
from django.utils import translation

from invoices.rules import validate_credit_note
from tests.approvals.test_edit_pages import HX, form_of, stamped, urls  # noqa: F401 (stamped is a fixture)

pytestmark = pytest.mark.django_db


def section(html: str, element_id: str) -> str:
    start = html.index(f'id="{element_id}"')
    return html[start:html.index("</section>", start)]


@pytest.mark.parametrize(("language", "before", "after", "totals"), [
    ("en", "Balance before", "Balance after", ("Old total", "New total")),
    ("es", "Saldo antes", "Saldo después", ("Total anterior", "Total nuevo")),
])
def test_the_first_screen_shows_no_error_and_speaks_of_the_balance(
        client, stamped, accountant, language, before, after, totals):  # noqa: F811
    client.force_login(accountant)
    with translation.override(language):
        html = client.get(urls(stamped)["edit"], HTTP_ACCEPT_LANGUAGE=language).content.decode()
    form = html[html.index('id="note-form"'):html.index("</form>", html.index('id="note-form"'))]
    assert 'data-testid="violations"' not in form and 'class="error"' not in form
    preview = section(html, "preview")
    assert before in preview and after in preview
    assert not any(label in preview for label in totals)
    assert 'data-testid="balance-before">$ 142,80<' in preview and 'data-testid="balance-after">$ 142,80<' in preview


def test_once_the_user_types_the_messages_come_in_a_credit_notes_words(client, stamped, accountant):  # noqa: F811
    client.force_login(accountant)
    data = form_of(client.get(urls(stamped)["edit"]).content.decode(), "note-form")
    data.update({"credit-1-quantity": "1", "cause": ""})
    preview = client.post(urls(stamped)["recompute"], data, **HX).content.decode()
    assert 'data-testid="violations"' in preview
    assert "The cause printed on the credit note is required." in preview
    assert 'data-testid="balance-after">$ 47,60<' in preview and 'data-testid="difference">-$ 95,20<' in preview
    data.update({"credit-1-quantity": "-1", "credit-1-price": "-5", "cause": "Varilla devuelta"})
    html = client.post(urls(stamped)["edit"], {**data, "action": "draft"}).content.decode()
    assert "Credit 0 or more (0 leaves the line out)." in html
    assert "The price credited cannot be negative." in html
    assert "credit note instead" not in html and "issue a credit note" not in html


def test_a_note_line_with_nothing_credited_is_refused_in_a_credit_notes_words():
    invoice = {"id": "1", "date": "2016-10-12", "status": "open", "stamp": {"legalStatus": "STAMPED_AND_ACCEPTED"},
               "total": "84", "balance": "84", "decimalPrecision": 0,
               "items": [{"id": 1, "price": "84", "quantity": "1", "tax": []}]}
    note = {"type": "PARTIALL_DEVOLUTION", "cause": "Devolución", "date": "2016-10-20", "client": {"id": "1"},
            "items": [{"id": 1, "price": "84", "quantity": "-1", "tax": []}]}
    [violation] = [v for v in validate_credit_note(invoice, note) if v.code == "quantity_not_positive"]
    assert violation.message == "Line 1 of the credit note: the quantity credited must be greater than zero."
