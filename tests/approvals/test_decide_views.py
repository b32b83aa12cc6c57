"""The approver's screens: inbox, inline decisions, the request's panel, counters, conflicts, policies."""

import copy
import json
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from approvals.models import AutoApprovalRule, ChangeRequest, Decision, Push, RoutingPolicy
from approvals.services import transitions
from approvals.services import requests as request_services
from approvals.services.decisions import request_decide
from approvals.services.submission import request_submitted
from tests.factories.edit import make_invoice, mirror_catalogue
from tests.factories import make_user

pytestmark = pytest.mark.django_db
State = ChangeRequest.State
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def invoice(company):
    mirror_catalogue(company)
    return make_invoice(company)


def submitted(invoice, user, **changes) -> ChangeRequest:
    proposed = copy.deepcopy(invoice.document)
    proposed.update(changes or {"observations": "Nota"})
    change_request = request_services.request_save_and_submit(
        invoice=invoice, user=user, proposed=proposed, reason="El cliente lo pidió", kind="update")
    request_submitted(change_request=change_request)
    change_request.refresh_from_db()
    return change_request


def url(name, change_request=None, **kwargs):
    if change_request is not None:
        return reverse(name, kwargs={"company_id": change_request.company_id, "pk": change_request.pk})
    return reverse(name, kwargs=kwargs)


# --- inbox -----------------------------------------------------------------------------


