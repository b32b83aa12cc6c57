"""Every REST URL × tokens of each scope × each role × another company → the expected status.

A URL added to the API without a row makes `test_every_rest_url_has_a_row` fail. Tokens: for each
role, one with every scope the role allows ("full") and one with every allowed scope but the one
the URL needs ("lacking"); an outsider (a manager of another company, every scope); no token.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass

import pytest
from django.db import transaction
from django.test import Client
from django.urls import get_resolver

from api import services
from approvals.services import requests as request_services
from findings.models import Finding
from invoices.models import Invoice
from tests.factories.edit import make_invoice, mirror_catalogue
from tests.approvals.test_authz_matrix import _walk
from tests.factories import make_user

ROLES = ("accountant", "approver", "manager")
NOT_REST = {"api_v1:openapi-json", "api_v1:openapi-view", "api_v1:api-root"}  # public description


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # with {invoice}, {other_invoice}, {pending}, {draft}, {finding} placeholders
    scope: str
    full: tuple  # status with a full token, per role in ROLES order
    outsider: int = 404
    body: dict | None = None


CALLS = {
    "api_v1:invoice_list": Call("GET", "/api/v1/invoices", "invoices:read", (200, 200, 200), outsider=200),
    "api_v1:invoice_detail": Call("GET", "/api/v1/invoices/{invoice}", "invoices:read", (200, 200, 200)),
    "api_v1:invoice_versions": Call("GET", "/api/v1/invoices/{invoice}/versions", "invoices:read", (200, 200, 200)),
    "api_v1:finding_list": Call("GET", "/api/v1/findings", "findings:read", (200, 200, 200), outsider=200),
    "api_v1:finding_detail": Call("GET", "/api/v1/findings/{finding}", "findings:read", (200, 200, 200)),
    # confirming drafts a correction: only an accountant proposes
    "api_v1:finding_confirm": Call("POST", "/api/v1/findings/{finding}/confirm", "requests:write", (201, 403, 403)),
    "api_v1:finding_dismiss_view": Call("POST", "/api/v1/findings/{finding}/dismiss", "requests:write",
                                        (200, 403, 200), body={"reason": "Precio pactado"}),
    "api_v1:request_list": Call("GET", "/api/v1/requests", "invoices:read", (200, 200, 200), outsider=200),
    "api_v1:request_create": Call("POST", "/api/v1/requests", "requests:write", (201, 403, 403), body={
        "invoice_id": "{other_invoice}", "reason": "Nota", "patch": {"fields": {"observations": "x"}}}),
    "api_v1:request_detail": Call("GET", "/api/v1/requests/{pending}", "invoices:read", (200, 200, 200)),
    "api_v1:request_submit_view": Call("POST", "/api/v1/requests/{draft}/submit", "requests:write", (200, 403, 403)),
    "api_v1:request_cancel_view": Call("POST", "/api/v1/requests/{pending}/cancel", "requests:write",
                                       (200, 403, 200), body={}),
    "api_v1:request_decision": Call("POST", "/api/v1/requests/{pending}/decisions", "decisions:write",
                                    (403, 201, 201), body={"outcome": "approve"}),
    "api_v1:audit_entries": Call("GET", "/api/v1/audit/entries", "audit:read", (403, 403, 200), outsider=200),
    "api_v1:audit_export": Call("GET", "/api/v1/audit/export.csv", "audit:read", (403, 403, 200), outsider=200),
}


def rest_urls() -> set[str]:
    return {name for route, name in _walk(get_resolver().url_patterns) if route.startswith("api/v1/")} - NOT_REST


def test_every_rest_url_has_a_row():
    assert rest_urls() == set(CALLS)


@pytest.fixture
def world(company, other_company):
    mirror_catalogue(company)
    invoice, other_invoice, third = (make_invoice(company, number=n) for n in (1, 2, 3))
    people = {role: make_user(name, company, role) for role, name in zip(ROLES, ("ana", "pedro", "maria"))}
    proposed = copy.deepcopy(invoice.document)
    proposed["observations"] = "Nota"
    pending = request_services.request_save_and_submit(invoice=invoice, user=people["accountant"],
                                                       proposed=proposed, reason="Porque sí", kind="update")
    draft_doc = copy.deepcopy(third.document)
    draft_doc["observations"] = "Otra"
    draft = request_services.request_save_draft(invoice=third, user=people["accountant"], proposed=draft_doc,
                                                reason="Porque sí", kind="update")
    finding = Finding.objects.create(
        company=company, invoice=other_invoice, line=0, kind="price", cause="slip", fingerprint="f",
        invoice_date=other_invoice.date, severity="high", rank=3, confidence="0.95",
        evidence={"price": "400", "reference": "40", "basis": "client", "n": 4, "ratio": "10"},
        suggestion={"type": "update", "changes": [{"line": 0, "field": "price", "from": "40", "to": "35"}]})
    tokens = {}
    for role, user in people.items():
        allowed = sorted(services.ROLE_SCOPES[role])
        tokens[(role, "full")] = services.token_create(user=user, company=company, name="full", scopes=allowed)[1]
        for scope in allowed:
            rest = [s for s in allowed if s != scope]
            tokens[(role, f"lacking {scope}")] = services.token_create(
                user=user, company=company, name=f"no {scope}", scopes=rest)[1]
    stranger = make_user("olga", other_company, "manager")
    tokens[("outsider", "full")] = services.token_create(
        user=stranger, company=other_company, name="full", scopes=sorted(services.ROLE_SCOPES["manager"]))[1]
    ids = {"invoice": invoice.pk, "other_invoice": other_invoice.pk, "pending": pending.pk, "draft": draft.pk,
           "finding": finding.pk}
    return {"tokens": tokens, "ids": ids}


def _call(call: Call, ids: dict, secret: str | None):
    path = call.path.format(**ids)
    body = json.loads(json.dumps(call.body or {}).replace('"{other_invoice}"', str(ids["other_invoice"])))
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
    client = Client()
    client.raise_request_exception = False
    if call.method == "GET":
        return client.get(path, **headers)
    return client.post(path, json.dumps(body), content_type="application/json", **headers)


@pytest.mark.django_db
def test_the_rest_matrix(world, django_capture_on_commit_callbacks, settings):
    """Each call in a savepoint rolled back afterwards: every token meets the same state."""
    settings.API_RATE_LIMIT_PER_MINUTE = 100_000
    wrong = []
    tokens, ids = world["tokens"], world["ids"]
    for name, call in sorted(CALLS.items()):
        cases = [("nobody", None, 401), ("outsider", tokens[("outsider", "full")], call.outsider)]
        for role, expected in zip(ROLES, call.full):
            cases.append((f"{role} full", tokens[(role, "full")], expected))
            lacking = tokens.get((role, f"lacking {call.scope}"))
            if lacking is not None:
                cases.append((f"{role} without {call.scope}", lacking, 403))
        for label, secret, expected in cases:
            with transaction.atomic(), django_capture_on_commit_callbacks(execute=False):
                response = _call(call, ids, secret)
                transaction.set_rollback(True)
            if response.status_code != expected:
                wrong.append(f"{call.method} {call.path} as {label}: expected {expected}, got "
                             f"{response.status_code} {getattr(response, 'content', b'')[:200]!r}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
def test_an_outsiders_lists_show_nothing_of_the_company(world):
    secret = world["tokens"][("outsider", "full")]
    ours = set(world["ids"].values())
    for path in ("/api/v1/invoices", "/api/v1/findings?state=all", "/api/v1/requests"):
        response = Client().get(path, HTTP_AUTHORIZATION=f"Bearer {secret}")
        assert response.status_code == 200 and response.json()["items"] == [], path
    entries = Client().get("/api/v1/audit/entries?limit=100", HTTP_AUTHORIZATION=f"Bearer {secret}").json()["items"]
    assert not [e for e in entries if e["invoice_id"] in ours or e["change_request_id"] in ours]
    export = Client().get("/api/v1/audit/export.json", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert not [e for e in json.loads(b"".join(export.streaming_content)) if e["invoice_id"] in ours]


# MCP at /mcp/: each tool × tokens of each role (all the role's scopes, or all but the tool's) ×
# another company's manager. "ok" is an answer, anything else the refusal's code in the tool's error.
# The tools run in the SDK's worker threads, on their own database connections: the data is
# committed (a transactional test) and each proposal gets an invoice of its own ("{fresh}").
TOOLS = {
    "search_invoices": ("invoices:read", {"query": "FE"}, ("ok", "ok", "ok"), "ok"),
    "get_invoice": ("invoices:read", {"invoice_id": "{invoice}"}, ("ok", "ok", "ok"), "not_found"),
    "request_status": ("invoices:read", {"request_id": "{pending}"}, ("ok", "ok", "ok"), "not_found"),
    "list_findings": ("findings:read", {}, ("ok", "ok", "ok"), "ok"),
    "explain_finding": ("findings:read", {"finding_id": "{finding}"}, ("ok", "ok", "ok"), "not_found"),
    "propose_correction": ("requests:write", {"invoice_id": "{fresh}", "reason": "Nota",
                                              "fields": {"observations": "x"}},
                           ("ok", "scope_missing", "not_allowed"), "not_found"),
}


def _tool(secret: str | None, name: str, arguments: dict, ids: dict):
    ids = {**ids, "fresh": make_invoice(Invoice.objects.get(pk=ids["invoice"]).company, number=_fresh_number()).pk}
    arguments = {key: ids[value[1:-1]] if isinstance(value, str) and value.startswith("{") else value
                 for key, value in arguments.items()}
    headers = {"HTTP_ACCEPT": "application/json, text/event-stream",
               "HTTP_MCP_PROTOCOL_VERSION": "2025-06-18"}
    if secret:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
    client = Client()
    client.raise_request_exception = False
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": name, "arguments": arguments}}
    response = client.post("/mcp/", json.dumps(body), content_type="application/json", **headers)
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    result = response.json()["result"]
    if not result.get("isError"):
        return "ok"
    text = result["content"][0]["text"]
    return text.removeprefix(f"Error executing tool {name}: ").split(":", 1)[0]


_numbers = iter(range(100, 10_000))


def _fresh_number() -> int:
    return next(_numbers)


@pytest.mark.django_db(transaction=True)
def test_the_mcp_matrix(world, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 100_000
    wrong = []
    tokens, ids = world["tokens"], world["ids"]
    for name, (scope, arguments, full, outsider) in sorted(TOOLS.items()):
        cases = [("nobody", None, "HTTP 401"), ("outsider", tokens[("outsider", "full")], outsider)]
        for role, expected in zip(ROLES, full):
            cases.append((f"{role} full", tokens[(role, "full")], expected))
            lacking = tokens.get((role, f"lacking {scope}"))
            if lacking is not None:
                cases.append((f"{role} without {scope}", lacking, "scope_missing"))
        for label, secret, expected in cases:
            got = _tool(secret, name, arguments, ids)
            if got != expected:
                wrong.append(f"{name} as {label}: expected {expected}, got {got}")
    assert not wrong, "\n".join(wrong)
