"""The MCP server for AI agents: read invoices and findings, propose corrections, follow them.

Built on the official SDK (`mcp`, its `MCPServer`). Every tool resolves the caller from a
personal API token exactly as the REST API does (scopes, role, rate limit) and calls the same
services; the requests it makes are marked as an agent's (`origin = agent`) and named "via token
'NAME'" in the history. **No tool approves or rejects anything**: an agent's proposal waits in
the approvers' inbox like anyone's.

Served over stdio (`manage.py mcp_server --token-env`, the token read from ENMIENDA_API_TOKEN)
and over streamable HTTP (`manage.py mcp_server --http`, each request authenticated with its
own `Authorization: Bearer` token).
"""

from __future__ import annotations

import contextvars
import copy
from collections.abc import Callable
from typing import Annotated, Any

import pydantic
from django.db import close_old_connections
from django.utils import translation
from django.utils.translation import gettext as _
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from approvals.errors import ApprovalError
from approvals.models import ChangeRequest
from approvals.services.requests import request_save_and_submit
from findings import presenters as finding_presenters
from findings import queries as finding_queries
from findings.models import Finding
from invoices import queries as invoice_queries
from invoices.models import Invoice
from portal import events
from portal.middleware import unstorable_in

from .models import Scope
from .rest import validation
from .rest.core import MAX_ID, Caller, Problem, caller_for_secret, exact
from .rest.findings import finding_body
from .rest.requests import PatchIn, patched, refuse_unusable_numbers, request_body

INSTRUCTIONS = (
    "Enmienda governs corrections of Alegra invoices. You can read invoices and findings and "
    "propose corrections; a person approves or rejects every proposal. Give a clear reason."
)
# The token of the HTTP request being served (set by the HTTP front, read by the tools).
current_secret: contextvars.ContextVar[str] = contextvars.ContextVar("enmienda_mcp_token", default="")
# The language the client asked for (Accept-Language), set beside the token: the tools run
# outside the request's own thread, where the locale middleware activated it.
current_language: contextvars.ContextVar[str] = contextvars.ContextVar("enmienda_mcp_language", default="")
# A record's id: a larger one cannot exist, and SQLite refuses it in a query.
Id = Annotated[int, pydantic.Field(ge=1, le=MAX_ID)]


class ToolRefused(ToolError):
    """What the agent is told when the portal refuses: the rule's code and its message."""


