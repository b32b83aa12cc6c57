"""Review, a finding, the invoice page's panel and badges, dismissal, Create correction and the
month-end review: full pages and htmx fragments, query counts pinned, real rows from scans."""

import csv
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from approvals.models import ChangeRequest
from findings import scan
from findings.models import Finding
from invoices.models import SyncRun
from tests.factories.anomalies import body, history, line, mirror_catalogue, store
from portal import events

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def slipped(company):
    """Six ordinary sales of cement to a client, then one with an extra zero in the price."""
    mirror_catalogue(company)
    history(company, count=6)
    invoice = store(company, body(1, [line("1", "10", price="276470")], day=50))
    scan.scan_full(company_id=company.pk)
    return invoice


def _queries(client, url, **headers) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_review_lists_the_slip_with_its_evidence_and_fix(client, accountant, slipped):
    client.force_login(accountant)
    html = client.get(reverse("findings:review", args=[slipped.company_id])).content.decode()
    assert "Review" in html and "FE1" in html
    assert "unit price 276.470 is 10× the usual 27.647" in html
    assert "A zero too many?" in html and "Line 1: unit price 276.470 → 27.647." in html
    assert "Create correction" in html


def test_review_fragment_and_filters(client, accountant, slipped):
    client.force_login(accountant)
    url = reverse("findings:review", args=[slipped.company_id])
    fragment = client.get(url, {"kind": "price"}, **HX).content.decode()
    assert "<html" not in fragment and 'id="review-table"' in fragment and "FE1" in fragment
    assert "FE1" not in client.get(url, {"kind": "tax"}, **HX).content.decode()
    assert "FE1" in client.get(url, {"month": "2025-02", "client": "Andes"}, **HX).content.decode()
    assert "FE1" not in client.get(url, {"month": "2025-04"}, **HX).content.decode()
    bad = client.get(url, {"month": "febrero", "severity": "nope"})
    assert bad.status_code == 200 and "yyyy-mm" in bad.content.decode()


def test_review_query_count_is_constant(client, accountant, company, slipped):
    client.force_login(accountant)
    url = reverse("findings:review", args=[company.pk])
    client.get(url)
    few = _queries(client, url)
    for n in range(20):  # twenty more clients' worth of slips
        client_id = str(1 + n % 3)
        history(company, client=client_id, item=str(1 + n % 4), count=4, start=1000 + 10 * n)
        store(company, body(200 + n, [line(str(1 + n % 4), "10", price="9999999")], client=client_id, day=40))
    scan.scan_full(company_id=company.pk)
    assert Finding.objects.filter(company=company, state="open").count() > 15
    assert _queries(client, url) == few == _queries(client, url + "?kind=price&state=all")
    assert few <= 10


def test_approvers_read_and_cannot_act(client, approver, slipped):
    client.force_login(approver)
    html = client.get(reverse("findings:review", args=[slipped.company_id])).content.decode()
    assert "FE1" in html and 'data-testid="correct"' not in html and 'name="reason"' not in html


def test_the_invoice_page_embeds_the_panel_and_the_list_shows_a_badge(client, accountant, slipped):
    client.force_login(accountant)
    company_id = slipped.company_id
    panel_url = reverse("findings:invoice_findings", args=[company_id, slipped.pk])
    detail = client.get(reverse("invoices:invoice_detail", args=[company_id, slipped.pk])).content.decode()
    assert f'hx-get="{panel_url}"' in detail and f'href="{panel_url}"' in detail
    fragment = client.get(panel_url, **HX).content.decode()
    assert "<html" not in fragment and "A zero too many?" in fragment
    assert "<html" in client.get(panel_url).content.decode()
    listing = client.get(reverse("invoices:invoice_list", args=[company_id])).content.decode()
    assert f'href="{panel_url}"' in listing and "1 finding" in listing
    assert client.get(reverse("findings:invoice_findings", args=[company_id, 999999]), **HX).status_code == 404


