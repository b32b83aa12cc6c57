"""Webhook subscriptions: HTTPS only, one per event and URL, probed on creation."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db import IntegrityError, transaction

from .. import delivery
from ..errors import Code, bad_request, not_found
from ..models import SandboxAccount, SandboxWebhookSubscription
from ..validation import require_object

# Plain http is accepted only for hosts that cannot be reached from outside anyway.
LOCAL_HOSTS = {"localhost", "127.0.0.1", "testserver"}


def subscription_document(subscription: SandboxWebhookSubscription) -> dict:
    return {"id": str(subscription.pk), "event": subscription.event, "url": subscription.url,
            "status": "active"}


def subscription_list(account: SandboxAccount) -> dict:
    rows = SandboxWebhookSubscription.objects.filter(account=account).order_by("pk")
    return {"subscriptions": [subscription_document(s) for s in rows]}


def _get(account: SandboxAccount, subscription_id) -> SandboxWebhookSubscription:
    text = str(subscription_id)
    row = None
    if text.isdigit() and len(text) < 16:
        row = SandboxWebhookSubscription.objects.filter(account=account, pk=int(text)).first()
    if row is None:
        raise not_found(f"La suscripción con id {subscription_id} no existe.")
    return row


def subscription_get(account: SandboxAccount, subscription_id) -> dict:
    return {"subscription": subscription_document(_get(account, subscription_id))}


def _clean(body) -> tuple[str, str]:
    body = require_object(body)
    event, url = body.get("event"), body.get("url")
    if event not in delivery.EVENTS:
        raise bad_request(Code.INVALID_VALUE,
                          f"El evento no es válido. Eventos permitidos: {', '.join(sorted(delivery.EVENTS))}.")
    if not isinstance(url, str) or len(url) > 1000:
        raise bad_request(Code.INVALID_VALUE, "La URL de la suscripción no es válida.")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise bad_request(Code.INVALID_VALUE, "La URL de la suscripción no es válida.")
    if parts.scheme != "https" and parts.hostname not in LOCAL_HOSTS:
        raise bad_request(Code.INSECURE_URL, "La URL de la suscripción debe usar HTTPS.")
    if not delivery.allowed(url):
        raise bad_request(Code.URL_NOT_ALLOWED, "La URL de la suscripción no está permitida.")
    return event, url


def _refuse_duplicate(account, event: str, url: str, exclude_pk=None) -> None:
    rows = SandboxWebhookSubscription.objects.filter(account=account, event=event, url=url)
    if exclude_pk is not None:
        rows = rows.exclude(pk=exclude_pk)
    if rows.exists():
        raise bad_request(Code.DUPLICATE_SUBSCRIPTION,
                          "Ya existe una suscripción para ese evento y esa URL.")


def _probe(url: str) -> None:
    if not delivery.probe(url):
        raise bad_request(Code.URL_UNREACHABLE,
                          "La URL no respondió correctamente (se esperaba un código 2xx en menos de 5 segundos).")


def subscription_create(account: SandboxAccount, body) -> dict:
    event, url = _clean(body)
    _refuse_duplicate(account, event, url)
    # The probe runs outside any transaction: its receiver may be this same app.
    _probe(url)
    try:
        with transaction.atomic():
            row = SandboxWebhookSubscription.objects.create(account=account, event=event, url=url)
    except IntegrityError:  # the same subscription was created meanwhile
        _refuse_duplicate(account, event, url)
        raise
    return {"subscription": subscription_document(row)}


def subscription_update(account: SandboxAccount, subscription_id, body) -> dict:
    row = _get(account, subscription_id)
    event, url = _clean(body)
    _refuse_duplicate(account, event, url, exclude_pk=row.pk)
    if url != row.url:
        _probe(url)
    row.event, row.url, row.consecutive_failures = event, url, 0
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        _refuse_duplicate(account, event, url, exclude_pk=row.pk)
        raise
    return {"subscription": subscription_document(row)}


def subscription_delete(account: SandboxAccount, subscription_id) -> dict:
    _get(account, subscription_id).delete()
    return {"code": 200, "message": "La suscripción fue eliminada correctamente."}
