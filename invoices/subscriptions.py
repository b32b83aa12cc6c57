"""Alegra's webhook subscriptions for a company: the portal's address for its deliveries, and the
invoice events subscribed (re-created when Alegra dropped them). Deliveries: invoices.webhooks."""

from django.conf import settings
from django.urls import reverse

from portal.models import Company

from .alegra import AlegraClient

WEBHOOK_EVENTS = ("new-invoice", "edit-invoice", "delete-invoice")


def webhook_url(company: Company) -> str:
    path = reverse("invoices:alegra_webhook", kwargs={"company_id": company.pk, "secret": company.webhook_secret})
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def webhooks_ensure(*, company: Company, client: AlegraClient | None = None) -> list[str]:
    """Subscribe to the invoice events, re-creating subscriptions Alegra dropped."""
    client = client or AlegraClient.for_company(company)
    url = webhook_url(company)
    existing = {(s.get("event"), s.get("url")) for s in client.list_webhook_subscriptions()}
    created = []
    for event in WEBHOOK_EVENTS:
        if (event, url) not in existing:
            client.create_webhook_subscription(event, url)
            created.append(event)
    return created
