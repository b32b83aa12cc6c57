"""The REST API on the real services, the real database and the in-process sandbox."""

from __future__ import annotations

import copy
from decimal import Decimal
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from django.utils import translation

from approvals.models import ChangeRequest, Decision, Push
from approvals.services.requests import request_save_and_submit
from audit.models import AuditEntry
from portal import events
from tests.api.kit import Api, token_for
from tests.factories.edit import make_invoice, mirror_catalogue
from tests.approvals.pushkit import sandbox_pushes, world  # noqa: F401 (fixtures)
from tests.factories import make_user

pytestmark = pytest.mark.django_db
State = ChangeRequest.State


@pytest.fixture
def invoices(company):
    mirror_catalogue(company)
    return [make_invoice(company, number=n) for n in (1, 2, 3)]


def price_patch(price="95", line=0):
    return {"lines": [{"index": line, "set": {"price": price}}]}


# --- reads -----------------------------------------------------------------------------------


def test_invoice_list_is_keyset_paginated_with_a_constant_query_count(accountant, company, invoices,
                                                                      django_assert_num_queries):
    api = Api(token_for(accountant, company, "invoices:read"))
    # token + role + rate window, then the page's summary and rows
    with django_assert_num_queries(5):
        first = api.get("/invoices", limit=2, sort="number")
    assert first.status_code == 200
    body = first.json()
    assert [row["number"] for row in body["items"]] == ["FE1", "FE2"] and body["count"] == 3
    second = api.get("/invoices", limit=2, sort="number", cursor=body["next_cursor"]).json()
    assert [row["number"] for row in second["items"]] == ["FE3"] and second["next_cursor"] is None
    assert api.get("/invoices", q="FE2").json()["count"] == 1
    # A cursor it did not give out, or one of another order, is said to be so: as /requests and
    # /findings say it. Taken for the first page, a client would loop on it.
    for cursor, sort in (("abc", "number"), (body["next_cursor"], "total")):
        refused = api.get("/invoices", limit=2, sort=sort, cursor=cursor)
        assert refused.status_code == 400 and refused.json()["code"] == "invalid_cursor", refused.content
    # "²" is a digit to str.isdigit(), not to int(): a forged id cursor was a 500.
    from api.rest.core import encode_cursor

    refused = Api(token_for(accountant, company, "invoices:read")).get("/requests", cursor=encode_cursor("²"))
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_cursor", refused.content


def test_invoice_detail_and_versions(accountant, company, invoices):
    api = Api(token_for(accountant, company, "invoices:read"))
    invoice = invoices[0]
    detail = api.get(f"/invoices/{invoice.pk}").json()
    assert detail["document"]["items"] == invoice.document["items"] and detail["content_hash"] == invoice.content_hash
    versions = api.get(f"/invoices/{invoice.pk}/versions", documents="true").json()
    assert len(versions) == 1 and versions[0]["content_hash"] == invoice.content_hash
    assert versions[0]["document"]["id"] == invoice.alegra_id


def test_outsiders_get_404_for_everything_of_another_company(accountant, company, invoices, other_company):
    stranger = make_user("olga", other_company, "manager")
    api = Api(token_for(stranger, other_company, "invoices:read,findings:read,requests:write,decisions:write,"
                                                 "audit:read"))
    mine = request_save_and_submit(invoice=invoices[0], user=accountant, reason="Precio acordado",
                                   proposed=_with_price(invoices[0], "95"), kind="update")
    for path in (f"/invoices/{invoices[0].pk}", f"/invoices/{invoices[0].pk}/versions", f"/requests/{mine.pk}"):
        response = api.get(path)
        assert response.status_code == 404 and response.json()["code"] == "not_found", path
    assert api.post(f"/requests/{mine.pk}/decisions", {"outcome": "approve"}).status_code == 404
    assert api.post(f"/requests/{mine.pk}/cancel", {}).status_code == 404
    assert api.post("/requests", {"invoice_id": invoices[0].pk, "patch": price_patch(), "reason": "x"}).status_code == 404
    assert api.get("/invoices").json()["items"] == []
    mine.refresh_from_db()
    assert mine.state == State.PENDING and not Decision.objects.exists()


