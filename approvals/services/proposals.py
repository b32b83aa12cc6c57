"""What a change request proposes: the base it starts from, the rules it must meet, and the
documents carried over when the mirror moves. Reads and pure checks only; every write is in
the other services of this package.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from invoices import arithmetic, diff, editable, mirror, rules
from invoices.documents import contacts, numbers, references
from invoices.documents.status import is_void
from invoices.models import Contact, Invoice, Item, PriceList, Seller, Tax
from invoices.rules import RuleViolation

from ..errors import ApprovalError
from ..models import OPEN_STATES, ChangeRequest

Kind = ChangeRequest.Kind

MAX_REASON = 2000
MAX_AMOUNT = Decimal("1e15")
MAX_REFERENCE = rules.MAX_TEXT
MAX_CITY = 100
PHONE = re.compile(r"^[0-9+()\-. ]{0,30}$")
IDENTIFICATION = re.compile(r"^[0-9A-Za-z.\- ]{0,30}$")


@dataclass(frozen=True)
class Base:
    document: dict
    hash: str


# --- reads the rules need ---------------------------------------------------------------


def catalogue_taxes(company) -> dict[str, dict]:
    """The company's mirrored taxes, by id, in the shape of a line's tax entry."""
    rows = (Tax.objects.filter(company=company, is_deleted=False)
            .order_by("name", "id").values_list("alegra_id", "name", "percentage", "tax_type"))
    return {
        ident: {"id": ident, "name": name, "percentage": numbers.decimal_text(percentage),
                "type": tax_type}
        for ident, name, percentage, tax_type in rows
    }


def named_choices(company) -> dict[str, list[tuple[str, str]]]:
    """The active sellers and price lists an invoice may name, as (id, name).

    One plain statement: the edit screen asks on every keystroke, and composing a union through
    the ORM cost more than the two queries it replaced.
    """
    parts = [(kind, model._meta.db_table) for kind, model in (("sellers", Seller), ("price_lists", PriceList))]
    sql = " UNION ALL ".join(
        f"SELECT %s, alegra_id, name, id FROM {connection.ops.quote_name(table)} "
        "WHERE company_id = %s AND is_active AND NOT is_deleted" for _kind, table in parts)
    with connection.cursor() as cursor:
        cursor.execute(sql + " ORDER BY 1, 3, 4", [value for kind, _table in parts for value in (kind, company.pk)])
        rows = cursor.fetchall()
    found: dict[str, list[tuple[str, str]]] = {kind: [] for kind, _table in parts}
    for kind, ident, name, _pk in rows:
        found[kind].append((ident, name))
    return found


def client_block(invoice: Invoice) -> dict:
    document = invoice.document if isinstance(invoice.document, dict) else {}
    client = document.get("client")
    return copy.deepcopy(client) if isinstance(client, dict) else {}


def current_base(invoice: Invoice, kind: str) -> Base:
    """What an edit of this kind starts from now: the invoice, or its client's contact."""
    if kind == Kind.CONTACT:
        contact = (Contact.objects.filter(company_id=invoice.company_id, is_deleted=False,
                                          alegra_id=invoice.client_alegra_id).first()
                   if invoice.client_alegra_id else None)
        if contact is not None and isinstance(contact.document, dict):
            return Base(contact.document, contact.content_hash)
        block = client_block(invoice)
        return Base(block, mirror.content_hash(block))
    return Base(invoice.document, invoice.content_hash)


def base_for_hash(invoice: Invoice, base_hash: str) -> dict | None:
    """The invoice body an edit was based on: the current one, or a version from the history."""
    if base_hash == invoice.content_hash:
        return invoice.document
    version = (invoice.history.filter(content_hash=base_hash)
               .order_by("-history_id").values_list("document", flat=True).first())
    return version if isinstance(version, dict) else None


