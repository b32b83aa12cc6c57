"""The simulated Alegra API v1, mounted under /sandbox/ (base URL …/sandbox/api/v1).

Paths take an optional trailing slash: clients differ on it and Alegra accepts both.
"""

from django.urls import re_path

from .views import catalogue, invoices, webhooks

ID = r"(?P<{}>[^/]+)"


def api(pattern: str, view, name: str):
    return re_path(rf"^api/v1/{pattern}/?$", view, name=name)


app_name = "alegra_sandbox"

urlpatterns = [
    api("invoices", invoices.invoices, "invoices"),
    api(f"invoices/{ID.format('invoice_id')}", invoices.invoice, "invoice"),
    api(f"invoices/{ID.format('invoice_id')}/void", invoices.invoice_void, "invoice-void"),
    api(f"invoices/{ID.format('invoice_id')}/open", invoices.invoice_open, "invoice-open"),
    api(f"invoices/{ID.format('invoice_id')}/email", invoices.invoice_email, "invoice-email"),
    api("credit-notes", invoices.credit_notes, "credit-notes"),
    api(f"credit-notes/{ID.format('note_id')}", invoices.credit_note, "credit-note"),
    api("contacts", catalogue.contacts, "contacts"),
    api(f"contacts/{ID.format('contact_id')}", catalogue.contact, "contact"),
    api("items", catalogue.items, "items"),
    api(f"items/{ID.format('item_id')}", catalogue.item, "item"),
    api("taxes", catalogue.taxes, "taxes"),
    api(f"taxes/{ID.format('tax_id')}", catalogue.tax, "tax"),
    api("retentions", catalogue.retentions, "retentions"),
    api("sellers", catalogue.sellers, "sellers"),
    api("price-lists", catalogue.price_lists, "price-lists"),
    api("warehouses", catalogue.warehouses, "warehouses"),
    api("number-templates", catalogue.number_templates, "number-templates"),
    api("company", catalogue.company, "company"),
    api("webhooks/subscriptions", webhooks.subscriptions, "subscriptions"),
    api(f"webhooks/subscriptions/{ID.format('subscription_id')}", webhooks.subscription, "subscription"),
]
