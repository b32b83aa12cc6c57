"""From an Alegra body to mirror columns: canonical form, content hash, listing columns.

Bodies are kept whole (unknown country keys survive). Decimals parsed from JSON
numbers are stored as their exact text, the same text Alegra used.
"""

import datetime
import hashlib
import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from .documents.numbers import parse_decimal
from .documents.references import alegra_id, full_number
from .documents.status import is_stamped

MAX_DOCUMENT_BYTES = 2_000_000
MAX_LINES = 2_000


class BadDocument(ValueError):
    """An Alegra body that cannot be mirrored safely; the mirror keeps what it had."""


def canonical(value: Any) -> Any:
    """JSON-ready copy: Decimal → exact text, tuples → lists; everything else unchanged."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    if isinstance(value, float):
        # Only reachable when a caller parsed JSON without parse_float=Decimal.
        return repr(value)
    return value


def content_hash(document: dict) -> str:
    return canonical_hash(canonical(document))


def canonical_hash(body: dict) -> str:
    """content_hash of a body that is canonical already (what `canonical` returned): not made twice."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def number_sort_key(number: str) -> str:
    return re.sub(r"\d+", lambda m: m.group().zfill(12), number)[:120]


def id_sort_key(raw_id: str) -> str:
    return raw_id.zfill(20) if raw_id.isdigit() else raw_id


def _date(value: Any, field: str) -> datetime.date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise BadDocument(f"{field} is not a date string")
    try:
        return datetime.date.fromisoformat(value[:10])
    except ValueError:
        raise BadDocument(f"{field} is not a yyyy-MM-dd date: {value[:20]!r}") from None


def _required_date(document: dict) -> datetime.date:
    value = _date(document.get("date"), "date")
    if value is None:
        raise BadDocument("the invoice has no date")
    return value


def _money(document: dict, field: str) -> Decimal:
    try:
        value = parse_decimal(document.get(field), allow_float=True)
    except (ValueError, TypeError, InvalidOperation):
        raise BadDocument(f"{field} is not a number") from None
    if not value.is_finite() or abs(value) >= Decimal("1e18"):
        raise BadDocument(f"{field} is out of range")
    return value


def _text(value: Any, limit: int) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return ""
    return str(value)[:limit]


def _precision(document: dict) -> int:
    raw = document.get("decimalPrecision", 2)
    try:
        precision = int(str(raw))
    except ValueError:
        raise BadDocument("decimalPrecision is not an integer") from None
    if not 0 <= precision <= 6:
        raise BadDocument("decimalPrecision is out of range")
    return precision


MAX_ID = 36  # the mirror's id column


def document_id(document: Any) -> str | None:
    """A document's Alegra id as the mirror keys it, or None where it has none that can be (1.5,
    an object, blank, or longer than the column): one such document must not stop a sync."""
    try:
        key = alegra_id(document.get("id")) if isinstance(document, dict) else None
    except (ValueError, TypeError):
        return None
    return key if key and len(key) <= MAX_ID else None


