"""Every request gets an id, a context for its log lines, and one access line when it ends;
input no column can store and no encoder can write is refused before any view sees it."""

from __future__ import annotations

import logging
import re
import time
import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext as _

from . import formats
from .logging import log_context

log = logging.getLogger("portal.request")

# An id from the proxy is kept when it looks like one (so lines of both can be joined);
# anything else is replaced, never logged as sent.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,100}$")
# Probes and static files every few seconds would bury the lines that matter.
_QUIET_PATHS = ("/health/",)


def request_id_from(request: HttpRequest) -> str:
    sent = request.headers.get("X-Request-ID", "")
    return sent if _REQUEST_ID.match(sent) else uuid.uuid4().hex


class RequestContextMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.monotonic()
        request.request_id = request_id_from(request)
        formats.set_current_country(None)  # the view sets the company's once it knows it
        token = log_context.set({"request_id": request.request_id, "request": request})
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request.request_id
            self._log(request, response.status_code, started)
            return response
        finally:
            log_context.reset(token)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        company_id = view_kwargs.get("company_id")
        context = log_context.get()
        if company_id is not None and context is not None:
            context["company_id"] = company_id

    def _log(self, request: HttpRequest, status: int, started: float) -> None:
        duration_ms = round((time.monotonic() - started) * 1000, 1)
        quiet = request.path.startswith(self.static_prefix) or request.path in _QUIET_PATHS
        log.log(logging.DEBUG if quiet else logging.INFO, "%s %s %s %.0f ms", request.method, request.path,
                status, duration_ms,
                extra={"method": request.method, "path": request.path, "status": status, "duration_ms": duration_ms})


# --- input that cannot be stored ---------------------------------------------------------
# PostgreSQL text refuses NUL characters (a 500 deep in a service otherwise), and a lone UTF-16
# surrogate cannot be encoded to UTF-8 at all. Both are refused once, here, for every form and
# endpoint: a 400 that says what is wrong, and nothing is changed.

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable(request) -> bool:
    texts = [request.path_info]
    for data in (request.GET, request.POST, request.FILES):
        for key, values in data.lists():
            texts.append(key)
            texts.extend(text for text in (getattr(value, "name", value) for value in values) if isinstance(text, str))
    # One search over everything (a line break is neither a NUL nor a surrogate): a 500-line edit
    # posts 4,500 fields, and a search per field cost twice as much.
    return UNSTORABLE.search("\n".join(texts)) is not None


def unstorable_in(value) -> bool:
    """Whether a parsed JSON value (an API's body) holds such a text, in a key or a value."""
    if isinstance(value, str):
        return UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(unstorable_in(key) or unstorable_in(item) for key, item in value.items())
    if isinstance(value, list):
        return any(unstorable_in(item) for item in value)
    return False


class RefuseUnstorableInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _unstorable(request):
            return HttpResponseBadRequest(
                _("The request was refused: one of its values contains a NUL character or an invalid "
                  "character (a lone surrogate). Nothing was changed."),
                content_type="text/plain; charset=utf-8")
        return self.get_response(request)
