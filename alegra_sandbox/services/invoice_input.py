"""What a POST or PUT of an invoice may say, read the way Alegra reads it: lines against the
catalogue (prices from the price list, taxes by id), fields and their references, retentions."""

from __future__ import annotations

from decimal import Decimal

from .. import arithmetic as ar
from ..documents import Line, contact_snapshot
from ..errors import Code, bad_request
from ..models import CatalogueKind, SandboxAccount
from ..validation import (
    parse_choice, parse_date, parse_discount, parse_id, parse_price, parse_quantity, parse_text, require_object,
)
from .accounts import catalogue_documents, catalogue_reference

PAYMENT_FORMS = {"CASH", "CREDIT"}
PAYMENT_METHODS = {"CASH", "DEBIT-CARD", "CREDIT-CARD", "TRANSFER", "CHECK", "OTHER"}
TEXT_FIELDS = ("observations", "anotation", "termsConditions")


def clean_lines(account: SandboxAccount, raw_items, price_list_id: str | None) -> list[Line]:
    if not isinstance(raw_items, list) or not raw_items:
        raise bad_request(Code.REQUIRED, "La factura debe tener al menos un ítem.")
    if len(raw_items) > 500:
        raise bad_request(Code.INVALID_VALUE, "La factura no puede tener más de 500 ítems.")
    for position, raw in enumerate(raw_items, start=1):
        require_object(raw, f"El ítem {position}")
        if raw.get("id") is None:
            raise bad_request(Code.REQUIRED, f"El ítem {position} debe indicar el id del producto.")
    item_ids = [parse_id(raw["id"], "ítem") for raw in raw_items]
    tax_ids = [parse_id(t, "impuesto") for raw in raw_items for t in _tax_refs(raw)]
    items = catalogue_documents(account, CatalogueKind.ITEM, item_ids)
    taxes = catalogue_documents(account, CatalogueKind.TAX, tax_ids)

    lines = []
    for position, (raw, item_id) in enumerate(zip(raw_items, item_ids, strict=True), start=1):
        item = items.get(item_id)
        if item is None:
            raise bad_request(Code.UNKNOWN_ITEM, f"El ítem con id {item_id} no existe.")
        line_taxes = []
        for ref in _tax_refs(raw):
            tax = taxes.get(parse_id(ref, "impuesto"))
            if tax is None:
                raise bad_request(Code.UNKNOWN_TAX,
                                  f"El impuesto con id {parse_id(ref, 'impuesto')} no existe.")
            line_taxes.append(tax)
        if "price" in raw and raw["price"] is not None:
            price = parse_price(raw["price"], position)
        else:
            price = _catalogue_price(item, price_list_id)
        if "quantity" not in raw:
            raise bad_request(Code.BAD_QUANTITY, f"La cantidad del ítem {position} es obligatoria.")
        name = raw.get("name")
        lines.append(Line(
            item_id=item_id,
            name=parse_text(name, "name", limit=150, nullable=False) if name else item["name"],
            price=price,
            quantity=parse_quantity(raw["quantity"], position),
            discount=parse_discount(raw.get("discount"), position),
            taxes=line_taxes,
            # As recorded: a line sent without description/reference comes back with null.
            description=parse_text(raw.get("description"), "description"),
            reference=_reference(raw.get("reference")),
        ))
    return lines


def _tax_refs(raw: dict) -> list:
    refs = raw.get("tax")
    if refs is None:
        return []
    if not isinstance(refs, list):
        raise bad_request(Code.INVALID_VALUE, "Los impuestos del ítem deben ser una lista.")
    return refs


def _reference(value):
    if isinstance(value, dict):  # newer accounts send {"reference": "...", "type": ...}
        value = value.get("reference")
    return parse_text(value, "reference", limit=100)


def _catalogue_price(item: dict, price_list_id: str | None) -> Decimal:
    prices = item.get("price") or []
    chosen = next((p for p in prices if p.get("idPriceList") == price_list_id), None)
    chosen = chosen or (prices[0] if prices else None)
    return ar.to_decimal(chosen["price"]) if chosen else ar.ZERO


def clean_fields(account: SandboxAccount, body, *, creating: bool) -> tuple[dict, list[Line] | None]:
    """Validated top-level values (document keys) and the new lines if `items` was sent.

    Computed fields (totals, balance, numbering, stamp, payments) are ignored: Alegra
    recomputes them.
    """
    body = require_object(body)
    fields: dict = {}
    for key in ("date", "dueDate"):
        if key in body:
            fields[key] = parse_date(body[key], key)
    for key in TEXT_FIELDS:
        if key in body:
            fields[key] = parse_text(body[key], key)
    if "paymentForm" in body:
        fields["paymentForm"] = parse_choice(body["paymentForm"], "paymentForm", PAYMENT_FORMS)
    if "paymentMethod" in body:
        fields["paymentMethod"] = parse_choice(body["paymentMethod"], "paymentMethod", PAYMENT_METHODS)
    if "client" in body:
        number = parse_id(body["client"], "cliente")
        fields["client"] = contact_snapshot(
            catalogue_reference(account, CatalogueKind.CONTACT, number, Code.UNKNOWN_CLIENT))
    elif creating:
        raise bad_request(Code.REQUIRED, "El cliente es obligatorio.")
    for key, kind in (("seller", CatalogueKind.SELLER), ("priceList", CatalogueKind.PRICE_LIST),
                      ("warehouse", CatalogueKind.WAREHOUSE)):
        if key in body:
            fields[key] = _small_reference(account, kind, body[key], key)
    if "retentions" in body:
        fields["retentions"] = _retentions(account, body["retentions"])
    if creating and "status" in body:
        if body["status"] not in {"draft", "open"}:
            raise bad_request(Code.INVALID_VALUE, "El estado de una factura nueva debe ser draft u open.")
        fields["status"] = body["status"]

    lines = None
    if "items" in body:
        price_list = fields.get("priceList")
        lines = clean_lines(account, body["items"], price_list["id"] if price_list else None)
    elif creating:
        raise bad_request(Code.REQUIRED, "La factura debe tener al menos un ítem.")
    return fields, lines


def _small_reference(account, kind: str, value, label: str) -> dict | None:
    if value is None:
        return None
    number = parse_id(value, label)
    document = catalogue_reference(account, kind, number, Code.INVALID_VALUE)
    return {"id": document["id"], "name": document["name"]}


def _retentions(account, value) -> list[dict]:
    if not isinstance(value, list):
        raise bad_request(Code.INVALID_VALUE, "Las retenciones deben ser una lista.")
    out = []
    for ref in value:
        document = catalogue_reference(account, CatalogueKind.RETENTION,
                                       parse_id(ref, "retención"), Code.INVALID_VALUE)
        out.append({"id": document["id"], "name": document["name"],
                    "percentage": document["percentage"], "type": document.get("type"),
                    "amount": "0"})
    return out
