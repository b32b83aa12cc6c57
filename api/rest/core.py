"""The REST API's frame: token authentication, scopes, problem details, idempotent POSTs.

Errors follow RFC 9457 (application/problem+json): `type`, `title`, `status`, `detail`, plus
`code` (the same business-rule code the screens use) and `errors` (one per field), in the
language the client asks for with Accept-Language (es or en).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer

from approvals.errors import ApprovalError
from findings.services import FindingRefused
from portal.events import Via
from portal.middleware import unstorable_in
from portal.models import Company

from .. import services
from ..models import ApiToken
from . import validation

PROBLEM = "application/problem+json"
MAX_PAGE = 100


class Problem(Exception):
    def __init__(self, status: int, code: str, detail: str, *, errors: list[dict] | None = None,
                 headers: dict[str, str] | None = None):
        self.status, self.code, self.detail = status, code, detail
        self.errors, self.headers = errors or [], headers or {}
        super().__init__(detail)


def problem(status: int, code: str, detail: str, errors: list[dict] | None = None,
            headers: dict[str, str] | None = None) -> HttpResponse:
    body = {"type": f"urn:enmienda:problem:{code}", "title": _title(status), "status": status,
            "detail": detail, "code": code}
    if errors:
        body["errors"] = errors
    response = HttpResponse(json.dumps(body, ensure_ascii=False), status=status, content_type=PROBLEM)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def _title(status: int) -> str:
    return {400: _("Bad request"), 401: _("Not authenticated"), 403: _("Not allowed"), 404: _("Not found"),
            409: _("Conflict"), 422: _("Refused by a rule"), 429: _("Too many requests")}.get(status, _("Error"))


@dataclass(frozen=True)
class Caller:
    """Who is calling: the token, its user and company, and what the token may do right now."""

    token: ApiToken
    role: str
    scopes: frozenset[str]
    agent: bool = False

    @property
    def user(self):
        return self.token.user

    @property
    def company(self) -> Company:
        return self.token.company

    @property
    def via(self) -> Via:
        return services.via(self.token, agent=self.agent)

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise Problem(403, "scope_missing", _("This token lacks the scope %(scope)s (or its user's role no "
                                                  "longer allows it).") % {"scope": scope})


def caller_for_secret(secret: str, *, agent: bool = False) -> Caller:
    """The caller a token secret stands for; Problem 401/429 when it cannot be used now."""
    token = services.token_for_secret(secret or "")
    role = services.role_of(token.user, token.company_id) if token is not None else None
    if token is None or role is None:
        raise Problem(401, "invalid_token", _("The token is unknown, revoked or expired."),
                      headers={"WWW-Authenticate": "Bearer"})
    wait = services.token_use(token=token, limit=settings.API_RATE_LIMIT_PER_MINUTE)
    if wait is not None:
        raise Problem(429, "rate_limited", _("Too many requests with this token: wait %(seconds)s seconds.")
                      % {"seconds": wait}, headers={"Retry-After": str(wait)})
    return Caller(token=token, role=role, scopes=services.effective_scopes(token, role),
                  agent=agent or token.for_agent)


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Caller:
        caller = caller_for_secret(token)
        # simple-history's middleware records the request's user as the history user.
        request.user = caller.user
        return caller


# The largest id a row can have (a bigint): a filter beyond it cannot match, and SQLite refuses it.
MAX_ID = 2**63 - 1


def _no_constant(name: str):
    # Python's json reads NaN and Infinity, which JSON has not: as amounts they failed deep in a write.
    raise ValueError(f"{name} is not a JSON number")


def exact(value: Any) -> Any:
    """JSON values with their numbers' decimals exact (Decimal, never float), as bodies are read;
    NaN and Infinity refused."""
    try:
        return json.loads(json.dumps(value), parse_float=Decimal, parse_constant=_no_constant)
    except ValueError:
        raise Problem(422, "invalid_number", _("NaN and Infinity are not numbers: send an amount. "
                                               "Nothing was changed.")) from None


class StorableJson(Parser):
    """JSON bodies read as the portal reads Alegra's (numbers with decimals exact), whose texts
    the database can store: the portal's middleware refuses a NUL or a lone surrogate in a form;
    in a JSON body PostgreSQL refused it deep in a write (a 500)."""

    def parse_body(self, request: HttpRequest):
        # Decimals, never floats, as the Alegra client reads Alegra's answers: 95.5 is exact.
        body = json.loads(request.body, parse_float=Decimal, parse_constant=_no_constant)
        if unstorable_in(body):
            raise Problem(400, "unstorable_text", _("A text of the request contains a NUL character or an "
                                                    "invalid character (a lone surrogate). Nothing was changed."))
        return body


api = NinjaAPI(title="Enmienda API", version="1", urls_namespace="api_v1", docs_url="/docs",
               auth=TokenAuth(), parser=StorableJson(), description=(
                   "Everything a person can read or propose on the portal's screens, for other systems "
                   "and AI agents, through the same rules. Authenticate with a personal token: "
                   "`Authorization: Bearer enm_…`."))


def caller(request: HttpRequest) -> Caller:
    return request.auth  # type: ignore[attr-defined,return-value]


@api.exception_handler(Problem)
def _problem(request, exc: Problem):
    return problem(exc.status, exc.code, exc.detail, exc.errors, exc.headers)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return problem(401, "invalid_token", _("Send a token: Authorization: Bearer enm_…"),
                   headers={"WWW-Authenticate": "Bearer"})


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    errors = [{"field": _field(error.get("loc", ())), "code": error.get("type", "invalid"),
               "message": validation.message(error)} for error in exc.errors]
    return problem(422, "invalid_input", _("The request is not valid: see errors."), errors)


def _field(loc) -> str:
    """A field's path as the client wrote it ("patch.lines.0.index"), without where ninja found it."""
    parts = [str(part) for part in loc[1:]]  # "body", "query" or "path"
    if parts[:1] == ["body"]:  # the handler's parameter name
        parts = parts[1:]
    return ".".join(parts)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return problem(404, "not_found", _("No such resource in this token's company."))


