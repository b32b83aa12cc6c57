"""The MCP server driven by the SDK's own client: read, propose, and never approve."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import async_to_sync
from django.urls import reverse
from mcp import Client

from api.mcp_server import build_server
from approvals.models import ChangeRequest
from tests.api.kit import token_for
from tests.factories.edit import make_invoice, mirror_catalogue

pytestmark = pytest.mark.django_db(transaction=True)
READ_ONLY_WORDS = ("approve", "reject", "decide", "decision", "apply", "push")


def _payload(result) -> dict:
    if getattr(result, "structured_content", None):
        content = result.structured_content
        return content.get("result", content) if isinstance(content, dict) else content
    return json.loads(result.content[0].text)


def session(secret: str, steps):
    async def run():
        async with Client(build_server(lambda: secret)) as client:
            return await steps(client)

    return async_to_sync(run)()


def test_an_agent_lists_the_tools_proposes_a_price_and_cannot_approve_it(company, accountant, approver, client):
    mirror_catalogue(company)
    invoice = make_invoice(company)
    secret = token_for(accountant, company, "invoices:read,findings:read,requests:write", name="Claude Desktop")

    async def steps(mcp):
        tools = {tool.name for tool in (await mcp.list_tools()).tools}
        found = _payload(await mcp.call_tool("search_invoices", {"query": "FE1"}))
        proposed = await mcp.call_tool("propose_correction", {
            "invoice_id": invoice.pk, "reason": "Precio acordado con el cliente",
            "lines": [{"index": 0, "set": {"price": "35"}}]})
        refused = await mcp.call_tool("approve_request", {"request_id": 1})
        status = _payload(await mcp.call_tool("request_status", {"request_id": _payload(proposed)["id"]}))
        return tools, found, _payload(proposed), refused, status

    tools, found, proposed, refused, status = session(secret, steps)
    assert {"search_invoices", "get_invoice", "list_findings", "propose_correction", "request_status",
            "explain_finding"} <= tools
    assert not [name for name in tools if any(word in name for word in READ_ONLY_WORDS)]
    assert found["invoices"][0]["id"] == invoice.pk
    assert proposed["state"] == "pending" and proposed["origin"] == "agent" and status["state"] == "pending"
    assert refused.is_error
    change_request = ChangeRequest.objects.get()
    assert change_request.requester == accountant and change_request.via_token_name == "Claude Desktop"
    assert not change_request.decisions.exists()
    # It waits in the approver's inbox like anyone's, marked as an agent's.
    client.force_login(approver)
    inbox = client.get(reverse("approvals:approval_inbox", args=[company.pk])).content.decode()
    assert f"#{change_request.pk}" in inbox and 'data-testid="from-agent"' in inbox


def test_tools_keep_to_the_tokens_scopes_and_company(company, accountant, other_company):
    mirror_catalogue(company)
    invoice = make_invoice(company)
    reader = token_for(accountant, company, "invoices:read", name="reader")

    async def steps(mcp):
        return (await mcp.call_tool("propose_correction", {"invoice_id": invoice.pk, "reason": "x",
                                                            "fields": {"observations": "y"}}),
                await mcp.call_tool("list_findings", {}))

    proposed, findings = session(reader, steps)
    assert proposed.is_error and "scope_missing" in proposed.content[0].text
    assert findings.is_error and not ChangeRequest.objects.exists()
    from tests.factories import make_user

    stranger = make_user("olga", other_company, "accountant")
    foreign = token_for(stranger, other_company, "invoices:read,requests:write")

    async def peek(mcp):
        return await mcp.call_tool("get_invoice", {"invoice_id": invoice.pk})

    result = session(foreign, peek)
    assert result.is_error and "not_found" in result.content[0].text


def test_streamable_http_authenticates_each_request_with_its_token(company, accountant):
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    from api.mcp_server import http_app

    mirror_catalogue(company)
    invoice = make_invoice(company)
    secret = token_for(accountant, company, "invoices:read", name="HTTP agent")
    server, app = http_app()

    async def run():
        answers = []
        async with server.session_manager.run():
            for bearer in (secret, "enm_forged"):
                async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://127.0.0.1:8765",
                                              headers={"Authorization": f"Bearer {bearer}"}) as http:
                    async with Client(streamable_http_client("http://127.0.0.1:8765/mcp", http_client=http)) as mcp:
                        answers.append(await mcp.call_tool("get_invoice", {"invoice_id": invoice.pk}))
        return answers

    good, forged = async_to_sync(run)()
    assert not good.is_error and _payload(good)["number"] == "FE1"
    assert forged.is_error and "invalid_token" in forged.content[0].text


def _over_http(url: str, bearer: str, steps):
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    async def run():
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {bearer}"}, timeout=60) as http:
            async with Client(streamable_http_client(url, http_client=http)) as mcp:
                return await steps(mcp)

    return async_to_sync(run)()


def test_the_portal_serves_mcp_at_its_own_address_and_an_agent_proposes_there(live_server, company, accountant,
                                                                               approver, client):
    """Real HTTP into the portal's own process: no second server to run for remote agents."""
    mirror_catalogue(company)
    invoice = make_invoice(company)
    secret = token_for(accountant, company, "invoices:read,requests:write", name="Remote agent")

    async def steps(mcp):
        tools = {tool.name for tool in (await mcp.list_tools()).tools}
        proposed = await mcp.call_tool("propose_correction", {
            "invoice_id": invoice.pk, "reason": "Precio acordado", "lines": [{"index": 0, "set": {"price": "35"}}]})
        refused = await mcp.call_tool("approve_request", {"request_id": 1})
        return tools, _payload(proposed), refused

    tools, proposed, refused = _over_http(live_server.url + "/mcp/", secret, steps)
    assert "propose_correction" in tools and not [t for t in tools if any(w in t for w in READ_ONLY_WORDS)]
    assert proposed["state"] == "pending" and proposed["origin"] == "agent" and refused.is_error
    change_request = ChangeRequest.objects.get()
    assert change_request.requester == accountant and change_request.via_token_name == "Remote agent"
    assert change_request.history.earliest("history_id").history_user == accountant
    assert not change_request.decisions.exists()
    client.force_login(approver)
    inbox = client.get(reverse("approvals:approval_inbox", args=[company.pk])).content.decode()
    assert f"#{change_request.pk}" in inbox and 'data-testid="from-agent"' in inbox


INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                         "clientInfo": {"name": "curl", "version": "1"}}}
MCP_HEADERS = {"HTTP_ACCEPT": "application/json, text/event-stream"}


def test_the_portal_s_mcp_address_answers_json_and_needs_a_usable_token(company, accountant):
    from django.test import Client as HttpClient

    secret = token_for(accountant, company, "invoices:read")
    good = HttpClient(HTTP_AUTHORIZATION=f"Bearer {secret}", **MCP_HEADERS)
    answer = good.post("/mcp/", json.dumps(INITIALIZE), content_type="application/json")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("application/json")
    assert answer.json()["result"]["serverInfo"]["name"] == "enmienda"
    tools = good.post("/mcp", json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
                      content_type="application/json", headers={"mcp-protocol-version": "2025-06-18"})
    assert "search_invoices" in {tool["name"] for tool in tools.json()["result"]["tools"]}
    for bearer in ("enm_forged", ""):
        refused = HttpClient(HTTP_AUTHORIZATION=f"Bearer {bearer}", **MCP_HEADERS).post(
            "/mcp/", json.dumps(INITIALIZE), content_type="application/json")
        assert refused.status_code == 401 and refused.json()["code"] == "invalid_token"
        assert refused["WWW-Authenticate"] == "Bearer"
    streamed = good.get("/mcp/")
    assert streamed.status_code == 405 and streamed["Allow"] == "POST"
    garbled = good.post("/mcp/", "{not json", content_type="application/json")
    assert 400 <= garbled.status_code < 500


def test_a_text_the_database_cannot_store_is_refused_with_its_reason_and_changes_nothing(company, accountant):
    from audit.models import AuditEntry

    mirror_catalogue(company)
    invoice = make_invoice(company)
    secret = token_for(accountant, company, "invoices:read,findings:read,requests:write")
    before = AuditEntry.objects.count()

    async def steps(mcp):
        return [await mcp.call_tool("propose_correction", {"invoice_id": invoice.pk, "reason": "nota \x00",
                                                           "lines": [{"index": 0, "set": {"price": "35"}}]}),
                await mcp.call_tool("propose_correction", {"invoice_id": invoice.pk, "reason": "Precio",
                                                           "fields": {"observations": "medio \ud800"}}),
                await mcp.call_tool("search_invoices", {"query": "FE\x001"}),
                await mcp.call_tool("list_findings", {"state": "open\x00"})]

    for result in session(secret, steps):
        assert result.is_error and "unstorable_text" in result.content[0].text, result.content[0].text
    assert not ChangeRequest.objects.exists() and AuditEntry.objects.count() == before


