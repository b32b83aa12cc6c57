"""Learning from feedback: each rule with the counter-example it must not silence, revocation,
calibrated confidence and the threshold, the page (query counts pinned, authorization, es/en)
and the machine contract (review_finding, scan_anomalies --json without silenced findings)."""

import json
import re
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from audit import services as audit_services
from audit.models import Action, AuditEntry
from findings import incremental, scan, services
from findings.learning import calibration, exceptions
from findings.learning import services as learning
from findings.models import Feedback, Finding, LearnedException
from tests.factories import make_user
from tests.factories.anomalies import body, history, line, mirror_catalogue, store

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
SLIP = "276470"  # ten times cement's usual 27,647 for client 1


@pytest.fixture
def taught(company, accountant):
    """Client 1 buys cement at 27,647; one invoice at 276,470 is dismissed as a negotiated price."""
    mirror_catalogue(company)
    history(company, count=6)
    first = store(company, body(1, [line("1", "10", price=SLIP)], day=50))
    scan.scan_full(company_id=company.pk)
    finding = Finding.objects.get(invoice=first, kind="price")
    services.finding_dismiss(finding=finding, user=accountant, reason="Precio pactado para obra especial")
    return LearnedException.objects.get(company=company)


def _price(invoice) -> Finding:
    return Finding.objects.get(invoice=invoice, kind="price")


def test_a_dismissal_teaches_the_narrowest_scope(taught, accountant):
    assert (taught.kind, taught.client_alegra_id, taught.item_alegra_id, taught.scope) == (
        "price", "1", "1", {"price": SLIP})
    assert (taught.taught_by, taught.reason, taught.is_active) == (accountant, "Precio pactado para obra especial", True)
    assert Feedback.objects.filter(verdict="dismiss", kind="price").count() == 1


def test_the_same_price_again_is_silenced_but_ten_times_it_is_not(company, taught):
    again = store(company, body(2, [line("1", "10", price=SLIP)], day=52))
    further = store(company, body(3, [line("1", "10", price="2764700")], day=53))
    scan.scan_full(company_id=company.pk)
    silenced, raised = _price(again), _price(further)
    assert (silenced.state, silenced.silenced_by) == ("silenced", taught)
    assert raised.state == "open" and raised.silenced_by is None


def test_another_client_at_that_price_is_still_flagged(company, taught):
    history(company, client="3", count=6, start=300)
    other = store(company, body(4, [line("1", "10", price=SLIP)], client="3", day=52))
    scan.scan_full(company_id=company.pk)
    assert _price(other).state == "open"


def test_learning_never_hides_a_mistake_of_another_kind(company, taught):
    """The negotiated price is silenced; the wrong tax on the very same line is not."""
    both = store(company, body(5, [line("1", "10", price=SLIP, tax="2")], day=52))
    scan.scan_full(company_id=company.pk)
    assert _price(both).state == "silenced"
    assert Finding.objects.get(invoice=both, kind="tax").state == "open"


def test_a_dismissal_silences_the_similar_open_findings_at_once(company, accountant):
    mirror_catalogue(company)
    history(company, count=6)
    first = store(company, body(1, [line("1", "10", price=SLIP)], day=50))
    second = store(company, body(2, [line("1", "10", price=SLIP)], day=51))
    third = store(company, body(3, [line("1", "10", price="2764700")], day=52))
    scan.scan_full(company_id=company.pk)
    services.finding_dismiss(finding=_price(first), user=accountant, reason="Pactado")
    assert _price(second).state == "silenced" and _price(third).state == "open"
    assert AuditEntry.objects.filter(company=company, action=Action.FINDING_SILENCED,
                                     what__finding=_price(second).pk).exists()


