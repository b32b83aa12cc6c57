"""Log lines: redacted always, one JSON object per line in production, with request context.

Nothing secret may reach a log: Alegra tokens (Basic credentials), bearer tokens, passwords,
and the secret part of webhook URLs (`/hooks/alegra/<company>/<secret>/`), which Django's
own 404 warnings and the servers' access lines would otherwise print.

Every line written while a request or a task runs carries its context (request id, user,
company, or the task's id and name), kept in a context variable set by
`portal.middleware.RequestContextMiddleware` and by the Celery signals in `portal.celery`.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
from datetime import datetime, timezone

from django.utils.functional import LazyObject, empty

_WEBHOOK_PATH = re.compile(r"(/hooks/alegra/[^/\s]+/)[^/\s?#\"']+")
_BASIC = re.compile(r"(Basic\s+)[A-Za-z0-9+/=]+", re.IGNORECASE)
_BEARER = re.compile(r"(Bearer\s+)[^\s\"',]+", re.IGNORECASE)
_TOKEN_KV = re.compile(r"((?:token|password|secret|authorization)\W{0,3}[:=]\s*)[^\s\"',&]+", re.IGNORECASE)

# What a request or task is doing, for every line it writes.
log_context: contextvars.ContextVar[dict | None] = contextvars.ContextVar("enmienda_log_context", default=None)

# Fields a record may carry (logger.info(..., extra={...})) that belong on the JSON line.
EXTRA_FIELDS = ("method", "path", "status", "duration_ms", "task_id", "task", "queue")


def redact(text: str) -> str:
    text = _WEBHOOK_PATH.sub(r"\1[redacted]", text)
    text = _BASIC.sub(r"\1[redacted]", text)
    text = _BEARER.sub(r"\1[redacted]", text)
    return _TOKEN_KV.sub(r"\1[redacted]", text)


class RedactSecretsFilter(logging.Filter):
    """Rewrites the message of a record before any handler (ours or a library's) formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def context_fields() -> dict:
    """Request id, user and company of the request (or task) running now, where known."""
    context = log_context.get()
    if not context:
        return {}
    fields = {key: value for key, value in context.items() if key != "request" and value is not None}
    user_id = _loaded_user_id(context.get("request"))
    if user_id is not None:
        fields["user_id"] = user_id
    return fields


def _loaded_user_id(request) -> int | None:
    """The user of the request if the request already loaded it: logging costs no query."""
    user = getattr(request, "user", None) if request is not None else None
    if issubclass(type(user), LazyObject):
        if user._wrapped is empty:
            return None
        user = user._wrapped
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return user.pk


class TextFormatter(logging.Formatter):
    """`time level logger [request] message`, redacted as a whole line."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(context)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        fields = context_fields()
        record.context = (" [" + " ".join(f"{k}={v}" for k, v in fields.items()) + "]") if fields else ""
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line; every string is redacted before it is serialised."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(context_fields())
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(_redacted(entry), ensure_ascii=False, default=str)


def _redacted(value):
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    return value
