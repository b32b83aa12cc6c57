"""The documents a proposal produces: the invoice after an edit, a credit note, a contact.

A proposed document starts from the mirrored one and changes only what the form changed,
keeping every value it did not touch exactly as Alegra wrote it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from invoices import arithmetic, editable
from invoices.documents import contacts, numbers, references


def _copied(value: Any) -> Any:
    """A copy of a JSON document (dicts, lists and scalars), as deepcopy would make it: a proposal
    copies every line of its base, and deepcopy's bookkeeping of shared objects, which a JSON
    document cannot have, was most of that."""
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copied(item) for item in value]
    return value


def text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return ""
    return str(value)


def _same_text(posted: str, raw: Any) -> bool:
    """Whether a posted text is the stored one (browsers send CRLF and drop newlines in inputs)."""
    stored = text_of(raw)
    posted = posted.replace("\r\n", "\n")
    stored_lf = stored.replace("\r\n", "\n")
    return posted == stored_lf or posted == stored_lf.replace("\n", "")


def _set_text(document: dict, name: str, posted: str) -> None:
    if _same_text(posted, document.get(name)):
        return
    document[name] = posted.replace("\r\n", "\n")


def _same_number(raw: Any, value: Decimal) -> bool:
    try:
        return arithmetic.to_decimal(raw) == value
    except (ValueError, TypeError):
        return False


def _reference(base_value: Any, ident: str) -> Any:
    if ident == (references.reference_id(base_value) or ""):
        return _copied(base_value)
    return {"id": ident} if ident else None


CLIENT_KEYS = ("id", "name", "identification", "email", "phonePrimary", "phoneSecondary",
               "mobile", "address")


def client_from_contact(contact_document: Mapping) -> dict:
    return {key: _copied(contact_document[key]) for key in CLIENT_KEYS if key in contact_document}


def proposed_header(base: Mapping, data: Mapping, contact_document: Mapping | None) -> dict:
    # The lines are the caller's (proposed_invoice builds each from its own base line): copying
    # them here too was a third of a 500-line recompute's copying.
    document = {key: [] if key == "items" else _copied(value) for key, value in base.items()}
    for name in ("date", "dueDate", "paymentForm", "paymentMethod", "observations",
                 "anotation", "termsConditions"):
        _set_text(document, name, data.get(name) or "")
    client = data.get("client") or ""
    if client != (references.reference_id(base.get("client")) or ""):
        document["client"] = (client_from_contact(contact_document) if contact_document
                              else ({"id": client} if client else None))
    for name in ("seller", "priceList"):
        document[name] = _reference(base.get(name), data.get(name) or "")
        if name not in base and document[name] is None:
            del document[name]
    return document


def proposed_line(base_items: list, data: Mapping, taxes: Mapping[str, Mapping]) -> dict:
    origin = data.get("origin")
    source: Mapping = {}
    if isinstance(origin, int) and 0 <= origin < len(base_items) and isinstance(base_items[origin], Mapping):
        if references.item_id(base_items[origin]) == (data.get("item") or ""):
            source = base_items[origin]
    line = _copied(dict(source))
    line["id"] = source["id"] if source else (data.get("item") or None)
    if data.get("name") and not _same_text(data["name"], source.get("name")):
        line["name"] = data["name"]
    for name in ("description", "reference"):
        posted = data.get(name) or ""
        if not _same_text(posted, source.get(name)):
            line[name] = posted.replace("\r\n", "\n")
        elif not source:
            line[name] = posted
    for name in ("price", "quantity", "discount"):
        value = data.get(name)
        value = Decimal(0) if value is None else value
        if name in source and _same_number(source.get(name), value):
            continue
        line[name] = numbers.decimal_text(value)
    wanted = list(data.get("tax") or [])
    existing = [references.tax_id(tax) for tax in source.get("tax") or ()]
    if wanted != existing or not source:
        line["tax"] = [_copied(dict(taxes[ident])) if ident in taxes else {"id": ident}
                       for ident in wanted]
    line.pop("total", None)
    return line


def _items(document: Mapping) -> list:
    items = document.get("items")
    return items if isinstance(items, list) else []


def proposed_invoice(base: Mapping, header: Mapping, lines: list[Mapping],
                     taxes: Mapping[str, Mapping], contact_document: Mapping | None = None) -> dict:
    """The invoice `base` with the header fields and lines of the form."""
    document = proposed_header(base, header, contact_document)
    document["items"] = [proposed_line(_items(base), data, taxes) for data in lines]
    return document


def net_price(line: Mapping) -> Decimal | None:
    try:
        return editable._net_price(line)
    except (ValueError, TypeError, ArithmeticError):
        return None


def proposed_credit_note(invoice_doc: Mapping, data: Mapping, lines: list[Mapping]) -> dict:
    """A POST /credit-notes body from the composer; bad values are left for the rules."""
    items = _items(invoice_doc)
    returned = []
    for index, row in enumerate(lines[: len(items)]):
        quantity = row.get("quantity")
        if quantity is None or quantity == 0:
            continue
        price = row.get("price")
        if price is not None and price == net_price(items[index]):
            price = None
        returned.append(editable.ReturnedLine(index=index, quantity=quantity, price=price))
    note_type, cause, date = data.get("type") or "", (data.get("cause") or "").strip(), data.get("date") or ""
    try:
        return editable.credit_note_body(invoice_doc, returned, note_type, cause, date)
    except (ValueError, TypeError, ArithmeticError):
        # The invoice itself holds a value the arithmetic cannot use; the rules say which.
        return {"client": {"id": references.reference_id(invoice_doc.get("client"))}, "date": date,
                "type": note_type, "cause": cause, "items": []}


CONTACT_FORM_PATHS = {
    "identification": "identification", "email": "email", "phonePrimary": "phonePrimary", "phoneSecondary": "phoneSecondary",
    "mobile": "mobile", "address": "address.address", "city": "address.city",
}


def contact_initial(document: Mapping) -> dict:
    """The contact form's fields for a contact document."""
    return {name: text_of(contacts.get_path(document, path)) for name, path in CONTACT_FORM_PATHS.items()}


def proposed_contact(base: Mapping, data: Mapping) -> dict:
    document = _copied(dict(base))
    current = contact_initial(base)
    for name, path in CONTACT_FORM_PATHS.items():
        posted = (data.get(name) or "").strip()
        if posted != current[name].strip() and (posted or name != "identification"):
            contacts.set_path(document, path, posted)  # an identification is corrected, never removed
    return document
