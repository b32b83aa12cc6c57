"""Credit notes: how a stamped invoice is corrected.

A note lowers the balance of the invoices it is applied to and changes nothing
else on them (their lines and totals stay as stamped).
"""

from __future__ import annotations

import copy

from django.db import transaction

from .. import arithmetic as ar
from ..documents import apply_totals, contact_snapshot, invoice_columns, stamp
from ..errors import Code, bad_request, not_found
from ..models import CatalogueKind, SandboxAccount, SandboxCreditNote, SandboxInvoice
from ..validation import parse_date, parse_id, parse_number, parse_page, parse_text, require_object
from .accounts import catalogue_reference, next_ids
from .common import local_now
from .invoice_input import clean_lines

CREDIT_NOTE_TYPES = {
    "PARTIALL_DEVOLUTION",  # sic, as Alegra spells it
    "VOID_ELECTRONIC_INVOICE",
    "REDUCTION_DISCOUNT_PARTIAL_TOTAL",
    "PRICE_ADJUSTMENT",
    "OTHER",
}


def credit_note_list(account: SandboxAccount, params) -> list:
    start, limit = parse_page(params)
    rows = SandboxCreditNote.objects.filter(account=account).order_by("-number")
    return list(rows.values_list("document", flat=True)[start:start + limit])


def credit_note_get(account: SandboxAccount, note_id) -> dict:
    text = str(note_id)
    row = None
    if text.isdigit() and len(text) < 16:
        row = SandboxCreditNote.objects.filter(account=account, number=int(text)).first()
    if row is None:
        raise not_found(f"La nota crédito con id {note_id} no existe.")
    return row.document


@transaction.atomic
def credit_note_create(account: SandboxAccount, body) -> dict:
    body = require_object(body)
    if account.country == "CO" and not body.get("type"):
        raise bad_request(Code.CREDIT_NOTE_TYPE,
                          "El tipo de nota crédito es obligatorio para la facturación electrónica.")
    note_type = body.get("type")
    if note_type is not None and note_type not in CREDIT_NOTE_TYPES:
        raise bad_request(Code.CREDIT_NOTE_TYPE, "El tipo de nota crédito no es válido.")
    if "client" not in body:
        raise bad_request(Code.REQUIRED, "El cliente es obligatorio.")
    client_number = parse_id(body["client"], "cliente")
    client = contact_snapshot(
        catalogue_reference(account, CatalogueKind.CONTACT, client_number, Code.UNKNOWN_CLIENT))
    now = local_now()
    date = parse_date(body["date"], "date") if "date" in body else now.date().isoformat()
    lines = clean_lines(account, body.get("items"), None)
    precision = account.decimal_precision

    number = next_ids(account, "credit_note")[0]
    doc = {
        "id": str(number),
        "numberTemplate": {"id": "2", "prefix": "NC", "number": str(number), "text": None,
                           "fullNumber": f"NC{number}", "isElectronic": True,
                           "documentType": "creditNote"},
        "date": date,
        "datetime": now.strftime("%Y-%m-%d %H:%M:%S"),
        "status": "open",
        "type": note_type,
        "cause": parse_text(body.get("cause"), "cause"),
        "observations": parse_text(body.get("observations"), "observations"),
        "client": client,
        "decimalPrecision": str(precision),
        "items": [],
        "payments": [],
        "invoices": [],
    }
    apply_totals(doc, lines)
    doc.pop("totalPaid", None)
    total = ar.to_decimal(doc["total"])

    applied = ar.ZERO
    for position, ref in enumerate(_invoice_refs(body), start=1):
        amount = parse_number(ref.get("amount"), "amount")
        applied += amount
        doc["invoices"].append(_apply_to_invoice(account, ref, amount, client_number, position))
    if applied > total:
        raise bad_request(Code.AMOUNT_ABOVE_BALANCE,
                          "La suma de los valores aplicados a facturas supera el total de la nota crédito.")
    doc["balance"] = ar.money(total - applied, precision)
    doc["status"] = "closed" if total - applied <= 0 else "open"
    wants_stamp = isinstance(body.get("stamp"), dict) and body["stamp"].get("generateStamp") is True
    if wants_stamp:
        doc["stamp"] = stamp(doc, account.identification, "STAMPED_AND_ACCEPTED",
                             now.strftime("%Y-%m-%d %H:%M:%S"))
    SandboxCreditNote.objects.create(account=account, number=number, date=date,
                                     client_number=client_number, document=doc)
    return doc


def _invoice_refs(body: dict) -> list[dict]:
    refs = body.get("invoices", [])
    if not isinstance(refs, list) or not all(isinstance(r, dict) for r in refs):
        raise bad_request(Code.INVALID_VALUE, "'invoices' debe ser una lista de {id, amount}.")
    return refs


def _apply_to_invoice(account, ref: dict, amount, client_number: int, position: int) -> dict:
    number = parse_id(ref.get("id"), "factura")
    row = (SandboxInvoice.objects.select_for_update()
           .filter(account=account, number=number).first())
    if row is None:
        raise bad_request(Code.UNKNOWN_INVOICE, f"La factura con id {number} no existe.")
    doc = copy.deepcopy(row.document)
    if row.client_number != client_number:
        raise bad_request(Code.INVALID_VALUE,
                          f"La factura {number} no pertenece al cliente de la nota crédito.")
    if doc["status"] not in {"open", "closed"}:
        raise bad_request(Code.BAD_STATE,
                          f"La factura {number} debe estar abierta para aplicarle una nota crédito.")
    balance = ar.to_decimal(doc["balance"])
    # Zero names the invoice (the note's legal link) and applies nothing: on a paid invoice the
    # whole note stays as the client's credit (the note's own open balance).
    if amount < 0 or amount > balance:
        raise bad_request(Code.AMOUNT_ABOVE_BALANCE,
                          f"El valor aplicado a la factura {number} ({amount}) supera su saldo ({doc['balance']}).")
    precision = int(doc["decimalPrecision"])
    row.credited += amount
    doc["balance"] = ar.money(ar.to_decimal(doc["total"]) - ar.to_decimal(doc["totalPaid"]) - row.credited,
                              precision)
    if ar.to_decimal(doc["balance"]) <= 0:
        doc["status"] = "closed"
    row.document = doc
    for column, value in invoice_columns(doc).items():
        setattr(row, column, value)
    row.save()
    return {"id": doc["id"], "date": doc["date"], "dueDate": doc["dueDate"],
            "total": doc["total"], "balance": doc["balance"],
            "numberTemplate": {"fullNumber": doc["numberTemplate"].get("fullNumber")},
            "amount": ar.money(amount, precision)}
