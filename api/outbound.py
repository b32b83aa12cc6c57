"""Outbound events: from the audit trail to signed deliveries (Standard Webhooks).

Every event the portal records passes through the audit chain; `entries_recorded` (registered
on audit.hooks) turns the ones subscribers care about into `EventDelivery` rows in the same
transaction, so an event that commits is never lost and one that rolls back is never sent.
The worker (`deliver_due`) sends a subscription's deliveries one at a time, oldest first, in
order per invoice: a delivery that fails holds back the later ones of its invoice (events of no
invoice form one line of their own) while other invoices' events go on; it is retried with
exponential backoff, and a subscription still failing after MAX_ATTEMPTS is paused and its
company's managers told. Delivery is at least once: a worker that dies
mid-delivery leaves its row pending (its transaction rolls back) and the next run sends it again.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
import logging
import secrets
import socket
import time
import uuid
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from standardwebhooks import Webhook

from audit.models import Action
from portal.celery import app as celery_app
from portal.models import Membership, Role

from .models import DeliveryAttempt, Event, EventDelivery, EventSubscription

log = logging.getLogger(__name__)
TASK = "api.tasks.deliver_events"
MAX_ATTEMPTS = 8
TIMEOUT_SECONDS = 10.0

EVENT_OF_ACTION = {
    Action.SUBMITTED: Event.REQUEST_SUBMITTED,
    Action.APPROVED: Event.REQUEST_DECIDED,
    Action.AUTO_APPROVED: Event.REQUEST_DECIDED,
    Action.REJECTED: Event.REQUEST_DECIDED,
    Action.PUSHED: Event.PUSH_APPLIED,
    Action.FAILED: Event.PUSH_FAILED,
    Action.FINDING_CREATED: Event.FINDING_CREATED,
    Action.REMOTE_CHANGE: Event.INVOICE_CHANGED_OUTSIDE,
}


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def event_of(entry) -> str | None:
    if entry.action == Action.REMOTE_CHANGE and entry.source != "invoice":
        return None  # a contact changed in Alegra: not an invoice event
    return EVENT_OF_ACTION.get(entry.action)


def payload_of(event: str, entry) -> dict:
    return {"type": event, "timestamp": entry.at.astimezone(datetime.UTC).isoformat(),
            "data": {"company_id": entry.company_id, "invoice_id": entry.invoice_id,
                     "change_request_id": entry.change_request_id, "audit_seq": entry.seq,
                     "action": entry.action, "actor_id": entry.actor_id, "what": entry.what}}


def entries_recorded(entries) -> None:
    """Outbox rows for the subscribed events among these entries (in their transaction)."""
    wanted = [(entry, event) for entry in entries if entry.company_id and (event := event_of(entry))]
    if not wanted:
        return
    companies = {entry.company_id for entry, _event in wanted}
    subscriptions: dict[int, list[EventSubscription]] = {}
    for subscription in EventSubscription.objects.filter(company_id__in=companies, is_active=True):
        subscriptions.setdefault(subscription.company_id, []).append(subscription)
    rows = []
    for entry, event in wanted:
        for subscription in subscriptions.get(entry.company_id, ()):
            if event in subscription.events:
                rows.append(EventDelivery(subscription=subscription, message_id=f"msg_{uuid.uuid4().hex}",
                                          event=event, invoice_id=entry.invoice_id,
                                          payload=json.loads(json.dumps(payload_of(event, entry),
                                                                        cls=DjangoJSONEncoder))))
    if not rows:
        return
    EventDelivery.objects.bulk_create(rows)
    for subscription_id in sorted({row.subscription_id for row in rows}):
        transaction.on_commit(lambda pk=subscription_id: enqueue(pk))


def enqueue(subscription_id: int, countdown: float | None = None) -> None:
    try:
        # Sent by name: the task module imports this one, so this one does not import it.
        # EVENTS_QUEUE lets a deployment (or a test) give deliveries workers of their own.
        celery_app.signature(TASK, args=(subscription_id,)).apply_async(
            countdown=countdown, queue=settings.EVENTS_QUEUE or None)
    except Exception:  # noqa: BLE001 - a broker that is down: the sweeper sends the rows later
        log.warning("event delivery for subscription %s not queued", subscription_id, exc_info=True)


class AddressRefused(ValueError):
    """A subscription URL the portal will not send to."""


def address_refusal(url: str) -> str | None:
    """Why events may not be sent to `url`, or None. Only http(s), and never a host inside the
    portal's own network unless EVENT_DELIVERY_PRIVATE_HOSTS names it. Checked when a subscription is
    made and again before each send (a name may resolve elsewhere later)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host:
        return _("Only http and https addresses can receive events.")
    if host in settings.EVENT_DELIVERY_PRIVATE_HOSTS:
        return None
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, parts.port or None, proto=socket.IPPROTO_TCP)}
    except (OSError, UnicodeError, ValueError):
        return None  # not resolvable now: nothing is reached, the send fails and is retried
    for address in addresses:
        if not ipaddress.ip_address(address.split("%")[0]).is_global:
            return _("%(host)s is inside the portal's own network; events go only to addresses on the internet.") % {
                "host": host}
    return None


@transaction.atomic
def subscription_create(*, company, user, url: str, events, secret: str | None = None) -> EventSubscription:
    """A manager's subscription: where to send which events, signed with this secret."""
    if not Membership.objects.filter(user=user, company=company, role=Role.MANAGER).exists():
        raise PermissionError("only managers subscribe")
    unknown = sorted(set(events) - set(Event.values))
    if unknown or not events:
        raise ValueError(f"unknown events: {unknown}")
    refusal = address_refusal(url)
    if refusal:
        raise AddressRefused(refusal)
    return EventSubscription.objects.create(company=company, url=url, events=sorted(set(events)),
                                            secret=secret or new_secret(), created_by=user)


