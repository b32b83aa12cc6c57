"""The pieces both seed profiles build with: catalogue items, Colombian identities, weighted
draws, payments, and the batched writing of invoices (COPY on PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import random
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, reset_queries, transaction

from .. import arithmetic as ar
from .. import seed_data as words
from ..models import CatalogueKind, SandboxAccount, SandboxCatalogueEntry, SandboxInvoice
from .common import TAX_BY_KEY


BATCH = 2000


LEGAL_STATUSES = [("STAMPED_AND_ACCEPTED", 85), ("STAMPED_AND_ACCEPTED_WITH_OBSERVATIONS", 8),
                  ("STAMPED_AND_WAITING_RESPONSE", 5), ("STAMPED_AND_REJECTED", 2)]


PAYMENT_METHODS = ["CASH", "TRANSFER", "TRANSFER", "DEBIT-CARD", "CREDIT-CARD", "CHECK"]


class SeedError(Exception):
    pass


@dataclass(frozen=True)
class SeedSummary:
    contacts: int
    items: int
    invoices: int
    mistakes: int


def items_create(account: SandboxAccount) -> list[dict]:
    documents = []
    for number, (name, unit, gross, tax_key, category) in enumerate(words.ITEMS, start=1):
        tax = TAX_BY_KEY[tax_key]
        # Catalogue prices are before tax; derived from a round gross price they carry
        # up to 6 decimals, as Alegra stores them (e.g. 19928 / 1.19 = 16746.218487).
        net = ar.round_to(Decimal(gross) * 100 / (100 + Decimal(tax["percentage"])), 6)
        documents.append({
            "id": number,
            "name": name,
            "description": f"{name} ({category.lower()})",
            "reference": f"REF-{number:04d}",
            "status": "active",
            "type": "service" if unit == "service" else "product",
            "category": {"id": str(category_id(category)), "name": category},
            "inventory": {"unit": unit},
            "price": [
                {"idPriceList": "1", "name": "General", "price": ar.price_text(net, 4)},
                {"idPriceList": "2", "name": "Precios mayorista", "price": ar.price_text(net * Decimal("0.9"), 4)},
                {"idPriceList": "3", "name": "Precios distribuidores", "price": ar.price_text(net * Decimal("0.85"), 4)},
            ],
            "tax": [dict(tax)],
        })
    SandboxCatalogueEntry.objects.bulk_create([
        SandboxCatalogueEntry(account=account, kind=CatalogueKind.ITEM, number=d["id"], name=d["name"],
                              code=d["reference"], document=d) for d in documents])
    return documents


CATEGORY_IDS = {name: n for n, name in enumerate(dict.fromkeys(row[4] for row in words.ITEMS), start=1)}


def category_id(category: str) -> int:
    return CATEGORY_IDS[category]


def ascii_text(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def nit_check_digit(nit: str) -> str:
    weights = [3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71]
    total = sum(int(d) * w for d, w in zip(reversed(nit), weights))
    rest = total % 11
    return str(11 - rest if rest > 1 else rest)


def weighted(rng: random.Random, pairs):
    roll, acc = rng.random() * sum(w for _, w in pairs), 0
    for value, weight in pairs:
        acc += weight
        if roll < acc:
            return value
    return pairs[-1][0]


def price_for(item: dict, price_list_id: str) -> Decimal:
    price = next(p for p in item["price"] if p["idPriceList"] == price_list_id)
    return ar.to_decimal(price["price"])


def pay(rng, doc: dict, payment_id: int, status: str, date: dt.date, today: dt.date) -> int:
    """Closed invoices are fully paid; some open ones partly."""
    precision = int(doc["decimalPrecision"])
    total = ar.to_decimal(doc["total"])
    if status == "closed":
        parts = [total] if rng.random() < 0.8 else [ar.round_to(total * Decimal("0.4"), precision)]
        if len(parts) == 1 and total <= 0:
            parts = []
        elif sum(parts) < total:
            parts.append(total - parts[0])
    elif status == "open" and rng.random() < 0.3:
        parts = [ar.round_to(total * Decimal(rng.choice([20, 30, 50, 70])) / 100, precision)]
    else:
        parts = []
    paid = ar.ZERO
    for amount in parts:
        payment_id += 1
        when = min(date + dt.timedelta(days=rng.randrange(0, 45)), today)
        doc["payments"].append({"id": str(payment_id), "date": when.isoformat(),
                                "amount": ar.money(amount, precision),
                                "paymentMethod": rng.choice(["transfer", "cash", "check", "deposit"])})
        paid += amount
    doc["totalPaid"] = ar.money(paid, precision)
    doc["balance"] = ar.money(total - paid, precision)
    return payment_id


def flush(batch: list[SandboxInvoice], progress, made: int, count: int) -> int:
    if not batch:
        return 0
    written = len(batch)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            copy_invoices(batch)
        else:
            SandboxInvoice.objects.bulk_create(batch)
    batch.clear()
    reset_queries()  # with DEBUG on, the logged INSERTs of 100,000 documents would fill memory
    if progress:
        progress(made + written, count)
    return written


COPY_COLUMNS = ("account_id", "number", "date", "due_date", "status", "client_number", "client_name",
                 "full_number", "is_stamped", "credited", "document")


def copy_invoices(batch: list[SandboxInvoice]) -> None:
    """PostgreSQL's COPY: bulk_create quotes every JSON document in Python, four times slower."""
    table = SandboxInvoice._meta.db_table
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:
            for row in batch:
                copy.write_row((row.account_id, row.number, row.date, row.due_date, row.status,
                                row.client_number, row.client_name, row.full_number, row.is_stamped,
                                row.credited, json.dumps(row.document, ensure_ascii=False)))
