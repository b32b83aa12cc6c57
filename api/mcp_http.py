"""MCP over streamable HTTP at the portal's own address (`/mcp/`), in the portal's process.

The portal is a WSGI application; the SDK's transport is an ASGI one. Each POST is handed to a
stateless session manager (a fresh one per request: no session lives between requests, so any
web process can answer any request) with JSON answers instead of event streams, and the answer
is returned as the view's response. The caller is the bearer token of that request, checked
here first (401 without a usable one) and by every tool again (scopes, role, rate limit),
exactly as the REST API does.

Django already validates the Host header (ALLOWED_HOSTS), and the endpoint accepts no cookie,
only a bearer token, so the SDK's own DNS-rebinding check is not needed in front of it.
"""

from __future__ import annotations

import functools
from typing import Any

import anyio
from asgiref.sync import async_to_sync
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from mcp.server.mcpserver import MCPServer
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings

from . import services
from .mcp_server import bearer, build_server, current_language, current_secret
from .rest.core import problem

MAX_BODY_BYTES = 1_000_000


@functools.cache
def _server() -> MCPServer:
    # The tools are registered once per process; each call reads its own request's token.
    return build_server()


@csrf_exempt
def endpoint(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        # Stateless: no server-initiated stream to open (GET) and no session to end (DELETE).
        response = problem(405, "method_not_allowed", _("Send MCP messages with POST."))
        response["Allow"] = "POST"
        return response
    secret = bearer(request.headers.get("Authorization", ""))
    token = services.token_for_secret(secret)
    if token is None:
        return problem(401, "invalid_token", _("Send a token: Authorization: Bearer enm_…"),
                       headers={"WWW-Authenticate": "Bearer"})
    # simple-history's middleware records the request's user as the history user, as in the REST API.
    request.user = token.user
    if len(request.body) > MAX_BODY_BYTES:
        return problem(413, "too_large", _("The message is too large."))
    status, headers, body = async_to_sync(_serve)(_scope(request), request.body, secret,
                                                  translation.get_language())
    response = HttpResponse(body, status=status)
    for name, value in headers:
        if name.lower() not in {"content-length", "connection", "transfer-encoding"}:
            response[name] = value
    return response


def _scope(request: HttpRequest) -> dict[str, Any]:
    headers = [(name.lower().encode("latin-1"), value.encode("latin-1", "replace"))
               for name, value in request.headers.items()]
    port = int(request.get_port() or 80)
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": request.scheme, "path": request.path, "raw_path": request.path.encode(),
            "query_string": request.META.get("QUERY_STRING", "").encode("latin-1", "replace"),
            "root_path": "", "headers": headers, "server": (request.get_host().split(":")[0], port),
            "client": (request.META.get("REMOTE_ADDR") or "0.0.0.0", 0)}


async def _serve(scope: dict[str, Any], body: bytes, secret: str,
                 language: str) -> tuple[int, list[tuple[str, str]], bytes]:
    manager = StreamableHTTPSessionManager(
        app=_server()._lowlevel_server, json_response=True, stateless=True,
        security_settings=TransportSecuritySettings(enable_dns_rebinding_protection=False))
    answer: dict[str, Any] = {"status": 500, "headers": [], "body": []}
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:
            # The client stays connected until the answer is sent (a disconnect would cancel it).
            await anyio.sleep_forever()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
            answer["headers"] = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])]
        elif message["type"] == "http.response.body":
            answer["body"].append(message.get("body", b""))

    token, spoken = current_secret.set(secret), current_language.set(language)
    try:
        async with manager.run():
            await manager.handle_request(scope, receive, send)
    finally:
        current_secret.reset(token)
        current_language.reset(spoken)
    return answer["status"], answer["headers"], b"".join(answer["body"])