def open_request_for(invoice: Invoice, exclude_pk: int | None = None) -> ChangeRequest | None:
    requests = ChangeRequest.objects.filter(invoice=invoice, state__in=OPEN_STATES)
    if exclude_pk is not None:
        requests = requests.exclude(pk=exclude_pk)
    # Most invoices have none open: their ids are looked at first, and the request itself (two
    # documents and its requester) read only when there is one (0.35 ms against 0.88 ms for none).
    pk = requests.order_by("-id").values_list("pk", flat=True).first()
    return None if pk is None else requests.select_related("requester").filter(pk=pk).first()


# --- the rules --------------------------------------------------------------------------


def reason_violations(reason: str, *, required: bool) -> list[RuleViolation]:
    text = (reason or "").strip()
    if required and not text:
        return [RuleViolation("reason", "reason_required", _(
            "Explain the reason for the change: a reason is required to submit."))]
    if len(text) > MAX_REASON:
        return [RuleViolation("reason", "reason_too_long", _(
            "The reason can have at most %(max)s characters (it has %(length)s)."
        ) % {"max": MAX_REASON, "length": len(text)})]
    return []


def _lines(document: Mapping[str, Any]) -> list:
    items = document.get("items")
    return items if isinstance(items, list) else []


def _update_extras(company, base: Mapping, proposed: Mapping) -> list[RuleViolation]:
    """What the document rules cannot know alone: the catalogue, the reference length."""
    found = []
    for index, line in enumerate(_lines(proposed)):
        reference = line.get("reference") if isinstance(line, Mapping) else None
        if reference is not None and len(str(reference)) > MAX_REFERENCE:
            found.append(RuleViolation(f"items[{index}].reference", "text_too_long", _(
                "Line %(line)s: the reference can have at most %(max)s characters "
                "(it has %(length)s)."
            ) % {"line": index + 1, "max": MAX_REFERENCE, "length": len(str(reference))}))
    known_items = {references.item_id(line) for line in _lines(base)}
    new_items = {}
    for index, line in enumerate(_lines(proposed)):
        ident = references.item_id(line)
        if ident and ident not in known_items:
            new_items.setdefault(ident, index)
    if new_items:
        found_ids = set(Item.objects.filter(company=company, is_deleted=False,
                                            alegra_id__in=list(new_items))
                        .values_list("alegra_id", flat=True))
        for ident, index in new_items.items():
            if ident not in found_ids:
                found.append(RuleViolation(f"items[{index}].id", "unknown_item", _(
                    "Line %(line)s: the item %(item)s is not in the company's catalogue."
                ) % {"line": index + 1, "item": ident}))
    found += _named_violations(company, base, proposed)
    old_client = references.reference_id(base.get("client"))
    new_client = references.reference_id(proposed.get("client"))
    if new_client is None:
        found.append(RuleViolation("client", "client_required", _("Choose the client.")))
    elif new_client != old_client and not Contact.objects.filter(
            company=company, is_deleted=False, alegra_id=new_client).exists():
        found.append(RuleViolation("client", "unknown_client", _(
            "The client %(client)s is not among the company's contacts."
        ) % {"client": new_client}))
    return found


CONTACT_LABELS = {
    "identification": gettext_lazy("Identification"), "email": gettext_lazy("E-mail"), "phonePrimary": gettext_lazy("Phone"),
    "phoneSecondary": gettext_lazy("Second phone"), "mobile": gettext_lazy("Mobile"),
    "address.address": gettext_lazy("Address"), "address.city": gettext_lazy("City"),
}


NAMED = (("seller", Seller, "unknown_seller", gettext_lazy("The seller %(id)s is not among the company's sellers.")),
         ("priceList", PriceList, "unknown_price_list",
          gettext_lazy("The price list %(id)s is not among the company's price lists.")))


def _named_violations(company, base: Mapping, proposed: Mapping) -> list[RuleViolation]:
    """A seller or price list the proposal changes must be one Alegra has (else its PUT is refused)."""
    found = []
    for name, model, code, message in NAMED:
        ident = references.reference_id(proposed.get(name))
        if not ident or ident == references.reference_id(base.get(name)):
            continue
        if not model.objects.filter(company=company, alegra_id=ident, is_deleted=False, is_active=True).exists():
            found.append(RuleViolation(name, code, str(message) % {"id": ident[:36]}))
    return found


