"""Unit prices against the client's own nearest purchases of the item; where those are too few,
against the company's sales of the item on the same price list around the date, and the
catalogue. A disagreement is then explained as a typing slip (×10, ×0.1…), the price of another
item, or a price far from the usual one."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from .. import stats
from ..facts import CatalogueItem, InvoiceRow, LineRow
from .base import HIGH, MEDIUM, Draft, line_fix, money, net_price, text

SPARSE_TOLERANCE = Decimal("0.35")  # wider: other clients' prices and a catalogue that may have moved
SLIP_WITHIN = Decimal("0.12")
SAME_PRICE = Decimal("0.01")


def _reference(line: LineRow) -> tuple[str, Decimal] | None:
    """(basis, reference) when the price disagrees with what it is compared with; None if usual."""
    if line.price <= 0:
        return None
    if line.near_n >= 2:
        if 2 * line.price_agree >= line.near_n:
            return None
        return "client", line.price_ref
    references = [(basis, value) for basis, value in (("company", line.company_ref),
                                                      ("catalogue", line.catalogue_price)) if value]
    if not references or any(stats.agrees(line.price, value, SPARSE_TOLERANCE) for _, value in references):
        return None
    return references[0]


def _other_item(line: LineRow, catalogue: Mapping[str, CatalogueItem]) -> tuple[str, CatalogueItem] | None:
    for ident, item in catalogue.items():
        if ident == line.item:
            continue
        price = item.prices.get(line.price_list) or item.prices.get("1")
        if price and stats.agrees(line.price, price, SAME_PRICE):
            return ident, item
    return None


def price(invoice: InvoiceRow, line: LineRow, catalogue: Mapping[str, CatalogueItem]) -> Draft | None:
    found = _reference(line)
    if found is None:
        return None
    basis, reference = found
    ratio = line.price / reference
    exponent = stats.power_of_ten(ratio, SLIP_WITHIN)
    evidence = {"price": text(line.price), "reference": text(reference), "basis": basis,
                "ratio": text(ratio.quantize(Decimal("0.01"))), "item_name": line.name}
    if basis == "client":
        evidence.update(n=line.near_n, agree=line.price_agree, since=line.near_from.isoformat(),
                        until=line.near_to.isoformat())
    other = None if exponent else _other_item(line, catalogue)
    if exponent:
        cause, fixed, severity, confidence = "slip", line.price / Decimal(10) ** exponent, HIGH, Decimal("0.95")
        evidence["factor"] = text(Decimal(10) ** exponent)
    elif other is not None:
        cause, fixed, severity, confidence = "other_item", reference, HIGH, Decimal("0.85")
        evidence.update(other_item=other[0], other_name=other[1].name)
    else:
        cause, fixed, severity = "unusual", reference, MEDIUM
        confidence = Decimal("0.55") + Decimal("0.05") * min(line.near_n, 6) if basis == "client" else Decimal("0.55")
    evidence["fix"] = text(fixed)
    impact = (line.price - fixed) * line.quantity * (100 - line.discount) / 100 * (100 + line.tax) / 100
    over = line.price - fixed
    return Draft(kind="price", cause=cause, severity=severity, confidence=confidence, evidence=evidence,
                 suggestion=line_fix(invoice, line, "price", fixed,
                                     credited=(line.quantity, net_price(over, line.discount))),
                 impact=money(impact, invoice), line=line.position, item=line.item)
