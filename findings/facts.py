"""The facts the detectors read, built from the mirror: one per invoice and one per line.

Plain objects (not model instances) so a full scan of 100,000 invoices stays in memory cheaply;
`scan` stores them in `InvoiceFact` and `LineFact`. Void and deleted invoices have no facts:
they are never flagged and never count in anyone's history.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from invoices.mirror import money_or_zero


CONSUMIDOR_FINAL = "222222222222"
PARTICULARS = ("seller", "payment_method", "observations", "anotation")
GENERAL_LIST = "1"


@dataclass(slots=True)
class LineRow:
    invoice_id: int
    position: int
    client: str
    item: str
    price_list: str
    rank: str
    date: dt.date
    price: Decimal
    quantity: Decimal
    discount: Decimal
    tax: Decimal
    catalogue_price: Decimal | None = None
    catalogue_tax: Decimal | None = None
    near_n: int = 0
    price_agree: int = 0
    price_ref: Decimal | None = None
    price_tolerance: Decimal | None = None
    quantity_ref: Decimal | None = None
    tax_usual: Decimal | None = None
    near_from: dt.date | None = None
    near_to: dt.date | None = None
    company_ref: Decimal | None = None
    habit_tax: Decimal | None = None
    name: str = ""


@dataclass(slots=True)
class InvoiceRow:
    invoice_id: int
    client: str
    rank: str
    date: dt.date
    due_date: dt.date | None
    number: str
    total: Decimal
    precision: int
    is_stamped: bool
    editable: bool  # open or draft and not stamped: correctable in place
    identification: str
    contact_term: int | None
    signature: str
    line_count: int
    discount: Decimal
    reference: str = ""  # the order reference people write in the observations
    near_n: int = 0
    near_discount_max: Decimal | None = None
    term_habit: int | None = None
    twin_of: int | None = None
    number_of: int | None = None
    twin_group: int = 0  # how many of the client's invoices carry these very lines and total
    client_name: str = ""


LINE_FIELDS = [f.name for f in fields(LineRow)]
INVOICE_FIELDS = [f.name for f in fields(InvoiceRow)]
LINE_DERIVED = LINE_FIELDS[LINE_FIELDS.index("near_n"):LINE_FIELDS.index("name")]
INVOICE_DERIVED = INVOICE_FIELDS[INVOICE_FIELDS.index("near_n"):INVOICE_FIELDS.index("client_name")]


@dataclass(frozen=True)
class CatalogueItem:
    prices: dict[str, Decimal]  # price list id → unit price before tax
    tax: Decimal | None
    taxes: tuple  # the item's tax entries, for a suggested fix
    name: str


def catalogue_item(document: Any) -> CatalogueItem:
    document = document if isinstance(document, Mapping) else {}
    prices = {}
    raw = document.get("price")
    for entry in raw if isinstance(raw, list) else []:
        if isinstance(entry, Mapping) and entry.get("idPriceList") not in (None, ""):
            prices[str(entry["idPriceList"])] = money_or_zero(entry.get("price"))
    taxes = [t for t in document.get("tax") or () if isinstance(t, Mapping)]
    tax = sum((money_or_zero(t.get("percentage")) for t in taxes), Decimal(0)) if taxes else None
    return CatalogueItem(prices, tax, tuple(taxes), str(document.get("name") or ""))


def contact_term(document: Any) -> int | None:
    term = document.get("term") if isinstance(document, Mapping) else None
    if not isinstance(term, Mapping):
        return None
    try:
        return int(str(term.get("days")))
    except ValueError:
        return None


def rank_of(date: dt.date, id_sort: str) -> str:
    return f"{date.isoformat()}|{id_sort}"


def folded(value) -> str:
    return " ".join(str(value or "").split()).casefold()


def signature(lines: Iterable[LineRow], total: Decimal, particulars: tuple = ()) -> str:
    """What makes two invoices the same document issued twice: the lines, the total, and the
    particulars people fill in (seller, payment method, notes). Empty for an invoice without lines."""
    parts = sorted((line.item, str(line.price.normalize()), str(line.quantity.normalize()),
                    str(line.discount.normalize()), str(line.tax.normalize())) for line in lines)
    if not parts:
        return ""
    text = repr((parts, str(total.normalize()), tuple(folded(p) for p in particulars)))
    return hashlib.sha1(text.encode()).hexdigest()


def build(invoice: Mapping, lines: list[Mapping], items: Mapping[str, CatalogueItem],
          contact: Mapping | None) -> tuple[InvoiceRow, list[LineRow]]:
    """The facts of one invoice from its mirror columns (`invoice`), its `InvoiceLine` rows,
    the catalogue items it names and its client's contact (`identification`, `document`)."""
    price_list = str(invoice.get("price_list") or GENERAL_LIST)
    date, id_sort = invoice["date"], invoice["id_sort"]
    client = invoice["client_alegra_id"]
    rows = []
    for line in lines:
        item = items.get(line["item_alegra_id"])
        rows.append(LineRow(
            invoice_id=invoice["id"], position=line["position"], client=client, item=line["item_alegra_id"],
            price_list=price_list, rank=f"{rank_of(date, id_sort)}|{line['position']:05d}", date=date,
            price=line["price"], quantity=line["quantity"], discount=line["discount_percent"],
            tax=line["tax_percent"],
            catalogue_price=(item.prices.get(price_list) or item.prices.get(GENERAL_LIST)) if item else None,
            catalogue_tax=item.tax if item else None, name=line["name"][:300]))
    identification = (invoice.get("client_identification") or "").strip()
    if not identification and contact is not None:
        identification = (contact.get("identification") or "").strip()
    fact = InvoiceRow(
        invoice_id=invoice["id"], client=client, rank=rank_of(date, id_sort), date=date,
        due_date=invoice["due_date"], number=invoice["number"], total=invoice["total"],
        precision=invoice["decimal_precision"], is_stamped=invoice["is_stamped"],
        editable=not invoice["is_stamped"] and invoice["status"] in ("draft", "open"),
        identification=identification[:60],
        contact_term=contact_term(contact.get("document")) if contact is not None else None,
        signature=signature(rows, invoice["total"], tuple(invoice.get(k) for k in PARTICULARS)),
        line_count=invoice["line_count"],
        discount=max((row.discount for row in rows), default=Decimal(0)),
        reference=folded(invoice.get("observations"))[:120],
        client_name=(invoice.get("client_name") or "")[:300])
    return fact, rows


def is_missing_identification(text: str) -> bool:
    """Blank, or a placeholder (all one digit, too short, N/A…). Consumidor final is legal."""
    digits = "".join(ch for ch in text if ch.isalnum()).upper()
    if digits == CONSUMIDOR_FINAL:
        return False
    if not digits or digits in {"NA", "NN", "SN", "SINID", "NOAPLICA", "X", "XX", "XXX"}:
        return True
    return len(digits) < 5 or len(set(digits)) == 1