def backoff(attempts: int) -> float:
    return float(min(3600, 2 ** attempts))


def _send(subscription: EventSubscription, delivery: EventDelivery, client: httpx.Client) -> tuple[int | None, str]:
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False)
    now = datetime.datetime.now(datetime.UTC)
    signature = Webhook(subscription.secret).sign(delivery.message_id, now, body)
    headers = {"content-type": "application/json", "webhook-id": delivery.message_id,
               "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signature,
               "user-agent": "Enmienda-Webhooks/1"}
    refusal = address_refusal(subscription.url)
    if refusal:
        return None, refusal
    try:
        response = client.post(subscription.url, content=body.encode(), headers=headers)
    except httpx.HTTPError as exc:
        return None, type(exc).__name__
    if 200 <= response.status_code < 300:
        return response.status_code, ""
    return response.status_code, (response.text[:500] or f"HTTP {response.status_code}")


def deliver_due(*, subscription_id: int, client: httpx.Client | None = None, limit: int = 100) -> dict:
    """Send the subscription's due deliveries in order; what was sent and when to come back."""
    sent = failed = 0
    retry_in: float | None = None
    own = client is None
    client = client or httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)
    try:
        for _round in range(limit):
            with transaction.atomic():
                # One sender per subscription: the row lock orders its deliveries.
                subscription = (EventSubscription.objects.select_for_update(skip_locked=True)
                                .filter(pk=subscription_id, is_active=True).first())
                if subscription is None:
                    break
                delivery, wait = _next_due(subscription)
                if delivery is None:
                    retry_in = wait
                    break
                started = time.monotonic()
                status, error = _send(subscription, delivery, client)
                delivery.attempts += 1
                delivery.last_status, delivery.last_error = status, error
                DeliveryAttempt.objects.create(delivery=delivery, status=status, error=error,
                                               milliseconds=int((time.monotonic() - started) * 1000))
                if not error:
                    delivery.state, delivery.delivered_at = EventDelivery.State.DELIVERED, timezone.now()
                    delivery.save()
                    sent += 1
                    continue
                failed += 1
                if delivery.attempts >= MAX_ATTEMPTS:
                    delivery.state = EventDelivery.State.FAILED
                    delivery.save()
                    _pause(subscription, delivery)
                    break
                delivery.next_attempt_at = timezone.now() + datetime.timedelta(seconds=backoff(delivery.attempts))
                delivery.save()
                # Its invoice's later events wait behind it; the other invoices' go on.
    finally:
        if own:
            client.close()
    return {"sent": sent, "failed": failed, "retry_in": retry_in}


def _next_due(subscription: EventSubscription) -> tuple[EventDelivery | None, float | None]:
    """The oldest delivery that is due and first in its invoice's line; else the wait for one.

    Only the first pending delivery of each invoice may be sent; one waiting for its backoff
    holds back its invoice's later ones, not the others'.
    """
    now = timezone.now()
    heads: dict[int | None, tuple[int, datetime.datetime]] = {}
    pending = (EventDelivery.objects.filter(subscription=subscription, state=EventDelivery.State.PENDING)
               .order_by("id").values_list("id", "invoice_id", "next_attempt_at"))
    for pk, invoice_id, next_attempt_at in pending.iterator(chunk_size=500):
        heads.setdefault(invoice_id, (pk, next_attempt_at))
    due = sorted(pk for pk, at in heads.values() if at <= now)
    if due:
        return EventDelivery.objects.select_for_update().get(pk=due[0]), None
    waits = [(at - now).total_seconds() for _pk, at in heads.values()]
    return None, (min(waits) if waits else None)


def _pause(subscription: EventSubscription, delivery: EventDelivery) -> None:
    subscription.is_active, subscription.paused_at = False, timezone.now()
    subscription.save(update_fields=["is_active", "paused_at"])
    emails = list(Membership.objects.filter(company_id=subscription.company_id, role=Role.MANAGER,
                                            user__is_active=True).exclude(user__email="")
                  .values_list("user__email", flat=True))
    if emails:
        transaction.on_commit(lambda: send_mail(
            _("Event subscription paused"),
            _("Deliveries to %(url)s kept failing (%(attempts)s attempts, last: %(error)s); the subscription "
              "is paused until a manager redelivers.") % {"url": subscription.url, "attempts": delivery.attempts,
                                                          "error": delivery.last_status or delivery.last_error},
            settings.DEFAULT_FROM_EMAIL, emails, fail_silently=True))


@transaction.atomic
def delivery_redeliver(*, delivery: EventDelivery) -> EventDelivery:
    """Send a delivery again (the log's "redeliver"); a paused subscription is resumed."""
    delivery = EventDelivery.objects.select_for_update().select_related("subscription").get(pk=delivery.pk)
    delivery.state, delivery.next_attempt_at, delivery.attempts = EventDelivery.State.PENDING, timezone.now(), 0
    delivery.save()
    subscription = delivery.subscription
    if not subscription.is_active:
        subscription.is_active, subscription.paused_at = True, None
        subscription.save(update_fields=["is_active", "paused_at"])
    transaction.on_commit(lambda: enqueue(subscription.pk))
    return delivery


def sweep() -> int:
    """Queue again the subscriptions with due deliveries (lost messages, dead workers, backoff)."""
    due = (EventDelivery.objects.filter(state=EventDelivery.State.PENDING, next_attempt_at__lte=timezone.now(),
                                        subscription__is_active=True)
           .values_list("subscription_id", flat=True).distinct())
    ids = sorted(set(due))
    for subscription_id in ids:
        enqueue(subscription_id)
    return len(ids)
