"""Line operations of the editor (add, remove, move, pick a client), on the rows as posted.

Pure: the rows are what the form posted, untouched by parsing, so an operation never loses
what somebody typed in another line, however wrong it is.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from invoices.documents import references, numbers
from invoices.mirror import MAX_LINES
from portal import formats

MAX_OP = 80
MAX_ID = 36


def parse_op(op: str) -> tuple[str, str]:
    """"remove:3" → ("remove", "3")."""
    name, _sep, arg = (op or "")[:MAX_OP].partition(":")
    return name, arg


def row_for_item(alegra_id: str, name: str, reference: str, price: Decimal | None, document: Any) -> dict:
    """A new line for a catalogue item: its price, its taxes, quantity one."""
    document = document if isinstance(document, dict) else {}
    taxes = [t for t in (document.get("tax") or []) if isinstance(t, (dict, str, int))]
    return {
        "origin": "", "item": alegra_id, "name": name,
        "description": str(document.get("description") or "")[:500],
        "reference": reference, "price": formats.input_text(numbers.decimal_text(price)),
        "quantity": "1", "discount": "0",
        "tax": [ident for ident in (references.tax_id(t) for t in taxes) if ident],
    }


def apply_op(name: str, arg: str, rows: list[dict], new_item: dict | None = None) -> tuple[list[dict], dict]:
    """The rows after the operation, and header fields it sets (`client`)."""
    header: dict[str, str] = {}
    index = int(arg) if arg.isascii() and arg.isdigit() else -1  # "²" is a digit int() refuses
    if name == "remove" and 0 <= index < len(rows):
        rows.pop(index)
    elif name == "up" and 0 < index < len(rows):
        rows[index - 1], rows[index] = rows[index], rows[index - 1]
    elif name == "down" and 0 <= index < len(rows) - 1:
        rows[index + 1], rows[index] = rows[index], rows[index + 1]
    elif name == "add" and new_item is not None and len(rows) < MAX_LINES:
        rows.append(new_item)
    elif name == "client" and arg and len(arg) <= MAX_ID:
        header["client"] = arg
    return rows, header
