"""Why something happened, as a code and its parameters: stored as data, told in words on display.

A service that writes a version says why with `reason("request.submitted")` or
`reason("push.failed", status=400, message=...)`; that text is what the history row keeps
(simple-history's change reason). The audit recorder reads the code, never the words. A page,
an export or an e-mail renders it with `describe`, in its reader's language, from the messages
each app registers for its own codes at start-up (`register`).

Reasons written before codes existed are plain text; `describe` shows them as they are.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

Message = Promise | Callable[[Mapping[str, Any]], str]
_messages: dict[str, Message] = {}
# How a parameter is told, by its name, in every message that has it (a default policy's name
# in the reader's language, for one).
_param_renderers: dict[str, Callable[[Any], str]] = {}


@dataclass(frozen=True)
class Reason:
    code: str
    params: dict = field(default_factory=dict)
    legacy: str = ""  # free text of a row written before codes existed


@dataclass(frozen=True)
class Via:
    """A write made through a personal API token: who holds it is the user; the token is named too.

    Services take `via=` and add `via_params(via)` to every reason they write, so the history
    and the audit trail say "… via token 'ERP nightly'". `agent` marks a token an AI agent uses.
    """

    token_id: int
    name: str
    agent: bool = False


def via_params(via: Via | None) -> dict[str, Any]:
    """The reason parameters naming the token (none for a person at a screen)."""
    if via is None:
        return {}
    params: dict[str, Any] = {"via_token": via.name, "via_token_id": via.token_id}
    if via.agent:
        params["via_agent"] = True
    return params


VIA_TOKEN = _("via token '%(name)s'")


def reason(code: str, /, **params: Any) -> str:
    """The stored form: compact JSON, parameters as plain values (no None)."""
    body: dict[str, Any] = {"code": code}
    kept = {key: value for key, value in params.items() if value is not None}
    if kept:
        body["params"] = kept
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def parse(text: str | None) -> Reason:
    text = (text or "").strip()
    if text.startswith("{"):
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("code"), str):
            params = body.get("params")
            return Reason(body["code"], params if isinstance(params, dict) else {})
    return Reason("", {}, legacy=text)


def code_of(text: str | None) -> str:
    return parse(text).code


def register(messages: Mapping[str, Message]) -> None:
    """An app's words for its codes: a lazy string with %(param)s, or a function of the params."""
    _messages.update(messages)


def register_params(renderers: Mapping[str, Callable[[Any], str]]) -> None:
    """Words for a parameter wherever it appears: `register_params({"policy": policy_label})`."""
    _param_renderers.update(renderers)


def describe(text: str | None) -> str:
    """The reason in the active language ("" for none)."""
    found = parse(text)
    if not found.code:
        return found.legacy
    told = _told(found)
    token = found.params.get("via_token")
    if token:
        return f"{told} {str(VIA_TOKEN) % {'name': token}}".strip()
    return told


def _told(found: Reason) -> str:
    message = _messages.get(found.code)
    if message is None:
        return found.code
    if callable(message) and not isinstance(message, Promise):
        return message(found.params)
    try:
        return str(message) % _Params(found.params)
    except (TypeError, ValueError):
        return str(message)


class _Params(dict):
    """Parameters as text; one a message names but the reason lacks reads as nothing."""

    def __init__(self, params: Mapping[str, Any]):
        super().__init__({key: _param_renderers[key](value) if key in _param_renderers else _shown(value)
                          for key, value in params.items()})

    def __missing__(self, key: str) -> str:
        return ""


def _shown(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    return str(value)
