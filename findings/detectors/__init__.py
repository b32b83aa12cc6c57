"""The detectors: small pure functions from an invoice's facts to drafts of findings."""

from __future__ import annotations

from collections.abc import Mapping

from ..facts import CatalogueItem, InvoiceRow, LineRow
from . import invoices as whole
from .base import Draft
from .lines import quantity, tax
from .prices import price


def detect(invoice: InvoiceRow, lines: list[LineRow], catalogue: Mapping[str, CatalogueItem],
           related: Mapping[int, InvoiceRow]) -> list[Draft]:
    """Every finding of one invoice. `related` holds the earlier twins it points at."""
    found = []
    for line in lines:
        for draft in (price(invoice, line, catalogue), tax(invoice, line), quantity(invoice, line, lines)):
            if draft is not None:
                found.append(draft)
    for draft in (whole.discount(invoice, lines),
                  whole.twin(invoice, lines, related.get(invoice.twin_of)),
                  whole.same_number(invoice, related.get(invoice.number_of)),
                  whole.dates(invoice), whole.empty(invoice), whole.identification(invoice)):
        if draft is not None:
            found.append(draft)
    return found
