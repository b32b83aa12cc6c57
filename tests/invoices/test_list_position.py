"""The invoice list says where it stands ("51–100 of 1.234"), goes back as well as forward, marks overdue
rows in words, and its totals say what they add up."""

import datetime
import itertools
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from invoices.models import Invoice

pytestmark = pytest.mark.django_db
POSITION = re.compile(r'data-testid="position">([^<]*)<')
ROW = re.compile(r'/invoices/(\d+)/"')


def many(company, count: int, **columns) -> None:
    """Rows of the mirror written directly: what is tested is the list, not the sync."""
    start = datetime.date(2026, 1, 1)
    Invoice.objects.bulk_create([Invoice(
        company=company, alegra_id=str(n), id_sort=f"{n:08d}", document={}, content_hash="x", number=f"FE{n}",
        number_sort=f"FE{n:08d}", client_name=f"Cliente {n % 7}", date=start + datetime.timedelta(days=n % 300),
        status="closed", total=Decimal("100.00"), **columns) for n in range(1, count + 1)])


def summary(client, url: str, **headers) -> str:
    """What the list's summary request answers for the list at `url` (its count, totals and position)."""
    path, _, query = url.partition("?")
    company_id = path.strip("/").split("/")[1]
    return client.get(reverse("invoices:invoice_list_summary", args=[company_id]) + (f"?{query}" if query else ""),
                      **headers).content.decode()


def link(html: str, rel: str) -> str | None:
    found = re.search(rf'rel="{rel}" data-testid="\w+" href="([^"]*)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def test_the_pages_say_where_they_stand_and_previous_walks_back_over_the_same_rows(client, company, accountant):
    many(company, 120)
    client.force_login(accountant)
    url = reverse("invoices:invoice_list", args=[company.pk])
    address = url + "?sort=number"
    pages, html = [], client.get(address).content.decode()
    while True:
        assert POSITION.findall(html) == [""]  # filled in by the summary's answer
        pages.append((POSITION.findall(summary(client, address)), ROW.findall(html), html))
        following = link(html, "next")
        if following is None:
            break
        address = url + following
        html = client.get(address).content.decode()
    assert [position for position, _rows, _html in pages] == [["1–50 of 120"], ["51–100 of 120"], ["101–120 of 120"]]
    assert link(pages[0][2], "prev") is None
    for (_position, rows, _html), (_later, _rows, later_html) in itertools.pairwise(pages):
        back = client.get(url + link(later_html, "prev")).content.decode()
        assert ROW.findall(back) == rows
    assert "after=" not in link(pages[1][2], "prev")  # back from the second page is the first page


def test_the_count_is_written_the_companys_way_and_the_totals_say_what_they_add_up(client, company, accountant):
    many(company, 1234)
    client.force_login(accountant)
    url = reverse("invoices:invoice_list", args=[company.pk])
    with translation.override("es"):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()
        html = summary(client, url, HTTP_ACCEPT_LANGUAGE="es")
        second = summary(client, url + link(page, "next"), HTTP_ACCEPT_LANGUAGE="es")
        filtered = summary(client, url + "?q=FE1", HTTP_ACCEPT_LANGUAGE="es")
        assert "Sumando las facturas…" in page
    assert POSITION.findall(html) == ["1–50 de 1.234"] and POSITION.findall(second) == ["51–100 de 1.234"]
    assert "Total de las 1.234 facturas" in html and "$ 123.400,00" in html
    assert "Saldo por cobrar de las abiertas entre ellas" in html
    matching = Invoice.objects.filter(company=company, number__icontains="FE1").count()
    assert f"Total de las {matching} facturas que cumplen estos filtros" in filtered
    english = summary(client, url + "?q=FE1")
    assert f"Total of the {matching} invoices matching these filters" in english


@pytest.mark.parametrize(("language", "marker"), [("en", "overdue"), ("es", "vencida")])
def test_overdue_rows_are_marked_in_words_not_colour_alone(client, company, accountant, language, marker):
    today = timezone.localdate()
    many(company, 3, due_date=today - datetime.timedelta(days=3), balance=Decimal("100.00"))
    Invoice.objects.filter(company=company, alegra_id="1").update(status="open")  # owes, past due
    Invoice.objects.filter(company=company, alegra_id="2").update(status="open", due_date=today)  # due today
    client.force_login(accountant)
    with translation.override(language):
        html = client.get(reverse("invoices:invoice_list", args=[company.pk]), HTTP_ACCEPT_LANGUAGE=language
                          ).content.decode()
    rows = re.findall(r"<tr( class=\"overdue\")?>\s*<td><a href=\"[^\"]*/invoices/(\d+)/\"", html)
    overdue = {Invoice.objects.get(pk=pk).alegra_id for marked, pk in rows if marked}
    assert overdue == {"1"}  # not the one due today, not the paid one
    assert html.count('data-testid="overdue"') == 1 and f'data-testid="overdue">{marker}<' in html


def test_the_list_costs_the_same_queries_on_any_page(client, company, accountant):
    many(company, 30)
    client.force_login(accountant)
    url = reverse("invoices:invoice_list", args=[company.pk])
    client.get(url)

    def queries(path: str) -> tuple[int, str]:
        with CaptureQueriesContext(connection) as captured:
            html = client.get(path).content.decode()
        return len(captured), html

    small_first, html = queries(url + "?sort=number")
    many_more = 200
    Invoice.objects.bulk_create([Invoice(
        company=company, alegra_id=f"m{n}", id_sort=f"m{n:08d}", document={}, content_hash="x",
        number=f"FM{n}", number_sort=f"FM{n:08d}", date=datetime.date(2026, 2, 1), total=Decimal(1))
        for n in range(many_more)])
    large_first, html = queries(url + "?sort=number")
    second, html = queries(url + link(html, "next"))
    third, _html = queries(url + link(html, "next"))
    # The first page: session, user, memberships, company, the rows, the last sync, the badges; no
    # aggregate over the company. A later page reads also where the page before it starts.
    assert small_first == large_first == second - 1 == third - 1 == 6
    # The summary: session, user, the membership with its company, one aggregate — on any page.
    counts = []
    for path in (url + "?sort=number", url + link(html, "prev"), url + "?q=FM1"):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("invoices:invoice_list_summary", args=[company.pk]) + path[len(url):]
                              ).status_code == 200
        counts.append(len(captured))
    assert counts == [4, 4, 4]


