"""The three writes a push can make, each after reading Alegra first.

- an in-place update: PUT the editable fields of the invoice;
- a credit note: POST it, marked with the request's number so a retry finds it;
- a contact update: PUT the contact's whole editable state (Alegra resets what a PUT omits).

Each raises `Conflict` when Alegra moved away from the version the edit was based on, and
returns `Applied(wrote=False)` when Alegra already holds the approved state. `guard` is called
once the rate limit grants the write its slot, just before it goes out (each time, if it is
sent again after a 429); it raises when this attempt no longer owns the push.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from invoices import arithmetic, diff, editable, mirror
from invoices.documents import contacts, references
from invoices.alegra import AlegraClient, AlegraError

from ..models import ChangeRequest

log = logging.getLogger(__name__)

CREDIT_NOTE_SCAN_PAGES = 5

Guard = Callable[[], None]


class Conflict(Exception):
    def __init__(self, remote: dict, fields: list[str]):
        self.remote, self.fields = remote, fields
        super().__init__("Alegra changed: " + ", ".join(fields))


@dataclass
class Applied:
    response: dict
    wrote: bool
    result_id: str = ""
    invoice_document: dict | None = None
    contact_document: dict | None = None
    expected_total: Decimal | None = None
    received_total: Decimal | None = None


def _moved(base: Mapping[str, Any], base_hash: str, current: dict) -> list[str]:
    """The fields in which Alegra's current invoice differs from the edit's base; [] when same."""
    if mirror.content_hash(mirror.canonical(current)) == base_hash:
        return []
    changes = diff.diff_documents(base, current)
    fields = [change.field for change in changes.header]
    if changes.lines_changed:
        fields.append("items")
    # The diff leaves out what Alegra computes; a credit note or a payment made meanwhile moves
    # only those, and writing on regardless could credit the same money twice.
    fields += [name for name in MONEY_FIELDS if not _same_amount(base.get(name), current.get(name))]
    return fields


MONEY_FIELDS = ("total", "balance")


def _same_amount(before: Any, after: Any) -> bool:
    try:
        return arithmetic.to_decimal(before) == arithmetic.to_decimal(after)
    except (ValueError, TypeError):
        return before == after


def _total(document: Mapping[str, Any]) -> Decimal | None:
    try:
        return arithmetic.to_decimal(document.get("total"))
    except (ValueError, TypeError):
        return None


def write_update(client: AlegraClient, change_request: ChangeRequest, guard: Guard) -> Applied:
    invoice_id = change_request.invoice.alegra_id
    proposed = change_request.proposed_document
    current = client.get_invoice(invoice_id)
    expected = change_request.new_total
    if not editable.put_body(current, proposed):
        return Applied(current, False, invoice_document=current, expected_total=expected,
                       received_total=_total(current))
    fields = _moved(change_request.base_document, change_request.base_hash, current)
    if fields:
        raise Conflict(current, fields)
    body = editable.put_body(change_request.base_document, proposed)
    response = client.put_invoice(invoice_id, body, before_send=guard)
    return Applied(response, True, invoice_document=response, expected_total=expected,
                   received_total=_total(response))


def marker(change_request: ChangeRequest) -> str:
    return f"[enmienda #{change_request.pk}]"


def _find_credit_note(client: AlegraClient, change_request: ChangeRequest) -> dict | None:
    tag = marker(change_request)
    invoice_id = str(change_request.invoice.alegra_id)
    for number, page in enumerate(client.iter_pages("/credit-notes")):
        for note in page.items:
            if not isinstance(note, dict) or tag not in str(note.get("observations") or ""):
                continue
            refs = {str(references.reference_id(ref)) for ref in note.get("invoices") or () if isinstance(ref, dict)}
            if not refs or invoice_id in refs:
                return note
        if number + 1 >= CREDIT_NOTE_SCAN_PAGES:
            break
    return None


def write_credit_note(client: AlegraClient, change_request: ChangeRequest, guard: Guard) -> Applied:
    body = dict(change_request.proposed_document)
    # The note's own total, whatever part of it settles the invoice (the rest is the client's credit).
    expected = change_request.old_total - change_request.new_total
    existing = _find_credit_note(client, change_request)
    if existing is None:
        current = client.get_invoice(change_request.invoice.alegra_id)
        fields = _moved(change_request.base_document, change_request.base_hash, current)
        if fields:
            raise Conflict(current, fields)
        tag = marker(change_request)
        notes = str(body.get("observations") or "").strip()
        body["observations"] = (f"{notes} {tag}" if notes else tag)[-500:]
        note = client.create_credit_note(body, before_send=guard)
        wrote = True
    else:
        note, wrote = existing, False
    invoice_document = None
    try:  # the note changed the invoice's balance; the mirror follows (a later sync would too)
        invoice_document = client.get_invoice(change_request.invoice.alegra_id)
    except AlegraError as error:
        log.warning("invoice %s not re-read after its credit note: %s", change_request.invoice.alegra_id, error)
    return Applied(note, wrote, result_id=str(note.get("id") or ""), invoice_document=invoice_document,
                   expected_total=expected, received_total=_total(note))


def write_contact(client: AlegraClient, change_request: ChangeRequest, guard: Guard) -> Applied:
    contact_id = change_request.contact_alegra_id or change_request.invoice.client_alegra_id
    base, proposed = change_request.base_document, change_request.proposed_document
    current = client.get_contact(contact_id)
    if not contacts.changed_paths(current, proposed):
        return Applied(current, False, result_id=str(contact_id), contact_document=current)
    # Only the fields the request edits can conflict: the rest is sent back as Alegra has it.
    fields = contacts.changed_paths(base, current)
    if fields:
        raise Conflict(current, fields)
    response = client.put_contact(contact_id, contacts.put_body(current, proposed), before_send=guard)
    return Applied(response, True, result_id=str(contact_id), contact_document=response)




WRITERS = {
    ChangeRequest.Kind.UPDATE: write_update,
    ChangeRequest.Kind.CREDIT_NOTE: write_credit_note,
    ChangeRequest.Kind.CONTACT: write_contact,
}
