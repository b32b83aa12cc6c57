"""One value of a document as a screen shows it: numbers, money and prices in the company's
format, Alegra's codes as words, references by name, taxes with their rate once."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from invoices import vocabulary
from invoices.presenters import tax_label  # the invoice page's too: one way to say a rate
from invoices.documents import numbers, references
from portal import formats

EMPTY = "—"
# Beyond this an amount is a typing accident, not an invoice; it is reported, never printed.
MAX_AMOUNT = Decimal("1e15")


def as_decimal(value: Any) -> Decimal | None:
    return numbers.decimal_or_none(value)


def number_text(value: Any, country: str | None = None) -> str:
    number = as_decimal(value)
    if number is None:
        return str(value) if value not in (None, "") else EMPTY
    return formats.number(number, country)


def printable(number: Decimal | None) -> bool:
    return number is not None and abs(number) < MAX_AMOUNT


def money_text(value: Any, precision: int, country: str = "CO") -> str:
    number = as_decimal(value)
    if number is None:
        return str(value) if value not in (None, "") else EMPTY
    if not printable(number):
        return EMPTY
    return formats.money(number, precision, country)


def price_text(value: Any, precision: int, country: str = "CO", *, full: bool = False) -> str:
    """A unit price at the invoice's precision (`full`: with every decimal it has, up to 6)."""
    number = as_decimal(value)
    if number is None:
        return str(value) if value not in (None, "") else EMPTY
    if not printable(number):
        return EMPTY
    return formats.price(number, precision, country, full=full)


def prices_need_full(before: Any, after: Any, precision: int) -> bool:
    """Both prices read the same at the invoice's precision although they differ."""
    old, new = as_decimal(before), as_decimal(after)
    if old is None or new is None or old == new:
        return False
    return formats.price(old, precision, "US") == formats.price(new, precision, "US")


def value_text(value: Any) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, Mapping):
        for key in ("name", "fullNumber", "code"):
            if value.get(key):
                return str(value[key])
        ident = references.reference_id(value)
        return f"#{ident}" if ident else EMPTY
    if isinstance(value, (list, tuple)):
        return ", ".join(value_text(v) for v in value) or EMPTY
    return str(value)


DATE_FIELDS = frozenset({"date", "dueDate"})


def field_value_text(name: str, value: Any) -> str:
    """A header value, Alegra's codes as words ("CREDIT" → "Crédito"), dates as the company
    writes them ("2026-12-24" → "24/12/2026")."""
    if vocabulary.knows(name) and isinstance(value, str) and value:
        return vocabulary.label(name, value)
    if name in DATE_FIELDS and isinstance(value, str) and value:
        return formats.date(value)
    return value_text(value)


def taxes_text(taxes: Any) -> str:
    parts = []
    for tax in taxes or ():
        if isinstance(tax, Mapping):
            name = str(tax.get("name") or f"#{references.tax_id(tax)}")
            percentage = as_decimal(tax.get("percentage")) if tax.get("percentage") not in (None, "") else None
            parts.append(tax_label(name, percentage) if percentage is not None else name)
        else:
            parts.append(f"#{tax}")
    return ", ".join(parts) or EMPTY
