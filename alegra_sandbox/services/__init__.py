"""Every write of the sandbox, for its API views, its commands, the demo and tests.

The invoice functions double as "a person working in Alegra's own UI": they run
the same code as the API (and fire the same webhooks).
"""

from .accounts import account_create, account_for_credentials, company_document, next_ids
from .catalogue import catalogue_document, catalogue_list, contact_create, contact_update
from .catalogue_writes import item_create, tax_create
from .credit_notes import credit_note_create, credit_note_get, credit_note_list
from .faults import faults_clear, faults_set
from .invoices import (
    invoice_create, invoice_delete, invoice_email, invoice_get, invoice_list, invoice_open,
    invoice_pay, invoice_stamp, invoice_update, invoice_void,
)
from .common import base_catalogue_create
from .seed import SeedError, SeedSummary, account_reset, seed
from .webhooks import (
    subscription_create, subscription_delete, subscription_get, subscription_list,
    subscription_update,
)

__all__ = [
    "SeedError", "SeedSummary", "account_create", "company_document", "account_for_credentials", "account_reset",
    "base_catalogue_create", "catalogue_document", "catalogue_list", "contact_create",
    "contact_update", "credit_note_create", "credit_note_get", "credit_note_list", "faults_clear",
    "faults_set", "invoice_create", "invoice_delete", "invoice_email", "invoice_get",
    "invoice_list", "invoice_open", "invoice_pay", "invoice_stamp", "invoice_update",
    "invoice_void", "item_create", "next_ids", "seed", "subscription_create",
    "subscription_delete", "subscription_get", "subscription_list", "subscription_update",
    "tax_create",
]
