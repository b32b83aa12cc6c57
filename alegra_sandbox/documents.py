"""Building the JSON documents the API answers with.

Shapes follow the recorded Alegra bodies: ids are strings except item ids
(JSON numbers, inside invoices and on /items); money, quantities and
percentages are strings.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from . import arithmetic as ar


@dataclass
class Line:
    """One invoice line before rendering: numbers as Decimal, taxes as tax documents."""

    item_id: int
    name: str
    price: Decimal
    quantity: Decimal
    discount: Decimal = ar.ZERO
    taxes: list[dict] = field(default_factory=list)
    description: str | None = None
    reference: str | None = None


def tax_snapshot(tax: dict) -> dict:
    return {
        "id": str(tax["id"]),
        "name": tax.get("name", ""),
        "percentage": tax.get("percentage", "0.00"),
        "description": tax.get("description", ""),
        "type": tax.get("type", "IVA"),
    }


def contact_snapshot(contact: dict) -> dict:
    """The client as embedded in an invoice (a subset of the contact)."""
    address = contact.get("address") or {}
    return {
        "id": str(contact["id"]),
        "name": contact.get("name", ""),
        "identification": contact.get("identification", ""),
        "phonePrimary": contact.get("phonePrimary", ""),
        "phoneSecondary": contact.get("phoneSecondary", ""),
        "fax": contact.get("fax", ""),
        "mobile": contact.get("mobile", ""),
        "email": contact.get("email", ""),
        "address": {"address": address.get("address", ""), "city": address.get("city", "")},
    }


def number_template(template: dict, number: int) -> dict:
    prefix = template.get("prefix")
    return {
        "id": str(template["id"]),
        "prefix": prefix,
        "number": str(number),
        "text": template.get("text"),
        "fullNumber": f"{prefix or ''}{number}",
        "isElectronic": bool(template.get("isElectronic")),
        "documentType": template.get("documentType", "invoice"),
    }


def line_from_document(item: dict) -> Line:
    return Line(
        item_id=int(item["id"]),
        name=item.get("name") or "",
        description=item.get("description"),
        reference=item.get("reference"),
        price=ar.to_decimal(item["price"]),
        quantity=ar.to_decimal(item["quantity"]),
        discount=ar.to_decimal(item.get("discount") or 0),
        taxes=[dict(t) for t in item.get("tax") or []],
    )


def render_items(lines: list[Line], precision: int) -> tuple[list[dict], list[ar.LineAmounts]]:
    items, amounts = [], []
    for line in lines:
        amount = ar.line_amounts(
            line.price,
            line.quantity,
            line.discount,
            [ar.to_decimal(t["percentage"]) for t in line.taxes],
            precision,
        )
        items.append({
            "id": line.item_id,
            "name": line.name,
            "description": line.description,
            "price": ar.price_text(line.price, precision),
            "discount": ar.percentage_text(line.discount),
            "reference": line.reference,
            "quantity": ar.quantity_text(line.quantity),
            "tax": [tax_snapshot(t) for t in line.taxes],
            "total": ar.money(amount.total, precision),
        })
        amounts.append(amount)
    return items, amounts


def apply_totals(doc: dict, lines: list[Line], credited: Decimal = ar.ZERO) -> dict:
    """Re-render the lines and every computed field of an invoice document in place."""
    precision = int(doc["decimalPrecision"])
    items, amounts = render_items(lines, precision)
    totals = ar.invoice_totals(amounts, precision)
    paid = sum((ar.to_decimal(p["amount"]) for p in doc.get("payments") or []), ar.ZERO)
    doc["items"] = items
    doc["subtotal"] = ar.money(totals.subtotal, precision)
    doc["discount"] = ar.money(totals.discount, precision)
    doc["tax"] = ar.money(totals.tax, precision)
    doc["total"] = ar.money(totals.total, precision)
    doc["totalPaid"] = ar.money(paid, precision)
    doc["balance"] = ar.money(totals.total - paid - credited, precision)
    taxable = totals.subtotal - totals.discount
    for retention in doc.get("retentions") or []:
        base = totals.tax if retention.get("type") == "IVA" else taxable
        retention["amount"] = ar.money(base * ar.to_decimal(retention["percentage"]) / ar.HUNDRED,
                                       precision)
    return doc


def recompute(doc: dict, credited: Decimal = ar.ZERO) -> dict:
    return apply_totals(doc, [line_from_document(i) for i in doc.get("items") or []], credited)


def stamp(doc: dict, company_nit: str, legal_status: str, when: str) -> dict:
    """A Colombian electronic-invoice stamp: a CUFE is a SHA-384 hex digest (96 chars)."""
    full_number = doc["numberTemplate"]["fullNumber"]
    source = "|".join([full_number, doc["date"], doc["total"], doc["tax"], company_nit,
                       doc["client"].get("identification", "")])
    cufe = hashlib.sha384(source.encode()).hexdigest()
    warnings = []
    if legal_status == "STAMPED_AND_ACCEPTED_WITH_OBSERVATIONS":
        warnings = ["Regla: FAJ44b, Notificación: Nit o Documento de Identificación informado "
                    "no corresponde al registrado en el RUT con respecto al Nit del Adquiriente."]
    return {
        "legalStatus": legal_status,
        "cufe": cufe,
        "barCodeContent": (
            f"NumFac: {full_number} FecFac: {doc['date']} NitFac: {company_nit.split('-')[0]} "
            f"DocAdq: {doc['client'].get('identification', '')} ValFac: {doc['subtotal']} "
            f"ValIva: {doc['tax']} ValTolFac: {doc['total']} CUFE: {cufe} "
            f"https://catalogo-vpfe.dian.gov.co/document/searchqr?documentkey={cufe}"
        ),
        "date": when,
        "warnings": warnings,
    }


def invoice_columns(doc: dict) -> dict:
    """The indexed columns of SandboxInvoice, read off its document."""
    client = doc.get("client") or {}
    return {
        "date": doc["date"],
        "due_date": doc["dueDate"],
        "status": doc["status"],
        "client_number": int(client["id"]) if client.get("id") else None,
        "client_name": (client.get("name") or "")[:300],
        "full_number": (doc.get("numberTemplate") or {}).get("fullNumber") or "",
        "is_stamped": bool(doc.get("stamp")),
    }