def test_a_badge_counts_the_open_and_confirmed_findings_and_tells_the_worst(company, other_company, slipped):
    from invoices import hooks

    finding = Finding.objects.get(invoice=slipped, kind="price")
    finding.rank, finding.severity = 1, "low"
    finding.save()
    for n, (state, rank, owner) in enumerate([("confirmed", 2, company), ("dismissed", 3, company),
                                              ("resolved", 3, company), ("open", 3, other_company)]):
        twin = Finding.objects.get(pk=finding.pk)
        twin.pk, twin.fingerprint, twin.state, twin.rank, twin.company = None, f"twin-{n}", state, rank, owner
        twin.save()
    quiet = store(company, body(2, [line("1", "10", price="27647")], day=51))
    badges = hooks.list_badges(company_id=company.pk, invoice_ids=[slipped.pk, quiet.pk, 999999])
    url = reverse("findings:invoice_findings", args=[company.pk, slipped.pk])
    assert badges == {slipped.pk: [{"label": "2 findings", "title": "Open findings on this invoice", "url": url,
                                    "tone": "medium"}]}
    # The other company's finding shows only on its own list.
    assert list(hooks.list_badges(company_id=other_company.pk, invoice_ids=[slipped.pk])[slipped.pk][0].values()) \
        == ["1 finding", "Open findings on this invoice",
            reverse("findings:invoice_findings", args=[other_company.pk, slipped.pk]), "high"]
    assert hooks.list_badges(company_id=company.pk, invoice_ids=[]) == {}


def test_the_invoice_list_query_count_with_badges_stays_constant(client, accountant, company, slipped):
    client.force_login(accountant)
    url = reverse("invoices:invoice_list", args=[company.pk])
    client.get(url)
    few = _queries(client, url)
    for n in range(60):
        store(company, body(500 + n, [line("1", "10", price="2764700" if n % 3 == 0 else "27647")], day=60 + n % 20))
    scan.scan_full(company_id=company.pk)
    assert _queries(client, url) == few <= 9


def test_dismiss_needs_a_reason_and_is_kept(client, accountant, slipped):
    client.force_login(accountant)
    finding = Finding.objects.get(invoice=slipped, kind="price")
    url = reverse("findings:finding_dismiss", args=[slipped.company_id, finding.pk])
    refused = client.post(url, {"reason": "  "}, **HX)
    assert refused.status_code == 400 and "reason is required" in refused.content.decode()
    # One too long is told so, not that it is missing.
    long = client.post(url, {"reason": "x" * 2001}, **HX).content.decode()
    assert "at most 2000 characters" in long and "reason is required" not in long
    finding.refresh_from_db()
    assert finding.state == "open" and finding.history.count() == 1
    row = client.post(url, {"reason": "Precio pactado con el cliente"}, **HX).content.decode()
    assert "<tr" in row and "Dismissed" in row and "Create correction" not in row
    finding.refresh_from_db()
    assert (finding.state, finding.dismiss_reason, finding.dismissed_by) == ("dismissed", "Precio pactado con el cliente",
                                                                              accountant)
    assert events.describe(finding.history.first().history_change_reason) == "dismissed: Precio pactado con el cliente"
    scan.scan_full(company_id=slipped.company_id)  # the problem is still there: the dismissal holds
    finding.refresh_from_db()
    assert finding.state == "dismissed"


def test_dismiss_without_javascript_redirects_back(client, manager, slipped):
    client.force_login(manager)
    finding = Finding.objects.get(invoice=slipped, kind="price")
    review = reverse("findings:review", args=[slipped.company_id])
    response = client.post(reverse("findings:finding_dismiss", args=[slipped.company_id, finding.pk]),
                           {"reason": "Revisado", "next": review})
    assert response.status_code == 302 and response["Location"] == review


