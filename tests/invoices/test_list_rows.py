"""The invoice list's rows are written byte for byte as the template loop they replace wrote them."""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.template import engines
from django.utils import timezone, translation
from django.utils.safestring import mark_safe

from invoices.models import Invoice
from portal import formats

# The loop the list's template held before its rows were written in Python.
LOOP = (Path(__file__).parent / "data" / "list_rows_loop.html").read_text()
ROWS = "{% load listing %}{{ page.rows|invoice_rows:list_url }}"


def _rows() -> list[Invoice]:
    today = timezone.localdate()
    made = [
        # Open and past due: overdue, its balance shown.
        Invoice(pk=7, alegra_id="7", number="FE7", client_alegra_id="12", client_name="Lanera Andina S.A.S.",
                date=today - datetime.timedelta(days=60), due_date=today - datetime.timedelta(days=30),
                status="open", decimal_precision=2, total=Decimal("1234567.5"), balance=Decimal("1000.05")),
        # Stamped, paid, no due date, a name and an id that need escaping, badges with markup.
        Invoice(pk=1234567, alegra_id="88", number="SETP<990>", client_alegra_id="a b/&c?d=é",
                client_name='<script>alert("x")</script> & Cía', date=today, due_date=None, status="closed",
                decimal_precision=0, total=Decimal("129000"), balance=Decimal("0"), is_stamped=True,
                legal_status="STAMPED_AND_ACCEPTED"),
        # No number: the list shows Alegra's id. Open but due later, nothing owed on a void one.
        Invoice(pk=9, alegra_id="9<9>", number="", client_alegra_id="", client_name="", date=today,
                due_date=today + datetime.timedelta(days=30), status="open", decimal_precision=3,
                total=Decimal("-0.0005"), balance=Decimal("10.1235")),
        Invoice(pk=10, alegra_id="10", number="FE10", client_alegra_id="3", client_name="Ñandú ∑ 😀",
                date=today, due_date=today - datetime.timedelta(days=1), status="void", decimal_precision=2,
                total=Decimal("5"), balance=Decimal("5"), is_stamped=True, legal_status="<odd code>"),
        Invoice(pk=11, alegra_id="11", number="FE11", client_alegra_id="3", client_name="Draft",
                date=today, due_date=today, status="draft", decimal_precision=2, total=Decimal("0"),
                balance=Decimal("0")),
    ]
    badges = [[{"tone": "high", "url": "/c/1/findings/invoice/7/", "title": "Open findings on this invoice",
                "label": "2 findings"}],
              [{"tone": 'x" onclick="y', "url": "/c/1/?a=1&b=2", "title": "<b>", "label": mark_safe("<i>1</i>")},
               {"tone": "low", "url": "/u/", "title": "t", "label": "l"}],
              [], [], []]
    for invoice, found in zip(made, badges, strict=True):
        invoice.badges = found
    return made


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("country", ["CO", "MX", "CR"])
def test_the_rows_are_written_as_the_template_loop_wrote_them(language, country):
    context = {"page": {"rows": _rows()}, "list_url": "/c/1/invoices/"}
    django = engines["django"]
    with formats.country_in_use(country), translation.override(language):
        loop = django.from_string(LOOP).render(context)
        written = django.from_string(ROWS).render(context)
    assert written == loop
    assert "&lt;script&gt;" in written and 'class="overdue"' in written and "<i>1</i>" in written
    assert ("vencida" if language == "es" else "overdue") in written


def test_no_rows_write_nothing():
    assert engines["django"].from_string(ROWS).render({"page": {"rows": []}, "list_url": "/"}) == ""
