"""Invoices: create, read, list, edit, and the actions a person takes in Alegra's UI.

The API views and the "as a person" helpers share these functions, so an edit
made in a test through `invoice_update` behaves exactly like a PUT (webhooks
included).
"""

from __future__ import annotations

import copy
from decimal import Decimal

from django.db import transaction
from django.db.models import Q

from .. import arithmetic as ar
from .. import delivery
from ..documents import (
    apply_totals, invoice_columns, line_from_document, number_template,
    recompute, stamp,
)
from ..errors import Code, bad_request, not_found
from ..models import CatalogueKind, SandboxAccount, SandboxInvoice, SandboxPlantedMistake
from ..validation import (
    parse_date, parse_id, parse_number, parse_page, require_object, wants_metadata,
)
from .accounts import catalogue_documents, next_ids
from .common import DEFAULT_TERMS, local_now
from .invoice_input import clean_fields

STATUSES = {"draft", "open", "closed", "void"}
LEGAL_STATUSES = {
    "STAMPED_AND_ACCEPTED",
    "STAMPED_AND_ACCEPTED_WITH_OBSERVATIONS",
    "STAMPED_AND_WAITING_RESPONSE",
    "STAMPED_AND_REJECTED",
}
# --- reading -----------------------------------------------------------------------------


def invoice_get(account: SandboxAccount, invoice_id) -> dict:
    return _row(account, invoice_id).document


def _row(account: SandboxAccount, invoice_id, *, lock: bool = False) -> SandboxInvoice:
    number = _invoice_number(invoice_id)
    rows = SandboxInvoice.objects.filter(account=account, number=number)
    if lock:
        rows = rows.select_for_update()
    row = rows.first()
    if row is None:
        raise not_found(f"La factura con id {invoice_id} no existe.")
    return row


def _invoice_number(invoice_id) -> int:
    text = str(invoice_id)
    if not text.isdigit() or len(text) > 15:
        raise not_found(f"La factura con id {invoice_id} no existe.")
    return int(text)


ORDER_FIELDS = {"id": "number", "date": "date", "dueDate": "due_date", "status": "status"}
DATE_FILTERS = {
    "": "exact", "_afterOrNow": "gte", "_beforeOrNow": "lte", "_after": "gt", "_before": "lt",
}


def invoice_list(account: SandboxAccount, params) -> dict | list:
    """GET /invoices: a bare array, or {"metadata": {"total"}, "data"} with metadata=true."""
    start, limit = parse_page(params)
    rows = SandboxInvoice.objects.filter(account=account)
    if "status" in params:
        status = params["status"]
        if status not in STATUSES:
            raise bad_request(Code.BAD_PARAMETER, f"El estado '{status}' no es válido.")
        rows = rows.filter(status=status)
    if "client_id" in params:
        rows = rows.filter(client_number=parse_id(params["client_id"], "cliente"))
    for field, column in (("date", "date"), ("dueDate", "due_date")):
        for suffix, lookup in DATE_FILTERS.items():
            key = field + suffix
            if key in params:
                rows = rows.filter(**{f"{column}__{lookup}": parse_date(params[key], key)})
    if "numberTemplate_fullNumber" in params:
        rows = rows.filter(full_number=params["numberTemplate_fullNumber"])
    if params.get("query"):
        query = params["query"][:100]
        rows = rows.filter(Q(full_number__icontains=query) | Q(client_name__icontains=query))

    order_field = params.get("order_field")
    if order_field is not None and order_field not in ORDER_FIELDS:
        raise bad_request(Code.BAD_PARAMETER,
                          "El campo de ordenamiento no es válido. Use id, date, dueDate o status.")
    direction = params.get("order_direction", "ASC" if order_field else "DESC").upper()
    if direction not in {"ASC", "DESC"}:
        raise bad_request(Code.BAD_PARAMETER, "La dirección de ordenamiento debe ser ASC o DESC.")
    sign = "-" if direction == "DESC" else ""
    column = ORDER_FIELDS[order_field or "id"]
    ordering = [sign + column] + ([sign + "number"] if column != "number" else [])
    # Page through the narrow index first, then fetch the wide documents of that page only.
    page = list(rows.order_by(*ordering).values_list("pk", flat=True)[start:start + limit])
    documents = dict(SandboxInvoice.objects.filter(pk__in=page).values_list("pk", "document"))
    data = [documents[pk] for pk in page]
    if wants_metadata(params):
        return {"metadata": {"total": rows.count()}, "data": data}
    return data


# --- writing -------------------------------------------------------------------------------


def _default_template(account: SandboxAccount) -> dict:
    templates = catalogue_documents(account, CatalogueKind.NUMBER_TEMPLATE, [1])
    return templates.get(1) or {"id": "1", "prefix": None, "text": None,
                                "isElectronic": False, "documentType": "invoice"}