def contact_violations(base: Mapping, proposed: Mapping) -> list[RuleViolation]:
    found = []
    email = contacts.text_at(proposed, "email").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            found.append(RuleViolation("email", "invalid_email", _(
                "The e-mail “%(value)s” is not a valid address.") % {"value": email[:80]}))
    identification = contacts.text_at(proposed, "identification")
    if identification != contacts.text_at(base, "identification") and not (
            identification.strip() and IDENTIFICATION.match(identification)):
        found.append(RuleViolation("identification", "invalid_identification", _(
            "“%(value)s” is not an identification: use the NIT or cédula, letters, digits, dots and "
            "hyphens only, at most 30 characters.") % {"value": identification[:40]}))
    for name in ("phonePrimary", "phoneSecondary", "mobile"):
        value = contacts.text_at(proposed, name)
        if not PHONE.match(value):
            found.append(RuleViolation(name, "invalid_phone", _(
                "“%(value)s” is not a phone number: use digits, spaces and + ( ) - only, "
                "at most 30 characters.") % {"value": value[:40]}))
    for name, limit in (("address.address", rules.MAX_TEXT), ("address.city", MAX_CITY)):
        value = contacts.text_at(proposed, name)
        if len(value) > limit:
            found.append(RuleViolation(name, "text_too_long", _(
                "%(field)s can have at most %(max)s characters (it has %(length)s)."
            ) % {"field": CONTACT_LABELS[name], "max": limit, "length": len(value)}))
    if all(contacts.text_at(base, name) == contacts.text_at(proposed, name) for name in contacts.EDITABLE_PATHS):
        found.append(RuleViolation("", "nothing_to_submit",
                                   _("Nothing has changed: there is nothing to submit.")))
    return found


def _too_large() -> list[RuleViolation]:
    return [RuleViolation("total", "amount_too_large", _(
        "The amounts are too large: check the quantities and prices (at most %(max)s)."
    ) % {"max": "999.999.999.999.999"})]


def _amount_violations(proposed: Mapping, taxes: Mapping,
                       changes: diff.DocumentDiff | None = None) -> list[RuleViolation]:
    if changes is not None and changes.impact is not None:
        totals = changes.impact.after
    else:
        try:
            totals = arithmetic.invoice_totals(proposed, taxes)
        except ValueError:
            return []  # a malformed value: the line rules say which
    figures = (totals.subtotal, totals.discount, totals.tax, totals.total, totals.balance)
    return _too_large() if any(abs(figure) >= MAX_AMOUNT for figure in figures) else []


def validate_proposal(*, invoice: Invoice, kind: str, base: Mapping, proposed: Mapping,
                      taxes: Mapping[str, Any] | None = None,
                      changes: diff.DocumentDiff | None = None) -> list[RuleViolation]:
    """Every reason `proposed` cannot be requested for `invoice`; empty when it can.

    `changes`: the diff of `base` and `proposed` with these `taxes`, when the caller has it
    already (the edit screen draws it): it is not computed a second time.
    """
    try:
        return _validate_proposal(invoice=invoice, kind=kind, base=base, proposed=proposed,
                                  taxes=taxes, changes=changes if taxes is not None else None)
    except ArithmeticError:
        # Beyond Decimal's working precision: no real invoice gets there.
        return _too_large()