def test_create_correction_opens_the_edit_screen_with_the_fix_and_a_reason(client, accountant, slipped):
    client.force_login(accountant)
    finding = Finding.objects.get(invoice=slipped, kind="price")
    response = client.post(reverse("findings:finding_correct", args=[slipped.company_id, finding.pk]))
    edit_url = reverse("approvals:invoice_edit", args=[slipped.company_id, slipped.pk])
    assert response.status_code == 302 and response["Location"] == edit_url
    change_request = ChangeRequest.objects.get(invoice=slipped)
    assert (change_request.state, change_request.kind, change_request.requester) == ("draft", "update", accountant)
    assert change_request.proposed_document["items"][0]["price"] == "27647"
    assert change_request.reason.startswith(f"From finding #{finding.pk}: Cemento gris 50 kg: unit price 276.470")
    finding.refresh_from_db()
    assert finding.state == "confirmed" and finding.correction == change_request
    page = client.get(edit_url).content.decode()
    assert 'value="27.647"' in page and f"From finding #{finding.pk}" in page
    again = client.post(reverse("findings:finding_correct", args=[slipped.company_id, finding.pk]))
    assert again.status_code == 302 and ChangeRequest.objects.filter(invoice=slipped).count() == 1


@pytest.mark.parametrize("meanwhile", ["line removed", "line inserted before", "price fixed in Alegra"])
def test_a_correction_from_a_finding_the_invoice_has_outgrown_is_refused_and_changes_nothing(
        client, accountant, slipped, settings, meanwhile):
    """Alegra changed the invoice and the mirror stored it; its check is still queued. A fix by
    line position would fail (no such line) or land on another line."""
    finding = Finding.objects.get(invoice=slipped, kind="price")
    document = dict(slipped.document)
    cement = document["items"][0]
    document["items"] = {"line removed": [line("2", "1")],
                         "line inserted before": [line("2", "1"), cement],
                         "price fixed in Alegra": [{**cement, "price": "27647"}]}[meanwhile]
    settings.FINDINGS_SCAN_ON_CHANGE = False
    store(slipped.company, document)
    before = (Finding.objects.get(pk=finding.pk).state, finding.history.count())
    client.force_login(accountant)
    response = client.post(reverse("findings:finding_correct", args=[slipped.company_id, finding.pk]), follow=True)
    assert response.status_code == 200
    assert "The invoice changed since this finding was made" in response.content.decode()
    assert not ChangeRequest.objects.exists()
    assert (Finding.objects.get(pk=finding.pk).state, finding.history.count()) == before


def test_a_stamped_invoice_is_corrected_with_a_credit_note(client, accountant, company):
    mirror_catalogue(company)
    history(company, count=6)
    stamped = store(company, body(1, [line("1", "10", price="276470")], day=50, stamped=True))
    scan.scan_full(company_id=company.pk)
    finding = Finding.objects.get(invoice=stamped, kind="price")
    assert finding.suggestion["type"] == "credit_note"
    client.force_login(accountant)
    client.post(reverse("findings:finding_correct", args=[company.pk, finding.pk]))
    note = ChangeRequest.objects.get(invoice=stamped)
    assert note.kind == "credit_note" and note.proposed_document["items"][0]["price"] == "248823"
    # The cause printed on the note is a short line in the company's language, whoever the reader;
    # the evidence goes in the request's reason. It printed the English explanation on the note.
    assert note.proposed_document["cause"] == f"Ajuste de precio de la factura {stamped.number}"
    assert note.reason.startswith(f"From finding #{finding.pk}:")
    assert "credit note" in client.get(reverse("approvals:invoice_edit", args=[company.pk, stamped.pk])).content.decode()


def test_a_client_without_identification_opens_the_contact_update(client, accountant, company):
    mirror_catalogue(company)
    invoice = store(company, body(1, [line("1")], identification=""))
    from invoices.models import Contact

    contact = Contact.objects.get(company=company, alegra_id="1")
    contact.document = {**contact.document, "identification": ""}
    contact.identification = ""
    contact.save()
    scan.scan_full(company_id=company.pk)
    finding = Finding.objects.get(invoice=invoice, kind="missing_identification")
    client.force_login(accountant)
    response = client.post(reverse("findings:finding_correct", args=[company.pk, finding.pk]), follow=True)
    assert response.redirect_chain[-1][0].startswith(
        reverse("approvals:invoice_contact_edit", args=[company.pk, invoice.pk]) + "?reason=")
    html = response.content.decode()
    assert "Type the client&#x27;s NIT or cédula" in html and "Identification (NIT or cédula)" in html
    assert not ChangeRequest.objects.exists()
    # The reason is written in its box, from the evidence (it was in the message, to copy by hand).
    reason = response.context["form"]["reason"].value()
    assert reason.startswith(f"From finding #{finding.pk}:") and "Reason to give" not in html


