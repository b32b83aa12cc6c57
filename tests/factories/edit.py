"""Mirrored invoices and catalogues for the edit-screen tests, stored through the sync services.

Bodies are shaped like the recorded Alegra answers (/work/shared/alegra-fixtures): ids as text
(line item ids as numbers), money and percentages as strings, CO payment fields.
"""

import copy
import datetime
from decimal import Decimal


from invoices import arithmetic, mirror
from invoices.models import Contact, Invoice, Item, PriceList, Seller, Tax
from invoices.sync import _store_catalogue, invoice_store

TAXES = [
    {"id": "3", "name": "IVA", "percentage": "19.00", "description": "", "type": "IVA"},
    {"id": "4", "name": "IVA 5%", "percentage": "5.00", "description": "", "type": "IVA"},
    {"id": "5", "name": "INC", "percentage": "8.00", "description": "", "type": "INC"},
]
ITEM_NAMES = ["Cemento gris 50 kg", "Varilla corrugada 1/2", "Ladrillo tolete", "Arena lavada m3",
              "Teja de barro", "Tubo PVC 4 in", "Pintura blanca galón", "Malla electrosoldada"]
CLIENT = {"id": "1", "name": "Constructora Los Andes S.A.S.", "identification": "900123456",
          "phonePrimary": "6015551234", "phoneSecondary": "", "fax": "", "mobile": "3004232123",
          "email": "compras@losandes.test",
          "address": {"address": "Calle 10 # 5-20", "city": "Bogotá"}}


def item_doc(n: int) -> dict:
    name = ITEM_NAMES[(n - 1) % len(ITEM_NAMES)] + ("" if n <= len(ITEM_NAMES) else f" {n}")
    return {"id": str(n), "name": name, "reference": f"REF-{n:03d}", "description": "",
            "price": [{"idPriceList": 1, "name": "General", "price": f"{40 * n}.00"}],
            "tax": [{"id": "3", "name": "IVA", "percentage": "19.00", "type": "IVA"}],
            "status": "active"}


def contact_doc(n: int) -> dict:
    if n == 1:
        return copy.deepcopy(CLIENT)
    return {"id": str(n), "name": f"Cliente {n} S.A.S.", "identification": f"9001{n:05d}",
            "email": f"cliente{n}@example.test", "phonePrimary": "", "mobile": f"300{n:07d}",
            "address": {"address": f"Carrera {n} # 1-2", "city": "Medellín"}, "type": ["client"]}


SELLERS = [{"id": "1", "name": "Carolina Restrepo", "status": "active"},
           {"id": "2", "name": "Mercedes Sosa", "status": "inactive"},
           {"id": "3", "name": "Julián Ortiz", "status": "active"}]
PRICE_LISTS = [{"id": "1", "name": "General", "status": "active"},
               {"id": "2", "name": "Mayoristas", "status": "active", "type": "percentage", "percentage": "10.00"}]


def mirror_catalogue(company, items: int = 8, contacts: int = 5) -> None:
    _store_catalogue(Tax, company, copy.deepcopy(TAXES), mirror.tax_columns)
    _store_catalogue(Seller, company, copy.deepcopy(SELLERS), mirror.named_columns)
    _store_catalogue(PriceList, company, copy.deepcopy(PRICE_LISTS), mirror.named_columns)
    _store_catalogue(Item, company, [item_doc(n) for n in range(1, items + 1)], mirror.item_columns)
    _store_catalogue(Contact, company, [contact_doc(n) for n in range(1, contacts + 1)],
                     mirror.contact_columns)


def line(n: int, quantity: str = "1.00", price: str | None = None, discount: str = "0.00",
         taxes=("3",)) -> dict:
    by_id = {t["id"]: t for t in TAXES}
    return {
        "id": n, "name": item_doc(n)["name"], "description": "", "reference": f"REF-{n:03d}",
        "price": price if price is not None else f"{40 * n}.000000", "discount": discount,
        "quantity": quantity,
        "tax": [{k: v for k, v in by_id[t].items() if k != "description"} for t in taxes],
    }


def invoice_body(number: int = 1, lines: int = 2, *, status: str = "open", paid: str = "0",
                 stamped: bool = False, items: list | None = None, **changes) -> dict:
    """A CO invoice like the recorded one, its totals computed as Alegra computes them."""
    body = {
        "id": str(100 + number),
        "date": "2026-10-12",
        "dueDate": "2026-11-11",
        "datetime": "2026-10-12 10:15:00",
        "observations": "",
        "anotation": "Gracias por su compra",
        "termsConditions": "Esta factura se asimila en todos sus efectos a una letra de cambio.",
        "status": status,
        "decimalPrecision": "2",
        "client": copy.deepcopy(CLIENT),
        "numberTemplate": {"id": "1", "prefix": "FE", "number": str(number),
                           "fullNumber": f"FE{number}", "text": None},
        "totalPaid": paid,
        "paymentForm": "CREDIT",
        "paymentMethod": "TRANSFER",
        "seller": None,
        "priceList": {"id": "1", "name": "General"},
        "items": items if items is not None else [line((k % 8) + 1) for k in range(lines)],
        "payments": [],
        "retentions": [],
        "warehouse": {"id": "1", "name": "Principal"},
    }
    if stamped:
        body["stamp"] = {"legalStatus": "STAMPED_AND_ACCEPTED",
                         "cufe": "a3f1c2e4b5d6" * 8, "date": "2026-10-12 10:20:00"}
    body.update(changes)
    computed = arithmetic.with_totals(body, {t["id"]: t for t in TAXES})
    paid_amount = Decimal(str(paid))
    computed["totalPaid"] = paid
    computed["balance"] = format(Decimal(computed["total"]) - paid_amount, "f")
    return computed


def make_invoice(company, number: int = 1, lines: int = 2, **kwargs) -> Invoice:
    body = invoice_body(number, lines, **kwargs)
    invoice_store(company=company, document=body, source="sync")
    return Invoice.objects.get(company=company, alegra_id=body["id"])


def change_in_alegra(invoice: Invoice, **changes) -> Invoice:
    """The invoice as a later sync would see it after someone edited it in Alegra."""
    body = copy.deepcopy(invoice.document)
    body.update(changes)
    invoice_store(company=invoice.company, document=body, source="sync")
    invoice.refresh_from_db()
    return invoice


def today() -> str:
    return datetime.date(2026, 10, 20).isoformat()

