"""Deterministic demo data: catalogues, clients and many invoices with planted mistakes.

Everything is drawn from `random.Random(seed)` and dated relative to `today`, so the
same seed on the same day gives the same documents. Invoices are written with
bulk_create in batches, which keeps 100,000 invoices within a couple of minutes.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Q

from .. import seed_data as words
from ..documents import Line, apply_totals, contact_snapshot, invoice_columns, number_template, stamp
from ..models import (
    CatalogueKind, SandboxAccount, SandboxCatalogueEntry, SandboxCreditNote, SandboxInvoice,
    SandboxHardNegative, SandboxPlantedMistake,
)
from .common import (  # noqa: F401  (re-exported: the seed's catalogue is the base one)
    DEFAULT_TERMS, NUMBER_TEMPLATES, PRICE_LISTS, RETENTIONS, SELLERS, TAX_BY_KEY, TAXES, WAREHOUSES,
    base_catalogue_create, local_now,
)
from .seed_parts import (  # noqa: F401  (SeedError and SeedSummary: this module answers for them)
    BATCH, LEGAL_STATUSES, PAYMENT_METHODS, SeedError, SeedSummary, flush, items_create, nit_check_digit,
    ascii_text, pay, price_for, weighted,
)
from .seed_year import seed_year

HISTORY_DAYS = 540  # about 18 months
MISTAKE_RATE = 0.015
MISTAKE_KINDS = ("wrong_price", "wrong_tax", "odd_quantity", "duplicate_invoice")

@transaction.atomic
def account_reset(account: SandboxAccount) -> None:
    """Remove every document of the account (subscriptions and logs stay)."""
    SandboxPlantedMistake.objects.filter(account=account).delete()
    SandboxHardNegative.objects.filter(account=account).delete()
    SandboxInvoice.objects.filter(account=account).delete()
    SandboxCreditNote.objects.filter(account=account).delete()
    SandboxCatalogueEntry.objects.filter(account=account).delete()
    SandboxAccount.objects.filter(pk=account.pk).update(
        invoice_seq=0, contact_seq=0, credit_note_seq=0, payment_seq=0)
    account.refresh_from_db()




def seed(
    account: SandboxAccount,
    *,
    seed: int = 42,
    invoices: int = 300,
    reset: bool = False,
    precision: int | None = None,
    today: dt.date | None = None,
    progress: Callable[[int, int], None] | None = None,
    profile: str = "demo",
) -> SeedSummary:
    """Fill an empty account (or a reset one) with demo data.

    Profile `demo`: 18 months of varied invoices with a few planted mistakes. Profile `year`: a
    year of trade with client habits, hard negatives and labelled mistakes of every kind
    (`seed_year`), for anomaly detection.
    """
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
    if profile == "year":
        return seed_year(account, rng, invoices, today, progress)
    if profile != "demo":
        raise SeedError(f"Perfil de datos desconocido: {profile!r} (use demo o year).")
    base_catalogue_create(account)
    items = items_create(account)
    contacts = _contacts_create(account, rng, max(25, min(invoices // 40, 1500)))
    made, mistakes = _invoices_create(account, rng, items, contacts, invoices, today, progress)
    if connection.vendor == "postgresql" and made:
        # Rows loaded by COPY have no statistics yet; without them the planner
        # sorts the whole table for every page of GET /invoices.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {SandboxInvoice._meta.db_table}")
    return SeedSummary(contacts=len(contacts), items=len(items), invoices=made, mistakes=mistakes)


# --- catalogue -----------------------------------------------------------------------------












def _contacts_create(account: SandboxAccount, rng: random.Random, count: int) -> list[dict]:
    documents = []
    for number in range(1, count + 1):
        city, department, area = rng.choice(words.CITIES)
        if rng.random() < 0.65:
            name = (f"{rng.choice(words.COMPANY_KINDS)} {rng.choice(words.COMPANY_WORDS)} "
                    f"{rng.choice(words.LEGAL_FORMS)}")
            nit = str(rng.randrange(800_000_000, 901_999_999))
            dv = nit_check_digit(nit)
            identification, id_object, kind = nit, {"type": "NIT", "number": nit, "dv": dv}, "LEGAL_ENTITY"
            email = f"facturacion@{ascii_text(name.split()[1])}{number}.com.co"
            regime = "Responsable de IVA"
        else:
            first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.SURNAMES)
            name = f"{first} {last} {rng.choice(words.SURNAMES)}"
            identification = str(rng.randrange(10_000_000, 1_199_999_999))
            id_object, kind = {"type": "CC", "number": identification}, "PERSON_ENTITY"
            email = f"{ascii_text(first.split()[0])}.{ascii_text(last)}{number}@gmail.com"
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






def _random_lines(rng: random.Random, items: list[dict], price_list_id: str) -> list[Line]:
    lines = []
    for _ in range(weighted(rng, [(1, 25), (2, 22), (3, 17), (4, 12), (5, 9), (6, 7), (7, 5), (8, 3)])):
        item = rng.choice(items)
        unit = item["inventory"]["unit"]
        if unit in {"kg", "m", "m3"}:
            quantity = Decimal(rng.randrange(5, 400)) / 10
        else:
            quantity = Decimal(weighted(rng, [(1, 40), (2, 20), (3, 10), (4, 8), (5, 6), (6, 5),
                                               (10, 5), (12, 4), (24, 2)]))
        discount = Decimal(weighted(rng, [(0, 80), (5, 8), (10, 7), (15, 3), (20, 2)]))
        lines.append(Line(item_id=item["id"], name=item["name"], price=price_for(item, price_list_id),
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
            status = weighted(rng, [("closed", 75), ("open", 20), ("void", 4), ("draft", 1)])
        else:
            status = weighted(rng, [("open", 65), ("closed", 25), ("void", 5), ("draft", 5)])
        if mistake and status == "void":
            status = "open"
        term = weighted(rng, [(0, 35), (15, 15), (30, 35), (45, 5), (60, 10)])
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
        payment_id = pay(rng, doc, payment_id, status, date, today)
        if status in {"open", "closed"} and rng.random() < 0.7:
            stamped_at = f"{date.isoformat()} {moment.isoformat()}"
            doc["stamp"] = stamp(doc, account.identification, weighted(rng, LEGAL_STATUSES), stamped_at)
        batch.append(SandboxInvoice(account=account, number=number, document=doc,
                                    **invoice_columns(doc)))
        if mistake:
            planned.append((number, mistake, detail))
        if status != "void":
            previous = (client, lines, doc["date"], doc["id"])
        if len(batch) >= BATCH:
            made += flush(batch, progress, made, count)
    made += flush(batch, progress, made, count)

    SandboxAccount.objects.filter(pk=account.pk).update(invoice_seq=count, payment_seq=payment_id)
    pks = dict(SandboxInvoice.objects.filter(account=account, number__in=[n for n, _, _ in planned])
               .values_list("number", "pk"))
    SandboxPlantedMistake.objects.bulk_create([
        SandboxPlantedMistake(account=account, invoice_id=pks[n], kind=kind, detail=detail)
        for n, kind, detail in planned], batch_size=BATCH)
    return made, len(planned)