def test_without_learn_the_dismissal_answers_that_finding_alone(company, accountant):
    mirror_catalogue(company)
    history(company, count=6)
    first = store(company, body(1, [line("1", "10", price=SLIP)], day=50))
    second = store(company, body(2, [line("1", "10", price=SLIP)], day=51))
    scan.scan_full(company_id=company.pk)
    services.finding_dismiss(finding=_price(first), user=accountant, reason="Solo esta vez", learn=False)
    assert not LearnedException.objects.exists() and _price(second).state == "open"
    assert Feedback.objects.get().verdict == "dismiss"  # the detector's confidence still learns


def test_revoking_brings_the_silenced_findings_back_and_is_audited(company, taught, manager, accountant):
    again = store(company, body(2, [line("1", "10", price=SLIP)], day=52))
    scan.scan_full(company_id=company.pk)
    assert _price(again).state == "silenced"
    with pytest.raises(services.FindingRefused):
        learning.exception_revoke(exception=taught, user=accountant, reason="No")
    with pytest.raises(services.FindingRefused):
        learning.exception_revoke(exception=taught, user=manager, reason=" ")
    assert learning.exception_revoke(exception=taught, user=manager, reason="El precio pactado terminó") == 1
    taught.refresh_from_db()
    assert (taught.revoked_by, taught.silenced_until_revoked) == (manager, 1)
    assert (_price(again).state, _price(again).silenced_by) == ("open", None)
    revoked = AuditEntry.objects.get(company=company, action=Action.EXCEPTION_REVOKED)
    assert revoked.actor == manager and revoked.what["silenced"] == 1
    assert AuditEntry.objects.filter(company=company, action=Action.EXCEPTION_LEARNED).count() == 1
    assert AuditEntry.objects.filter(company=company, action=Action.FINDING_RETURNED).count() == 1
    scan.scan_full(company_id=company.pk)  # a rescan keeps it open: the exception no longer applies
    assert _price(again).state == "open"
    assert audit_services.chain_verify(company_id=company.pk).ok


def test_the_incremental_scan_silences_like_the_full_one(company, taught):
    again = store(company, body(2, [line("1", "10", price=SLIP)], day=52))
    incremental.scan_changed(company_id=company.pk, invoice_ids=[again.pk])
    born = _price(again)
    assert born.state == "silenced"
    scan.scan_full(company_id=company.pk)
    born.refresh_from_db()
    assert (born.state, born.silenced_by_id) == ("silenced", taught.pk)


def test_a_silenced_finding_whose_problem_goes_is_resolved(company, taught):
    again = store(company, body(2, [line("1", "10", price=SLIP)], day=52))
    scan.scan_full(company_id=company.pk)
    store(company, body(2, [line("1", "10")], day=52))
    scan.scan_full(company_id=company.pk)
    assert _price(again).state == "resolved"


def test_tax_exception_accepts_that_rate_only(company, accountant):
    mirror_catalogue(company)
    history(company, count=6)
    exempt = store(company, body(1, [line("1", "10", tax="1")], day=50))
    exempt_again = store(company, body(2, [line("1", "10", tax="1")], day=51))
    other_rate = store(company, body(3, [line("1", "10", tax="2")], day=52))
    other_item = store(company, body(4, [line("4", "1", tax="1")], day=53))
    scan.scan_full(company_id=company.pk)
    tax = Finding.objects.get(invoice=exempt, kind="tax")
    services.finding_dismiss(finding=tax, user=accountant, reason="Exento por zona franca")
    assert Finding.objects.get(invoice=exempt_again, kind="tax").state == "silenced"
    assert Finding.objects.get(invoice=other_rate, kind="tax").state == "open"
    assert Finding.objects.get(invoice=other_item, kind="tax").state == "open"


