"""Deterministic demo data: catalogues, clients and many invoices with planted mistakes.

Everything is drawn from `random.Random(seed)` and dated relative to `today`, so the
same seed on the same day gives the same documents. Invoices are written with
bulk_create in batches, which keeps 100,000 invoices within a couple of minutes.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, reset_queries, transaction
from django.db.models import Q

from .. import arithmetic as ar
from .. import seed_data as words
from ..documents import Line, apply_totals, contact_snapshot, invoice_columns, number_template, stamp
from ..models import (
    CatalogueKind, SandboxAccount, SandboxCatalogueEntry, SandboxCreditNote, SandboxInvoice,
    SandboxPlantedMistake,
)
from .invoices import DEFAULT_TERMS, local_now

BATCH = 2000
HISTORY_DAYS = 540  # about 18 months
MISTAKE_RATE = 0.015
MISTAKE_KINDS = ("wrong_price", "wrong_tax", "odd_quantity", "duplicate_invoice")

TAXES = [
    {"id": "1", "name": "IVA 0%", "percentage": "0.00", "description": "Bienes exentos", "type": "IVA", "status": "active"},
    {"id": "2", "name": "IVA 5%", "percentage": "5.00", "description": "Tarifa diferencial", "type": "IVA", "status": "active"},
    {"id": "3", "name": "IVA 19%", "percentage": "19.00", "description": "Tarifa general", "type": "IVA", "status": "active"},
    {"id": "4", "name": "INC 8%", "percentage": "8.00", "description": "Impuesto nacional al consumo", "type": "INC", "status": "active"},
]
TAX_BY_KEY = {"iva0": TAXES[0], "iva5": TAXES[1], "iva19": TAXES[2], "inc8": TAXES[3]}
RETENTIONS = [
    {"id": "1", "name": "Retefuente compras 2,5%", "percentage": "2.50", "description": "Compras generales", "type": "FUENTE"},
    {"id": "2", "name": "Retefuente servicios 4%", "percentage": "4.00", "description": "Servicios generales", "type": "FUENTE"},
    {"id": "3", "name": "Retefuente honorarios 11%", "percentage": "11.00", "description": "Honorarios y comisiones", "type": "FUENTE"},
    {"id": "4", "name": "ReteIVA 15%", "percentage": "15.00", "description": "Retención sobre el IVA facturado", "type": "IVA"},
    {"id": "5", "name": "ReteICA 9,66 x mil", "percentage": "0.966", "description": "Industria y comercio Bogotá", "type": "ICA"},
]
SELLERS = [
    {"id": "1", "name": "Carolina Restrepo", "identification": "43876512", "observations": "", "status": "active"},
    {"id": "2", "name": "Andrés Felipe Gómez", "identification": "1017234598", "observations": "Zona norte", "status": "active"},
    {"id": "3", "name": "Luz Marina Ospina", "identification": "52345678", "observations": "", "status": "inactive"},
]
PRICE_LISTS = [
    {"id": "1", "name": "General", "status": "active", "type": "amount"},
    {"id": "2", "name": "Precios mayorista", "status": "active", "type": "percentage", "percentage": "10.00"},
    {"id": "3", "name": "Precios distribuidores", "status": "active", "type": "amount"},
]
WAREHOUSES = [
    {"id": "1", "name": "Bodega principal", "observations": "", "isDefault": True, "address": "Calle 13 # 68-90, Bogotá", "status": "active"},
    {"id": "2", "name": "Bodega Medellín", "observations": "", "isDefault": False, "address": "Carrera 50 # 10-20, Medellín", "status": "active"},
]
NUMBER_TEMPLATES = [
    {"id": "1", "name": "Factura electrónica de venta", "prefix": "FE", "text": "Resolución DIAN No. 18764000001234 de 2024, rango FE1 a FE1000000", "isElectronic": True, "documentType": "invoice", "status": "active"},
    {"id": "2", "name": "Nota crédito electrónica", "prefix": "NC", "text": None, "isElectronic": True, "documentType": "creditNote", "status": "active"},
]
LEGAL_STATUSES = [("STAMPED_AND_ACCEPTED", 85), ("STAMPED_AND_ACCEPTED_WITH_OBSERVATIONS", 8),
                  ("STAMPED_AND_WAITING_RESPONSE", 5), ("STAMPED_AND_REJECTED", 2)]
PAYMENT_METHODS = ["CASH", "TRANSFER", "TRANSFER", "DEBIT-CARD", "CREDIT-CARD", "CHECK"]


class SeedError(Exception):
    pass


def base_catalogue_create(account: SandboxAccount, *, taxes: list[dict] | None = None) -> None:
    """Taxes, retentions, sellers, price lists, warehouses and numbering; idempotent.

    `taxes` replaces the default Colombian taxes (tests rebuild the 2016 recordings, IVA 16 %).
    """
    existing = set(SandboxCatalogueEntry.objects.filter(account=account).exclude(
        kind__in=[CatalogueKind.CONTACT, CatalogueKind.ITEM]).values_list("kind", "number"))
    rows = []
    for kind, documents in ((CatalogueKind.TAX, TAXES if taxes is None else taxes), (CatalogueKind.RETENTION, RETENTIONS),
                            (CatalogueKind.SELLER, SELLERS), (CatalogueKind.PRICE_LIST, PRICE_LISTS),
                            (CatalogueKind.WAREHOUSE, WAREHOUSES),
                            (CatalogueKind.NUMBER_TEMPLATE, NUMBER_TEMPLATES)):
        for document in documents:
            if (kind, int(document["id"])) not in existing:
                rows.append(SandboxCatalogueEntry(account=account, kind=kind, number=int(document["id"]),
                                                  name=document["name"], document=dict(document)))
    SandboxCatalogueEntry.objects.bulk_create(rows)


@transaction.atomic
def account_reset(account: SandboxAccount) -> None:
    """Remove every document of the account (subscriptions and logs stay)."""
    SandboxPlantedMistake.objects.filter(account=account).delete()
    SandboxInvoice.objects.filter(account=account).delete()
    SandboxCreditNote.objects.filter(account=account).delete()
    SandboxCatalogueEntry.objects.filter(account=account).delete()
    SandboxAccount.objects.filter(pk=account.pk).update(
        invoice_seq=0, contact_seq=0, credit_note_seq=0, payment_seq=0)
    account.refresh_from_db()


@dataclass(frozen=True)
class SeedSummary:
    contacts: int
    items: int
    invoices: int
    mistakes: int


def seed(
    account: SandboxAccount,
    *,
    seed: int = 42,
    invoices: int = 300,
    reset: bool = False,
    precision: int | None = None,
    today: dt.date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SeedSummary:
    """Fill an empty account (or a reset one) with demo data."""
    if reset:
        account_reset(account)
    has_data = SandboxCatalogueEntry.objects.filter(
        Q(kind=CatalogueKind.CONTACT) | Q(kind=CatalogueKind.ITEM), account=account).exists()
    if has_data or SandboxInvoice.objects.filter(account=account).exists():
        raise SeedError("La cuenta ya tiene datos; use reset para sembrarla de nuevo.")
    if precision is not None:
        if precision not in (0, 2):
            raise SeedError("La precisión decimal debe ser 0 o 2.")
        account.decimal_precision = precision
        account.save(update_fields=["decimal_precision"])
    rng = random.Random(seed)
    today = today or local_now().date()
    base_catalogue_create(account)
    items = _items_create(account)
    contacts = _contacts_create(account, rng, max(25, min(invoices // 40, 1500)))
    made, mistakes = _invoices_create(account, rng, items, contacts, invoices, today, progress)
    if connection.vendor == "postgresql" and made:
        # Rows loaded by COPY have no statistics yet; without them the planner
        # sorts the whole table for every page of GET /invoices.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {SandboxInvoice._meta.db_table}")
    return SeedSummary(contacts=len(contacts), items=len(items), invoices=made, mistakes=mistakes)


# --- catalogue -----------------------------------------------------------------------------


def _items_create(account: SandboxAccount) -> list[dict]:
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
            "category": {"id": str(_category_id(category)), "name": category},
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


_CATEGORY_IDS = {name: n for n, name in enumerate(dict.fromkeys(row[4] for row in words.ITEMS), start=1)}


def _category_id(category: str) -> int:
    return _CATEGORY_IDS[category]


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _nit_check_digit(nit: str) -> str:
    weights = [3, 7, 13, 17, 19, 23, 29, 37, 41, 43, 47, 53, 59, 67, 71]
    total = sum(int(d) * w for d, w in zip(reversed(nit), weights))
    rest = total % 11
    return str(11 - rest if rest > 1 else rest)


def _contacts_create(account: SandboxAccount, rng: random.Random, count: int) -> list[dict]:
    documents = []
    for number in range(1, count + 1):
        city, department, area = rng.choice(words.CITIES)
        if rng.random() < 0.65:
            name = (f"{rng.choice(words.COMPANY_KINDS)} {rng.choice(words.COMPANY_WORDS)} "
                    f"{rng.choice(words.LEGAL_FORMS)}")
            nit = str(rng.randrange(800_000_000, 901_999_999))
            dv = _nit_check_digit(nit)
            identification, id_object, kind = nit, {"type": "NIT", "number": nit, "dv": dv}, "LEGAL_ENTITY"
            email = f"facturacion@{_ascii(name.split()[1])}{number}.com.co"
            regime = "Responsable de IVA"
        else:
            first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.SURNAMES)
            name = f"{first} {last} {rng.choice(words.SURNAMES)}"
            identification = str(rng.randrange(10_000_000, 1_199_999_999))
            id_object, kind = {"type": "CC", "number": identification}, "PERSON_ENTITY"
            email = f"{_ascii(first.split()[0])}.{_ascii(last)}{number}@gmail.com"
            regime = "No responsable de IVA"
        price_list = PRICE_LISTS[1] if rng.random() < 0.15 else (PRICE_LISTS[2] if rng.random() < 0.05 else None)
        documents.append({
            "id": str(number),
            "name": name,
            "identification": identification,
            "identificationObject": id_object,
            "kindOfPerson": kind,
            "regime": regime,
            "email": email,
            "phonePrimary": f"{area}{rng.randrange(2000000, 7999999)}",
            "phoneSecondary": "",
            "fax": "",
            "mobile": f"3{rng.choice(['00', '01', '10', '12', '15', '20', '23', '50'])}{rng.randrange(1000000, 9999999)}",
            "observations": "",
            "address": {"address": f"{rng.choice(words.STREETS)} {rng.randrange(1, 150)} # "
                                   f"{rng.randrange(1, 120)}-{rng.randrange(1, 99)}",
                        "city": city, "department": department},
            "type": ["client", "provider"] if rng.random() < 0.1 else ["client"],
            "seller": None,
            "term": {"id": "1", "name": "De contado", "days": "0"},
            "priceList": {"id": price_list["id"], "name": price_list["name"]} if price_list else None,
            "internalContacts": [],
            "status": "active",
        })
    SandboxCatalogueEntry.objects.bulk_create([
        SandboxCatalogueEntry(account=account, kind=CatalogueKind.CONTACT, number=int(d["id"]),
                              name=d["name"], code=d["identification"], document=d) for d in documents
    ], batch_size=BATCH)
    SandboxAccount.objects.filter(pk=account.pk).update(contact_seq=count)
    return documents


# --- invoices ------------------------------------------------------------------------------


def _weighted(rng: random.Random, pairs):
    roll, acc = rng.random() * sum(w for _, w in pairs), 0
    for value, weight in pairs:
        acc += weight
        if roll < acc:
            return value
    return pairs[-1][0]


def _price_for(item: dict, price_list_id: str) -> Decimal:
    price = next(p for p in item["price"] if p["idPriceList"] == price_list_id)
    return ar.to_decimal(price["price"])


def _random_lines(rng: random.Random, items: list[dict], price_list_id: str) -> list[Line]:
    lines = []
    for _ in range(_weighted(rng, [(1, 25), (2, 22), (3, 17), (4, 12), (5, 9), (6, 7), (7, 5), (8, 3)])):
        item = rng.choice(items)
        unit = item["inventory"]["unit"]
        if unit in {"kg", "m", "m3"}:
            quantity = Decimal(rng.randrange(5, 400)) / 10
        else:
            quantity = Decimal(_weighted(rng, [(1, 40), (2, 20), (3, 10), (4, 8), (5, 6), (6, 5),
                                               (10, 5), (12, 4), (24, 2)]))
        discount = Decimal(_weighted(rng, [(0, 80), (5, 8), (10, 7), (15, 3), (20, 2)]))
        lines.append(Line(item_id=item["id"], name=item["name"], price=_price_for(item, price_list_id),
                          quantity=quantity, discount=discount, taxes=[dict(t) for t in item["tax"]],
                          description=item["description"] if rng.random() < 0.3 else None,
                          reference=item["reference"]))
    return lines


def _plant(kind: str, rng: random.Random, lines: list[Line]) -> dict:
    position = rng.randrange(len(lines))
    line = lines[position]
    if kind == "wrong_price":
        expected = line.price
        line.price = expected * 10  # the classic extra zero
        return {"line": position, "item": line.item_id, "expected_price": f"{expected:f}",
                "actual_price": f"{line.price:f}"}
    if kind == "wrong_tax":
        expected = line.taxes[0]["id"] if line.taxes else None
        wrong = next(t for t in (TAXES[1], TAXES[2], TAXES[0]) if t["id"] != expected)
        line.taxes = [dict(wrong)]
        return {"line": position, "item": line.item_id, "expected_tax": expected, "actual_tax": wrong["id"]}
    # odd_quantity
    line.quantity = rng.choice([Decimal(1000), Decimal(999), Decimal("0.01"), Decimal(250)])
    return {"line": position, "item": line.item_id, "quantity": f"{line.quantity:f}"}


def _invoices_create(account, rng, items, contacts, count, today, progress) -> tuple[int, int]:
    if count <= 0:
        return 0, 0
    start_day = today - dt.timedelta(days=HISTORY_DAYS)
    offsets = sorted(rng.randrange(HISTORY_DAYS + 1) for _ in range(count))
    current_precision = account.decimal_precision
    older_precision = 0 if current_precision == 2 else 2
    precision_switch = int(count * 0.15)  # the company changed its precision at some point
    template = NUMBER_TEMPLATES[0]
    planned: list[tuple[int, str, dict]] = []
    batch: list[SandboxInvoice] = []
    previous: tuple[dict, list[Line]] | None = None
    payment_id = account.payment_seq
    made = 0

    for index, offset in enumerate(offsets):
        number = index + 1
        date = start_day + dt.timedelta(days=offset)
        age = (today - date).days
        mistake = None
        if previous and rng.random() < MISTAKE_RATE / 4:
            mistake = "duplicate_invoice"
            client, lines = previous[0], [Line(**vars(line)) for line in previous[1]]
            date = dt.date.fromisoformat(previous[2])
            detail = {"duplicate_of": previous[3]}
        else:
            client = contacts[int(len(contacts) * rng.random() ** 2)]
            price_list = (client.get("priceList") or {}).get("id", "1")
            lines = _random_lines(rng, items, price_list)
            if rng.random() < MISTAKE_RATE * 3 / 4:
                mistake = rng.choice(MISTAKE_KINDS[:3])
                detail = _plant(mistake, rng, lines)
        if age > 60:
            status = _weighted(rng, [("closed", 75), ("open", 20), ("void", 4), ("draft", 1)])
        else:
            status = _weighted(rng, [("open", 65), ("closed", 25), ("void", 5), ("draft", 5)])
        if mistake and status == "void":
            status = "open"
        term = _weighted(rng, [(0, 35), (15, 15), (30, 35), (45, 5), (60, 10)])
        moment = dt.time(rng.randrange(7, 19), rng.randrange(60), rng.randrange(60))
        doc = {
            "id": str(number),
            "date": date.isoformat(),
            "dueDate": (date + dt.timedelta(days=term)).isoformat(),
            "datetime": f"{date.isoformat()} {moment.isoformat()}",
            "observations": rng.choice(words.OBSERVATIONS).format(n=rng.randrange(1000, 9999))
            if rng.random() < 0.3 else None,
            "anotation": rng.choice(words.ANOTATIONS) if rng.random() < 0.2 else None,
            "termsConditions": DEFAULT_TERMS,
            "status": status,
            "client": contact_snapshot(client),
            "numberTemplate": number_template(template, number),
            "subtotal": "0", "discount": "0", "tax": "0", "total": "0", "totalPaid": "0", "balance": "0",
            "decimalPrecision": str(older_precision if index < precision_switch else current_precision),
            "paymentForm": "CASH" if term == 0 else "CREDIT",
            "paymentMethod": rng.choice(PAYMENT_METHODS),
            "seller": ({"id": s["id"], "name": s["name"]} if (s := rng.choice(SELLERS + [None]))
                       else None),
            "priceList": ({"id": client["priceList"]["id"], "name": client["priceList"]["name"]}
                          if client.get("priceList") else {"id": "1", "name": "General"}),
            "warehouse": {"id": "1", "name": "Bodega principal"},
            "retentions": ([dict(RETENTIONS[0], amount="0")]
                           if client["kindOfPerson"] == "LEGAL_ENTITY" and rng.random() < 0.1 else []),
            "payments": [],
            "items": [],
        }
        apply_totals(doc, lines)
        payment_id = _pay(rng, doc, payment_id, status, date, today)
        if status in {"open", "closed"} and rng.random() < 0.7:
            stamped_at = f"{date.isoformat()} {moment.isoformat()}"
            doc["stamp"] = stamp(doc, account.identification, _weighted(rng, LEGAL_STATUSES), stamped_at)
        batch.append(SandboxInvoice(account=account, number=number, document=doc,
                                    **invoice_columns(doc)))
        if mistake:
            planned.append((number, mistake, detail))
        if status != "void":
            previous = (client, lines, doc["date"], doc["id"])
        if len(batch) >= BATCH:
            made += _flush(batch, progress, made, count)
    made += _flush(batch, progress, made, count)

    SandboxAccount.objects.filter(pk=account.pk).update(invoice_seq=count, payment_seq=payment_id)
    pks = dict(SandboxInvoice.objects.filter(account=account, number__in=[n for n, _, _ in planned])
               .values_list("number", "pk"))
    SandboxPlantedMistake.objects.bulk_create([
        SandboxPlantedMistake(account=account, invoice_id=pks[n], kind=kind, detail=detail)
        for n, kind, detail in planned], batch_size=BATCH)
    return made, len(planned)


def _pay(rng, doc: dict, payment_id: int, status: str, date: dt.date, today: dt.date) -> int:
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


def _flush(batch: list[SandboxInvoice], progress, made: int, count: int) -> int:
    if not batch:
        return 0
    written = len(batch)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _copy_invoices(batch)
        else:
            SandboxInvoice.objects.bulk_create(batch)
    batch.clear()
    reset_queries()  # with DEBUG on, the logged INSERTs of 100,000 documents would fill memory
    if progress:
        progress(made + written, count)
    return written


_COPY_COLUMNS = ("account_id", "number", "date", "due_date", "status", "client_number", "client_name",
                 "full_number", "is_stamped", "credited", "document")


def _copy_invoices(batch: list[SandboxInvoice]) -> None:
    """PostgreSQL's COPY: bulk_create quotes every JSON document in Python, four times slower."""
    table = SandboxInvoice._meta.db_table
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {table} ({', '.join(_COPY_COLUMNS)}) FROM STDIN") as copy:
            for row in batch:
                copy.write_row((row.account_id, row.number, row.date, row.due_date, row.status,
                                row.client_number, row.client_name, row.full_number, row.is_stamped,
                                row.credited, json.dumps(row.document, ensure_ascii=False)))
