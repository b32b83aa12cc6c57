"""A finding's numbers in words, in the reader's language: the explanation and the suggested fix.

Findings store numbers only (evidence, suggestion); the sentence is written when it is shown,
so a Spanish and an English reader each read their own, and amounts follow the company's
country (Colombia writes 12.900,5).
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal import formats

from .models import Finding


def amount(value, country: str = "CO") -> str:
    """12900 → 12.900; 16746.218487 → 16.746,22 (at most two decimals shown)."""
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value or "")
    places = 0 if number == number.to_integral_value() else 2
    return formats.money(number, places, country, symbol="")


def _day(text: str | None) -> str:
    if not text:
        return "—"
    try:
        return formats.date(datetime.date.fromisoformat(text))
    except ValueError:
        return text


def _basis(e: dict, country: str) -> str:
    reference = amount(e.get("reference"), country)
    if e.get("basis") == "client":
        return ngettext(
            "the usual %(reference)s (the nearest sale of this item to this client, %(since)s–%(until)s)",
            "the usual %(reference)s (the %(n)s nearest sales of this item to this client, %(since)s–%(until)s)",
            e.get("n") or 0) % {"reference": reference, "n": e.get("n"), "since": _day(e.get("since")),
                                "until": _day(e.get("until"))}
    if e.get("basis") == "company":
        return _("%(reference)s, what other clients paid for it on this price list around this date") % {
            "reference": reference}
    return _("the catalogue price %(reference)s") % {"reference": reference}


def _price(f: Finding, e: dict, country: str) -> str:
    values = {"price": amount(e.get("price"), country), "ratio": amount(e.get("ratio"), country),
              "basis": _basis(e, country), "item": e.get("item_name") or "", "other": e.get("other_name") or ""}
    if f.cause == "slip":
        factor = Decimal(e.get("factor") or "10")
        if factor > 1:
            return _("%(item)s: unit price %(price)s is %(ratio)s× %(basis)s. A zero too many?") % values
        return _("%(item)s: unit price %(price)s is %(ratio)s× %(basis)s. A zero missing?") % values
    if f.cause == "other_item":
        return _("%(item)s: unit price %(price)s is the catalogue price of %(other)s; this item's is "
                 "%(basis)s.") % values
    return _("%(item)s: unit price %(price)s is %(ratio)s× %(basis)s.") % values


def _tax(f: Finding, e: dict, country: str) -> str:
    values = {"item": e.get("item_name") or "", "tax": amount(e.get("tax"), country),
              "expected": amount(e.get("expected"), country), "catalogue": amount(e.get("catalogue"), country),
              "n": e.get("n")}
    if f.cause == "client":
        return _("%(item)s is charged %(tax)s %% tax, but this client is always charged %(expected)s %% "
                 "for it (the catalogue says %(catalogue)s %%).") % values
    if e.get("usual") is not None or e.get("habit") is not None:
        return _("%(item)s is charged %(tax)s %% tax; the catalogue and this client's other purchases say "
                 "%(expected)s %%.") % values
    return _("%(item)s is charged %(tax)s %% tax; the catalogue says %(expected)s %%.") % values


def _quantity(f: Finding, e: dict, country: str) -> str:
    values = {"item": e.get("item_name") or "", "quantity": amount(e.get("quantity"), country),
              "ratio": amount(e.get("ratio"), country), "usual": amount(e.get("usual"), country),
              "n": e.get("n"), "since": _day(e.get("since")), "until": _day(e.get("until"))}
    text = _("%(item)s: quantity %(quantity)s is %(ratio)s× this client's usual %(usual)s (its %(n)s nearest "
             "purchases of the item, %(since)s–%(until)s), while the rest of the invoice is ordinary.") % values
    return text + (" " + _("A zero too many?") if f.cause == "slip" else "")


def _discount(e: dict, country: str) -> str:
    return _("A discount of %(discount)s %% on this invoice; this client got at most %(usual)s %% on its "
             "%(n)s nearest invoices.") % {"discount": amount(e.get("discount"), country),
                                           "usual": amount(e.get("usual"), country), "n": e.get("n")}


def _terms(e: dict) -> str:
    values = {"days": e.get("days"), "expected": e.get("expected"), "contact": e.get("contact"),
              "habit": e.get("habit")}
    if e.get("contact") is not None and e.get("habit") is not None and e["contact"] != e["habit"]:
        return _("Due %(days)s days after the invoice date; the client's contact says %(contact)s days and "
                 "its invoices usually give %(habit)s.") % values
    if e.get("habit") is not None:
        return _("Due %(days)s days after the invoice date; this client's invoices usually give "
                 "%(habit)s days.") % values
    return _("Due %(days)s days after the invoice date; the client's payment terms are %(contact)s days.") % values


def explanation(f: Finding, country: str = "CO") -> str:
    e = f.evidence or {}
    kind = f.kind
    if kind == Finding.Kind.PRICE:
        return _price(f, e, country)
    if kind == Finding.Kind.TAX:
        return _tax(f, e, country)
    if kind == Finding.Kind.QUANTITY:
        return _quantity(f, e, country)
    if kind == Finding.Kind.DISCOUNT:
        return _discount(e, country)
    if kind == Finding.Kind.DUPLICATE_LINES and not e.get("days"):
        return _("Same client, same lines and same total (%(total)s) as invoice %(other)s, of the same day "
                 "(%(date)s).") % {"total": amount(e.get("total"), country),
                                   "other": e.get("other_number") or e.get("other"), "date": _day(e.get("other_date"))}
    if kind == Finding.Kind.DUPLICATE_LINES:
        return ngettext(
            "Same client, same lines and same total (%(total)s) as invoice %(other)s of %(date)s, %(days)s day "
            "before.",
            "Same client, same lines and same total (%(total)s) as invoice %(other)s of %(date)s, %(days)s days "
            "before.", e.get("days") or 0) % {
            "total": amount(e.get("total"), country), "other": e.get("other_number") or e.get("other"),
            "date": _day(e.get("other_date")), "days": e.get("days")}
    if kind == Finding.Kind.DUPLICATE_NUMBER:
        return _("Number %(number)s is also the number of an earlier invoice, of %(date)s.") % {
            "number": e.get("number"), "date": _day(e.get("other_date"))}
    if kind == Finding.Kind.DUE_BEFORE_DATE:
        return ngettext("The due date %(due)s is %(days)s day before the invoice date %(date)s.",
                        "The due date %(due)s is %(days)s days before the invoice date %(date)s.",
                        e.get("days") or 0) % {"due": _day(e.get("due")), "date": _day(e.get("date")),
                                                "days": e.get("days")}
    if kind == Finding.Kind.DUE_TERMS:
        return _terms(e)
    if kind == Finding.Kind.EMPTY:
        return _("The invoice has no lines.") if f.cause == "no_lines" else _("The invoice's total is zero.")
    if kind == Finding.Kind.MISSING_IDENTIFICATION:
        if f.cause == "placeholder":
            return _("The client's identification “%(value)s” is a placeholder, not a NIT or a cédula.") % {
                "value": e.get("identification")}
        return _("The client has no identification.")
    return str(f.get_kind_display())


FIELD_NAMES = {"price": lambda: _("unit price"), "quantity": lambda: _("quantity"),
               "discount": lambda: _("discount %"), "tax": lambda: _("tax %")}


def _change(change: dict, country: str) -> str:
    if change.get("field") == "dueDate":
        return _("Set the due date to %(to)s.") % {"to": _day(change.get("to"))}
    return _("Line %(line)s: %(field)s %(before)s → %(after)s.") % {
        "line": (change.get("line") or 0) + 1, "field": FIELD_NAMES.get(change.get("field"), lambda: "")(),
        "before": amount(change.get("from"), country), "after": amount(change.get("to"), country)}


ADVICE = {
    "undercharged": lambda: _("The invoice cannot be changed in place and was undercharged: invoice the "
                              "difference separately."),
    "void_duplicate": lambda: _("Void this invoice in Alegra: it repeats the earlier one."),
    "renumber": lambda: _("Check the numbering: one of the two invoices has to be annulled or renumbered."),
    "due_date_stamped": lambda: _("The invoice is stamped: its due date cannot be changed in place; agree it "
                                  "with the client."),
    "void_or_complete": lambda: _("Void it in Alegra, or add the lines it is missing."),
}


def suggestion_text(f: Finding, country: str = "CO") -> str:
    s = f.suggestion or {}
    kind = s.get("type")
    if kind == "update":
        return " ".join(_change(change, country) for change in s.get("changes") or ())
    if kind == "credit_note":
        lines = ", ".join(_("line %(line)s: %(quantity)s × %(price)s") % {
            "line": (row.get("line") or 0) + 1, "quantity": amount(row.get("quantity"), country),
            "price": amount(row.get("price"), country)} for row in s.get("lines") or ())
        text = _("Issue a credit note (%(lines)s).") % {"lines": lines}
        return text + (" " + _("Then invoice the line again with the right tax.") if s.get("reissue") else "")
    if kind == "contact":
        return _("Update the client's contact with its NIT or cédula.")
    if kind == "advice":
        return ADVICE.get(s.get("code"), lambda: "")()
    return ""


def can_correct(f: Finding) -> bool:
    """Whether "Create correction" can open a change request from the suggestion."""
    return f.is_open and f.correction_id is None and (f.suggestion or {}).get("type") in ("update", "credit_note",
                                                                                        "contact")
