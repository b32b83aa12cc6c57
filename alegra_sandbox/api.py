"""What every API endpoint does around its own work.

Basic auth → rate limit → injected faults → the view → Alegra-style headers and
a request log row. Views receive the authenticated account and return plain
data; refusals are raised as SandboxError.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import socket

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from . import ratelimit
from .errors import Code, SandboxConnectionDropped, SandboxError
from .models import SandboxRequestLog
from .services.accounts import account_for_credentials
from .services.faults import fault_draw
from .validation import parse_json_body

# Recorded: Alegra sends JSON labelled as HTML.
CONTENT_TYPE = "text/html; charset=UTF-8"


def json_response(data, status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(data, ensure_ascii=False), status=status, content_type=CONTENT_TYPE)


def error_response(error: SandboxError) -> HttpResponse:
    if error.status == 404:
        # Alegra's errors have no single shape; 404s have been seen as {"error", "code"}.
        return json_response({"error": error.message, "code": error.code}, error.status)
    return json_response({"code": error.code, "message": error.message}, error.status)


def dropped_response(request) -> StreamingHttpResponse:
    """A response that breaks before anything is sent.

    Under `alegra_sandbox.testing.SandboxTransport` the exception becomes
    httpx.RemoteProtocolError. Under a real server the socket is shut down
    first (found through gunicorn's environ key or the runserver input
    stream), so the client sees the connection close without an answer.
    """
    environ = request.META

    def body():
        _shut_socket(environ)
        raise SandboxConnectionDropped("conexión interrumpida por el sandbox")
        yield b""  # a generator, so nothing runs until the server starts sending

    return StreamingHttpResponse(body(), content_type=CONTENT_TYPE)


def _shut_socket(environ) -> None:
    sock = environ.get("gunicorn.socket")
    if sock is None:
        # runserver: wsgi.input is a LimitedStream over the socket's buffered reader.
        reader = getattr(getattr(environ.get("wsgi.input"), "_read", None), "__self__", None)
        sock = getattr(getattr(reader, "raw", None), "_sock", None)
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def credentials(request) -> tuple[str, str] | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic" or not encoded:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    email, sep, token = decoded.partition(":")
    return (email, token) if sep and email and token else None


def endpoint(*methods: str):
    """Wrap a view `view(request, account, **kwargs)` returning data or (data, status)."""

    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        def run(request, **kwargs):
            given = credentials(request)
            account = account_for_credentials(*given) if given else None
            if account is None:
                response = error_response(SandboxError(
                    401, Code.UNAUTHORIZED,
                    "No se pudo autenticar: el usuario o el token de la API no son válidos."))
                for name, value in ratelimit.unauthenticated_headers().items():
                    response[name] = value
                return response

            budget = ratelimit.count_request(account)
            if budget.exceeded:
                response = error_response(SandboxError(
                    429, Code.RATE_LIMITED,
                    "Has superado el límite de peticiones por minuto. Espera unos segundos e "
                    "intenta de nuevo."))
            else:
                response = _run_with_faults(view, request, account, methods, kwargs)
            for name, value in budget.headers().items():
                response[name] = value
            status = 0 if isinstance(response, StreamingHttpResponse) else response.status_code
            SandboxRequestLog.objects.create(account=account, method=request.method[:10],
                                             path=request.path[:500], status=status)
            return response

        return run

    return decorate


def _run_with_faults(view, request, account, methods, kwargs):
    fault = fault_draw(account)
    if fault.drop_before:
        return dropped_response(request)
    if fault.status:
        return error_response(SandboxError(
            fault.status, fault.status,
            "Error interno del servidor." if fault.status == 500
            else "El servicio no está disponible temporalmente. Intenta más tarde."))
    if request.method not in methods:
        response = json_response({"code": Code.METHOD_NOT_ALLOWED,
                                  "message": "Método no permitido para este recurso."}, 405)
        response["Allow"] = ", ".join(methods)
        return response
    try:
        result = view(request, account, **kwargs)
    except SandboxError as error:
        response = error_response(error)
    else:
        data, status = result if isinstance(result, tuple) else (result, 200)
        response = json_response(data, status)
    return dropped_response(request) if fault.drop_after else response


def body_of(request, *, required: bool = True):
    try:
        raw = request.body
    except RequestDataTooBig:
        raise SandboxError(413, Code.INVALID_VALUE, "El cuerpo de la petición es demasiado grande.") from None
    return parse_json_body(raw, required=required)
