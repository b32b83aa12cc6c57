"""Helpers for tests that talk to the sandbox over HTTP without a server.

    account = make_account()
    with httpx.Client(**client_kwargs(account)) as client:
        client.get("/invoices")

`SandboxTransport` runs requests through the WSGI application in-process and
turns the sandbox's dropped connections into `httpx.RemoteProtocolError`, as a
real closed socket would.
"""

from __future__ import annotations

import contextlib
import itertools
import threading

import httpx
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from . import delivery, ratelimit
from .errors import SandboxConnectionDropped
from .models import SandboxAccount

BASE_URL = "http://testserver/sandbox/api/v1"

_numbers = itertools.count(1)
_quiet_lock = threading.Lock()
_quiet_depth = 0


@contextlib.contextmanager
def _connections_kept():
    """Keep Django from closing the DB connection at request start/end.

    A WSGI request normally closes "old" connections; inside a test transaction
    that would close the test's own connection. Django's test client does the
    same disconnecting. Calls nest (a webhook delivered into the same app).
    """
    global _quiet_depth
    with _quiet_lock:
        if _quiet_depth == 0:
            request_started.disconnect(close_old_connections)
            request_finished.disconnect(close_old_connections)
        _quiet_depth += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_depth -= 1
            if _quiet_depth == 0:
                request_started.connect(close_old_connections)
                request_finished.connect(close_old_connections)


def _default_app():
    from portal.wsgi import application

    return application


class SandboxTransport(httpx.WSGITransport):
    """An in-process transport onto `portal.wsgi.application` (or the WSGI app given)."""

    def __init__(self, app=None, **kwargs):
        super().__init__(app=app or _default_app(), **kwargs)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with _connections_kept():
            try:
                response = super().handle_request(request)
                content = b"".join(response.stream)
                response.stream.close()
            except SandboxConnectionDropped:
                raise httpx.RemoteProtocolError(
                    "Server disconnected without sending a complete response.", request=request
                ) from None
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-length"]
        return httpx.Response(response.status_code, headers=headers, content=content, request=request)


def make_account(
    *,
    name: str = "Ferretería Andina S.A.S.",
    email: str | None = None,
    token: str | None = None,
    decimal_precision: int = 2,
    rate_limit_per_minute: int = 150,
    rate_limit_window_seconds: int = 60,
    seed: int | None = 1,
    invoices: int = 0,
    with_catalogue: bool = True,
) -> SandboxAccount:
    """An account with the base catalogue (taxes, price lists, sellers, numbering…);
    `seed` adds 61 items and 25+ clients, `invoices` that many seeded invoices."""
    from .services import account_create
    from .services import seed as seed_account

    n = next(_numbers)
    account = account_create(
        email=email or f"sandbox{n}@example.com",
        token=token or f"sandbox-token-{n}",
        name=name,
        decimal_precision=decimal_precision,
        rate_limit_per_minute=rate_limit_per_minute,
        rate_limit_window_seconds=rate_limit_window_seconds,
        with_catalogue=with_catalogue,
    )
    if seed is not None:
        seed_account(account, seed=seed, invoices=invoices)
        account.refresh_from_db()
    return account


def client_kwargs(account: SandboxAccount, *, app=None) -> dict:
    """Keyword arguments for `httpx.Client(...)` that reach this account of the sandbox."""
    return {"base_url": BASE_URL, "auth": (account.email, account.token),
            "transport": SandboxTransport(app)}


def make_client(account: SandboxAccount, *, app=None, **kwargs) -> httpx.Client:
    return httpx.Client(**client_kwargs(account, app=app), **kwargs)


@contextlib.contextmanager
def deliveries_through(transport: httpx.BaseTransport | None = None):
    """Send webhook deliveries through `transport` (default: into this app via WSGI)."""
    transport = transport or SandboxTransport()
    delivery.set_client_factory(lambda: httpx.Client(transport=transport, timeout=delivery.TIMEOUT_SECONDS))
    try:
        yield
    finally:
        delivery.reset_client_factory()


@contextlib.contextmanager
def frozen_clock(start: float = 1_800_000_000.0):
    """Fix the rate limiter's clock; the yielded function moves it forward by n seconds."""
    now = [start]
    ratelimit.set_clock(lambda: now[0])

    def advance(seconds: float) -> None:
        now[0] += seconds

    try:
        yield advance
    finally:
        ratelimit.reset_clock()