def _save(row: SandboxInvoice, doc: dict) -> None:
    row.document = doc
    for column, value in invoice_columns(doc).items():
        setattr(row, column, value)
    row.save()


def _settle_status(doc: dict, credited: Decimal) -> None:
    """Open ↔ closed follows the balance; draft and void stay as they are."""
    if doc["status"] not in {"open", "closed"}:
        return
    settled = ar.to_decimal(doc["totalPaid"]) + credited > 0
    doc["status"] = "closed" if settled and ar.to_decimal(doc["balance"]) <= 0 else "open"


@transaction.atomic
def invoice_create(account: SandboxAccount, body) -> dict:
    fields, lines = clean_fields(account, body, creating=True)
    today = local_now()
    number = next_ids(account, "invoice")[0]
    date = fields.get("date", today.date().isoformat())
    doc = {
        "id": str(number),
        "date": date,
        "dueDate": fields.get("dueDate", date),
        "datetime": today.strftime("%Y-%m-%d %H:%M:%S"),
        "observations": fields.get("observations"),
        "anotation": fields.get("anotation"),
        "termsConditions": fields.get("termsConditions", DEFAULT_TERMS),
        "status": fields.get("status", "open"),
        "client": fields["client"],
        "numberTemplate": number_template(_default_template(account), number),
        "subtotal": "0", "discount": "0", "tax": "0", "total": "0", "totalPaid": "0", "balance": "0",
        "decimalPrecision": str(account.decimal_precision),
        "paymentForm": fields.get("paymentForm", "CASH"),
        "paymentMethod": fields.get("paymentMethod", "CASH"),
        "seller": fields.get("seller"),
        "priceList": fields.get("priceList"),
        "warehouse": fields.get("warehouse"),
        "retentions": fields.get("retentions", []),
        "payments": [],
        "items": [],
    }
    _check_dates(doc)
    apply_totals(doc, lines)
    wants_stamp = isinstance(body.get("stamp"), dict) and body["stamp"].get("generateStamp") is True
    if wants_stamp and doc["status"] == "open" and doc["numberTemplate"]["isElectronic"]:
        doc["stamp"] = stamp(doc, account.identification, "STAMPED_AND_ACCEPTED",
                             today.strftime("%Y-%m-%d %H:%M:%S"))
    row = SandboxInvoice(account=account, number=number)
    _save(row, doc)
    delivery.queue_event(account.pk, "new-invoice", {"invoice": doc})
    return doc


def _check_dates(doc: dict) -> None:
    if doc["dueDate"] < doc["date"]:
        raise bad_request(Code.BAD_DATE,
                          "La fecha de vencimiento no puede ser anterior a la fecha de la factura.")


def _refuse_if_locked(doc: dict) -> None:
    full_number = doc["numberTemplate"].get("fullNumber") or doc["id"]
    if doc.get("stamp"):
        raise bad_request(
            Code.INVOICE_STAMPED,
            f"La factura {full_number} ya fue emitida electrónicamente ante la DIAN y no se puede "
            "modificar. Para corregirla debe crear una nota crédito.")
    if doc["status"] == "void":
        raise bad_request(Code.INVOICE_VOID,
                          f"La factura {full_number} está anulada y no se puede modificar.")


@transaction.atomic
def invoice_update(account: SandboxAccount, invoice_id, changes) -> dict:
    """PUT /invoices/{id}: a partial body; `items`, when sent, replaces every line."""
    row = _row(account, invoice_id, lock=True)
    doc = copy.deepcopy(row.document)
    _refuse_if_locked(doc)
    fields, lines = clean_fields(account, changes, creating=False)
    doc.update(fields)
    _check_dates(doc)
    if lines is None:
        lines = [line_from_document(item) for item in doc["items"]]
    apply_totals(doc, lines, row.credited)
    settled = ar.to_decimal(doc["totalPaid"]) + row.credited
    if ar.to_decimal(doc["total"]) < settled:
        raise bad_request(
            Code.TOTAL_BELOW_PAID,
            f"El total de la factura ({doc['total']}) no puede ser menor que lo ya pagado o "
            f"acreditado ({ar.money(settled, int(doc['decimalPrecision']))}).")
    _settle_status(doc, row.credited)
    _save(row, doc)
    delivery.queue_event(account.pk, "edit-invoice", {"invoice": doc})
    return doc