def test_scopes_are_enforced_and_a_refusal_writes_nothing(accountant, company, invoices):
    api = Api(token_for(accountant, company, "invoices:read"))
    response = api.post("/requests", {"invoice_id": invoices[0].pk, "patch": price_patch(), "reason": "x"})
    assert response.status_code == 403 and response.json()["code"] == "scope_missing"
    assert "requests:write" in response.json()["detail"]
    assert api.get("/findings").status_code == 403 and api.get("/audit/entries").status_code == 403
    assert not ChangeRequest.objects.exists()
    reader = Api(token_for(accountant, company, "findings:read", name="bi"))
    assert reader.get("/invoices").status_code == 403


# --- proposing -------------------------------------------------------------------------------


def _with_price(invoice, price):
    proposed = copy.deepcopy(invoice.document)
    proposed["items"][0]["price"] = price
    proposed["items"][0].pop("total", None)
    return proposed


def test_a_draft_from_a_patch_submitted_and_attributed_to_user_and_token(accountant, company, invoices):
    api = Api(token_for(accountant, company, "invoices:read,requests:write"))
    invoice = invoices[0]
    created = api.post("/requests", {"invoice_id": invoice.pk, "patch": price_patch("95"),
                                     "reason": "Precio acordado con el cliente"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["state"] == "draft" and body["origin"] == "api" and body["via_token"] == "ERP nightly"
    assert body["proposed_document"]["items"][0]["price"] in ("95", "95.000000", "95.00")
    submitted = api.post(f"/requests/{body['id']}/submit")
    assert submitted.status_code == 200 and submitted.json()["state"] == "pending"
    change_request = ChangeRequest.objects.get()
    assert change_request.requester == accountant
    history = [events.describe(row.history_change_reason) for row in change_request.history.order_by("history_id")]
    assert "draft created via token 'ERP nightly'" in history
    assert "submitted for approval via token 'ERP nightly'" in history
    entry = AuditEntry.objects.get(change_request=change_request, action="submitted")
    assert entry.actor == accountant and entry.what["via_token"] == "ERP nightly"
    with translation.override("es"):
        assert "mediante el token 'ERP nightly'" in events.describe(entry.why)
    state = api.get(f"/requests/{body['id']}").json()
    assert state["state"] == "pending" and state["approvals_required"] >= 1 and state["push"] is None


@pytest.mark.parametrize("payload, status, code, field", [
    ({"patch": price_patch(line=9), "reason": "x"}, 422, "no_such_line", "patch.lines[9]"),
    ({"patch": price_patch("-5"), "reason": "x", "submit": True}, 422, None, "items[0].price"),
    ({"patch": price_patch(), "reason": "", "submit": True}, 422, "reason_required", "reason"),
    ({"reason": "x"}, 422, "proposal_required", "proposed"),
    ({"patch": {"lines": [{"index": "a", "set": {}}]}, "reason": "x"}, 422, "invalid_input", "patch.lines.0.index"),
    ({"patch": price_patch(), "kind": "refund", "reason": "x"}, 422, "invalid_input", "kind"),
])
def test_bad_input_is_a_4xx_with_a_clear_message_and_changes_nothing(accountant, company, invoices, payload,
                                                                     status, code, field):
    api = Api(token_for(accountant, company, "requests:write"))
    before = AuditEntry.objects.count()
    response = api.post("/requests", {"invoice_id": invoices[0].pk, **payload})
    assert response.status_code == status, response.content
    problem = response.json()
    assert response["Content-Type"] == "application/problem+json"
    assert problem["status"] == status and problem["detail"] and problem["type"].startswith("urn:enmienda:problem:")
    if code:
        assert problem["code"] == code
    if field:
        assert field in [error["field"] for error in problem["errors"]], problem
    assert not ChangeRequest.objects.exists() and AuditEntry.objects.count() == before


def test_malformed_json_is_a_400_or_422_and_changes_nothing(accountant, company, invoices):
    response = Api(token_for(accountant, company, "requests:write")).post("/requests", raw="{not json")
    assert response.status_code in (400, 422) and response["Content-Type"] == "application/problem+json"
    assert not ChangeRequest.objects.exists()


@pytest.mark.parametrize("text", ["nota \x00 final", "medio \ud800 par"])
def test_a_text_the_database_cannot_store_is_a_400_in_the_clients_language_and_changes_nothing(
        accountant, company, invoices, text):
    api = Api(token_for(accountant, company, "requests:write"), language="es")
    before = AuditEntry.objects.count()
    for body in ({"invoice_id": invoices[0].pk, "patch": price_patch(), "reason": text},
                 {"invoice_id": invoices[0].pk, "patch": {**price_patch(), "observations": text}, "reason": "Nota"},
                 {"invoice_id": invoices[0].pk, "patch": price_patch(), "reason": "Nota", text: 1}):
        response = api.post("/requests", raw=json.dumps(body))
        assert response.status_code == 400 and response["Content-Type"] == "application/problem+json", response.content
        assert response.json()["code"] == "unstorable_text" and "No se cambió nada" in response.json()["detail"]
    assert not ChangeRequest.objects.exists() and AuditEntry.objects.count() == before
    # Malformed JSON is told in the client's language too.
    malformed = api.post("/requests", raw="{not json")
    assert malformed.json()["code"] == "invalid_json" and "JSON válido" in malformed.json()["detail"]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_or_infinity_for_an_amount_is_a_400_and_changes_nothing(accountant, company, invoices, constant):
    """Python's json reads them, JSON has not: as a price they failed deep in the write (a 500)."""
    api = Api(token_for(accountant, company, "requests:write"), language="es")
    before = AuditEntry.objects.count()
    body = '{"invoice_id": %d, "reason": "Precio", "patch": {"lines": [{"index": 0, "set": {"price": %s}}]}}' % (
        invoices[0].pk, constant)
    response = api.post("/requests", raw=body)
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_json" and "JSON válido" in response.json()["detail"]
    assert not ChangeRequest.objects.exists() and AuditEntry.objects.count() == before


@pytest.mark.parametrize("path", ["/requests", "/findings"])
@pytest.mark.parametrize("value", ["99999999999999999999", "0", "-1"])
def test_an_invoice_filter_no_row_can_have_is_a_422_naming_it(accountant, company, invoices, path, value):
    """Beyond a bigint, SQLite refused the query (a 500)."""
    api = Api(token_for(accountant, company, "invoices:read,findings:read"), language="es")
    response = api.get(f"{path}?invoice_id={value}")
    assert response.status_code == 422 and response.json()["code"] == "invalid_input"
    assert [error["field"] for error in response.json()["errors"]] == ["invoice_id"]
    assert api.get(f"{path}?invoice_id={invoices[0].pk}").status_code == 200


def test_refusals_speak_the_clients_language(accountant, company, invoices):
    api = Api(token_for(accountant, company, "requests:write"), language="es")
    response = api.post("/requests", {"invoice_id": invoices[0].pk, "patch": price_patch(), "reason": "",
                                      "submit": True})
    assert response.status_code == 422 and "motivo" in response.json()["detail"].lower()


def test_a_retried_create_with_the_same_idempotency_key_returns_the_first_result(accountant, company, invoices):
    api = Api(token_for(accountant, company, "requests:write"))
    payload = {"invoice_id": invoices[0].pk, "patch": price_patch(), "reason": "Precio acordado"}
    first = api.post("/requests", payload, key="erp-run-42")
    second = api.post("/requests", payload, key="erp-run-42")
    assert first.status_code == second.status_code == 201 and first.json() == second.json()
    assert ChangeRequest.objects.count() == 1
    reused = api.post(f"/requests/{first.json()['id']}/submit", key="erp-run-42")
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    assert ChangeRequest.objects.get().state == State.DRAFT


def test_cancel_through_the_api(accountant, company, invoices):
    api = Api(token_for(accountant, company, "requests:write"))
    created = api.post("/requests", {"invoice_id": invoices[0].pk, "patch": price_patch(), "reason": "x"}).json()
    cancelled = api.post(f"/requests/{created['id']}/cancel", {"comment": "ya no"})
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    again = api.post(f"/requests/{created['id']}/cancel", {})
    assert again.status_code == 409 and again.json()["code"] == "not_cancellable"


def test_a_token_over_its_rate_limit_gets_429_with_retry_after(accountant, company, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 2
    api = Api(token_for(accountant, company, "invoices:read"))
    assert [api.get("/invoices").status_code for _ in range(2)] == [200, 200]
    refused = api.get("/invoices")
    assert refused.status_code == 429 and 1 <= int(refused["Retry-After"]) <= 60
    assert refused.json()["code"] == "rate_limited"


# --- decisions -------------------------------------------------------------------------------


def test_a_token_can_never_approve_its_own_users_request(company, invoices):
    from portal.services import membership_set

    ana = make_user("ana", company, "accountant")
    proposer = Api(token_for(ana, company, "requests:write", name="ERP nightly"))
    created = proposer.post("/requests", {"invoice_id": invoices[0].pk, "patch": price_patch(),
                                          "reason": "Precio acordado", "submit": True})
    assert created.status_code == 201 and created.json()["state"] == "pending"
    on_screen = request_save_and_submit(invoice=invoices[1], user=ana, proposed=_with_price(invoices[1], "90"),
                                        reason="Ajuste", kind="update")
    # Promoted meanwhile: another token of the same person, with decisions:write.
    membership_set(user=ana, company=company, role="manager")
    decider = Api(token_for(ana, company, "decisions:write", name="approvals bot"))
    for outcome in ("approve", "reject"):
        refused = decider.post(f"/requests/{created.json()['id']}/decisions", {"outcome": outcome, "comment": "x"})
        assert refused.status_code == 403 and refused.json()["code"] == "own_request"
    # A request the same person made on a screen is theirs too.
    assert decider.post(f"/requests/{on_screen.pk}/decisions", {"outcome": "approve"}).status_code == 403
    assert not Decision.objects.exists()
    assert set(ChangeRequest.objects.values_list("state", flat=True)) == {State.PENDING}


def test_decisions_need_the_scope_and_an_approvers_role(accountant, approver, company, invoices):
    change_request = request_save_and_submit(invoice=invoices[0], user=accountant, reason="Ajuste",
                                             proposed=_with_price(invoices[0], "90"), kind="update")
    reader = Api(token_for(approver, company, "invoices:read"))
    assert reader.post(f"/requests/{change_request.pk}/decisions", {"outcome": "approve"}).status_code == 403
    accountant_api = Api(token_for(accountant, company, "invoices:read,requests:write"))
    assert accountant_api.post(f"/requests/{change_request.pk}/decisions",
                               {"outcome": "approve"}).status_code == 403
    decider = Api(token_for(approver, company, "decisions:write"))
    no_comment = decider.post(f"/requests/{change_request.pk}/decisions", {"outcome": "reject"})
    assert no_comment.status_code == 422 and no_comment.json()["code"] == "comment_required"
    assert not Decision.objects.exists()
    rejected = decider.post(f"/requests/{change_request.pk}/decisions", {"outcome": "reject", "comment": "No"})
    assert rejected.status_code == 201 and rejected.json()["request"]["state"] == "rejected"
    entry = AuditEntry.objects.get(change_request=change_request, action="decision")
    assert entry.actor == approver and entry.what["via_token"] == "ERP nightly"


def test_an_agents_proposal_approved_by_a_person_reaches_alegra(world, sandbox_pushes,
                                                               django_capture_on_commit_callbacks):
    from alegra_sandbox import services as sandbox

    agent = Api(token_for(world.accountant, world.company, "invoices:read,requests:write", name="Claude"))
    created = agent.post("/requests", {"invoice_id": world.invoice.pk, "reason": "Anotar la bodega",
                                       "patch": {"fields": {"observations": "Bodega 2"}}, "submit": True})
    assert created.status_code == 201, created.content
    decider = Api(token_for(world.approver, world.company, "decisions:write", name="Inbox app"))
    with django_capture_on_commit_callbacks(execute=True):
        decided = decider.post(f"/requests/{created.json()['id']}/decisions", {"outcome": "approve"})
    assert decided.status_code == 201
    state = agent.get(f"/requests/{created.json()['id']}").json()
    assert state["state"] == "applied" and state["push"]["state"] == Push.State.APPLIED
    assert sandbox.invoice_get(world.account, world.invoice.alegra_id)["observations"] == "Bodega 2"
    approved = AuditEntry.objects.get(change_request_id=created.json()["id"], action="approved")
    assert approved.actor == world.approver and approved.what["via_token"] == "Inbox app"
    assert "via token 'Inbox app'" in events.describe(approved.why)


# --- findings and audit ------------------------------------------------------------------------


@pytest.fixture
def slipped(company):
    from findings import scan
    from tests.factories.anomalies import body, history, line, mirror_catalogue as findings_catalogue, store

    findings_catalogue(company)
    history(company, count=6)
    invoice = store(company, body(1, [line("1", "10", price="276470")], day=50))
    scan.scan_full(company_id=company.pk)
    return invoice


def test_findings_list_detail_confirm_and_dismiss(accountant, company, slipped):
    from findings.models import Finding

    api = Api(token_for(accountant, company, "findings:read,requests:write"))
    listed = api.get("/findings").json()
    price = next(row for row in listed["items"] if row["kind"] == "price")
    assert price["invoice_id"] == slipped.pk and "276.470" in price["explanation"]
    assert api.get(f"/findings/{price['id']}").json()["id"] == price["id"]
    confirmed = api.post(f"/findings/{price['id']}/confirm")
    assert confirmed.status_code == 201 and confirmed.json()["state"] == "draft"
    assert confirmed.json()["via_token"] == "ERP nightly"
    assert Finding.objects.get(pk=price["id"]).state == "confirmed"
    again = api.post(f"/findings/{price['id']}/confirm")
    assert again.status_code == 422 and ChangeRequest.objects.count() == 1
    others = [row for row in listed["items"] if row["id"] != price["id"]]
    if others:
        no_reason = api.post(f"/findings/{others[0]['id']}/dismiss", {"reason": " "})
        assert no_reason.status_code == 422 and "reason" in no_reason.json()["detail"]
        dismissed = api.post(f"/findings/{others[0]['id']}/dismiss", {"reason": "Precio especial pactado"})
        assert dismissed.status_code == 200 and dismissed.json()["state"] == "dismissed"
        row = Finding.objects.get(pk=others[0]["id"]).history.order_by("-history_id").first()
        assert "via token 'ERP nightly'" in events.describe(row.history_change_reason)


def test_audit_entries_and_export_for_a_managers_token(accountant, manager, company, invoices):
    Api(token_for(accountant, company, "requests:write")).post(
        "/requests", {"invoice_id": invoices[0].pk, "patch": price_patch(), "reason": "x"})
    api = Api(token_for(manager, company, "audit:read", name="auditor"))
    page = api.get("/audit/entries", action="created").json()
    assert len(page["items"]) == 1 and page["items"][0]["what"]["via_token"] == "ERP nightly"
    assert page["items"][0]["why"] == "draft created via token 'ERP nightly'"
    first = api.get("/audit/entries", limit=1).json()
    second = api.get("/audit/entries", limit=1, after=first["next_cursor"]).json()
    assert second["items"][0]["seq"] < first["items"][0]["seq"]
    exported = api.get("/audit/export.csv")
    assert exported.status_code == 200 and b"ERP nightly" in b"".join(exported.streaming_content)
    bad = api.get("/audit/entries", date_from="yesterday")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "date_from"


def test_the_openapi_description_is_served(db):
    from django.test import Client

    schema = Client().get("/api/v1/openapi.json").json()
    assert "/api/v1/requests/{pk}/decisions" in schema["paths"]
    assert Client().get("/api/v1/docs").status_code == 200


@pytest.mark.parametrize("language, words", [
    ("en", {"patch.lines.0.index": "Enter a whole number.", "kind": "Choose one of: update, credit_note, contact.", "patch.lines.1.index": "Enter a value of at least 0.", "invoice_id": "This field is required.",
            "submit": "Enter true or false."}),
    ("es", {"patch.lines.0.index": "Escriba un número entero.", "kind": "Elija uno de: update, credit_note, contact.", "patch.lines.1.index": "Escriba un valor de al menos 0.",
            "invoice_id": "Este campo es obligatorio.", "submit": "Escriba verdadero o falso (true o false)."}),
])
def test_type_errors_speak_the_clients_language_with_pydantic_s_codes(accountant, company, invoices, language, words):
    api = Api(token_for(accountant, company, "requests:write"), language=language)
    response = api.post("/requests", {"kind": "refund", "reason": "x", "submit": "perhaps", "patch": {
        "lines": [{"index": "a", "set": {}}, {"index": -1, "set": {}}]}})
    assert response.status_code == 422, response.content
    errors = {error["field"]: error for error in response.json()["errors"]}
    assert {field: errors[field]["message"] for field in words} == words
    assert errors["patch.lines.0.index"]["code"] == "int_parsing" and errors["kind"]["code"] == "literal_error"
    assert not ChangeRequest.objects.exists()


def test_numbers_with_decimals_are_read_exact_and_unusable_ones_are_refused_in_place(accountant, company, invoices):
    """JSON's numbers are read as Decimal (a float in a document was a 500); true or false for an
    amount, a number longer than any amount and retentions that are no list are a 422 naming
    where, and nothing is changed."""
    api = Api(token_for(accountant, company, "requests:write"), language="es")
    invoice = invoices[0]
    raw = ('{"invoice_id": %d, "reason": "Precio acordado", "patch": {"lines": '
           '[{"index": 0, "set": {"price": 95.5, "quantity": 2.0}}]}}' % invoice.pk)
    created = api.post("/requests", raw=raw)
    assert created.status_code == 201, created.content
    line = ChangeRequest.objects.get().proposed_document["items"][0]
    assert Decimal(str(line["price"])) == Decimal("95.5") and Decimal(str(line["quantity"])) == 2
    ChangeRequest.objects.all().delete()
    before = AuditEntry.objects.count()
    for patch, field in (({"lines": [{"index": 0, "set": {"price": False}}]}, "items[0].price"),
                         ({"fields": {"decimalPrecision": True}}, "decimalPrecision"),
                         ({"fields": {"stamp": 10**18}}, "stamp"),
                         ({"lines": [{"index": 0, "set": {"quantity": 1e300}}]}, "items[0].quantity"),
                         ({"fields": {"retentions": 5}}, "retentions")):
        response = api.post("/requests", {"invoice_id": invoice.pk, "reason": "Motivo", "patch": patch})
        assert response.status_code == 422, (patch, response.content)
        problem = response.json()
        assert problem["code"] == "invalid_number" and field in [e["field"] for e in problem["errors"]], problem
        assert "factura" in problem["detail"] or "número" in problem["detail"] or "lista" in problem["detail"]
    assert not ChangeRequest.objects.exists() and AuditEntry.objects.count() == before


@pytest.mark.parametrize("field, text", [("price", "1_000"), ("price", "٥٠"), ("quantity", "７")])
def test_digits_python_reads_but_json_does_not_write_are_refused_and_change_nothing(
        accountant, company, invoices, field, text):
    """Digit groups, Arabic-Indic and full-width digits: Decimal reads them, and the proposal
    was stored and would have reached Alegra as typed."""
    api = Api(token_for(accountant, company, "requests:write"), language="es")
    response = api.post("/requests", {"invoice_id": invoices[0].pk, "reason": "Motivo",
                                      "patch": {"lines": [{"index": 0, "set": {field: text}}]}})
    assert response.status_code == 422 and response.json()["code"] == f"invalid_{field}", response.content
    assert "no es un número" in response.json()["detail"]
    assert not ChangeRequest.objects.exists()


scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.text(max_size=10),
                    st.floats(allow_nan=False, allow_infinity=False),
                    st.sampled_from(["1", "-1", "1e999", "NaN", "Infinity", "", "2025-02-30", "abc", "9" * 400]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=6)
FIELDS = st.sampled_from(["dueDate", "date", "observations", "client", "paymentForm", "seller", "priceList",
                          "anotation", "stamp", "status", "retentions", "currency", "decimalPrecision", "totalPaid"])
LINE_FIELDS = st.sampled_from(["price", "quantity", "discount", "tax", "id", "description", "name", "reference"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fields=st.dictionaries(FIELDS, values, max_size=3),
       lines=st.lists(st.fixed_dictionaries({"index": st.integers(0, 2), "set": st.dictionaries(LINE_FIELDS, values,
                                                                                                  max_size=3)}),
                      max_size=2),
       submit=st.booleans())
def test_no_patch_an_api_client_sends_is_a_server_error(accountant, company, invoices, fields, lines, submit):
    api = Api(token_for(accountant, company, "invoices:read,requests:write"))
    body = {"invoice_id": invoices[0].pk, "reason": "Motivo", "submit": submit,
            "patch": {"fields": fields, "lines": lines}}
    response = api.post("/requests", raw=json.dumps(body, default=str))
    assert response.status_code in (201, 400, 409, 422), (body, response.content[:300])
    ChangeRequest.objects.filter(pushes__isnull=True, decisions__isnull=True).delete()


def test_errors_given_before_the_api_s_handlers_run_are_problems_in_the_client_s_language(
        accountant, company, invoices, settings):
    """An address no endpoint has, a method one does not take, a body over the upload limit, a
    NUL in the query: each was an HTML or plain-text page (in English for the first three)."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    api = Api(token_for(accountant, company, "invoices:read,requests:write"), language="es")
    before = AuditEntry.objects.count()
    answers = {
        "unknown address": (api.get("/nope"), 404, "not_found", "No existe esa dirección"),
        "method": (api.client.put("/api/v1/requests", "{}", content_type="application/json"), 405,
                   "method_not_allowed", "no acepta el método PUT"),
        "too large": (api.post("/requests", raw=json.dumps({"invoice_id": invoices[0].pk, "reason": "x" * 20_000,
                                                            "patch": price_patch()})),
                      400, "bad_request", "No se cambió nada"),
        "NUL in the query": (api.client.get("/api/v1/invoices", {"q": "a\x00b"}), 400, "unstorable_text",
                             "carácter NUL"),
    }
    for what, (response, status, code, words) in answers.items():
        assert response.status_code == status, (what, response.status_code)
        assert response["Content-Type"] == "application/problem+json", (what, response["Content-Type"])
        assert response.json()["code"] == code and words in response.json()["detail"], (what, response.json())
    assert "GET" in answers["method"][0]["Allow"] and "POST" in answers["method"][0]["Allow"]
    assert not ChangeRequest.objects.exists() and AuditEntry.objects.count() == before
    # The portal's own pages keep their HTML.
    page = api.client.get("/nope/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")
