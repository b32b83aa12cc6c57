"""Realistic Alegra invoice bodies for mirror tests, shaped like the recorded ones."""

import copy
import datetime
from decimal import Decimal

BASE = {
    "id": "1",
    "date": "2026-10-12",
    "dueDate": "2026-11-11",
    "datetime": "2026-10-12 10:15:00",
    "observations": "",
    "anotation": "Gracias por su compra",
    "termsConditions": "Esta factura se asimila en todos sus efectos a una letra de cambio.",
    "status": "open",
    "decimalPrecision": "2",
    "client": {"id": "1", "name": "Constructora Los Andes S.A.S.", "identification": "900123456",
               "email": "compras@losandes.test", "phonePrimary": "6015551234", "mobile": "3004232123",
               "address": {"address": "Calle 10 # 5-20", "city": "Bogotá"}},
    "numberTemplate": {"id": "1", "prefix": "FE", "number": "1", "fullNumber": "FE1", "text": None},
    "subtotal": "120.00", "discount": "0.00", "tax": "22.80", "total": "142.80",
    "totalPaid": "0.00", "balance": "142.80",
    "paymentForm": "CREDIT", "paymentMethod": "TRANSFER",
    "seller": None, "priceList": {"id": "1", "name": "General"},
    "items": [
        {"id": 1, "name": "Cemento gris 50 kg", "description": "", "reference": "CEM-50",
         "price": "40.000000", "discount": "0.00", "quantity": "1.00",
         "tax": [{"id": "3", "name": "IVA", "percentage": "19.00", "type": "IVA"}], "total": "47.60"},
        {"id": 2, "name": "Varilla corrugada 1/2", "description": "", "reference": "VAR-12",
         "price": "80.000000", "discount": "0.00", "quantity": "1.00",
         "tax": [{"id": "3", "name": "IVA", "percentage": "19.00", "type": "IVA"}], "total": "95.20"},
    ],
    "payments": [],
    "retentions": [],
    "warehouse": {"id": "1", "name": "Principal"},
    "costCenter": None,
    "cfdiUse": "G03",
}


def invoice_doc(n: int = 1, **changes) -> dict:
    doc = copy.deepcopy(BASE)
    doc["id"] = str(n)
    doc["numberTemplate"] = {**doc["numberTemplate"], "number": str(n), "fullNumber": f"FE{n}"}
    doc["date"] = (datetime.date(2026, 10, 12) - datetime.timedelta(days=n % 300)).isoformat()
    total = Decimal("142.80") + n
    doc["total"] = doc["balance"] = f"{total:.2f}"
    doc["client"] = {**doc["client"], "id": str(n % 7 + 1), "name": f"Cliente {n % 7 + 1} S.A.S."}
    doc.update(changes)
    return doc