def _plain(value: Any) -> Any:
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def build_server(secret: Callable[[], str] | None = None) -> MCPServer:
    """A server whose tools act for the token `secret()` returns (default: the HTTP request's)."""
    secret = secret or current_secret.get
    server = MCPServer(name="enmienda", instructions=INSTRUCTIONS, version="1")

    def call(scope: str, work: Callable[[Caller], Any], *, given: Any = ()) -> Any:
        """`given`: what the agent sent, refused whole when a text of it cannot be stored."""
        with translation.override(current_language.get() or None):
            return _answered(scope, work, given)

    def _answered(scope: str, work: Callable[[Caller], Any], given: Any) -> Any:
        if unstorable_in(list(given)):
            raise ToolRefused("unstorable_text: " + _("A text of the request contains a NUL character or an "
                                                      "invalid character (a lone surrogate). Nothing was changed."))
        close_old_connections()
        try:
            who = caller_for_secret(secret(), agent=True)
            who.require(scope)
            return _plain(work(who))
        except Problem as exc:
            raise ToolRefused(f"{exc.code}: {exc.detail}") from None
        except ApprovalError as exc:
            raise ToolRefused(f"{exc.code}: {exc.message}") from None
        except pydantic.ValidationError as exc:  # a patch of the wrong shape, told as the REST API tells it
            raise ToolRefused("invalid_input: " + "; ".join(
                f"{'.'.join(str(part) for part in error['loc'])}: {validation.message(error)}"
                for error in exc.errors())) from None
        except (Invoice.DoesNotExist, Finding.DoesNotExist, ChangeRequest.DoesNotExist):
            raise ToolRefused("not_found: " + _("No such resource in this token's company.")) from None
        finally:
            close_old_connections()

    @server.tool(description="Search the company's invoices (number, client name or NIT), newest first.")
    def search_invoices(query: str = "", status: str = "", limit: int = 20, cursor: str = "") -> dict:
        def work(who: Caller):
            data = {"q": query, "status": status, "after": cursor}
            if not invoice_queries.cursor_readable(data):
                raise Problem(400, "invalid_cursor", _("The cursor is not one this API gave out."))
            page = invoice_queries.invoice_page(who.company, data, page_size=max(1, min(limit, 100)))
            return {"count": page.count, "next_cursor": page.next_cursor, "invoices": [
                {"id": i.pk, "number": i.number, "client": i.client_name, "date": i.date, "status": i.status,
                 "total": i.total, "balance": i.balance, "currency": i.currency} for i in page.rows]}
        return call(Scope.INVOICES_READ, work, given=(query, status, cursor))

    @server.tool(description="One invoice with its whole mirrored document (lines, taxes, totals).")
    def get_invoice(invoice_id: Id) -> dict:
        def work(who: Caller):
            invoice = Invoice.objects.get(pk=invoice_id, company_id=who.company.pk)
            return {"id": invoice.pk, "number": invoice.number, "status": invoice.status,
                    "content_hash": invoice.content_hash, "document": invoice.document}
        return call(Scope.INVOICES_READ, work)

    @server.tool(description="Findings (possible mistakes) of the company, or of one invoice.")
    def list_findings(state: str = "open", invoice_id: Id | None = None, limit: int = 20) -> dict:
        def work(who: Caller):
            rows = finding_queries.filtered(who.company.pk, {"state": state})
            if invoice_id is not None:
                rows = rows.filter(invoice_id=invoice_id)
            found = rows.select_related("invoice").order_by("-rank", "-impact", "-id")[:max(1, min(limit, 100))]
            return {"findings": [finding_body(f, who.company.country) for f in found]}
        return call(Scope.FINDINGS_READ, work, given=(state,))

    @server.tool(description="Why a finding was raised, in words and numbers, and the fix it suggests.")
    def explain_finding(finding_id: Id) -> dict:
        def work(who: Caller):
            finding = Finding.objects.select_related("invoice").get(pk=finding_id, company_id=who.company.pk)
            country = who.company.country
            return {"id": finding.pk, "explanation": finding_presenters.explanation(finding, country),
                    "suggestion": finding_presenters.suggestion_text(finding, country),
                    "evidence": finding.evidence, "suggested_change": finding.suggestion}
        return call(Scope.FINDINGS_READ, work)

    @server.tool(description=(
        "Propose a correction of an invoice and submit it for approval by a person. `fields` sets "
        "top-level fields (e.g. {\"dueDate\": \"2026-12-01\"}); `lines` sets values of lines by "
        "0-based index (e.g. [{\"index\": 0, \"set\": {\"price\": \"27647\"}}]). A reason is required. "
        "This never applies the change: it waits for approval."))
    def propose_correction(invoice_id: Id, reason: str, fields: dict | None = None,
                           lines: list[dict] | None = None) -> dict:
        def work(who: Caller):
            invoice = Invoice.objects.select_related("company").get(pk=invoice_id, company_id=who.company.pk)
            # An agent's numbers arrive as JSON's floats: read them exact, as the REST API does.
            patch = PatchIn(fields=exact(fields or {}), lines=exact(lines or []))
            proposed = patched(copy.deepcopy(invoice.document), patch)
            refuse_unusable_numbers(proposed)
            change_request = request_save_and_submit(invoice=invoice, user=who.user, proposed=proposed,
                                                     reason=reason, kind=ChangeRequest.Kind.UPDATE, via=who.via)
            return request_body(ChangeRequest.objects.select_related("requester").get(pk=change_request.pk))
        return call(Scope.REQUESTS_WRITE, work, given=(reason, fields, lines))

    @server.tool(description="The state of a change request: pending, approved, applied, rejected…, "
                             "its approvals and the result of sending it to Alegra.")
    def request_status(request_id: Id) -> dict:
        def work(who: Caller):
            change_request = ChangeRequest.objects.select_related("requester").get(pk=request_id,
                                                                                   company_id=who.company.pk)
            return request_body(change_request)
        return call(Scope.INVOICES_READ, work)

    @server.resource("invoice://{invoice_id}", description="An invoice's mirrored document.")
    def invoice_resource(invoice_id: Id) -> dict:
        return get_invoice(int(invoice_id))

    @server.resource("invoice://{invoice_id}/history", description="Every version of an invoice and why.")
    def invoice_history(invoice_id: Id) -> dict:
        def work(who: Caller):
            invoice = Invoice.objects.get(pk=int(invoice_id), company_id=who.company.pk)
            return {"versions": [
                {"history_id": row["history_id"], "at": row["history_date"],
                 "why": events.describe(row["history_change_reason"]), "content_hash": row["content_hash"],
                 "total": row["total"], "status": row["status"]}
                for row in invoice.history.order_by("-history_id").values(
                    "history_id", "history_date", "history_change_reason", "content_hash", "total", "status")[:100]]}
        return call(Scope.INVOICES_READ, work)

    return server


def bearer(authorization: str) -> str:
    """The token of an `Authorization: Bearer …` header's value; "" for any other."""
    return authorization[7:].strip() if authorization[:7].lower() == "bearer " else ""


def language_of(accept: str) -> str:
    """The portal's language an Accept-Language header asks for first ("" for none of them), as
    Django's locale middleware chooses for a page."""
    from django.utils.translation.trans_real import parse_accept_lang_header

    for code, _quality in parse_accept_lang_header(accept):
        if code == "*":
            break
        try:
            return translation.get_supported_language_variant(code)
        except LookupError:
            continue
    return ""


def http_app(*, host: str = "127.0.0.1"):
    """(server, ASGI app) for streamable HTTP: each request acts with its own bearer token."""
    server = build_server()
    app = server.streamable_http_app(host=host)

    async def authenticated(scope, receive, send):
        # The tools check the token exactly as the REST API does (scopes, role, rate limit).
        headers = dict(scope.get("headers") or [])
        token = current_secret.set(bearer(headers.get(b"authorization", b"").decode("latin-1")))
        spoken = current_language.set(language_of(headers.get(b"accept-language", b"").decode("latin-1")))
        try:
            await app(scope, receive, send)
        finally:
            current_secret.reset(token)
            current_language.reset(spoken)

    return server, authenticated