def invoice_columns(document: Any) -> dict:
    """Listing columns of an invoice body; raises BadDocument for a body unsafe to mirror."""
    if not isinstance(document, dict):
        raise BadDocument("the invoice body is not an object")
    if "id" not in document or document["id"] in (None, ""):
        raise BadDocument("the invoice has no id")
    key = document_id(document)
    if key is None:
        raise BadDocument("the invoice id is malformed")
    items = document.get("items") or []
    if not isinstance(items, list) or len(items) > MAX_LINES:
        raise BadDocument("items is not a list of lines")
    client = document.get("client") or {}
    if not isinstance(client, dict):
        client = {"id": client}
    stamp = document.get("stamp") or {}
    if not isinstance(stamp, dict):
        stamp = {}
    currency = document.get("currency") or {}
    precision = _precision(document)
    stamped = is_stamped(document)
    try:
        client_id = alegra_id(client.get("id")) if client.get("id") not in (None, "") else ""
        number = full_number(document)
    except (ValueError, TypeError):
        raise BadDocument("client id or number template is malformed") from None
    return {
        "alegra_id": key,
        "number": _text(number, 60),
        "number_sort": number_sort_key(_text(number, 60)),
        "client_alegra_id": client_id[:36],
        "client_name": _text(client.get("name"), 300),
        "client_identification": _text(client.get("identification"), 60),
        "date": _required_date(document),
        "due_date": _date(document.get("dueDate"), "dueDate"),
        "status": _text(document.get("status"), 20),
        "currency": _text(currency.get("code") if isinstance(currency, dict) else "", 3),
        "decimal_precision": precision,
        "subtotal": _money(document, "subtotal"),
        "discount": _money(document, "discount"),
        "tax": _money(document, "tax"),
        "total": _money(document, "total"),
        "total_paid": _money(document, "totalPaid"),
        "balance": _money(document, "balance") if "balance" in document else (
            _money(document, "total") - _money(document, "totalPaid")
        ),
        "is_stamped": stamped,
        "legal_status": _text(stamp.get("legalStatus"), 60),
        "line_count": len(items),
    }


def money_or_zero(value: Any, below: Decimal | None = None) -> Decimal:
    """An amount for display or analysis: zero where it is not a number (or not under `below`)."""
    try:
        amount = parse_decimal(value, allow_float=True)
    except (ValueError, TypeError, InvalidOperation):
        return Decimal(0)
    if below is not None and not (amount.is_finite() and abs(amount) < below):
        return Decimal(0)
    return amount


LINE_LIMIT = Decimal("1e17")


def invoice_lines(document: dict) -> list[dict]:
    """One row per line for analysis; malformed numbers become zero rather than failing the sync."""
    rows = []
    for position, line in enumerate(document.get("items") or []):
        if not isinstance(line, dict):
            continue

        def num(key: str) -> Decimal:
            return money_or_zero(line.get(key), below=LINE_LIMIT)

        taxes = line.get("tax") or []
        tax_percent = Decimal(0)
        if isinstance(taxes, list):
            for tax in taxes:
                if isinstance(tax, dict):
                    tax_percent += money_or_zero(tax.get("percentage"))
        rows.append({
            "position": position,
            "item_alegra_id": _text(line.get("id"), 36),
            "name": _text(line.get("name"), 300),
            "price": num("price"),
            "quantity": num("quantity"),
            "discount_percent": min(num("discount"), Decimal("99999")),
            "tax_percent": min(tax_percent, Decimal("99999")),
            "total": num("total"),
        })
    return rows


def contact_columns(document: dict) -> dict:
    return {
        "name": _text(document.get("name"), 300),
        "identification": _text(
            document.get("identification") if not isinstance(document.get("identification"), dict)
            else document["identification"].get("number"), 60),
        "email": _text(document.get("email"), 254),
    }


def item_columns(document: dict) -> dict:
    prices = document.get("price") or []
    price = Decimal(0)
    if isinstance(prices, list) and prices and isinstance(prices[0], dict):
        price = money_or_zero(prices[0].get("price"))
    elif not isinstance(prices, list):
        price = money_or_zero(prices)
    return {
        "name": _text(document.get("name"), 300),
        "reference": _text(document.get("reference") if not isinstance(document.get("reference"), dict)
                           else document["reference"].get("reference"), 100),
        "price": price,
    }


def tax_columns(document: dict) -> dict:
    return {
        "name": _text(document.get("name"), 120),
        "percentage": money_or_zero(document.get("percentage")),
        "tax_type": _text(document.get("type"), 30),
    }


def named_columns(document: dict) -> dict:
    """A seller or a price list: its name, and whether it may still be chosen."""
    return {
        "name": _text(document.get("name"), 300),
        "is_active": str(document.get("status") or "active").lower() != "inactive",
    }
