"""The recorded Alegra bodies beside the API notes, loaded the way the portal loads them."""

import json
from decimal import Decimal
from pathlib import Path

FIXTURES = Path("/work/shared/alegra-fixtures")


def load(name: str):
    data = json.loads((FIXTURES / name).read_text(encoding="utf-8"), parse_float=Decimal)
    if isinstance(data, list) and data and "response" in data[0]:
        return data[0]["response"]["body"]
    return data


def simple_invoice() -> dict:
    return load("recorded-simple_invoice.json")


def created_invoice() -> dict:
    return load("recorded-create_simple_invoice.json")