def test_an_agents_numbers_are_read_exact_and_true_or_false_for_an_amount_is_refused(company, accountant):
    mirror_catalogue(company)
    invoice = make_invoice(company)
    secret = token_for(accountant, company, "invoices:read,requests:write")

    async def steps(mcp):
        refused = await mcp.call_tool("propose_correction", {"invoice_id": invoice.pk, "reason": "Precio",
                                                             "lines": [{"index": 0, "set": {"price": True}}]})
        proposed = await mcp.call_tool("propose_correction", {"invoice_id": invoice.pk, "reason": "Precio acordado",
                                                              "lines": [{"index": 0, "set": {"price": 35.5}}]})
        return refused, proposed

    refused, proposed = session(secret, steps)
    assert refused.is_error and "invalid_number" in refused.content[0].text, refused.content[0].text
    assert not proposed.is_error, proposed.content[0].text
    price = ChangeRequest.objects.get().proposed_document["items"][0]["price"]
    assert str(price) in ("35.5", "35.50")


def _tool_call(client, name: str, arguments: str, language: str) -> str:
    """The text of a tools/call answer through the portal's /mcp/, `arguments` as raw JSON."""
    body = ('{"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "%s", "arguments": %s}}'
            % (name, arguments))
    answer = client.post("/mcp/", body, content_type="application/json", HTTP_ACCEPT_LANGUAGE=language,
                         headers={"mcp-protocol-version": "2025-06-18"})
    assert answer.status_code == 200, answer.content
    result = answer.json()["result"]
    assert result["isError"], result
    return result["content"][0]["text"].removeprefix(f"Error executing tool {name}: ")


def test_a_refused_call_says_why_in_the_clients_language_and_changes_nothing(company, accountant):
    """NaN for an amount, an id no row can have, a patch of the wrong shape: each a named refusal
    in the language asked for (before: the SDK's bare "Error executing tool", or Spanish to all)."""
    from django.test import Client as HttpClient

    from audit.models import AuditEntry

    mirror_catalogue(company)
    invoice = make_invoice(company)
    secret = token_for(accountant, company, "invoices:read,findings:read,requests:write")
    client = HttpClient(HTTP_AUTHORIZATION=f"Bearer {secret}", **MCP_HEADERS)
    before = AuditEntry.objects.count()
    nan = '{"invoice_id": %d, "reason": "Precio", "lines": [{"index": 0, "set": {"price": NaN}}]}' % invoice.pk
    assert _tool_call(client, "propose_correction", nan, "en").startswith("invalid_number: NaN and Infinity")
    assert _tool_call(client, "propose_correction", nan, "es").startswith("invalid_number: NaN e Infinity")
    shape = '{"invoice_id": %d, "reason": "Precio", "lines": [{"index": -1, "set": {"price": "5"}}]}' % invoice.pk
    assert _tool_call(client, "propose_correction", shape, "en") == \
        "invalid_input: lines.0.index: Enter a value of at least 0."
    for tool, argument in (("get_invoice", "invoice_id"), ("explain_finding", "finding_id"),
                           ("request_status", "request_id")):
        huge = _tool_call(client, tool, '{"%s": 99999999999999999999}' % argument, "en")
        assert argument in huge and "99999999999999999999" in huge, huge
    assert _tool_call(client, "search_invoices", '{"cursor": "abc"}', "en") == \
        "invalid_cursor: The cursor is not one this API gave out."
    assert _tool_call(client, "get_invoice", '{"invoice_id": %d}' % (invoice.pk + 1000), "es") == \
        "not_found: No existe ese recurso en la empresa de este token."
    assert _tool_call(client, "get_invoice", '{"invoice_id": %d}' % (invoice.pk + 1000), "en") == \
        "not_found: No such resource in this token's company."
    assert not ChangeRequest.objects.exists() and AuditEntry.objects.count() == before


def test_the_standalone_http_server_speaks_the_language_the_client_asks_for():
    from api.mcp_server import language_of

    assert language_of("es-CO,es;q=0.9,en;q=0.5") == "es"
    assert language_of("en-US,en;q=0.9") == "en"
    assert language_of("fr-FR") == "" and language_of("") == ""
