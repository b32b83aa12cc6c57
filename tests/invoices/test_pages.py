"""Invoice list and detail pages: filters, keyset pagination, htmx fragments, constant query counts."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from invoices.models import Invoice
from invoices.sync import invoice_store
from tests.invoices.docs import invoice_doc

pytestmark = pytest.mark.django_db


def _mirror(company, count: int, start: int = 1):
    for n in range(start, start + count):
        invoice_store(company=company, document=invoice_doc(n), source="sync")


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_is_constant_whatever_the_data_size(client, company, accountant):
    client.force_login(accountant)
    url = reverse("invoices:invoice_list", args=[company.pk])
    _mirror(company, 3)
    client.get(url)  # the first visit stores the current company in the session
    small = _queries(client, url)
    _mirror(company, 120, start=4)
    large = _queries(client, url)
    filtered = _queries(client, url + "?status=open&q=FE1&sort=-total&balance=yes")
    assert small == large
    assert large <= 8
    # A search on PostgreSQL may ask the planner for its estimates, walk, then gather: two
    # statements more at most, whatever the data (queries._searched).
    assert large <= filtered <= large + (2 if connection.vendor == "postgresql" else 0)


def test_list_keyset_pagination_walks_every_invoice_once(client, company, accountant):
    client.force_login(accountant)
    _mirror(company, 120)
    url = reverse("invoices:invoice_list", args=[company.pk])
    for sort in ["-date", "date", "number", "-number", "total", "-total"]:
        seen, next_url, pages = [], f"{url}?sort={sort}", 0
        while next_url:
            html = client.get(next_url).content.decode()
            seen += re.findall(r'/invoices/(\d+)/"', html)
            found = re.search(r'rel="next" data-testid="next" href="\?([^"]*after=[^"]+)"', html)
            next_url = f"{url}?{found.group(1).replace('&amp;', '&')}" if found else None
            pages += 1
            assert pages < 10
        assert len(seen) == 120 and len(set(seen)) == 120, sort


def test_number_sort_is_numeric(client, company, accountant):
    client.force_login(accountant)
    for n in (9, 10, 100):
        invoice_store(company=company, document=invoice_doc(n), source="sync")
    html = client.get(reverse("invoices:invoice_list", args=[company.pk]) + "?sort=number").content.decode()
    assert html.index(">FE9<") < html.index(">FE10<") < html.index(">FE100<")


def test_filters_and_totals(client, company, accountant):
    client.force_login(accountant)
    _mirror(company, 10)
    invoice_store(company=company, document=invoice_doc(50, status="void"), source="sync")
    url = reverse("invoices:invoice_list", args=[company.pk])
    html = client.get(url + "?status=void").content.decode()
    assert "FE50" in html and "FE1<" not in html
    totals = client.get(reverse("invoices:invoice_list_summary", args=[company.pk]) + "?status=void").content.decode()
    assert "1 invoice" in totals or "1 factura" in totals
    html = client.get(url + "?q=FE5").content.decode()
    assert "FE5<" in html and "FE50<" in html and "FE6<" not in html


def test_htmx_request_gets_only_the_table_fragment(client, company, accountant):
    client.force_login(accountant)
    _mirror(company, 3)
    response = client.get(reverse("invoices:invoice_list", args=[company.pk]) + "?status=open", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert 'id="invoice-table"' in html and "<html" not in html and "FE1" in html


@pytest.mark.parametrize("query", [
    "date_from=2026-99-01", "sort=evil", "after=%%%", "after=WyJ4IiwgIngiXQ", "status=<script>",
    "date_from=2026-10-01&date_to=2026-01-01", "q=" + "x" * 500, "after=WyIyMDI2LTEwLTEyIiwgMV0&sort=-total",
])
def test_bad_filters_never_break_the_page(client, company, accountant, query):
    client.force_login(accountant)
    _mirror(company, 3)
    assert client.get(reverse("invoices:invoice_list", args=[company.pk]) + "?" + query).status_code == 200


def test_empty_state_invites_the_first_sync(client, company, accountant):
    client.force_login(accountant)
    html = client.get(reverse("invoices:invoice_list", args=[company.pk])).content.decode()
    assert reverse("invoices:sync_page", args=[company.pk]) in html


def test_a_search_that_finds_nothing_says_so_even_before_any_recorded_sync(client, company, accountant):
    """Invoices that came by webhook, without a sync run: a search with no match said "No invoices
    mirrored yet" and offered the first sync."""
    invoice_store(company=company, document=invoice_doc(1), source="webhook")
    client.force_login(accountant)
    html = client.get(reverse("invoices:invoice_list", args=[company.pk]), {"q": "nadaquecoincida"},
                      HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Ninguna factura cumple estos filtros." in html and "Quitar los filtros" in html
    assert reverse("invoices:sync_page", args=[company.pk]) + '">' not in html.split('class="empty"')[1][:400]
    statuses = client.get(reverse("invoices:invoice_list", args=[company.pk]), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert ">Pagada<" in statuses and ">Pagado<" not in statuses  # an invoice is feminine


def test_detail_shows_lines_totals_client_and_versions(client, company, accountant):
    client.force_login(accountant)
    invoice_store(company=company, document=invoice_doc(1), source="sync")
    invoice_store(company=company, document=invoice_doc(1, observations="corregido"), source="webhook")
    from invoices.models import Invoice

    invoice = Invoice.objects.get(company=company, alegra_id="1")
    html = client.get(reverse("invoices:invoice_detail", args=[company.pk, invoice.pk])).content.decode()
    assert "Cemento gris 50 kg" in html and "Constructora" not in html or "Cliente 2" in html
    assert "read from Alegra after its notice of a change" in html and "read from Alegra" in html
    assert "$ 143,80" in html


def test_detail_shows_whatever_alegra_stored_without_failing_and_payments_in_the_reader_s_words(
        client, company, accountant):
    """Amounts past what a number holds (1E+30, 1e999999) and a stamp date that is no date made
    the page a 500; a payment's date and method were shown as stored (2026-10-15 transfer)."""
    line = dict(invoice_doc(1)["items"][0], discount="1E+30", price="1e999999", total="9" * 40,
                tax=[{"id": "3", "name": "IVA", "percentage": "1e40"}])
    document = invoice_doc(8, items=[line], stamp={"cufe": "x", "date": 5},
                           payments=[{"date": "2026-10-15", "amount": "1234.5", "paymentMethod": "transfer"},
                                     {"date": "2026-10-16", "amount": "1e99999", "paymentMethod": "cash"}],
                           retentions=[{"name": "R", "percentage": "1e50", "amount": "1e50"}])
    invoice_store(company=company, document=document, source="sync")
    invoice = Invoice.objects.get(company=company, alegra_id="8")
    client.force_login(accountant)
    response = client.get(reverse("invoices:invoice_detail", args=[company.pk, invoice.pk]), HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 200
    html = response.content.decode()
    assert "15/10/2026 · $ 1.234,50 Transferencia bancaria" in html and "2026-10-15" not in html


def test_a_line_s_tax_says_its_rate_once(client, company, accountant):
    """"IVA 19%" at 19 read "IVA 19% 19 %"."""
    line = dict(invoice_doc(1)["items"][0], tax=[{"id": "3", "name": "IVA 19%", "percentage": "19.00"},
                                                 {"id": "9", "name": "ICA", "percentage": "9.66"}])
    invoice_store(company=company, document=invoice_doc(9, items=[line]), source="sync")
    invoice = Invoice.objects.get(company=company, alegra_id="9")
    client.force_login(accountant)
    html = client.get(reverse("invoices:invoice_detail", args=[company.pk, invoice.pk])).content.decode()
    assert "<td>IVA 19%, ICA 9,66 %</td>" in html


def test_detail_query_count_does_not_grow_with_versions(client, company, accountant):
    client.force_login(accountant)
    from invoices.models import Invoice

    invoice_store(company=company, document=invoice_doc(1), source="sync")
    invoice = Invoice.objects.get(company=company, alegra_id="1")
    url = reverse("invoices:invoice_detail", args=[company.pk, invoice.pk])
    client.get(url)
    few = _queries(client, url)
    for i in range(15):
        invoice_store(company=company, document=invoice_doc(1, observations=f"v{i}"), source="sync")
    assert _queries(client, url) == few


def test_stamped_invoice_explains_why_it_cannot_be_edited_in_place(client, company, accountant):
    client.force_login(accountant)
    from invoices.models import Invoice

    doc = invoice_doc(7, stamp={"legalStatus": "STAMPED_AND_ACCEPTED", "cufe": "abc123", "date": "2026-10-12"})
    invoice_store(company=company, document=doc, source="sync")
    invoice = Invoice.objects.get(company=company, alegra_id="7")
    assert invoice.is_stamped and not invoice.editable_in_place
    html = client.get(reverse("invoices:invoice_detail", args=[company.pk, invoice.pk])).content.decode()
    assert "STAMPED_AND_ACCEPTED" not in html and "abc123" in html  # Alegra's code told in words
    assert "emitida y aceptada" in html or "stamped and accepted" in html


def test_invoice_of_another_company_is_404_even_with_its_pk(client, company, other_company, accountant):
    client.force_login(accountant)
    invoice_store(company=other_company, document=invoice_doc(3), source="sync")
    from invoices.models import Invoice

    foreign = Invoice.objects.get(company=other_company)
    assert client.get(reverse("invoices:invoice_detail", args=[company.pk, foreign.pk])).status_code == 404
    assert client.get(reverse("invoices:invoice_detail", args=[other_company.pk, foreign.pk])).status_code == 404


def test_only_open_invoices_owe_money(client, company, accountant):
    client.force_login(accountant)
    invoice_store(company=company, document=invoice_doc(1, dueDate="2020-01-31"), source="sync")
    invoice_store(company=company, document=invoice_doc(2, dueDate="2020-01-31", status="void"), source="sync")
    invoice_store(company=company, document=invoice_doc(3, dueDate="2020-01-31", status="draft"), source="sync")
    url = reverse("invoices:invoice_list", args=[company.pk])
    overdue = client.get(url + "?due=overdue").content.decode()
    assert ">FE1<" in overdue and ">FE2<" not in overdue and ">FE3<" not in overdue
    owing = client.get(url + "?balance=yes").content.decode()
    assert ">FE1<" in owing and ">FE2<" not in owing
    totals = client.get(reverse("invoices:invoice_list_summary", args=[company.pk])).content.decode()
    owed = re.search(r'data-testid="sum-balance">([^<]*)<', totals).group(1)
    assert re.sub(r"[^0-9]", "", owed) == "14380", owed  # the open invoice's balance alone
    void = Invoice.objects.get(company=company, alegra_id="2")
    html = client.get(reverse("invoices:invoice_detail", args=[company.pk, void.pk])).content.decode()
    assert re.search(r"<dt>(Balance|Saldo)</dt><dd[^>]*>—</dd>", html)


def test_each_row_links_to_its_invoice_page(client, company, accountant):
    client.force_login(accountant)
    _mirror(company, 3)
    html = client.get(reverse("invoices:invoice_list", args=[company.pk])).content.decode()
    for invoice in Invoice.objects.filter(company=company):
        assert f'<a href="{reverse("invoices:invoice_detail", args=[company.pk, invoice.pk])}">{invoice.number}</a>' in html


def test_the_last_sync_is_the_latest_successful_one_of_this_company_as_an_aware_moment(company, other_company):
    import datetime

    from django.utils import timezone

    from invoices.models import SyncRun
    from invoices.queries import last_synced_at

    assert last_synced_at(company.pk) is None
    now = timezone.now()
    SyncRun.objects.create(company=company, kind="full", state="running")
    SyncRun.objects.create(company=company, kind="full", state="failed", finished_at=now)
    SyncRun.objects.create(company=other_company, kind="full", state="succeeded", finished_at=now)
    assert last_synced_at(company.pk) is None
    earlier = now - datetime.timedelta(hours=3, microseconds=7)
    for moment in (earlier, now - datetime.timedelta(days=2)):
        SyncRun.objects.create(company=company, kind="recent", state="succeeded", finished_at=moment)
    found = last_synced_at(company.pk)
    assert found == earlier and found.utcoffset() == datetime.timedelta(0)
    assert found == SyncRun.objects.filter(company=company, state="succeeded").latest("finished_at").finished_at