def test_scopes_and_what_they_cover():
    assert exceptions.scope_of("quantity", "1", "1", {"quantity": "100"}) == {"quantity": "100"}
    assert exceptions.covers("quantity", {"quantity": "100"}, {"quantity": "105"})
    assert not exceptions.covers("quantity", {"quantity": "100"}, {"quantity": "1000"})
    assert exceptions.covers("discount", {"discount": "12"}, {"discount": "12"})
    assert not exceptions.covers("discount", {"discount": "12"}, {"discount": "30"})
    assert exceptions.covers("due_terms", {"days": "45"}, {"days": "46"})
    assert not exceptions.covers("due_terms", {"days": "45"}, {"days": "90"})
    assert exceptions.covers("price", {"price": "15000"}, {"price": "15200"})
    assert not exceptions.covers("price", {"price": "15000"}, {"price": "16000"})
    # No scope narrower than the invoice, or no client: nothing is learned.
    for kind in ("duplicate_number", "due_before_date", "empty"):
        assert exceptions.scope_of(kind, "1", "", {"days": "3"}) is None
    assert exceptions.scope_of("price", "", "1", {"price": "1"}) is None
    assert exceptions.scope_of("price", "1", "", {"price": "1"}) is None
    index = exceptions.Index([exceptions.Rule(1, "price", "1", "1", {"price": "15000"})])
    assert index.match("price", "1", "1", {"price": "15000"}).pk == 1
    assert index.match("tax", "1", "1", {"price": "15000", "tax": "0"}) is None
    assert index.match("price", "1", "2", {"price": "15000"}) is None


def test_a_finding_raised_anyway_says_which_learning_it_went_against(client, company, taught, accountant):
    further = store(company, body(3, [line("1", "10", price="2764700")], day=53))
    scan.scan_full(company_id=company.pk)
    client.force_login(accountant)
    html = client.get(reverse("findings:finding_detail", args=[company.pk, _price(further).pk])).content.decode()
    assert "Flagged although a unit price of about 276.470 was accepted for this client on" in html
    assert f"(learned exception #{taught.pk}), because 2.764.700 is 10× that." in html


# --- calibrated confidence -----------------------------------------------------------------


def test_the_posterior_moves_with_feedback_and_keeps_the_finding_s_strength():
    assert calibration.calibrated(Decimal("0.6"), 0, 0) == Decimal("0.600")
    assert calibration.calibrated(Decimal("0.6"), 0, 8) == Decimal("0.300")
    assert calibration.calibrated(Decimal("0.6"), 8, 0) == Decimal("0.800")
    assert calibration.calibrated(Decimal("0.9"), 0, 8) > calibration.calibrated(Decimal("0.6"), 0, 8)
    low, high = calibration.beta_interval(1 + 9, 1 + 1)
    assert 0.6 < low < 0.8 < high < 0.99
    assert calibration.beta_cdf(0.5, 3, 3) == pytest.approx(0.5, abs=1e-9)


PRICES = {"2": 24500, "3": 18000, "4": 242857}
SCOPES = [("1", "2"), ("2", "3"), ("3", "4"), ("1", "3"), ("2", "4"), ("3", "2")]


def _flag_slips(company, count: int):
    """One price slip (ten times the usual) for each of `count` clients and items, each with its history."""
    invoices = []
    for n, (client_id, item) in enumerate(SCOPES[:count]):
        history(company, client=client_id, item=item, count=4, start=1000 + 10 * n)
        invoices.append(store(company, body(200 + n, [line(item, "2", price=str(PRICES[item] * 10))],
                                            client=client_id, day=40)))
    return invoices