def _validate_proposal(*, invoice: Invoice, kind: str, base: Mapping, proposed: Mapping,
                       taxes: Mapping[str, Any] | None,
                       changes: diff.DocumentDiff | None = None) -> list[RuleViolation]:
    company = invoice.company
    if taxes is None:
        taxes = catalogue_taxes(company)
    if invoice.is_deleted:
        return [RuleViolation("", "invoice_deleted", _(
            "This invoice was deleted in Alegra: it cannot be changed."))]
    if kind == Kind.UPDATE:
        refusal = rules.editing_refusal(base)
        if refusal is not None:
            return [refusal]
        status = str(base.get("status") or "").lower()
        if status not in ("draft", "open"):
            return [RuleViolation("status", "not_editable_in_place", _(
                "This invoice is %(status)s: it cannot be changed in place; issue a credit "
                "note instead.") % {"status": status or "?"})]
        found = _amount_violations(proposed, taxes, changes)
        if found:
            return found
        found = rules.validate_update(base, proposed, taxes=taxes,
                                      closed_until=company.closed_until, changes=changes)
        if [v.code for v in found] == ["nothing_to_submit"]:
            return found
        return found + _update_extras(company, base, proposed)
    if kind == Kind.CREDIT_NOTE:
        try:
            amount = editable.credit_note_amount(base, proposed, taxes)
        except (ValueError, TypeError):
            amount = None
        if amount is not None and abs(amount) >= MAX_AMOUNT:
            return _too_large()
        found = rules.validate_credit_note(base, proposed, closed_until=company.closed_until)
        if amount is None:
            if not found:
                found.append(RuleViolation("items", "not_computable", _(
                    "The credit note total cannot be computed from these lines.")))
        return found
    if kind == Kind.CONTACT:
        if is_void(invoice.document if isinstance(invoice.document, dict) else {}):
            return [RuleViolation("status", "void_read_only", _(
                "This invoice is void: it is read-only and cannot be changed."))]
        return contact_violations(base, proposed)
    return [RuleViolation("kind", "invalid_kind", _("Unknown kind of change."))]


# --- documents ------------------------------------------------------------------------


def rebase_document(old_base: Mapping, proposed: Mapping, current: Mapping) -> dict:
    """The accountant's changes (old_base → proposed) carried onto `current`.

    Raises ApprovalError when the invoice changed meanwhile in the same places.
    """
    changes = diff.diff_documents(old_base, proposed)
    try:
        return diff.apply_diff(current, changes)
    except diff.DiffConflict as exc:
        raise ApprovalError("rebase_conflict", {"variant": "invoice", "fields": ", ".join(exc.fields)}) from None


def _rebase_contact(old_base: Mapping, proposed: Mapping, current: Mapping) -> dict:
    result = copy.deepcopy(dict(current))
    clashes = []
    for name in contacts.EDITABLE_PATHS:
        old, new, now = contacts.text_at(old_base, name), contacts.text_at(proposed, name), contacts.text_at(current, name)
        if old == new:
            continue
        if now not in (old, new):
            clashes.append(name)
        contacts.set_path(result, name, new)
    if clashes:
        raise ApprovalError("rebase_conflict", {"variant": "contact", "fields": ", ".join(clashes)})
    return result


def carried_over(kind: str, old_base: Mapping, proposed: Mapping, current: Mapping) -> dict:
    if kind == Kind.UPDATE:
        return rebase_document(old_base, proposed, current)
    if kind == Kind.CONTACT:
        return _rebase_contact(old_base, proposed, current)
    # A credit note stands on its own; it is checked again against the current invoice.
    return copy.deepcopy(dict(proposed))


def stored_document(kind: str, proposed: Mapping, taxes: Mapping) -> dict:
    document = copy.deepcopy(dict(proposed))
    if kind == Kind.UPDATE:
        document = arithmetic.with_totals(document, taxes)
    return mirror.canonical(document)


def _recorded_total(document: Mapping) -> Decimal:
    try:
        return arithmetic.to_decimal(document.get("total"))
    except (ValueError, TypeError):
        return Decimal(0)


def money_impact(kind: str, base: Mapping, proposed: Mapping,
                 taxes: Mapping | None = None) -> tuple[Decimal, Decimal]:
    """(old total, new total); for a credit note, the invoice total before and after it."""
    try:
        if kind == Kind.UPDATE:
            return (arithmetic.invoice_totals(base, taxes).total,
                    arithmetic.invoice_totals(proposed, taxes).total)
        if kind == Kind.CREDIT_NOTE:
            old = _recorded_total(base)
            return old, old - editable.credit_note_amount(base, proposed, taxes)
    except (ValueError, TypeError, ArithmeticError):
        pass
    return Decimal(0), Decimal(0)