@api.exception_handler(ObjectDoesNotExist)
def _no_object(request, exc):
    return problem(404, "not_found", _("No such resource in this token's company."))


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    # A body the parser refused: ninja says so in English only, whatever the parser found.
    cause = exc.__cause__
    if isinstance(cause, Problem):
        return problem(cause.status, cause.code, cause.detail, cause.errors, cause.headers)
    if isinstance(cause, (ValueError, RecursionError)):
        return problem(400, "invalid_json", _("The body is not valid JSON."))
    return problem(exc.status_code, "bad_request", str(exc))


FORBIDDEN_CODES = {"not_allowed", "own_request", "not_yours"}
CONFLICT_CODES = {"base_changed", "open_request_exists", "not_draft", "not_pending", "not_cancellable",
                  "not_rebasable", "already_decided", "invalid_transition", "not_failed", "not_conflict"}


@api.exception_handler(ApprovalError)
def _refused(request, exc: ApprovalError):
    status = 403 if exc.code in FORBIDDEN_CODES else 409 if exc.code in CONFLICT_CODES else 422
    errors = [{"field": v.field, "code": v.code, "message": str(v.message)} for v in exc.violations]
    return problem(status, exc.code, exc.message, errors)


@api.exception_handler(FindingRefused)
def _finding_refused(request, exc: FindingRefused):
    return problem(422, "finding_refused", str(exc))


@api.exception_handler(services.TokenRefused)
def _token_refused(request, exc: services.TokenRefused):
    return problem(422, exc.code, str(exc), [{"field": exc.field, "code": exc.code, "message": str(exc)}])


# --- keyset cursors and idempotent POSTs ---------------------------------------------------


def encode_cursor(*values) -> str:
    return base64.urlsafe_b64encode(json.dumps([str(v) for v in values]).encode()).decode().rstrip("=")


def decode_cursor(text: str | None) -> list[str] | None:
    if not text:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode()))
    except (ValueError, TypeError):
        values = None
    if not isinstance(values, list) or not all(isinstance(v, str) and "\x00" not in v for v in values):
        raise Problem(400, "invalid_cursor", _("The cursor is not one this API gave out."))
    return values


def cursor_id(text: str | None) -> int | None:
    values = decode_cursor(text)
    if values is None:
        return None
    if len(values) != 1 or not (values[0].isascii() and values[0].isdigit()) or len(values[0]) > 18:
        raise Problem(400, "invalid_cursor", _("The cursor is not one this API gave out."))
    return int(values[0])


def page_size(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise Problem(400, "invalid_limit", _("limit is between 1 and %(max)s.") % {"max": MAX_PAGE})
    return limit


def once(request: HttpRequest, make: Callable[[], tuple[int, dict]]) -> Status:
    """Run a POST once per Idempotency-Key: a retry with the same key gets the first answer."""
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if not key:
        return Status(*make())
    if len(key) > 200 or "\x00" in key:
        raise Problem(400, "invalid_idempotency_key", _("An Idempotency-Key has at most 200 characters."))
    who = caller(request)
    target = f"{request.method} {request.path}"
    found = services.remembered(who.token, key)
    if found is not None:
        if found.target != target:
            raise Problem(422, "idempotency_key_reused",
                          _("This Idempotency-Key was already used for another request."))
        return Status(found.status, found.body)
    status, body = make()
    body = json.loads(json.dumps(body, cls=DjangoJSONEncoder))  # as stored: a retry gets the same text
    services.remember(token=who.token, key=key, target=target, status=status, body=body)
    return Status(status, body)