def test_dismissed_detectors_sink_and_fall_under_the_threshold(client, company, accountant, manager):
    mirror_catalogue(company)
    history(company, count=6)
    tax_slip = store(company, body(1, [line("1", "10", tax="2")], day=50))
    slips = _flag_slips(company, 6)
    scan.scan_full(company_id=company.pk)
    prices = [Finding.objects.get(invoice=invoice, kind="price") for invoice in slips]
    assert {(f.cause, f.state) for f in prices} == {("slip", "open")}
    for finding in prices[:5]:  # dismissed one at a time, none teaching an exception
        services.finding_dismiss(finding=finding, user=accountant, reason="No", learn=False)
    client.force_login(accountant)
    url = reverse("findings:review", args=[company.pk])
    html = client.get(url).content.decode()
    assert html.index(f'id="finding-{Finding.objects.get(invoice=tax_slip, kind="tax").pk}"') \
        < html.index(f'id="finding-{prices[5].pk}"')
    learning.learning_settings_save(company_id=company.pk, user=manager, hide_below="0.7")
    hidden = client.get(url).content.decode()
    assert f'id="finding-{prices[5].pk}"' not in hidden and "1 finding under the 70 % confidence threshold" in hidden
    assert f'id="finding-{prices[5].pk}"' in client.get(url, {"show_hidden": "on"}).content.decode()
    with pytest.raises(services.FindingRefused):
        learning.learning_settings_save(company_id=company.pk, user=accountant, hide_below="0.2")
    with pytest.raises(services.FindingRefused):
        learning.learning_settings_save(company_id=company.pk, user=manager, hide_below="2")


def test_confirming_raises_the_detector_and_is_audited(company, accountant):
    mirror_catalogue(company)
    history(company, count=6)
    store(company, body(1, [line("1", "10", price=SLIP)], day=50))
    scan.scan_full(company_id=company.pk)
    finding = Finding.objects.get(kind="price")
    services.finding_confirm(finding=finding, user=accountant)
    assert calibration.detectors(company.pk)[("price", "slip")].confirmed == 1
    assert AuditEntry.objects.filter(action=Action.FINDING_CONFIRMED, actor=accountant).exists()
    with pytest.raises(services.FindingRefused):
        services.finding_confirm(finding=finding, user=accountant)


# --- the page --------------------------------------------------------------------------------


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_the_learning_page_shows_who_when_why_and_how_many(client, company, taught, approver):
    store(company, body(2, [line("1", "10", price=SLIP)], day=52))
    scan.scan_full(company_id=company.pk)
    client.force_login(approver)
    html = client.get(reverse("findings:learning", args=[company.pk])).content.decode()
    assert "What Enmienda has learned" in html and "Precio pactado para obra especial" in html
    assert "Ana" in html and "a unit price of about 276.470" in html and 'data-testid="revoke"' not in html
    assert 'data-testid="silenced-count">1<' in html
    assert "Price: typing slip" in html  # the detector's learned precision
    fragment = client.get(reverse("findings:learning", args=[company.pk]), {"state": "all"}, **HX).content.decode()
    assert "<html" not in fragment and 'id="learning-table"' in fragment


def test_the_learning_page_query_count_is_constant(client, company, taught, manager, accountant):
    client.force_login(manager)
    url = reverse("findings:learning", args=[company.pk])
    client.get(url)
    few = _queries(client, url)
    _flag_slips(company, 6)
    scan.scan_full(company_id=company.pk)
    for finding in Finding.objects.filter(kind="price", state="open"):
        services.finding_dismiss(finding=finding, user=accountant, reason="Pactado")
    assert LearnedException.objects.count() > 5
    assert _queries(client, url) == few <= 11


def test_revoking_on_the_page_brings_the_finding_back_to_review(client, company, taught, manager):
    again = store(company, body(2, [line("1", "10", price=SLIP)], day=52))
    scan.scan_full(company_id=company.pk)
    client.force_login(manager)
    review = reverse("findings:review", args=[company.pk])
    assert f'id="finding-{_price(again).pk}"' not in client.get(review).content.decode()
    long = client.post(reverse("findings:exception_revoke", args=[company.pk, taught.pk]),
                       {"reason": "x" * 2001}, follow=True).content.decode()
    assert "at most 2000 characters" in long and "a reason is required" not in long
    taught.refresh_from_db()
    assert taught.is_active
    response = client.post(reverse("findings:exception_revoke", args=[company.pk, taught.pk]),
                           {"reason": "Ya no aplica"}, follow=True)
    assert "1 finding is back on the Review page" in response.content.decode()
    assert f'id="finding-{_price(again).pk}"' in client.get(review).content.decode()


