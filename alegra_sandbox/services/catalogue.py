"""Contacts, items and the small catalogues (taxes, retentions, sellers, price lists)."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from .. import delivery
from ..errors import Code, bad_request
from ..models import CatalogueKind, SandboxAccount, SandboxCatalogueEntry
from ..validation import parse_id, parse_page, parse_text, require_object, wants_metadata
from .accounts import catalogue_get, catalogue_reference, next_ids

CONTACT_TYPES = {"client", "provider"}
IDENTIFICATION_TYPES = {"NIT", "CC", "CE", "PP", "TI", "RC", "DIE", "NUIP", "PEP", "FOREIGN_NIT"}
DEFAULT_TERM = {"id": "1", "name": "De contado", "days": "0"}


def catalogue_list(account: SandboxAccount, kind: str, params, *, paged: bool = True):
    rows = SandboxCatalogueEntry.objects.filter(account=account, kind=kind)
    if params.get("query"):
        query = params["query"][:100]
        rows = rows.filter(Q(name__icontains=query) | Q(code__icontains=query))
    if kind == CatalogueKind.CONTACT and params.get("identification"):
        rows = rows.filter(code=params["identification"])
    rows = rows.order_by("number")
    if not paged:
        return list(rows.values_list("document", flat=True))
    start, limit = parse_page(params)
    data = list(rows.values_list("document", flat=True)[start:start + limit])
    if wants_metadata(params):
        return {"metadata": {"total": rows.count()}, "data": data}
    return data


def catalogue_document(account: SandboxAccount, kind: str, entry_id) -> dict:
    return catalogue_get(account, kind, _number(entry_id)).document


def _blank_contact(number: int) -> dict:
    """What a contact looks like with nothing set; a PUT starts from this (fields left out
    are reset, as recorded: a PUT with only `name` emptied the `type` list)."""
    return {
        "id": str(number),
        "name": "",
        "identification": "",
        "identificationObject": {"type": None, "number": ""},
        "kindOfPerson": "",
        "regime": "",
        "email": "",
        "phonePrimary": "",
        "phoneSecondary": "",
        "fax": "",
        "mobile": "",
        "observations": "",
        "address": {"address": "", "city": ""},
        "type": [],
        "seller": None,
        "term": dict(DEFAULT_TERM),
        "priceList": None,
        "internalContacts": [],
        "status": "active",
    }


def _apply_contact(account: SandboxAccount, doc: dict, body: dict) -> dict:
    for key, limit in (("name", 150), ("email", 254), ("phonePrimary", 30), ("phoneSecondary", 30),
                       ("fax", 30), ("mobile", 30), ("observations", 500), ("kindOfPerson", 30),
                       ("regime", 60)):
        if key in body:
            doc[key] = parse_text(body[key], key, limit=limit, nullable=False)
    if doc["email"] and "@" not in doc["email"]:
        raise bad_request(Code.INVALID_VALUE, "El correo electrónico del contacto no es válido.")
    identification = body.get("identification")
    if isinstance(identification, dict):  # newer API: {"type": "NIT", "number": "..."}
        body = {**body, "identificationObject": identification}
        identification = identification.get("number")
    if identification is not None:
        doc["identification"] = parse_text(identification, "identification", limit=30, nullable=False)
    if "identificationObject" in body:
        obj = require_object(body["identificationObject"], "identificationObject")
        id_type = obj.get("type")
        if id_type is not None and id_type not in IDENTIFICATION_TYPES:
            raise bad_request(Code.INVALID_VALUE, "El tipo de identificación no es válido.")
        doc["identificationObject"] = {"type": id_type, "number": doc["identification"]}
        if obj.get("dv") is not None:
            doc["identificationObject"]["dv"] = str(obj["dv"])[:1]
    else:
        doc["identificationObject"]["number"] = doc["identification"]
    if "address" in body:
        address = require_object(body["address"], "address")
        doc["address"] = {"address": parse_text(address.get("address") or "", "address", limit=200),
                          "city": parse_text(address.get("city") or "", "city", limit=100)}
    if "type" in body:
        types = body["type"] if isinstance(body["type"], list) else [body["type"]]
        if not all(t in CONTACT_TYPES for t in types):
            raise bad_request(Code.INVALID_VALUE, "El tipo de contacto debe ser client o provider.")
        doc["type"] = sorted(set(types), key=["client", "provider"].index)
    if "priceList" in body:
        doc["priceList"] = _ref(account, CatalogueKind.PRICE_LIST, body["priceList"], "priceList")
    if "seller" in body:
        doc["seller"] = _ref(account, CatalogueKind.SELLER, body["seller"], "seller")
    if not doc["name"].strip():
        raise bad_request(Code.REQUIRED, "El nombre del contacto es obligatorio.")
    return doc


def _ref(account, kind, value, label):
    if value is None:
        return None
    document = catalogue_reference(account, kind, parse_id(value, label), Code.INVALID_VALUE)
    return {"id": document["id"], "name": document["name"]}


@transaction.atomic
def contact_create(account: SandboxAccount, body) -> dict:
    body = require_object(body)
    number = next_ids(account, "contact")[0]
    doc = _apply_contact(account, _blank_contact(number), body)
    SandboxCatalogueEntry.objects.create(account=account, kind=CatalogueKind.CONTACT, number=number,
                                         name=doc["name"], code=doc["identification"], document=doc)
    delivery.queue_event(account.pk, "new-client", {"client": doc})
    return doc


@transaction.atomic
def contact_update(account: SandboxAccount, contact_id, body) -> dict:
    body = require_object(body)
    entry = catalogue_get(account, CatalogueKind.CONTACT, _number(contact_id))
    old = entry.document
    doc = _blank_contact(entry.number)
    # Name and identification survive an omission; everything else is reset.
    doc["name"], doc["identification"] = old.get("name", ""), old.get("identification", "")
    doc = _apply_contact(account, doc, body)
    entry.document, entry.name, entry.code = doc, doc["name"], doc["identification"]
    entry.save()
    delivery.queue_event(account.pk, "edit-client", {"client": doc})
    return doc


def _number(entry_id) -> int:
    text = str(entry_id)
    return int(text) if text.isdigit() and len(text) < 16 else 0
