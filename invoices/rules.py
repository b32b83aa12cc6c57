"""Business rules a proposed invoice (or credit note) must meet before anyone approves it.

Every rule answers with a `RuleViolation` carrying a stable code (for tests and the UI) and a
translated message; a malformed value ("abc" as a price, "2024-13-45" as a date) is a violation,
never an exception. Floats are still refused with TypeError: they can only come from a parsing
bug upstream, which must be loud.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from invoices import arithmetic, diff, editable
from invoices.documents import references, status, numbers
from portal import formats

MAX_TEXT = 500
MAX_PRICE_DECIMALS = editable.PRICE_DECIMALS
TEXT_LABELS = {
    "observations": gettext_lazy("Observations"),
    "anotation": gettext_lazy("Notes"),
    "termsConditions": gettext_lazy("Terms and conditions"),
}
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Taxes = Mapping[str, Any] | Collection[str]


@dataclass(frozen=True)
class RuleViolation:
    field: str  # "dueDate", "items[2].price", "" for the whole document
    code: str
    message: str


def _number(value: Any) -> Decimal | None:
    """A Decimal, or None when the value is malformed; floats still raise TypeError."""
    try:
        return arithmetic.to_decimal(value)
    except ValueError:
        return None


def _date(value: Any) -> date | None:
    if not isinstance(value, str) or not ISO_DATE.match(value.strip()):
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def _tax_ids(taxes: Taxes) -> set[str]:
    return {str(key).strip() for key in taxes}


def _line_violations(index: int, line: Any, taxes: Taxes | None, *, credit_note: bool = False) -> list[RuleViolation]:
    line = line if isinstance(line, Mapping) else {}
    at = f"items[{index}]"
    n = index + 1
    found = []
    if not references.item_id(line):
        found.append(RuleViolation(f"{at}.id", "item_required",
                                   _("Line %(line)s has no item.") % {"line": n}))
    quantity = _number(line.get("quantity"))
    if quantity is None:
        found.append(RuleViolation(f"{at}.quantity", "invalid_quantity", _(
            "Line %(line)s: the quantity “%(value)s” is not a number."
        ) % {"line": n, "value": line.get("quantity")}))
    elif quantity <= 0 and credit_note:
        found.append(RuleViolation(f"{at}.quantity", "quantity_not_positive", _(
            "Line %(line)s of the credit note: the quantity credited must be greater than zero."
        ) % {"line": n}))
    elif quantity <= 0:
        found.append(RuleViolation(f"{at}.quantity", "quantity_not_positive", _(
            "Line %(line)s: the quantity must be greater than zero. To take goods back, "
            "lower the quantity or issue a credit note."
        ) % {"line": n}))
    elif numbers.decimals_of(quantity) > MAX_PRICE_DECIMALS:
        # Alegra keeps six: a seventh is rounded away, and a push whose answer was lost would not
        # recognise its own write.
        found.append(RuleViolation(f"{at}.quantity", "quantity_too_precise", _(
            "Line %(line)s: the quantity can have at most %(decimals)s decimals."
        ) % {"line": n, "decimals": MAX_PRICE_DECIMALS}))
    price = _number(line.get("price"))
    if price is None:
        found.append(RuleViolation(f"{at}.price", "invalid_price", _(
            "Line %(line)s: the unit price “%(value)s” is not a number."
        ) % {"line": n, "value": line.get("price")}))
    elif price < 0:
        found.append(RuleViolation(f"{at}.price", "price_negative", _(
            "Line %(line)s: the unit price cannot be negative."
        ) % {"line": n}))
    elif numbers.decimals_of(price) > MAX_PRICE_DECIMALS:
        found.append(RuleViolation(f"{at}.price", "price_too_precise", _(
            "Line %(line)s: the unit price can have at most %(decimals)s decimals."
        ) % {"line": n, "decimals": MAX_PRICE_DECIMALS}))
    discount = _number(line.get("discount"))
    if discount is None:
        found.append(RuleViolation(f"{at}.discount", "invalid_discount", _(
            "Line %(line)s: the discount “%(value)s” is not a number."
        ) % {"line": n, "value": line.get("discount")}))
    elif not 0 <= discount <= 100:
        found.append(RuleViolation(f"{at}.discount", "discount_out_of_range", _(
            "Line %(line)s: the discount must be between 0 %% and 100 %%."
        ) % {"line": n}))
    elif numbers.decimals_of(discount) > MAX_PRICE_DECIMALS:
        found.append(RuleViolation(f"{at}.discount", "discount_too_precise", _(
            "Line %(line)s: the discount can have at most %(decimals)s decimals."
        ) % {"line": n, "decimals": MAX_PRICE_DECIMALS}))
    if taxes is not None:
        known = _tax_ids(taxes)
        line_taxes = line.get("tax") or ()
        for tax in line_taxes if isinstance(line_taxes, (list, tuple)) else [line_taxes]:
            ident = references.tax_id(tax)
            if ident not in known:
                found.append(RuleViolation(f"{at}.tax", "unknown_tax", _(
                    "Line %(line)s: the tax “%(tax)s” is not one of the company's taxes."
                ) % {"line": n, "tax": ident}))
    description = line.get("description")
    if description is not None and len(str(description)) > MAX_TEXT:
        found.append(RuleViolation(f"{at}.description", "text_too_long", _(
            "Line %(line)s: the description can have at most %(max)s characters "
            "(it has %(length)s)."
        ) % {"line": n, "max": MAX_TEXT, "length": len(str(description))}))
    return found


def _closed(field: str, day: date, closed_until: date | None) -> list[RuleViolation]:
    if closed_until is None or day > closed_until:
        return []
    return [RuleViolation(field, "date_in_closed_period", _(
        "The date %(date)s falls in a closed period (closed until %(closed)s)."
    ) % {"date": formats.date(day), "closed": formats.date(closed_until)})]


def validate_document(
    doc: Mapping[str, Any], *, taxes: Taxes | None, closed_until: date | None = None
) -> list[RuleViolation]:
    """The rules a document meets on its own: lines, numbers, dates, text lengths."""
    found = []
    items = doc.get("items")
    if not isinstance(items, list) or not items:
        found.append(RuleViolation("items", "no_lines",
                                   _("The invoice must have at least one line.")))
        items = []
    for index, line in enumerate(items):
        found += _line_violations(index, line, taxes)
    day = _date(doc.get("date"))
    if day is None:
        found.append(RuleViolation("date", "invalid_date", _(
            "The date “%(value)s” is missing or not a valid date (yyyy-mm-dd)."
        ) % {"value": doc.get("date") or ""}))
    else:
        found += _closed("date", day, closed_until)
    due_raw = doc.get("dueDate")
    if due_raw not in (None, ""):
        due = _date(due_raw)
        if due is None:
            found.append(RuleViolation("dueDate", "invalid_date", _(
                "The due date “%(value)s” is not a valid date (yyyy-mm-dd)."
            ) % {"value": due_raw}))
        elif day is not None and due < day:
            found.append(RuleViolation("dueDate", "due_before_date", _(
                "The due date (%(due)s) cannot be before the invoice date (%(date)s)."
            ) % {"due": formats.date(due), "date": formats.date(day)}))
    for name, label in TEXT_LABELS.items():
        text = doc.get(name)
        if text is not None and len(str(text)) > MAX_TEXT:
            found.append(RuleViolation(name, "text_too_long", _(
                "%(field)s can have at most %(max)s characters (it has %(length)s)."
            ) % {"field": label, "max": MAX_TEXT, "length": len(str(text))}))
    return found


def editing_refusal(base: Mapping[str, Any]) -> RuleViolation | None:
    """Why an invoice cannot be changed in place at all, if it cannot."""
    if status.is_void(base):
        return RuleViolation("status", "void_read_only", _(
            "This invoice is void: it is read-only and cannot be changed."))
    if status.is_stamped(base):
        return RuleViolation("stamp", "stamped_use_credit_note", _(
            "This invoice has been stamped electronically and cannot be changed in place; "
            "issue a credit note instead."))
    return None


def validate_update(
    base: Mapping[str, Any],
    proposed: Mapping[str, Any],
    *,
    taxes: Taxes,
    closed_until: date | None = None,
    changes: diff.DocumentDiff | None = None,
) -> list[RuleViolation]:
    """Every reason `proposed` cannot replace `base` through an in-place update.

    `changes`: the diff of the two with the same taxes, when the caller has it already.
    """
    refusal = editing_refusal(base)
    if refusal is not None:
        return [refusal]
    if changes is None:
        changes = diff.diff_documents(base, proposed, taxes if isinstance(taxes, Mapping) else None)
    if not changes.has_changes:
        return [RuleViolation("", "nothing_to_submit",
                              _("Nothing has changed: there is nothing to submit."))]
    found = [
        RuleViolation(change.field, "not_editable", _(
            "The field “%(field)s” cannot be changed here."
        ) % {"field": change.field})
        for change in changes.header
        if change.field not in editable.EDITABLE_FIELDS
    ]
    found += validate_document(proposed, taxes=taxes, closed_until=closed_until)
    old_day, new_day = _date(base.get("date")), _date(proposed.get("date"))
    if old_day is not None and old_day != new_day:
        # Moving an invoice out of a closed period changes the closed books as well.
        found += _closed("date", old_day, closed_until)
    paid = _number(base.get("totalPaid")) or Decimal(0)
    lines_sound = not any(v.field.startswith("items") for v in found)
    # With a bad line the new total means nothing; the line's own message says what to fix.
    if lines_sound and changes.impact is not None and changes.impact.new_total < paid:
        precision = changes.impact.after.precision
        found.append(RuleViolation("total", "total_below_paid", _(
            "The new total (%(total)s) cannot be lower than what has already been paid "
            "(%(paid)s). The payments must be undone first."
        ) % {"total": formats.money(changes.impact.new_total, precision),
             "paid": formats.money(paid, precision)}))
    return found


def _invoiced_quantities(invoice_doc: Mapping[str, Any]) -> dict[str, Decimal]:
    quantities: dict[str, Decimal] = {}
    for line in diff.document_lines(invoice_doc):
        ident = references.item_id(line)
        quantities[ident] = quantities.get(ident, Decimal(0)) + (
            _number(line.get("quantity")) or Decimal(0))
    return quantities


def _note_lines(note: Mapping[str, Any], invoice_doc: Mapping[str, Any]) -> list[RuleViolation]:
    found = []
    invoiced = _invoiced_quantities(invoice_doc)
    returned: dict[str, Decimal] = {}
    for index, line in enumerate(diff.document_lines(note)):
        found += _line_violations(index, line, None, credit_note=True)
        ident = references.item_id(line)
        if ident and ident not in invoiced:
            found.append(RuleViolation(f"items[{index}].id", "item_not_on_invoice", _(
                "Line %(line)s: the item %(item)s is not on the invoice."
            ) % {"line": index + 1, "item": ident}))
        quantity = _number(line.get("quantity"))
        if quantity is not None and quantity > 0:
            returned[ident] = returned.get(ident, Decimal(0)) + quantity
    for ident, quantity in returned.items():
        if ident in invoiced and quantity > invoiced[ident]:
            found.append(RuleViolation("items", "quantity_above_invoiced", _(
                "Item %(item)s: %(returned)s credited, but only %(invoiced)s invoiced."
            ) % {"item": ident, "returned": formats.number(quantity),
                 "invoiced": formats.number(invoiced[ident])}))
    return found


def _note_amounts(note: Mapping[str, Any], invoice_doc: Mapping[str, Any]) -> list[RuleViolation]:
    try:
        precision = arithmetic.precision_of(invoice_doc)
        total = editable.credit_note_amount(invoice_doc, note)
        balance = editable.invoice_balance(invoice_doc)
    except ValueError:
        return []  # the malformed value is reported by the line rules
    invoice_id = references.reference_id(invoice_doc.get("id"))
    applied = [entry for entry in note.get("invoices") or () if isinstance(entry, Mapping)]
    parsed = [_number(entry.get("amount")) for entry in applied]
    amounts = [amount for amount in parsed if amount is not None]
    found = []
    if len(amounts) < len(parsed):
        found.append(RuleViolation("invoices", "invalid_amount",
                                   _("The amount applied to the invoice is not a number.")))
        return found

    def fmt(value: Decimal) -> str:
        return formats.money(value, precision)

    # What is not applied to an invoice stays as the client's credit; more than the note is not.
    if applied and arithmetic.quantize(sum(amounts, Decimal(0)), precision) > total:
        found.append(RuleViolation("invoices", "amount_mismatch", _(
            "The amounts applied to invoices (%(applied)s) cannot add up to more than the credit "
            "note total (%(total)s)."
        ) % {"applied": fmt(sum(amounts, Decimal(0))), "total": fmt(total)}))
    if any(amount < 0 for amount in amounts):
        found.append(RuleViolation("invoices", "invalid_amount",
                                   _("The amount applied to the invoice cannot be negative.")))
    on_invoice = sum((amount for entry, amount in zip(applied, amounts)
                      if references.reference_id(entry.get("id")) == invoice_id), Decimal(0))
    amount = on_invoice if applied else min(total, balance)
    if amount > balance:
        found.append(RuleViolation("invoices", "amount_above_balance", _(
            "The credit note amount (%(amount)s) is greater than the invoice balance "
            "(%(balance)s)."
        ) % {"amount": fmt(amount), "balance": fmt(balance)}))
    return found


# What a POST /credit-notes body the portal sends may hold (editable.credit_note_body, plus the
# observations a push writes its tag into); anything else would reach Alegra unreviewed.
NOTE_KEYS = frozenset({"client", "date", "items", "type", "cause", "invoices", "stamp", "observations"})


def _note_parties(note: Mapping[str, Any], invoice_doc: Mapping[str, Any]) -> list[RuleViolation]:
    """The note credits the invoice's own client and is applied to this invoice only: the
    approver reads its amounts against this invoice and no other."""
    found = []
    unknown = sorted(str(key) for key in note if key not in NOTE_KEYS)
    if unknown:
        found.append(RuleViolation(unknown[0], "unknown_field", _(
            "The credit note cannot carry “%(field)s”.") % {"field": unknown[0][:40]}))
    if references.reference_id(note.get("client")) != references.reference_id(invoice_doc.get("client")):
        found.append(RuleViolation("client", "other_client", _(
            "A credit note on this invoice is for the invoice's client.")))
    invoice_id = references.reference_id(invoice_doc.get("id"))
    applied = note.get("invoices")
    if applied is not None and (not isinstance(applied, list) or any(
            not isinstance(entry, Mapping) or references.reference_id(entry.get("id")) != invoice_id
            for entry in applied)):
        found.append(RuleViolation("invoices", "other_invoice", _(
            "A credit note on this invoice can be applied to this invoice only.")))
    stamp = note.get("stamp")
    if stamp is not None and stamp != {"generateStamp": True}:
        found.append(RuleViolation("stamp", "invalid_stamp", _(
            "A credit note can only ask for its electronic stamp.")))
    return found


def validate_credit_note(
    invoice_doc: Mapping[str, Any],
    note: Mapping[str, Any],
    *,
    closed_until: date | None = None,
) -> list[RuleViolation]:
    """Every reason `note` (a POST /credit-notes body) cannot correct `invoice_doc`."""
    if status.is_void(invoice_doc):
        return [RuleViolation("status", "invoice_void",
                              _("A void invoice cannot be corrected with a credit note."))]
    found = _note_parties(note, invoice_doc)
    note_type = note.get("type")
    if note_type not in editable.CREDIT_NOTE_TYPES:
        found.append(RuleViolation("type", "invalid_note_type", _(
            "The credit note type “%(value)s” is not valid; choose one of: %(choices)s."
        ) % {"value": note_type or "", "choices": ", ".join(editable.CREDIT_NOTE_TYPES)}))
    if not str(note.get("cause") or "").strip():
        found.append(RuleViolation("cause", "cause_required",
                                   _("The cause printed on the credit note is required.")))
    if not isinstance(note.get("items"), list) or not note["items"]:
        found.append(RuleViolation("items", "no_lines",
                                   _("The credit note must have at least one line.")))
    found += _note_lines(note, invoice_doc)
    day = _date(note.get("date"))
    if day is None:
        found.append(RuleViolation("date", "invalid_date", _(
            "The date “%(value)s” is missing or not a valid date (yyyy-mm-dd)."
        ) % {"value": note.get("date") or ""}))
    else:
        invoice_day = _date(invoice_doc.get("date"))
        if invoice_day is not None and day < invoice_day:
            found.append(RuleViolation("date", "note_before_invoice", _(
                "The credit note date (%(date)s) cannot be before the invoice date "
                "(%(invoice_date)s)."
            ) % {"date": formats.date(day), "invoice_date": formats.date(invoice_day)}))
        found += _closed("date", day, closed_until)
    if not any(v.field.startswith("items") for v in found):
        found += _note_amounts(note, invoice_doc)
    return found
