"""Webhook delivery, as Alegra does it.

Events are sent after the database transaction commits, one POST per matching
subscription, each with a 5 s timeout. A non-2xx answer or a network error is a
failure; after 10 failures in a row the subscription is deleted.

The HTTP client comes from a module-level factory so tests can deliver through
`httpx.WSGITransport` into the same Django app (`set_client_factory`).

Unlike Alegra, the simulator only ever calls the hosts in SANDBOX_WEBHOOK_ALLOWED_HOSTS (by
default the portal's own): a subscription cannot turn it into a way to reach other addresses.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from functools import partial
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.db import close_old_connections, transaction
from django.db.models import F

from .models import SandboxWebhookSubscription

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5.0
MAX_CONSECUTIVE_FAILURES = 10
EVENTS = {f"{verb}-{thing}" for verb in ("new", "edit", "delete")
          for thing in ("invoice", "bill", "client", "item")}


def _default_client() -> httpx.Client:
    return httpx.Client(timeout=TIMEOUT_SECONDS)


_client_factory: Callable[[], httpx.Client] = _default_client


def set_client_factory(factory: Callable[[], httpx.Client]) -> None:
    global _client_factory
    _client_factory = factory


def reset_client_factory() -> None:
    set_client_factory(_default_client)


def queue_event(account_id: int, subject: str, message: dict) -> None:
    """Deliver `subject` once the current transaction commits (never for a rolled-back write)."""
    transaction.on_commit(partial(_dispatch, account_id, subject, message))


def _dispatch(account_id: int, subject: str, message: dict) -> None:
    if getattr(settings, "SANDBOX_WEBHOOKS_IN_THREAD", False):
        # Lets a single process both answer the API call and receive the webhook.
        threading.Thread(target=_deliver_in_thread, args=(account_id, subject, message),
                         daemon=True).start()
    else:
        deliver_event(account_id, subject, message)


def _deliver_in_thread(account_id: int, subject: str, message: dict) -> None:
    try:
        deliver_event(account_id, subject, message)
    finally:
        close_old_connections()


def deliver_event(account_id: int, subject: str, message: dict) -> int:
    """POST the event to every subscription of the account; returns how many answered 2xx."""
    subscriptions = list(SandboxWebhookSubscription.objects.filter(account_id=account_id, event=subject))
    if not subscriptions:
        return 0
    body = json.dumps({"subject": subject, "message": message}, ensure_ascii=False).encode()
    delivered = 0
    with _client_factory() as client:
        for subscription in subscriptions:
            ok = post(client, subscription.url, body)
            _record(subscription, ok)
            delivered += ok
    return delivered


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _host_and_port(scheme: str, netloc: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if not parts.hostname or port is None:
        return None
    return parts.hostname.lower(), port


def allowed(url: str) -> bool:
    """Whether the URL's host and port are in the allow-list ("host" means the scheme's default port)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    target = _host_and_port(parts.scheme, parts.netloc.rpartition("@")[2])
    if target is None:
        return False
    entries = getattr(settings, "SANDBOX_WEBHOOK_ALLOWED_HOSTS", [])
    return any(_host_and_port(parts.scheme, entry) == target for entry in entries)


def post(client: httpx.Client, url: str, body: bytes) -> bool:
    if not allowed(url):
        log.warning("webhook to %s not sent: host not in SANDBOX_WEBHOOK_ALLOWED_HOSTS", _safe(url))
        return False
    try:
        response = client.post(url, content=body, timeout=TIMEOUT_SECONDS,
                               headers={"Content-Type": "application/json"})
    except httpx.HTTPError as exc:
        log.info("webhook to %s failed: %s", _safe(url), type(exc).__name__)
        return False
    return 200 <= response.status_code < 300


def probe(url: str) -> bool:
    """What Alegra does on subscribing: an empty POST that must answer 2xx."""
    with _client_factory() as client:
        return post(client, url, b"")


def _record(subscription: SandboxWebhookSubscription, ok: bool) -> None:
    rows = SandboxWebhookSubscription.objects.filter(pk=subscription.pk)
    if ok:
        rows.update(consecutive_failures=0, deliveries=F("deliveries") + 1)
        return
    rows.update(consecutive_failures=F("consecutive_failures") + 1)
    deleted, _ = rows.filter(consecutive_failures__gte=MAX_CONSECUTIVE_FAILURES).delete()
    if deleted:
        log.info("webhook subscription %s deleted after %s failures", subscription.pk,
                 MAX_CONSECUTIVE_FAILURES)


def _safe(url: str) -> str:
    """The URL without its path: receivers put secret tokens there."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return "(invalid URL)"
    return f"{parsed.scheme}://{parsed.host}"
