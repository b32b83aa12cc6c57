"""A small company for the findings tests: a catalogue with price lists and taxes, clients with
payment terms, and invoices stored in the mirror through the sync's own service."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

from invoices import arithmetic, mirror
from invoices.models import Contact, Invoice, Item, Tax
from invoices.sync import _store_catalogue, invoice_mark_deleted, invoice_store

TAXES = {
    "1": {"id": "1", "name": "IVA 0%", "percentage": "0.00", "type": "IVA"},
    "2": {"id": "2", "name": "IVA 5%", "percentage": "5.00", "type": "IVA"},
    "3": {"id": "3", "name": "IVA 19%", "percentage": "19.00", "type": "IVA"},
}
# item id → (name, general price, catalogue tax id)
ITEMS = {"1": ("Cemento gris 50 kg", "27647", "3"), "2": ("Arroz blanco 5 kg", "24500", "1"),
         "3": ("Café molido 500 g", "18000", "2"), "4": ("Taladro percutor", "242857", "3")}
# client id → (name, identification, payment terms in days)
CLIENTS = {"1": ("Constructora Los Andes S.A.S.", "900123456", 30), "2": ("Tienda La Esquina", "79123456", 0),
           "3": ("Distribuidora Caribe Ltda", "800987654", 60), "4": ("Consumidor final", "222222222222", 0)}
START = dt.date(2025, 1, 6)


def item_doc(ident: str) -> dict:
    name, price, tax = ITEMS[ident]
    return {"id": ident, "name": name, "reference": f"REF-{ident}", "status": "active",
            "price": [{"idPriceList": "1", "name": "General", "price": price},
                      {"idPriceList": "2", "name": "Mayorista", "price": str(Decimal(price) * Decimal("0.9"))}],
            "tax": [dict(TAXES[tax])]}


def contact_doc(ident: str) -> dict:
    name, identification, days = CLIENTS[ident]
    return {"id": ident, "name": name, "identification": identification, "email": f"c{ident}@example.test",
            "address": {"address": "Calle 1", "city": "Bogotá"},
            "term": {"id": ident, "name": f"{days} días", "days": str(days)}}


def mirror_catalogue(company) -> None:
    _store_catalogue(Tax, company, [copy.deepcopy(t) for t in TAXES.values()], mirror.tax_columns)
    _store_catalogue(Item, company, [item_doc(i) for i in ITEMS], mirror.item_columns)
    _store_catalogue(Contact, company, [contact_doc(c) for c in CLIENTS], mirror.contact_columns)


def line(item: str, quantity="1", price: str | None = None, discount="0", tax: str | None = None) -> dict:
    name, general, catalogue_tax = ITEMS[item]
    return {"id": int(item), "name": name, "reference": f"REF-{item}", "description": "",
            "price": price if price is not None else general, "quantity": str(quantity),
            "discount": str(discount), "tax": [dict(TAXES[tax or catalogue_tax])]}


def body(number: int, lines: list[dict], *, client: str = "1", day: int = 0, due_days: int | None = None,
         status: str = "open", stamped: bool = False, price_list: str = "1", shown_number: int | None = None,
         identification: str | None = None) -> dict:
    date = START + dt.timedelta(days=day)
    name, ident, days = CLIENTS[client]
    shown = shown_number if shown_number is not None else number
    document = {
        "id": str(number), "date": date.isoformat(),
        "dueDate": (date + dt.timedelta(days=days if due_days is None else due_days)).isoformat(),
        "status": status, "decimalPrecision": "2",
        "client": {"id": client, "name": name, "identification": ident if identification is None else identification},
        "numberTemplate": {"id": "1", "prefix": "FE", "number": str(shown), "fullNumber": f"FE{shown}"},
        "priceList": {"id": price_list, "name": "General" if price_list == "1" else "Mayorista"},
        "items": lines, "payments": [], "totalPaid": "0",
    }
    if stamped:
        document["stamp"] = {"legalStatus": "STAMPED_AND_ACCEPTED", "cufe": "ab" * 48}
    computed = arithmetic.with_totals(document, TAXES)
    computed["balance"] = computed["total"]
    return computed


def store(company, document: dict) -> Invoice:
    invoice_store(company=company, document=document, source="sync")
    return Invoice.objects.get(company=company, alegra_id=document["id"])


def delete(company, number: int) -> Invoice:
    invoice_mark_deleted(company=company, alegra_id=str(number), source="sync")
    return Invoice.objects.get(company=company, alegra_id=str(number))


def history(company, client: str = "1", item: str = "1", count: int = 6, quantity="10", start: int = 100,
            **line_kwargs) -> list[Invoice]:
    """`count` ordinary invoices of one item to one client, a week apart."""
    return [store(company, body(start + n, [line(item, quantity, **line_kwargs)], client=client, day=7 * n))
            for n in range(count)]