def test_inbox_lists_pending_requests_oldest_first_with_impact_and_age(client, company, invoice, accountant, approver):
    first = submitted(invoice, accountant)
    second = submitted(make_invoice(company, number=2), accountant)
    client.force_login(approver)
    response = client.get(url("approvals:approval_inbox", company_id=company.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index(f'data-request="{first.pk}"') < html.index(f'data-request="{second.pk}"')
    assert "El cliente lo pidió" in html and "Ana" in html
    assert 'data-testid="approve"' in html


def test_the_inbox_shows_amounts_at_the_invoice_s_precision(client, company, invoice, accountant, approver):
    """An invoice keeps its own decimalPrecision: the inbox rounded at the company's (a company at
    0 showed $ 143 → $ 149 where the request's page shows $ 142,80)."""
    company.decimal_precision = 0
    company.save()
    change_request = submitted(invoice, accountant)
    assert invoice.decimal_precision == 2 and change_request.old_total != change_request.old_total.quantize(1)
    client.force_login(approver)
    html = client.get(url("approvals:approval_inbox", company_id=company.pk)).content.decode()
    from portal import formats

    assert formats.money(change_request.old_total, 2, company.country) in html  # "$ 142,80"
    assert formats.money(change_request.old_total, 0, company.country) not in html


def test_inbox_htmx_answers_the_rows_fragment_and_filters(client, company, invoice, accountant, approver):
    submitted(invoice, accountant)
    client.force_login(approver)
    response = client.get(url("approvals:approval_inbox", company_id=company.pk), {"kind": "credit_note"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html and 'id="inbox-rows"' in html
    assert 'data-testid="inbox-row"' not in html
    shown = client.get(url("approvals:approval_inbox", company_id=company.pk), {"kind": "update"}, **HTMX)
    assert 'data-testid="inbox-row"' in shown.content.decode()


def test_inbox_bad_filters_are_harmless(client, company, invoice, accountant, approver):
    submitted(invoice, accountant)
    client.force_login(approver)
    response = client.get(url("approvals:approval_inbox", company_id=company.pk),
                          {"min_impact": "mucho", "older_than": "-3", "requester": "x", "kind": "zzz"})
    assert response.status_code == 200
    # Filtering in place swaps only the rows: they say what is wrong, not "0 requests".
    swapped = client.get(url("approvals:approval_inbox", company_id=company.pk), {"min_impact": "abc"},
                         HTTP_HX_REQUEST="true").content.decode()
    assert "<form" not in swapped and "0 requests" not in swapped and 'data-testid="inbox-row"' not in swapped
    assert "Impact at least: Enter a number." in swapped.split('data-testid="filter-errors"')[1]


def _decided_history(invoice, requester, approved: int, rejected: int) -> None:
    """Requests of the past that changed the observations, as stored rows, decided by people."""
    for n in range(approved + rejected):
        ChangeRequest.objects.create(
            company=invoice.company, invoice=invoice, kind="update", base_document=invoice.document,
            proposed_document={**invoice.document, "observations": f"Antes {n}"}, base_hash="x",
            requester=requester, state="applied" if n < approved else "rejected", reason="Nota")


def test_inbox_query_count_does_not_grow_with_rows(client, company, invoice, accountant, approver,
                                                   django_assert_num_queries):
    # Each row carries the learned hint ("9 of 10 similar approved"): it is batched for the page.
    _decided_history(invoice, accountant, approved=9, rejected=1)
    client.force_login(approver)
    submitted(invoice, accountant)
    with django_assert_num_queries(7):
        small = client.get(url("approvals:approval_inbox", company_id=company.pk)).content.decode()
    for number in range(2, 8):
        submitted(make_invoice(company, number=number), accountant)
    with django_assert_num_queries(7):
        big = client.get(url("approvals:approval_inbox", company_id=company.pk)).content.decode()
    assert small.count('data-testid="inbox-hint"') == 1
    assert big.count('data-testid="inbox-row"') == big.count('data-testid="inbox-hint"') == 7
    assert "9 of 10 similar approved" in big
    assert "9 of the 10 similar requests were approved; the rejected one looked like this one" in big  # its title


def test_inbox_hint_speaks_spanish_and_is_absent_without_history(client, company, invoice, accountant, approver):
    client.force_login(approver)
    first = submitted(invoice, accountant)  # nothing similar was decided before it
    _decided_history(make_invoice(company, number=9), accountant, approved=2, rejected=1)
    second = submitted(make_invoice(company, number=2), accountant)
    with translation.override("es"):
        html = client.get(url("approvals:approval_inbox", company_id=company.pk),
                          HTTP_ACCEPT_LANGUAGE="es").content.decode()
    rows = {pk: html[html.index(f'data-request="{pk}"'):] for pk in (first.pk, second.pk)}
    assert 'data-testid="inbox-hint"' not in rows[first.pk][:rows[first.pk].index("</article>")]
    assert "Según el historial:" in rows[second.pk] and "2 de 3 similares aprobadas" in rows[second.pk]
    assert "2 de las 3 solicitudes similares fueron aprobadas" in rows[second.pk]
    assert "similar approved" not in html


def test_the_requester_sees_no_decision_buttons_on_own_request(client, invoice, accountant, manager):
    change_request = submitted(invoice, accountant)
    client.force_login(accountant)
    html = client.get(url("approvals:request_detail", change_request)).content.decode()
    assert 'data-testid="decision-panel"' in html and 'data-testid="approve"' not in html
    assert change_request.routed_by in html


# --- deciding through the screens -------------------------------------------------------


def test_approve_inline_from_the_inbox_answers_the_row_and_fires_the_counter_event(
        client, invoice, accountant, approver, django_capture_on_commit_callbacks):
    change_request = submitted(invoice, accountant)
    client.force_login(approver)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(url("approvals:request_decide", change_request), {"outcome": "approve", "from": "inbox"}, **HTMX)
    assert response.status_code == 200
    assert json.loads(response["HX-Trigger"]) == {"approvals-changed": {}}
    assert 'data-testid="row-notice"' in response.content.decode()
    change_request.refresh_from_db()
    assert change_request.state == State.APPROVED


def test_deciding_on_the_request_page_also_swaps_its_status_and_timeline(
        client, invoice, accountant, approver, django_capture_on_commit_callbacks):
    change_request = submitted(invoice, accountant)
    client.force_login(approver)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(url("approvals:request_decide", change_request),
                               {"outcome": "reject", "comment": "No procede", "from": "panel"}, **HTMX)
    html = response.content.decode()
    assert 'id="decision-panel"' in html
    state = html[html.index('id="request-state"') - 40:]
    assert 'hx-swap-oob="true"' in state[:200] and 'class="pill rejected"' in state[:200]
    timeline = html[html.index('id="request-timeline"'):]
    assert 'hx-swap-oob="true"' in timeline[:100] and timeline.count("<li>") == len(change_request.history.all())
    assert 'class="pill rejected"' in timeline
    polled = client.get(url("approvals:decision_panel", change_request), **HTMX).content.decode()
    assert 'id="request-state"' in polled and 'id="request-timeline"' in polled


def test_reject_without_comment_shows_why_and_changes_nothing(client, invoice, accountant, approver):
    change_request = submitted(invoice, accountant)
    client.force_login(approver)
    response = client.post(url("approvals:request_decide", change_request), {"outcome": "reject", "comment": ""}, **HTMX)
    assert response.status_code == 200 and "HX-Trigger" not in response
    assert 'data-testid="decision-error"' in response.content.decode()
    assert not Decision.objects.exists()
    garbage = client.post(url("approvals:request_decide", change_request), {"outcome": "¿?"}, **HTMX)
    assert garbage.status_code == 200 and not Decision.objects.exists()


def test_reject_without_a_comment_without_javascript_shows_the_page_with_the_error_beside_the_form(
        client, invoice, accountant, approver):
    change_request = submitted(invoice, accountant)
    client.force_login(approver)
    response = client.post(url("approvals:request_decide", change_request), {"outcome": "reject", "comment": ""})
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('data-testid="decision-error"') == 1 and page.count('data-testid="decision-panel"') == 1
    assert 'data-testid="reject"' in page  # the form is there to try again
    assert not Decision.objects.exists()
    change_request.refresh_from_db()
    assert change_request.state == State.PENDING


def test_reject_with_a_comment_without_javascript_redirects_with_a_message(client, invoice, accountant, approver):
    change_request = submitted(invoice, accountant)
    client.force_login(approver)
    response = client.post(url("approvals:request_decide", change_request), {"outcome": "reject", "comment": "No procede"})
    assert response.status_code == 302 and response["Location"] == url("approvals:request_detail", change_request)
    change_request.refresh_from_db()
    assert change_request.state == State.REJECTED


def test_the_panel_polls_while_the_push_runs_and_stops_when_it_ends(client, invoice, accountant, approver,
                                                                    django_capture_on_commit_callbacks):
    change_request = submitted(invoice, accountant)
    with django_capture_on_commit_callbacks(execute=False):
        request_decide(change_request=change_request, user=approver, outcome="approve")
    client.force_login(accountant)
    running = client.get(url("approvals:decision_panel", change_request), **HTMX).content.decode()
    assert 'hx-trigger="every 2s"' in running and 'data-push-state="queued"' in running
    Push.objects.filter(change_request=change_request).update(state=Push.State.APPLIED)
    ChangeRequest.objects.filter(pk=change_request.pk).update(state=State.APPLIED)
    done = client.get(url("approvals:decision_panel", change_request), **HTMX).content.decode()
    assert "every 2s" not in done and 'data-push-state="applied"' in done
    assert client.get(url("approvals:decision_panel", change_request)).status_code == 302


def test_a_failed_push_shows_alegras_answer_and_a_retry_button(client, invoice, accountant, approver,
                                                               django_capture_on_commit_callbacks):
    change_request = submitted(invoice, accountant)
    with django_capture_on_commit_callbacks(execute=False):
        request_decide(change_request=change_request, user=approver, outcome="approve")
    Push.objects.filter(change_request=change_request).update(
        state=Push.State.FAILED, attempts=1, last_status=400, last_code="3061",
        last_message="La factura no se puede modificar.")
    ChangeRequest.objects.filter(pk=change_request.pk).update(state=State.FAILED)
    client.force_login(approver)
    html = client.get(url("approvals:request_detail", change_request)).content.decode()
    assert "3061" in html and "La factura no se puede modificar." in html and 'data-testid="retry"' in html
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(url("approvals:push_retry", change_request), **HTMX)
    assert json.loads(response["HX-Trigger"]) == {"approvals-changed": {}} and len(queued) == 1
    assert Push.objects.get(change_request=change_request).state == Push.State.QUEUED


def test_counters_count_what_waits_for_the_user(client, company, invoice, accountant, approver):
    submitted(invoice, accountant)
    client.force_login(approver)
    html = client.get(url("approvals:approval_counters", company_id=company.pk), **HTMX).content.decode()
    assert 'data-testid="waiting-count">1<' in html
    client.force_login(accountant)
    html = client.get(url("approvals:approval_counters", company_id=company.pk), **HTMX).content.decode()
    assert "waiting-count" not in html and "inbox-link" not in html


# --- conflicts ------------------------------------------------------------------------------


def conflicted(invoice, accountant, approver, capture):
    change_request = submitted(invoice, accountant, observations="Nuestra nota")
    with capture(execute=False):
        request_decide(change_request=change_request, user=approver, outcome="approve")
    remote = copy.deepcopy(invoice.document)
    remote["dueDate"] = "2026-12-24"
    Push.objects.filter(change_request=change_request).update(state=Push.State.CONFLICT, remote_document=remote,
                                                             conflict_fields=["dueDate"])
    from invoices.sync import invoice_store

    invoice_store(company=invoice.company, document=remote, source="sync")
    transitions.request_transition(change_request=change_request, to_state=State.CONFLICT, user=None)
    return change_request


def test_the_conflict_screen_shows_three_columns_and_rebase_returns_to_approval(
        client, invoice, accountant, approver, django_capture_on_commit_callbacks):
    change_request = conflicted(invoice, accountant, approver, django_capture_on_commit_callbacks)
    client.force_login(accountant)
    html = client.get(url("approvals:request_conflict", change_request)).content.decode()
    assert "24/12/2026" in html and "Nuestra nota" in html and 'data-testid="rebase"' in html
    response = client.post(url("approvals:conflict_rebase", change_request))
    assert response.status_code == 302
    change_request.refresh_from_db()
    assert change_request.state == State.PENDING
    assert change_request.base_document["dueDate"] == "2026-12-24"
    assert change_request.proposed_document["observations"] == "Nuestra nota"


def test_the_conflict_screen_speaks_the_reader_s_language_with_the_company_s_numbers(
        client, invoice, accountant, approver, django_capture_on_commit_callbacks):
    """Field codes ("items"), English words ("quantity") and plain numbers ("142.80") were shown on
    the Spanish page."""
    change_request = submitted(invoice, accountant, observations="Nuestra nota")
    with django_capture_on_commit_callbacks(execute=False):
        request_decide(change_request=change_request, user=approver, outcome="approve")
    remote = copy.deepcopy(invoice.document)
    remote["items"][0]["quantity"] = "3"
    Push.objects.filter(change_request=change_request).update(state=Push.State.CONFLICT, remote_document=remote,
                                                             conflict_fields=["items", "dueDate"])
    transitions.request_transition(change_request=change_request, to_state=State.CONFLICT, user=None)
    client.force_login(accountant)
    html = client.get(url("approvals:request_conflict", change_request), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Modificado en Alegra: Líneas, Vencimiento" in html or "Alegra: Líneas, Vencimiento" in html
    assert "Cantidad 3" in html and "quantity" not in html and "price " not in html
    from portal import formats

    total = formats.money(invoice.total, invoice.decimal_precision, invoice.company.country)
    assert total in html and f">{invoice.document['total']}<" not in html


def test_cancel_from_the_conflict_screen_keeps_alegras_version(client, invoice, accountant, approver, manager,
                                                               django_capture_on_commit_callbacks):
    change_request = conflicted(invoice, accountant, approver, django_capture_on_commit_callbacks)
    client.force_login(approver)
    assert client.post(url("approvals:conflict_cancel", change_request)).status_code == 302
    change_request.refresh_from_db()
    assert change_request.state == State.CONFLICT  # an approver may not cancel it
    client.force_login(manager)
    client.post(url("approvals:conflict_cancel", change_request), {"comment": "Se queda lo de Alegra"})
    change_request.refresh_from_db()
    assert change_request.state == State.CANCELLED


# --- policies -------------------------------------------------------------------------------


def test_a_policy_s_conditions_and_needs_read_as_a_sentence(client, company, manager):
    """One approval that must be a manager's read "1 aprobación, una de ellas de un gerente", and a
    policy's conditions began with a separator ("· impacto mayor a …")."""
    from approvals.services.policies import policy_save

    policy_save(company=company, user=manager, name="Grandes", approvals_required=1, manager_required=True,
                min_impact="20000000", changes="client")
    client.force_login(manager)
    html = client.get(url("approvals:approval_policies", company_id=company.pk), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    row = html[html.index("Grandes"):]
    row = row[:row.index("</tr>")]
    assert "1 aprobación, de un gerente" in row and "una de ellas" not in row
    conditions = row[row.index('class="conditions">') + len('class="conditions">'):]
    assert conditions.startswith("<span>") and "· " not in conditions[:conditions.index("</td>")]


def test_the_policies_page_starts_with_defaults_and_managers_edit_them_with_history(client, company, manager, approver):
    client.force_login(approver)
    page = client.get(url("approvals:approval_policies", company_id=company.pk))
    assert page.status_code == 200 and page.content.decode().count('data-testid="policy-row"') == 6
    assert 'data-testid="new-policy"' not in page.content.decode()
    assert client.post(url("approvals:policy_create", company_id=company.pk), {"name": "X"}).status_code == 403

    client.force_login(manager)
    response = client.post(url("approvals:policy_create", company_id=company.pk), {
        "name": "Notas crédito grandes", "position": "5", "kind": "credit_note", "min_impact": "1000000",
        "approvals_required": "3", "manager_required": "on", "is_active": "on"})
    assert response.status_code == 302
    policy = RoutingPolicy.objects.get(company=company, name="Notas crédito grandes")
    assert policy.approvals_required == 3 and policy.manager_required
    page = client.get(url("approvals:approval_policies", company_id=company.pk)).content.decode()
    assert "Notas crédito grandes" in page and 'data-testid="policy-history"' in page

    bad = client.post(url("approvals:policy_update", company_id=company.pk, pk=policy.pk),
                      {f"p{policy.pk}-name": "Otra", f"p{policy.pk}-approvals_required": "9",
                       f"p{policy.pk}-position": "1"})
    assert bad.status_code == 400
    policy.refresh_from_db()
    assert policy.name == "Notas crédito grandes"
    client.post(url("approvals:policy_delete", company_id=company.pk, pk=policy.pk))
    assert not RoutingPolicy.objects.filter(pk=policy.pk).exists()
    assert RoutingPolicy.history.filter(id=policy.pk, history_type="-").exists()


def test_managers_switch_auto_approval_rules_and_reminders(client, company, manager):
    client.force_login(manager)
    response = client.post(url("approvals:auto_rule_create", company_id=company.pk),
                           {"name": "Solo notas", "kind": "notes_only", "is_active": "on"})
    assert response.status_code == 302
    assert AutoApprovalRule.objects.get(company=company).is_active
    missing = client.post(url("approvals:auto_rule_create", company_id=company.pk),
                          {"name": "Descuentos", "kind": "small_discount", "max_discount_percent": "5"})
    assert missing.status_code == 400 and AutoApprovalRule.objects.count() == 1
    # Said on the missing limit's field, in words: it was the database's refusal, naming its constraint.
    assert missing.context["rule_form"].errors == {"max_impact": ["This kind of rule needs this limit."]}
    assert "auto_rule_" not in missing.content.decode()
    due = client.post(url("approvals:auto_rule_create", company_id=company.pk),
                      {"name": "Vencimientos", "kind": "due_date"}, HTTP_ACCEPT_LANGUAGE="es")
    assert due.status_code == 400 and due.context["rule_form"].errors == {
        "max_days": ["Este tipo de regla necesita este límite."]}
    assert client.post(url("approvals:approval_settings", company_id=company.pk), {"remind_after_hours": "12"}).status_code == 302
    assert client.post(url("approvals:approval_settings", company_id=company.pk), {"remind_after_hours": "0"}).status_code == 400
    assert company.approval_settings.remind_after_hours == 12


def test_thresholds_are_typed_the_way_the_company_writes_numbers(client, company, manager):
    client.force_login(manager)
    response = client.post(url("approvals:policy_create", company_id=company.pk), {
        "name": "Grandes", "position": "5", "kind": "update", "min_impact": "1.500.000,50",
        "approvals_required": "2", "is_active": "on"})
    assert response.status_code == 302
    assert RoutingPolicy.objects.get(company=company, name="Grandes").min_impact == Decimal("1500000.50")
    response = client.post(url("approvals:auto_rule_create", company_id=company.pk), {
        "name": "Descuentos", "kind": "small_discount", "max_discount_percent": "2,5", "max_impact": "50.000",
        "is_active": "on"})
    assert response.status_code == 302
    rule = AutoApprovalRule.objects.get(company=company, name="Descuentos")
    assert (rule.max_discount_percent, rule.max_impact) == (Decimal("2.5"), Decimal("50000"))
    unreadable = client.post(url("approvals:policy_create", company_id=company.pk), {
        "name": "Rara", "position": "6", "kind": "update", "min_impact": "1.5.0,0,0", "approvals_required": "1"})
    assert unreadable.status_code == 400 and not RoutingPolicy.objects.filter(name="Rara").exists()
    # Said on the field in words; it was the database's refusal, naming its constraint.
    negative = client.post(url("approvals:policy_create", company_id=company.pk), {
        "name": "Negativa", "position": "7", "kind": "update", "min_impact": "-5", "approvals_required": "1"},
        HTTP_ACCEPT_LANGUAGE="es")
    assert negative.status_code == 400 and not RoutingPolicy.objects.filter(name="Negativa").exists()
    assert "mayor o igual a 0" in negative.content.decode() and "routing_policy_impact" not in negative.content.decode()


def test_objects_of_another_company_are_404(client, company, other_company, invoice, accountant, outsider):
    change_request = submitted(invoice, accountant)
    make_user("otto", other_company, "approver")
    client.force_login(outsider)
    for name in ("approvals:request_decide", "approvals:push_retry", "approvals:conflict_rebase", "approvals:conflict_cancel"):
        assert client.post(url(name, change_request), {"outcome": "approve"}).status_code == 404
    alien = RoutingPolicy.objects.create(company=company, name="Ajena")
    response = client.post(url("approvals:policy_delete", company_id=other_company.pk, pk=alien.pk))
    assert response.status_code == 404 and RoutingPolicy.objects.filter(pk=alien.pk).exists()


def test_the_header_carries_the_counters_that_listen_for_the_decision_event(client, company, approver):
    client.force_login(approver)
    html = client.get(reverse("invoices:invoice_list", kwargs={"company_id": company.pk})).content.decode()
    assert 'data-testid="approval-counters"' in html
    assert "approvals-changed from:body" in html and url("approvals:approval_counters", company_id=company.pk) in html


def test_pages_that_answer_htmx_with_a_fragment_say_so_to_caches(client, invoice, accountant, approver):
    client.force_login(approver)
    response = client.get(reverse("approvals:approval_inbox", args=[invoice.company_id]))
    assert "HX-Request" in response["Vary"]
