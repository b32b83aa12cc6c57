"""What travels on the wire to and from Alegra: its errors, its bodies, its lists and its limits'
headers, independent of how a request is made (the client is invoices.alegra)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple
from urllib.parse import quote

import httpx

from .documents.references import alegra_id

MAX_PAGE_SIZE = 30  # Alegra answers an error above 30.
IDEMPOTENT_METHODS = frozenset({"GET", "PUT", "DELETE", "HEAD"})
PERMANENT_STATUSES = frozenset({400, 401, 402, 403, 404, 405, 406})

# Transport failures that happen before a single byte of the request left: even
# a POST may be retried after them.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


# --- errors --------------------------------------------------------------------


class AlegraError(Exception):
    """Any failure talking to Alegra.

    `transient` failures may succeed later unchanged (429, 5xx, timeouts, lost
    connections, a garbled 2xx body); `permanent` ones need a change first
    (bad data, credentials, plan, role, missing resource).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        transient: bool | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.transient = _is_transient(status) if transient is None else transient
        self.method = method
        self.path = path
        super().__init__(str(self))

    @property
    def permanent(self) -> bool:
        return not self.transient

    def __str__(self) -> str:
        where = f" [{self.method} {self.path}]" if self.method and self.path else ""
        what = f"HTTP {self.status}" if self.status is not None else "no answer"
        code = f", code {self.code}" if self.code else ""
        return f"Alegra: {what}{code}: {self.message}{where}"

    def __repr__(self) -> str:
        return f"AlegraError(status={self.status!r}, code={self.code!r}, message={self.message!r})"

    def __reduce__(self) -> tuple:
        # Keyword-only fields survive pickling (Celery hands errors between processes).
        return (_restore_error, (self.message, self.status, self.code, self.transient, self.method, self.path))


def _restore_error(message: str, status: int | None, code: str | None, transient: bool,
                   method: str | None, path: str | None) -> AlegraError:
    return AlegraError(message, status=status, code=code, transient=transient, method=method, path=path)


def _is_transient(status: int | None) -> bool:
    if status is None:
        return True
    return status in (408, 429) or status >= 500


# --- bodies ---------------------------------------------------------------


def loads(text: str) -> Any:
    """Parse an Alegra body: every non-integer number becomes a Decimal."""
    return json.loads(text, parse_float=Decimal)


def dumps(value: Any) -> str:
    """JSON with Decimals written as exact numbers (the json module cannot)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot send {value!r} to Alegra")
        return str(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    if isinstance(value, (date, datetime)):
        return json.dumps(value.isoformat())
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


class Page(NamedTuple):
    """One page of a list: its offset, the total Alegra reported (None if it did not), the docs."""

    start: int
    total: int | None
    items: list[dict]


def unwrap_list(body: Any) -> tuple[list, int | None]:
    """Accept a bare array, `{"metadata": {"total"}, "data"}` or `{"total", "results"}`."""
    if isinstance(body, list):
        return body, None
    if isinstance(body, dict):
        for key in ("data", "results"):
            if isinstance(body.get(key), list):
                meta = body.get("metadata")
                total = meta.get("total") if isinstance(meta, dict) else None
                if total is None:
                    total = body.get("total")
                return body[key], as_int(total)
    raise AlegraError("la respuesta no es una lista", status=200, transient=False)


def as_int(value: Any) -> int | None:
    try:
        return None if value is None or value == "" else int(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None


def error_fields(body: Any) -> tuple[str | None, str | None]:
    """(code, message) from any of the error shapes Alegra has been seen to use."""
    if not isinstance(body, dict):
        return None, None
    code = body.get("code")
    error = body.get("error")
    message: Any = body.get("message")
    if isinstance(error, dict):
        code = error.get("code", code)
        message = error.get("message", message)
    elif isinstance(error, str) and error:
        message = error
    if message is not None and not isinstance(message, str):
        message = json.dumps(message, ensure_ascii=False, default=str)
    return _code_text(code), message


def _code_text(code: Any) -> str | None:
    if code is None or code == "":
        return None
    if isinstance(code, Decimal) and code == int(code):
        return str(int(code))
    return str(code).strip()


def query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value

def segment(value: Any) -> str:
    """An id as one safe path segment."""
    return quote(alegra_id(value), safe="")


def reset_seconds(raw: str | None) -> float | None:
    """X-Rate-Limit-Reset in seconds; 0 and negatives (recorded: -2) mean "about now": 1 s."""
    if raw is None or not str(raw).strip():
        return None
    try:
        seconds = float(raw)
    except ValueError:
        return None
    return max(1.0, seconds)