def test_month_end_reads_clean_only_when_nothing_is_open(client, manager, company, slipped):
    client.force_login(manager)
    url = reverse("findings:month_end", args=[company.pk])
    html = client.get(url, {"month": "2025-02"}).content.decode()
    assert 'data-testid="not-clean"' in html and "1 open finding" in html and "not fresh" in html
    SyncRun.objects.create(company=company, kind="full", state="succeeded", finished_at=timezone.now())
    Finding.objects.filter(company=company).update(state="dismissed")
    html = client.get(url, {"month": "2025-02"}).content.decode()
    assert 'data-testid="clean"' in html
    assert "Last sync: just now." in html
    # The month running now (or one to come) is not clean yet, however quiet: it read "Clean".
    running = timezone.localdate().strftime("%Y-%m")
    html = client.get(url, {"month": running}).content.decode()
    assert 'data-testid="not-clean"' in html and 'data-testid="not-ended"' in html
    assert client.get(url, {"month": "13-2025"}).status_code == 200  # a bad month: last month instead
    # The heading names the month in words (it read "2025-02").
    assert "Cierre de mes · febrero de 2025" in client.get(url, {"month": "2025-02"},
                                                             HTTP_ACCEPT_LANGUAGE="es").content.decode()
    # In the reader's words whatever the company's country (it read "Month-end · febrero de 2025").
    assert "Month-end · February 2025" in client.get(url, {"month": "2025-02"},
                                                     HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_a_finding_s_words_in_spanish_agree_with_it(client, accountant, slipped):
    """A finding is masculine (it showed "Abierta", the invoice's word) and a twin of the same day
    is said so (it read "0 días antes")."""
    from findings.presenters import explanation

    finding = Finding.objects.get(invoice=slipped, kind="price")
    client.force_login(accountant)
    page = client.get(reverse("findings:finding_detail", args=[slipped.company_id, finding.pk]),
                      HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Abierto" in page and "Abierta" not in page
    twin = Finding(kind="duplicate_lines", evidence={"days": 0, "total": "2830", "other_number": "FE1",
                                                      "other_date": "2025-03-10"})
    from django.utils import translation

    with translation.override("es"):
        assert explanation(twin, "CO") == ("Mismo cliente, mismas líneas y mismo total (2.830) que la factura FE1, "
                                           "del mismo día (10/03/2025).")


def test_month_end_csv(client, accountant, company, slipped):
    client.force_login(accountant)
    response = client.get(reverse("findings:month_end_export", args=[company.pk]), {"month": "2025-02"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "section" and rows[1][0] == "finding" and rows[1][1] == "FE1"
    assert rows[-1][:6] == ["summary", "", "", "2025-02", "Not clean yet", "not_clean"]


def test_the_month_end_csv_is_in_the_reader_s_words_with_amounts_at_the_invoice_s_precision(
        client, accountant, company, slipped):
    """Codes and plain values in the columns; the detail in the reader's language (before: English
    words beside Spanish explanations); amounts rounded half-up as the invoice shows them (before:
    six decimals); a client's name that starts like a formula goes out quoted."""
    from decimal import Decimal

    from invoices.models import Invoice

    Finding.objects.filter(invoice=slipped).update(impact=Decimal("2960993.705000"))
    Invoice.objects.filter(pk=slipped.pk).update(due_date="2025-02-01", balance=Decimal("1234.5650"))
    Finding.objects.filter(invoice=slipped).update(client_name="=HYPERLINK(\"http://x\")")
    client.force_login(accountant)
    response = client.get(reverse("findings:month_end_export", args=[company.pk]), {"month": "2025-02"},
                          HTTP_ACCEPT_LANGUAGE="es")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    finding = next(row for row in rows if row[0] == "finding")
    assert finding[2] == "'=HYPERLINK(\"http://x\")" and finding[6] == "2960993.71"
    assert "precio unitario" in finding[4]
    overdue = next(row for row in rows if row[0] == "overdue_invoice")
    assert overdue[4] == "vence el 01/02/2025" and overdue[6] == "1234.57"
    assert rows[-1][4:6] == ["Aún no está limpio", "not_clean"]


def test_scan_now_queues_a_full_scan(client, manager, company, slipped):
    Finding.objects.filter(company=company).delete()
    client.force_login(manager)
    response = client.post(reverse("findings:scan_start", args=[company.pk]))
    assert response.status_code == 302
    assert Finding.objects.filter(company=company, kind="price", state="open").exists()


def test_a_finding_shows_its_history(client, accountant, slipped):
    client.force_login(accountant)
    finding = Finding.objects.get(invoice=slipped, kind="price")
    store(slipped.company, body(1, [line("1", "10", price="27647")], day=50))  # corrected in Alegra
    scan.scan_full(company_id=slipped.company_id)
    finding.refresh_from_db()
    assert finding.state == "resolved"
    html = client.get(reverse("findings:finding_detail", args=[slipped.company_id, finding.pk])).content.decode()
    assert "resolved: the invoice no longer shows the problem" in html and "raised by a scan" in html


def test_spanish_readers_read_spanish(client, accountant, slipped, settings):
    from django.utils import translation

    client.force_login(accountant)
    with translation.override("es"):
        html = client.get(reverse("findings:review", args=[slipped.company_id]),
                          HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Revisión" in html and "¿Un cero de más?" in html and "precio unitario 276.470" in html



def test_corrections_of_a_tax_and_of_a_due_date(client, accountant, company):
    mirror_catalogue(company)
    history(company, count=6)
    taxed = store(company, body(1, [line("1", "10", tax="2")], day=50))  # IVA 5 % on a 19 % item
    late = store(company, body(2, [line("2", "3")], client="2", day=50, due_days=-4))
    scan.scan_full(company_id=company.pk)
    client.force_login(accountant)
    tax_finding = Finding.objects.get(invoice=taxed, kind="tax")
    client.post(reverse("findings:finding_correct", args=[company.pk, tax_finding.pk]))
    proposed = ChangeRequest.objects.get(invoice=taxed).proposed_document["items"][0]
    assert [t["id"] for t in proposed["tax"]] == ["3"] and proposed["tax"][0]["percentage"] == "19.00"
    due_finding = Finding.objects.get(invoice=late, kind="due_before_date")
    client.post(reverse("findings:finding_correct", args=[company.pk, due_finding.pk]))
    assert ChangeRequest.objects.get(invoice=late).proposed_document["dueDate"] == "2025-02-25"


def test_right_leaves_the_row_saying_so(client, accountant, slipped):
    """After "Right" the row only lost its button."""
    finding = Finding.objects.get(invoice=slipped, kind="price")
    client.force_login(accountant)
    row = client.post(reverse("findings:finding_confirm", args=[slipped.company_id, finding.pk]),
                      {"next": reverse("findings:review", args=[slipped.company_id])},
                      HTTP_HX_REQUEST="true").content.decode()
    assert 'data-testid="confirmed">Confirmed<' in row and 'data-testid="confirm"' not in row


def test_a_kind_s_chip_keeps_the_other_filters(client, accountant, slipped):
    """The chips linked to ?kind=… alone: the client, month and severity chosen were dropped."""
    client.force_login(accountant)
    html = client.get(reverse("findings:review", args=[slipped.company_id]),
                      {"state": "open", "client": "a", "kind": "price", "page": "1"}).content.decode()
    chips = re.findall(r'<a class="pill" href="\?([^"]*)"', html)
    assert chips and all(chip.startswith("state=open&amp;client=a&amp;kind=") for chip in chips)
