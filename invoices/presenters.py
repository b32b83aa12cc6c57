"""Shape a mirrored invoice body for display (parsed, never recomputed)."""

import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from portal import formats

from .documents import numbers

from .mirror import money_or_zero as _num
from .models import Invoice


@dataclass
class LineView:
    position: int
    item_id: str
    name: str
    description: str
    reference: str
    price: Decimal
    quantity: Decimal
    discount: Decimal
    taxes: list[dict]
    total: Decimal


@dataclass
class InvoiceView:
    client: dict
    lines: list[LineView]
    payments: list[dict]
    stamp: dict
    texts: dict
    extra: dict = field(default_factory=dict)
    retentions: list[dict] = field(default_factory=list)
    stamp_code: str = ""
    locked_reason: str = ""


def tax_label(name: str, percentage: Any) -> str:
    """"IVA 19%" stays so; "IVA" with 19 becomes "IVA 19 %" (the percentage said once, written as
    the company writes numbers: "ICA 9,66 %")."""
    if percentage in (None, ""):
        return name
    plain = numbers.decimal_text(percentage)
    shown = formats.number(plain)
    if any(re.search(rf"(?<![\d.,]){re.escape(text)}\s*%", name) for text in {plain, shown}):
        return name
    return f"{name} {shown} %"


def invoice_view(invoice: Invoice) -> InvoiceView:
    doc = invoice.document if isinstance(invoice.document, dict) else {}
    client = doc.get("client") if isinstance(doc.get("client"), dict) else {}
    address = client.get("address") if isinstance(client.get("address"), dict) else {}
    lines = []
    for position, line in enumerate(doc.get("items") or []):
        if not isinstance(line, dict):
            continue
        taxes = [t for t in (line.get("tax") or []) if isinstance(t, dict)]
        lines.append(LineView(
            position=position + 1, item_id=str(line.get("id", "")), name=str(line.get("name") or ""),
            description=str(line.get("description") or ""), reference=str(line.get("reference") or ""),
            price=_num(line.get("price")), quantity=_num(line.get("quantity")),
            discount=_num(line.get("discount")),
            taxes=[{"name": t.get("name", ""), "percentage": _num(t.get("percentage")),
                    "label": tax_label(str(t.get("name") or ""), _num(t.get("percentage")))} for t in taxes],
            total=_num(line.get("total")),
        ))
    payments = []
    for payment in doc.get("payments") or []:
        if isinstance(payment, dict):
            payments.append({"date": payment.get("date", ""), "amount": _num(payment.get("amount")),
                             "method": payment.get("paymentMethod", "")})
    stamp = doc.get("stamp") if isinstance(doc.get("stamp"), dict) else {}
    if invoice.is_deleted:
        locked = "deleted"
    elif invoice.is_void:
        locked = "void"
    elif invoice.is_stamped:
        locked = "stamped"
    else:
        locked = ""
    return InvoiceView(
        client={
            "name": client.get("name", ""), "identification": client.get("identification", ""),
            "email": client.get("email", ""), "phone": client.get("phonePrimary") or client.get("mobile") or "",
            "address": address.get("address", ""), "city": address.get("city", ""),
        },
        lines=lines,
        payments=payments,
        stamp=stamp,
        texts={k: doc.get(k) or "" for k in ("observations", "anotation", "termsConditions")},
        extra={
            "paymentForm": doc.get("paymentForm") or "", "paymentMethod": doc.get("paymentMethod") or "",
            "seller": (doc.get("seller") or {}).get("name", "") if isinstance(doc.get("seller"), dict) else "",
            "priceList": (doc.get("priceList") or {}).get("name", "") if isinstance(doc.get("priceList"), dict) else "",
        },
        retentions=[{"name": r.get("name") or "", "percentage": _num(r.get("percentage")),
                     "amount": _num(r.get("amount"))}
                    for r in doc.get("retentions") or [] if isinstance(r, dict)],
        locked_reason=locked,
        stamp_code=str(stamp.get("cufe") or stamp.get("uuid") or ""),
    )
