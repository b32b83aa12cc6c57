"""What several sandbox services share, below all of them: the catalogue every account
starts with, the company's default invoice terms and the sandbox's clock.

Kept apart so that accounts, invoices and the seed import it without importing each other.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from ..models import CatalogueKind, SandboxAccount, SandboxCatalogueEntry

DEFAULT_TERMS = (
    "Esta factura se asimila en todos sus efectos a una letra de cambio de conformidad con el "
    "Art. 774 del código de comercio."
)


def local_now() -> dt.datetime:
    return timezone.localtime()


TAXES = [
    {"id": "1", "name": "IVA 0%", "percentage": "0.00", "description": "Bienes exentos", "type": "IVA", "status": "active"},
    {"id": "2", "name": "IVA 5%", "percentage": "5.00", "description": "Tarifa diferencial", "type": "IVA", "status": "active"},
    {"id": "3", "name": "IVA 19%", "percentage": "19.00", "description": "Tarifa general", "type": "IVA", "status": "active"},
    {"id": "4", "name": "INC 8%", "percentage": "8.00", "description": "Impuesto nacional al consumo", "type": "INC", "status": "active"},
]
TAX_BY_KEY = {"iva0": TAXES[0], "iva5": TAXES[1], "iva19": TAXES[2], "inc8": TAXES[3]}
RETENTIONS = [
    {"id": "1", "name": "Retefuente compras 2,5%", "percentage": "2.50", "description": "Compras generales", "type": "FUENTE"},
    {"id": "2", "name": "Retefuente servicios 4%", "percentage": "4.00", "description": "Servicios generales", "type": "FUENTE"},
    {"id": "3", "name": "Retefuente honorarios 11%", "percentage": "11.00", "description": "Honorarios y comisiones", "type": "FUENTE"},
    {"id": "4", "name": "ReteIVA 15%", "percentage": "15.00", "description": "Retención sobre el IVA facturado", "type": "IVA"},
    {"id": "5", "name": "ReteICA 9,66 x mil", "percentage": "0.966", "description": "Industria y comercio Bogotá", "type": "ICA"},
]
SELLERS = [
    {"id": "1", "name": "Carolina Restrepo", "identification": "43876512", "observations": "", "status": "active"},
    {"id": "2", "name": "Andrés Felipe Gómez", "identification": "1017234598", "observations": "Zona norte", "status": "active"},
    {"id": "3", "name": "Luz Marina Ospina", "identification": "52345678", "observations": "", "status": "inactive"},
]
PRICE_LISTS = [
    {"id": "1", "name": "General", "status": "active", "type": "amount"},
    {"id": "2", "name": "Precios mayorista", "status": "active", "type": "percentage", "percentage": "10.00"},
    {"id": "3", "name": "Precios distribuidores", "status": "active", "type": "amount"},
]
WAREHOUSES = [
    {"id": "1", "name": "Bodega principal", "observations": "", "isDefault": True, "address": "Calle 13 # 68-90, Bogotá", "status": "active"},
    {"id": "2", "name": "Bodega Medellín", "observations": "", "isDefault": False, "address": "Carrera 50 # 10-20, Medellín", "status": "active"},
]
NUMBER_TEMPLATES = [
    {"id": "1", "name": "Factura electrónica de venta", "prefix": "FE", "text": "Resolución DIAN No. 18764000001234 de 2024, rango FE1 a FE1000000", "isElectronic": True, "documentType": "invoice", "status": "active"},
    {"id": "2", "name": "Nota crédito electrónica", "prefix": "NC", "text": None, "isElectronic": True, "documentType": "creditNote", "status": "active"},
]

def base_catalogue_create(account: SandboxAccount, *, taxes: list[dict] | None = None) -> None:
    """Taxes, retentions, sellers, price lists, warehouses and numbering; idempotent.

    `taxes` replaces the default Colombian taxes (tests rebuild the 2016 recordings, IVA 16 %).
    """
    existing = set(SandboxCatalogueEntry.objects.filter(account=account).exclude(
        kind__in=[CatalogueKind.CONTACT, CatalogueKind.ITEM]).values_list("kind", "number"))
    rows = []
    for kind, documents in ((CatalogueKind.TAX, TAXES if taxes is None else taxes), (CatalogueKind.RETENTION, RETENTIONS),
                            (CatalogueKind.SELLER, SELLERS), (CatalogueKind.PRICE_LIST, PRICE_LISTS),
                            (CatalogueKind.WAREHOUSE, WAREHOUSES),
                            (CatalogueKind.NUMBER_TEMPLATE, NUMBER_TEMPLATES)):
        for document in documents:
            if (kind, int(document["id"])) not in existing:
                rows.append(SandboxCatalogueEntry(account=account, kind=kind, number=int(document["id"]),
                                                  name=document["name"], document=dict(document)))
    SandboxCatalogueEntry.objects.bulk_create(rows)
