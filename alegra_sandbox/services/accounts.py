"""Accounts, per-account id sequences and catalogue look-ups."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.db.models import F

from ..errors import Code, bad_request, not_found
from ..models import CatalogueKind, SandboxAccount, SandboxCatalogueEntry
from .common import base_catalogue_create

SEQUENCES = {"invoice": "invoice_seq", "contact": "contact_seq",
             "credit_note": "credit_note_seq", "payment": "payment_seq"}


@transaction.atomic
def account_create(
    *,
    email: str,
    token: str = "",
    name: str = "Empresa Demo S.A.S.",
    decimal_precision: int = 2,
    rate_limit_per_minute: int = 150,
    rate_limit_window_seconds: int = 60,
    with_catalogue: bool = True,
) -> SandboxAccount:
    """Create an account; with_catalogue adds the basic taxes, price lists and numbering."""
    account = SandboxAccount.objects.create(
        email=email.strip(),
        token=token or secrets.token_hex(10),
        name=name,
        decimal_precision=decimal_precision,
        rate_limit_per_minute=rate_limit_per_minute,
        rate_limit_window_seconds=rate_limit_window_seconds,
    )
    if with_catalogue:
        base_catalogue_create(account)
    return account


def account_for_credentials(email: str, token: str) -> SandboxAccount | None:
    account = SandboxAccount.objects.filter(email=email).first()
    if account is None or not secrets.compare_digest(account.token.encode(), token.encode()):
        return None
    return account


def next_ids(account: SandboxAccount, kind: str, count: int = 1) -> range:
    """Reserve `count` consecutive ids. Inside the caller's transaction the account row stays
    locked (PostgreSQL) or the database is write-locked (SQLite), so ids never collide."""
    column = SEQUENCES[kind]
    with transaction.atomic():
        SandboxAccount.objects.filter(pk=account.pk).update(**{column: F(column) + count})
        last = SandboxAccount.objects.filter(pk=account.pk).values_list(column, flat=True).get()
    return range(last - count + 1, last + 1)


def catalogue_get(account: SandboxAccount, kind: str, number: int) -> SandboxCatalogueEntry:
    entry = SandboxCatalogueEntry.objects.filter(account=account, kind=kind, number=number).first()
    if entry is None:
        raise not_found(_MISSING[kind].format(id=number))
    return entry


def catalogue_documents(account: SandboxAccount, kind: str, numbers) -> dict[int, dict]:
    """Documents by id for the ids given; unknown ids are simply absent."""
    rows = SandboxCatalogueEntry.objects.filter(account=account, kind=kind, number__in=set(numbers))
    return {row.number: row.document for row in rows}


def catalogue_reference(account: SandboxAccount, kind: str, number: int, code: int) -> dict:
    """The document of a catalogue entry a write refers to, or a 400 refusal."""
    entry = SandboxCatalogueEntry.objects.filter(account=account, kind=kind, number=number).first()
    if entry is None:
        raise bad_request(code, _MISSING[kind].format(id=number))
    return entry.document


_MISSING = {
    CatalogueKind.CONTACT: "El contacto con id {id} no existe.",
    CatalogueKind.ITEM: "El ítem con id {id} no existe.",
    CatalogueKind.TAX: "El impuesto con id {id} no existe.",
    CatalogueKind.RETENTION: "La retención con id {id} no existe.",
    CatalogueKind.SELLER: "El vendedor con id {id} no existe.",
    CatalogueKind.PRICE_LIST: "La lista de precios con id {id} no existe.",
    CatalogueKind.WAREHOUSE: "La bodega con id {id} no existe.",
    CatalogueKind.NUMBER_TEMPLATE: "La numeración con id {id} no existe.",
}

UNKNOWN_REFERENCE_CODE = {
    CatalogueKind.CONTACT: Code.UNKNOWN_CLIENT,
    CatalogueKind.ITEM: Code.UNKNOWN_ITEM,
    CatalogueKind.TAX: Code.UNKNOWN_TAX,
}


def company_document(account: SandboxAccount) -> dict:
    """GET /company, shaped like the 2020 recording."""
    nit = account.identification
    return {
        "name": account.name,
        "identification": nit,
        "phone": "6017435566",
        "website": "",
        "email": account.email,
        "regime": "Responsable del IVA",
        "applicationVersion": account.application_version,
        "registryDate": account.created.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
        "timezone": "America/Bogota",
        "profile": None,
        "address": {"city": account.city, "department": None, "address": "Calle 13 # 68-90",
                    "zipCode": None},
        "currency": {"code": "COP", "symbol": "$"},
        "multicurrency": False,
        "decimalPrecision": str(account.decimal_precision),
        "invoicePreferences": {
            "defaultAnotation": None,
            "defaultTermsAndConditions": "Esta factura se asimila en todos sus efectos a una letra "
                                         "de cambio de conformidad con el Art. 774 del código de comercio.",
        },
        "logo": "",  # no logo uploaded (Alegra answers a URL when there is one)
        "kindOfPerson": "LEGAL_ENTITY",
        "identificationObject": {"type": "NIT", "number": nit.split("-")[0],
                                 "dv": nit.split("-")[1] if "-" in nit else None},
        "settings": {"canStampInvoices": True, "electronicInvoicing": True},
    }
