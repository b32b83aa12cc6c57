"""Adding items and taxes, as a person does in Alegra's UI (the API here only reads them)."""

from __future__ import annotations


from django.db import transaction
from django.db.models import Max

from .. import arithmetic as ar
from ..models import CatalogueKind, SandboxAccount, SandboxCatalogueEntry
from .accounts import catalogue_get


def _next_number(account: SandboxAccount, kind: str) -> int:
    # Items and taxes are added by hand, never concurrently; max + 1 is enough.
    current = SandboxCatalogueEntry.objects.filter(account=account, kind=kind).aggregate(m=Max("number"))["m"]
    return (current or 0) + 1


@transaction.atomic
def tax_create(account: SandboxAccount, *, name: str, percentage, type: str = "IVA",
               description: str = "") -> dict:
    number = _next_number(account, CatalogueKind.TAX)
    document = {"id": str(number), "name": name,
                "percentage": ar.percentage_text(ar.to_decimal(percentage)),
                "description": description, "type": type, "status": "active"}
    SandboxCatalogueEntry.objects.create(account=account, kind=CatalogueKind.TAX, number=number,
                                         name=name, document=document)
    return document


@transaction.atomic
def item_create(account: SandboxAccount, *, name: str, price, tax_ids=(), reference: str | None = None,
                description: str | None = None, category: str = "Ventas") -> dict:
    number = _next_number(account, CatalogueKind.ITEM)
    taxes = [catalogue_get(account, CatalogueKind.TAX, int(t)).document for t in tax_ids]
    price = ar.to_decimal(price)
    document = {
        "id": number,
        "name": name,
        "description": description,
        "reference": reference,
        "status": "active",
        "type": "product",
        "category": {"id": "1", "name": category},
        "inventory": {"unit": "unit"},
        "price": [{"idPriceList": "1", "name": "General", "price": ar.price_text(price, 4)}],
        "tax": [{k: t[k] for k in ("id", "name", "percentage", "description", "type")} for t in taxes],
    }
    SandboxCatalogueEntry.objects.create(account=account, kind=CatalogueKind.ITEM, number=number,
                                         name=name, code=reference or "", document=document)
    return document
