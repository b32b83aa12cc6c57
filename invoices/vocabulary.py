"""Alegra's coded values (CREDIT, DEBIT-CARD, STAMPED_AND_ACCEPTED, open…) as words in the reader's language.

The document keeps Alegra's codes; every screen, e-mail and audit line that shows one asks here.
A value Alegra adds later and this table does not know is shown as it is.
"""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

STATUSES: dict[str, Promise] = {"draft": _("Draft"), "open": _("Open"), "closed": pgettext_lazy("an invoice", "Paid"), "void": _("Void")}
PAYMENT_FORMS: dict[str, Promise] = {"CASH": _("Cash"), "CREDIT": _("Credit")}
PAYMENT_METHODS: dict[str, Promise] = {
    "CASH": _("Cash"), "DEBIT-CARD": _("Debit card"), "CREDIT-CARD": _("Credit card"),
    "TRANSFER": _("Bank transfer"), "CHECK": _("Cheque"), "OTHER": _("Other"),
}
LEGAL_STATUSES: dict[str, Promise] = {
    "STAMPED_AND_ACCEPTED": _("stamped and accepted"),
    "STAMPED_AND_ACCEPTED_WITH_OBSERVATIONS": _("stamped and accepted with observations"),
    "STAMPED_AND_WAITING_RESPONSE": _("stamped, awaiting the tax authority's answer"),
    "STAMPED_AND_REJECTED": _("stamped and rejected"),
}
BY_FIELD: dict[str, dict[str, Promise]] = {
    "status": STATUSES, "paymentForm": PAYMENT_FORMS, "paymentMethod": PAYMENT_METHODS,
    "legalStatus": LEGAL_STATUSES, "legal_status": LEGAL_STATUSES,
}


def label(field: str, value: Any) -> str:
    """The words for `value` of `field` ("paymentForm", "CREDIT" → "Crédito"); unknown values as they are."""
    if value is None:
        return ""
    text = str(value)
    known = BY_FIELD.get(field, {})
    found = known.get(text) or known.get(text.upper()) or known.get(text.lower())
    return str(found) if found is not None else text


def knows(field: str) -> bool:
    return field in BY_FIELD