@transaction.atomic
def invoice_void(account: SandboxAccount, invoice_id) -> dict:
    row = _row(account, invoice_id, lock=True)
    doc = copy.deepcopy(row.document)
    if doc.get("stamp"):
        raise bad_request(Code.INVOICE_STAMPED,
                          "La factura fue emitida electrónicamente; anúlela con una nota crédito.")
    if doc["status"] == "void":
        raise bad_request(Code.BAD_STATE, "La factura ya está anulada.")
    if ar.to_decimal(doc["totalPaid"]) > 0 or doc.get("payments"):
        raise bad_request(Code.INVOICE_HAS_PAYMENTS,
                          "La factura tiene pagos asociados; elimine los pagos antes de anularla.")
    doc["status"] = "void"
    _save(row, doc)
    delivery.queue_event(account.pk, "edit-invoice", {"invoice": doc})
    return doc


@transaction.atomic
def invoice_open(account: SandboxAccount, invoice_id) -> dict:
    """Reopen a void (or draft) invoice that was never stamped."""
    row = _row(account, invoice_id, lock=True)
    doc = copy.deepcopy(row.document)
    if doc.get("stamp"):
        raise bad_request(Code.INVOICE_STAMPED, "Una factura emitida electrónicamente no se puede reabrir.")
    if doc["status"] not in {"void", "draft"}:
        raise bad_request(Code.BAD_STATE, "Solo se pueden abrir facturas anuladas o en borrador.")
    doc["status"] = "open"
    _settle_status(doc, row.credited)
    _save(row, doc)
    delivery.queue_event(account.pk, "edit-invoice", {"invoice": doc})
    return doc


@transaction.atomic
def invoice_delete(account: SandboxAccount, invoice_id) -> dict:
    row = _row(account, invoice_id, lock=True)
    doc = row.document
    if doc.get("stamp"):
        raise bad_request(Code.INVOICE_STAMPED,
                          "Una factura emitida electrónicamente no se puede eliminar.")
    if ar.to_decimal(doc["totalPaid"]) > 0 or row.credited > 0:
        raise bad_request(Code.INVOICE_HAS_PAYMENTS,
                          "La factura tiene pagos o notas crédito asociadas y no se puede eliminar.")
    SandboxPlantedMistake.objects.filter(invoice=row).delete()
    row.delete()
    delivery.queue_event(account.pk, "delete-invoice", {"invoice": doc})
    return {"code": 200, "message": "La factura fue eliminada correctamente."}


@transaction.atomic
def invoice_pay(account: SandboxAccount, invoice_id, amount, *, date: str | None = None,
                payment_method: str = "transfer") -> dict:
    """Record a payment as a person would in Alegra (no webhook: Alegra sends none for payments)."""
    row = _row(account, invoice_id, lock=True)
    doc = copy.deepcopy(row.document)
    amount = parse_number(amount, "amount")
    if doc["status"] != "open":
        raise bad_request(Code.BAD_STATE, "Solo se pueden registrar pagos a facturas abiertas.")
    if amount <= 0 or amount > ar.to_decimal(doc["balance"]):
        raise bad_request(Code.AMOUNT_ABOVE_BALANCE,
                          "El valor del pago debe ser positivo y no superar el saldo de la factura.")
    precision = int(doc["decimalPrecision"])
    doc["payments"].append({
        "id": str(next_ids(account, "payment")[0]),
        "date": date or local_now().date().isoformat(),
        "amount": ar.money(amount, precision),
        "paymentMethod": payment_method,
    })
    recompute(doc, row.credited)
    _settle_status(doc, row.credited)
    _save(row, doc)
    return doc


@transaction.atomic
def invoice_stamp(account: SandboxAccount, invoice_id, *,
                  legal_status: str = "STAMPED_AND_ACCEPTED") -> dict:
    """Send the invoice to the tax authority (no webhook: Alegra sends none for stamping)."""
    if legal_status not in LEGAL_STATUSES:
        raise bad_request(Code.INVALID_VALUE, "Estado legal desconocido.")
    row = _row(account, invoice_id, lock=True)
    doc = copy.deepcopy(row.document)
    if doc.get("stamp"):
        raise bad_request(Code.INVOICE_STAMPED, "La factura ya fue emitida electrónicamente.")
    if doc["status"] not in {"open", "closed"}:
        raise bad_request(Code.BAD_STATE, "Solo se pueden emitir facturas abiertas o cerradas.")
    doc["numberTemplate"]["isElectronic"] = True
    doc["stamp"] = stamp(doc, account.identification, legal_status,
                         local_now().strftime("%Y-%m-%d %H:%M:%S"))
    _save(row, doc)
    return doc


def invoice_email(account: SandboxAccount, invoice_id, body) -> dict:
    body = require_object(body)
    _row(account, invoice_id)
    emails = body.get("emails")
    if not isinstance(emails, list) or not emails or not all(
            isinstance(e, str) and "@" in e and len(e) <= 254 for e in emails):
        raise bad_request(Code.INVALID_VALUE, "Debe indicar al menos un correo electrónico válido.")
    # Recorded: the code comes back as a string.
    return {"code": "200", "message": "La factura fue enviada exitosamente"}