@pytest.mark.parametrize("role, read, write", [("accountant", 200, 403), ("approver", 200, 403),
                                               ("manager", 200, 302), ("outsider", 404, 404)])
def test_authorization_matrix(client, company, taught, other_company, role, read, write):
    user = make_user(f"u-{role}", other_company if role == "outsider" else company,
                     "manager" if role == "outsider" else role)
    client.force_login(user)
    assert client.get(reverse("findings:learning", args=[company.pk])).status_code == read
    assert client.get(reverse("findings:exception_detail", args=[company.pk, taught.pk])).status_code == read
    assert client.post(reverse("findings:learning_threshold", args=[company.pk]),
                       {"hide_below": "0.1"}).status_code == write
    assert client.post(reverse("findings:exception_revoke", args=[company.pk, taught.pk]),
                       {"reason": "x"}).status_code == write
    taught.refresh_from_db()
    assert taught.is_active == (write != 302)


def test_the_page_speaks_spanish(client, company, taught, manager):
    client.force_login(manager)
    with translation.override("es"):
        html = client.get(reverse("findings:learning", args=[company.pk]), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Lo que Enmienda ha aprendido" in html and "un precio unitario de unos 276.470" in html
    assert "Revocar" in html


# --- the machine contract --------------------------------------------------------------------


def test_review_finding_records_the_same_feedback_as_the_screen(company, accountant, approver):
    mirror_catalogue(company)
    history(company, count=6)
    first = store(company, body(1, [line("1", "10", price=SLIP)], day=50))
    second = store(company, body(2, [line("1", "10", price=SLIP)], day=51))
    scan.scan_full(company_id=company.pk)
    out = StringIO()
    call_command("review_finding", str(_price(first).pk), "--dismiss", "--reason", "Pactado", "--user", "ana",
                 stdout=out)
    assert out.getvalue().strip() == f"finding {_price(first).pk} dismissed by ana"
    assert _price(second).state == "silenced" and LearnedException.objects.get().taught_by == accountant
    with pytest.raises(CommandError, match="accountants and managers"):
        call_command("review_finding", str(_price(second).pk), "--confirm", "--user", approver.username)
    with pytest.raises(CommandError, match="reason is required"):
        call_command("review_finding", str(_price(second).pk), "--dismiss", "--user", "ana")
    with pytest.raises(CommandError, match="no such finding"):
        call_command("review_finding", "999999", "--confirm", "--user", "ana")


def test_scan_anomalies_json_leaves_silenced_findings_out(company, taught):
    again = store(company, body(2, [line("1", "10", price=SLIP)], day=52))
    further = store(company, body(3, [line("1", "10", price="2764700")], day=53))
    out = StringIO()
    call_command("scan_anomalies", "--company", str(company.pk), "--json", stdout=out, stderr=StringIO())
    found = {(row["invoice_id"], row["kind"]) for row in json.loads(out.getvalue())}
    assert (further.alegra_id, "price") in found and (again.alegra_id, "price") not in found


@pytest.mark.parametrize("typed, shown", [("0.125", "12,5 %"), ("0.004", "0,4 %"), ("0.7", "70 %")])
def test_the_threshold_reads_the_same_on_the_page_and_in_the_message_half_up(client, company, manager, typed, shown):
    """The page showed "0.125" and the message "12 %" (half to even, on a float); 0.004 read "0 %"
    while findings were hidden."""
    client.force_login(manager)
    response = client.post(reverse("findings:learning_threshold", args=[company.pk]), {"hide_below": typed},
                           follow=True)
    html = response.content.decode()
    message = f"Findings whose learned confidence is below {shown} are now hidden from the Review page."
    assert message in html
    page = re.search(r'data-testid="threshold">([^<]*)<', html).group(1)
    assert page == f"Findings whose learned confidence is below {shown} are hidden from the Review page."