def test_a_search_of_one_or_two_characters_finds_them_anywhere_and_pages_like_any_other(client, company, accountant):
    """Too short for the trigram indexes, it reads the invoices' search text (0009): the same
    matches, in the number, the client's name or identification, whatever the case, never across
    the end of one field and the start of the next."""
    from invoices.queries import invoice_page, invoice_summary

    many(company, 130)
    Invoice.objects.filter(alegra_id__in=["7", "8"]).update(client_name="Ñandú Xpress", client_identification="900Q7")
    Invoice.objects.filter(alegra_id="9").update(number="FE9", client_name="Zeta")  # "9Z" only across fields
    expected = {
        "x": {"7", "8"}, "Q7": {"7", "8"}, "q7": {"7", "8"}, "ñ": {"7", "8"} if connection.vendor == "postgresql" else None,
        "12": {str(n) for n in range(1, 131) if "12" in f"FE{n}"}, "9Z": set(), "%": set(), "_": set(),
    }
    for fragment, found in expected.items():
        if found is None:  # SQLite upper-cases ASCII only: "ñ" finds "ñ", as its own LIKE does
            continue
        rows = {row.alegra_id for row in invoice_page(company, {"q": fragment}, page_size=200).rows}
        assert rows == found, fragment
        assert invoice_summary(company, {"q": fragment}).count == len(found), fragment
    # Pages forward and back over the same rows, 50 at a time.
    client.force_login(accountant)
    url = reverse("invoices:invoice_list", args=[company.pk])
    first = client.get(url + "?q=1").content.decode()
    wanted = {alegra_id for alegra_id, *fields in Invoice.objects.values_list(
        "alegra_id", "number", "client_name", "client_identification") if any("1" in field for field in fields)}
    second = client.get(url + link(first, "next")).content.decode()
    seen = ROW.findall(first) + ROW.findall(second)
    following = link(second, "next")
    while following:
        page = client.get(url + following).content.decode()
        seen += ROW.findall(page)
        following = link(page, "next")
    assert len(seen) == len(set(seen)) == len(wanted)
    assert set(Invoice.objects.filter(pk__in=seen).values_list("alegra_id", flat=True)) == wanted
    assert ROW.findall(client.get(url + link(second, "prev")).content.decode()) == ROW.findall(first)
    assert POSITION.findall(summary(client, url + link(first, "next"))) == [f"51–{len(wanted)} of {len(wanted)}"]
