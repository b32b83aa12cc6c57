"""A year of trade for one company: the `year` seed profile.

Each client has habits of its own — a basket of items and the quantities it usually takes, a
price list, negotiated prices, a standing discount or none, a tax exemption, payment terms —
and the catalogue changes some prices during the year. Busy seasons, project orders and new
clients opening with a big order make invoices unusual while correct: they are labelled as
hard negatives. A few percent of invoices carry one labelled planted mistake each
(`seed_year_mistakes`). Labels stay in the sandbox's own tables; the API never shows them.

Deterministic: the same seed, size and `today` give the same documents and labels.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
from collections import Counter, deque
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection

from .. import arithmetic as ar
from .. import seed_data as words
from ..documents import Line, apply_totals, contact_snapshot, invoice_columns, number_template, stamp
from ..models import (
    CatalogueKind, SandboxAccount, SandboxCatalogueEntry, SandboxHardNegative, SandboxInvoice,
    SandboxPlantedMistake,
)
from .seed_year_mistakes import RATE as MISTAKE_RATE
from .seed_year_mistakes import Context, plant
from .common import DEFAULT_TERMS, NUMBER_TEMPLATES, PRICE_LISTS, SELLERS, TAX_BY_KEY, base_catalogue_create
from .seed_parts import (
    BATCH, LEGAL_STATUSES, PAYMENT_METHODS, SeedSummary, ascii_text, flush, items_create, nit_check_digit,
    pay, price_for, weighted,
)

YEAR_DAYS = 365
TERMS = [{"id": "1", "name": "De contado", "days": "0"}, {"id": "2", "name": "15 días", "days": "15"},
         {"id": "3", "name": "30 días", "days": "30"}, {"id": "4", "name": "45 días", "days": "45"},
         {"id": "5", "name": "60 días", "days": "60"}]
CONSUMIDOR_FINAL = "222222222222"
STANDING_DISCOUNTS = [(5, 3), (10, 4), (15, 3), (20, 2), (25, 2), (30, 1)]
UNIT_QUANTITIES = [(1, 20), (2, 15), (3, 10), (4, 8), (5, 10), (6, 8), (10, 10), (12, 8), (20, 5),
                   (24, 4), (50, 2)]
CONSTRUCTION = {"Construcción", "Plomería", "Eléctricos", "Ferretería", "Herramientas", "Pinturas", "Seguridad"}
BIG_FIRST_ORDER = Decimal("5200000")


@dataclass
class Catalogue:
    """Items with their list prices on any day of the year (some prices rise once)."""

    items: list[dict]
    changes: dict[int, tuple[int, Decimal]]  # item id → (day of the rise, factor)
    by_id: dict[int, dict] = field(init=False)

    def __post_init__(self):
        self.by_id = {item["id"]: item for item in self.items}

    def price(self, item_id: int, price_list: str, day: int) -> Decimal:
        current = price_for(self.by_id[item_id], price_list)
        change = self.changes.get(item_id)
        if change and day < change[0]:
            return ar.round_to(current / change[1], 4)
        return current


@dataclass
class Client:
    doc: dict
    price_list: str
    basket: list[int]
    base_quantity: dict[int, Decimal]
    negotiated: dict[int, Decimal]
    discount: tuple[str, int]  # ("none", 0), ("standing", d) or ("occasional", d)
    exempt: bool
    term_days: int  # what the client is actually given
    weight: float
    start: int
    seasonal: bool
    projects: bool
    missing_identification: bool = False
    sold: Counter = field(default_factory=Counter)  # lines per item so far
    exempt_lines: int = 0
    invoices: int = 0

    @property
    def id(self) -> str:
        return self.doc["id"]


def seed_year(account: SandboxAccount, rng: random.Random, invoices: int, today: dt.date,
              progress=None) -> SeedSummary:
    base_catalogue_create(account)
    items = items_create(account)
    catalogue = Catalogue(items, _price_rises(rng, items))
    clients = _clients_create(account, rng, catalogue, max(40, min(invoices // 65, 1600)))
    made, planted = _invoices_create(account, rng, catalogue, clients, invoices, today, progress)
    if connection.vendor == "postgresql" and made:
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {SandboxInvoice._meta.db_table}")
    return SeedSummary(contacts=len(clients), items=len(items), invoices=made, mistakes=planted)


def _price_rises(rng: random.Random, items: list[dict]) -> dict[int, tuple[int, Decimal]]:
    return {item["id"]: (rng.randrange(90, 270), Decimal(rng.randrange(105, 113)) / 100)
            for item in items if rng.random() < 0.35}


# --- clients ---------------------------------------------------------------------------------


def _identity(rng: random.Random, number: int, *, legal: bool) -> dict:
    if legal:
        name = f"{rng.choice(words.COMPANY_KINDS)} {rng.choice(words.COMPANY_WORDS)} {rng.choice(words.LEGAL_FORMS)}"
        nit = str(rng.randrange(800_000_000, 901_999_999))
        return {"name": name, "identification": nit, "kindOfPerson": "LEGAL_ENTITY", "regime": "Responsable de IVA",
                "identificationObject": {"type": "NIT", "number": nit, "dv": nit_check_digit(nit)},
                "email": f"facturacion@{ascii_text(name.split()[1])}{number}.com.co"}
    first, last = rng.choice(words.FIRST_NAMES), rng.choice(words.SURNAMES)
    cc = str(rng.randrange(10_000_000, 1_199_999_999))
    return {"name": f"{first} {last} {rng.choice(words.SURNAMES)}", "identification": cc,
            "kindOfPerson": "PERSON_ENTITY", "regime": "No responsable de IVA",
            "identificationObject": {"type": "CC", "number": cc},
            "email": f"{ascii_text(first.split()[0])}.{ascii_text(last)}{number}@gmail.com"}


def _contact_doc(rng: random.Random, number: int, identity: dict, term: dict, price_list: str) -> dict:
    city, department, area = rng.choice(words.CITIES)
    listed = next(p for p in PRICE_LISTS if p["id"] == price_list)
    return {
        "id": str(number), **identity,
        "phonePrimary": f"{area}{rng.randrange(2000000, 7999999)}", "phoneSecondary": "", "fax": "",
        "mobile": f"3{rng.choice(['00', '10', '15', '20', '50'])}{rng.randrange(1000000, 9999999)}",
        "observations": "",
        "address": {"address": f"{rng.choice(words.STREETS)} {rng.randrange(1, 150)} # "
                               f"{rng.randrange(1, 120)}-{rng.randrange(1, 99)}", "city": city,
                    "department": department},
        "type": ["client"], "seller": None, "term": dict(term),
        "priceList": None if price_list == "1" else {"id": listed["id"], "name": listed["name"]},
        "internalContacts": [], "status": "active",
    }


def _basket(rng: random.Random, catalogue: Catalogue, construction: bool, size: int) -> list[int]:
    pool = [i["id"] for i in catalogue.items
            if (i["category"]["name"] in CONSTRUCTION) == construction or rng.random() < 0.15]
    return rng.sample(pool, min(size, len(pool)))


def _base_quantity(rng: random.Random, item: dict) -> Decimal:
    unit = item["inventory"]["unit"]
    if unit == "service":
        return Decimal(weighted(rng, [(1, 6), (2, 3), (3, 1)]))
    if unit in {"kg", "m", "m3"}:
        return Decimal(rng.randrange(5, 150))
    return Decimal(weighted(rng, UNIT_QUANTITIES))


def _client(rng: random.Random, catalogue: Catalogue, number: int, *, start: int,
            missing_identification: bool = False) -> Client:
    legal = rng.random() < 0.65
    identity = _identity(rng, number, legal=legal)
    if missing_identification:
        blank = rng.choice(["", "", "0", "N/A", "1111111111"])
        identity["identification"] = blank
        identity["identificationObject"] = {"type": identity["identificationObject"]["type"], "number": blank}
    term = weighted(rng, [(TERMS[0], 30), (TERMS[1], 15), (TERMS[2], 35), (TERMS[3], 10), (TERMS[4], 10)])
    term_days = int(term["days"])
    if term_days == 0 and rng.random() < 0.15:
        term_days = 30  # the contact still says "De contado"; the client is given 30 days by habit
    price_list = weighted(rng, [("1", 70), ("2", 20), ("3", 10)])
    construction = rng.random() < 0.45
    basket = _basket(rng, catalogue, construction, rng.randrange(3, 11))
    negotiated = {}
    if rng.random() < 0.15:
        for item_id in rng.sample(basket, min(len(basket), rng.randrange(1, 4))):
            ratio = Decimal(rng.randrange(75, 93)) / 100
            hundreds = (catalogue.price(item_id, price_list, start) * ratio / 100).to_integral_value()
            negotiated[item_id] = max(Decimal(100), hundreds * 100)
    habit = weighted(rng, [("none", 65), ("standing", 15), ("occasional", 20)])
    discount = (habit, weighted(rng, STANDING_DISCOUNTS) if habit == "standing" else
                (rng.choice([5, 10]) if habit == "occasional" else 0))
    doc = _contact_doc(rng, number, identity, term, price_list)
    return Client(doc=doc, price_list=price_list, basket=basket,
                  base_quantity={i: _base_quantity(rng, catalogue.by_id[i]) for i in basket},
                  negotiated=negotiated, discount=discount, exempt=rng.random() < 0.04,
                  term_days=term_days, weight=math.exp(rng.gauss(0, 1)), start=start,
                  seasonal=not construction and rng.random() < 0.4,
                  projects=construction and rng.random() < 0.5,
                  missing_identification=missing_identification)


def _clients_create(account, rng, catalogue: Catalogue, count: int) -> list[Client]:
    clients = []
    for number in range(1, count + 1):
        start = 0 if rng.random() < 0.88 else rng.randrange(45, 330)
        clients.append(_client(rng, catalogue, number, start=start))
    # Some steady clients are exempt from IVA (a free-trade zone): at least a couple in any year.
    steady = [c for c in clients if c.start == 0 and not c.exempt]
    for client in rng.sample(steady, max(0, max(2, count // 25) - sum(c.exempt for c in clients))):
        client.exempt, client.weight = True, max(client.weight, 1.5)
    # A few clients registered in a hurry, without a usable identification.
    for number in range(count + 1, count + 1 + max(2, count // 60)):
        client = _client(rng, catalogue, number, start=rng.randrange(60, 330), missing_identification=True)
        client.weight = 0.15
        clients.append(client)
    counter = _client(rng, catalogue, len(clients) + 1, start=0)
    counter.doc.update(name="Consumidor final", identification=CONSUMIDOR_FINAL, kindOfPerson="PERSON_ENTITY",
                       identificationObject={"type": "CC", "number": CONSUMIDOR_FINAL}, term=dict(TERMS[0]),
                       priceList=None, email="")
    counter.price_list, counter.term_days, counter.discount, counter.exempt = "1", 0, ("none", 0), False
    counter.negotiated, counter.weight = {}, 0.0  # chosen apart, for a steady share of counter sales
    clients.append(counter)
    SandboxCatalogueEntry.objects.bulk_create([
        SandboxCatalogueEntry(account=account, kind=CatalogueKind.CONTACT, number=int(c.id), name=c.doc["name"],
                              code=c.doc["identification"], document=c.doc) for c in clients], batch_size=BATCH)
    SandboxAccount.objects.filter(pk=account.pk).update(contact_seq=len(clients))
    return clients


# --- invoices --------------------------------------------------------------------------------


def _days(rng: random.Random, count: int, today: dt.date) -> list[int]:
    first = today - dt.timedelta(days=YEAR_DAYS - 1)
    weights = []
    for offset in range(YEAR_DAYS):
        day = first + dt.timedelta(days=offset)
        weights.append((1.35 if day.month in (11, 12) else 1.0) * (0.25 if day.weekday() == 6 else 1.0))
    return sorted(rng.choices(range(YEAR_DAYS), weights=weights, k=count))


class Picker:
    """Clients by weight among those already trading on a day (clients sorted by start)."""

    def __init__(self, clients: list[Client]):
        self.clients = sorted((c for c in clients if c.weight > 0), key=lambda c: (c.start, int(c.id)))
        self.starts = [c.start for c in self.clients]
        self.cumulative, total = [], 0.0
        for client in self.clients:
            total += client.weight
            self.cumulative.append(total)

    def pick(self, rng: random.Random, day: int) -> Client:
        active = bisect.bisect_right(self.starts, day)
        roll = rng.random() * self.cumulative[active - 1]
        return self.clients[min(bisect.bisect_right(self.cumulative, roll, 0, active), active - 1)]


def _quantity(rng: random.Random, item: dict, base: Decimal, scale: float) -> Decimal:
    value = float(base) * scale * math.exp(rng.gauss(0, 0.22))
    if item["inventory"]["unit"] in {"kg", "m", "m3"}:
        return max(Decimal("0.5"), Decimal(str(round(value, 1))))
    return Decimal(max(1, round(value)))


def _taxes(client: Client, item: dict) -> list[dict]:
    if client.exempt and item["tax"][0]["type"] == "IVA":
        return [dict(TAX_BY_KEY["iva0"])]
    return [dict(t) for t in item["tax"]]


def _lines(rng, catalogue: Catalogue, client: Client, day: int, scale: float, count: int | None = None) -> list[Line]:
    count = count or weighted(rng, [(1, 20), (2, 25), (3, 22), (4, 15), (5, 10), (6, 8)])
    chosen = rng.sample(client.basket, min(count, len(client.basket)))
    if rng.random() < 0.12:
        chosen.append(rng.choice(catalogue.items)["id"])
    lines = []
    for item_id in dict.fromkeys(chosen):
        item = catalogue.by_id[item_id]
        base = client.base_quantity.get(item_id) or _base_quantity(rng, item)
        habit, value = client.discount
        discount = value if habit == "standing" or (habit == "occasional" and rng.random() < 0.35) else 0
        lines.append(Line(item_id=item_id, name=item["name"], quantity=_quantity(rng, item, base, scale),
                          price=client.negotiated.get(item_id) or catalogue.price(item_id, client.price_list, day),
                          discount=Decimal(discount), taxes=_taxes(client, item), reference=item["reference"]))
    return lines


def _counter_lines(rng, catalogue: Catalogue, day: int) -> list[Line]:
    cheap = [i for i in catalogue.items if price_for(i, "1") < 60000]
    return [Line(item_id=i["id"], name=i["name"], quantity=Decimal(rng.randrange(1, 4)),
                 price=catalogue.price(i["id"], "1", day), taxes=[dict(t) for t in i["tax"]], reference=i["reference"])
            for i in rng.sample(cheap, rng.randrange(1, 4))]


def _scale(rng, client: Client, date: dt.date, labels: dict) -> float:
    if client.projects and rng.random() < 0.05:
        labels["big_order"] = {"why": "project"}
        return rng.uniform(2.5, 4.0)
    if client.seasonal and (date.month == 12 or (date.month == 11 and date.day >= 15)):
        labels["big_order"] = {"why": "season"}
        return rng.uniform(1.8, 3.0)
    return 1.0


def _status(rng, age: int) -> str:
    if age > 60:
        return weighted(rng, [("closed", 75), ("open", 20), ("void", 4), ("draft", 1)])
    return weighted(rng, [("open", 65), ("closed", 25), ("void", 5), ("draft", 5)])


def _document(rng, account, number: int, date: dt.date, client: Client, status: str) -> dict:
    moment = dt.time(rng.randrange(7, 19), rng.randrange(60), rng.randrange(60))
    price_list = next(p for p in PRICE_LISTS if p["id"] == client.price_list)
    return {
        "id": str(number), "date": date.isoformat(),
        "dueDate": (date + dt.timedelta(days=client.term_days)).isoformat(),
        "datetime": f"{date.isoformat()} {moment.isoformat()}",
        "observations": rng.choice(words.OBSERVATIONS).format(n=rng.randrange(1000, 9999)) if rng.random() < 0.3 else None,
        "anotation": rng.choice(words.ANOTATIONS) if rng.random() < 0.2 else None,
        "termsConditions": DEFAULT_TERMS, "status": status, "client": contact_snapshot(client.doc),
        "numberTemplate": number_template(NUMBER_TEMPLATES[0], number),
        "subtotal": "0", "discount": "0", "tax": "0", "total": "0", "totalPaid": "0", "balance": "0",
        "decimalPrecision": str(account.decimal_precision),
        "paymentForm": "CASH" if client.term_days == 0 else "CREDIT",
        "paymentMethod": rng.choice(PAYMENT_METHODS),
        "seller": ({"id": s["id"], "name": s["name"]} if (s := rng.choice(SELLERS[:2] + [None])) else None),
        "priceList": {"id": price_list["id"], "name": price_list["name"]},
        "warehouse": {"id": "1", "name": "Bodega principal"}, "retentions": [], "payments": [], "items": [],
    }


def _labels_of(client: Client, catalogue: Catalogue, lines: list[Line], day: int, labels: dict) -> None:
    habit, value = client.discount
    if habit == "standing":
        labels["standing_discount"] = {"discount": value}
    if client.price_list != "1":
        labels["wholesale_list"] = {"price_list": client.price_list}
    if any(line.item_id in client.negotiated for line in lines):
        labels["negotiated_price"] = {"items": sorted(i for i in client.negotiated if any(l.item_id == i for l in lines))}
    if client.exempt:
        labels["tax_exempt_client"] = {}
    if client.doc["identification"] == CONSUMIDOR_FINAL:
        labels["consumidor_final"] = {}
    if client.term_days != int(client.doc["term"]["days"]):
        labels["terms_by_habit"] = {"days": client.term_days}
    risen = [line.item_id for line in lines if line.item_id in catalogue.changes
             and 0 <= catalogue.changes[line.item_id][0] - day <= 60]
    if risen:
        labels["price_before_rise"] = {"items": risen}


def _invoices_create(account, rng, catalogue: Catalogue, clients: list[Client], count: int,
                     today: dt.date, progress) -> tuple[int, int]:
    if count <= 0:
        return 0, 0
    first = today - dt.timedelta(days=YEAR_DAYS - 1)
    picker, counter = Picker(clients), clients[-1]
    hurried = deque(sorted(((c.start + rng.randrange(0, 30), c) for c in clients if c.missing_identification
                            for _ in range(rng.randrange(1, 4))), key=lambda pair: (pair[0], int(pair[1].id))))
    recent: deque = deque(maxlen=400)
    planted, negatives, batch, payment_id, made = [], [], [], account.payment_seq, 0
    for index, day in enumerate(_days(rng, count, today)):
        number, date = index + 1, first + dt.timedelta(days=day)
        labels: dict[str, dict] = {}
        if hurried and hurried[0][0] <= day:
            client = hurried.popleft()[1]
        elif rng.random() < 0.03:
            client = counter
        else:
            client = picker.pick(rng, day)
        status = _status(rng, (today - date).days)
        scale = 1.0 if client is counter else _scale(rng, client, date, labels)
        big_first = client.invoices == 0 and client.start > 30 and client is not counter and not client.missing_identification
        if client is counter:
            lines = _counter_lines(rng, catalogue, day)
        else:
            lines = _lines(rng, catalogue, client, day, scale * (rng.uniform(2.0, 3.0) if big_first else 1.0),
                           count=len(client.basket) if big_first else None)
        doc = _document(rng, account, number, date, client, status)
        apply_totals(doc, lines)
        if big_first and ar.to_decimal(doc["total"]) > 0:
            _raise_first_order(rng, catalogue, client, lines, doc)
            labels["new_client_big_first"] = {"total": doc["total"]}
        mistake = None
        if client.missing_identification:
            mistake = ("missing_identification", {"identification": client.doc["identification"]})
        elif status != "void" and rng.random() < MISTAKE_RATE:
            context = Context(rng=rng, catalogue=catalogue, client=client, lines=lines, doc=doc, day=day,
                                       recent=recent, big_order="big_order" in labels or big_first)
            mistake = plant(context)
            lines, client = context.lines, context.client
        elif status == "void" and rng.random() < 0.3:
            slip = rng.randrange(len(lines))
            lines[slip].price *= 10  # a wrong invoice someone voided: never to be flagged
            labels["void_with_mistake"] = {"line": slip}
        apply_totals(doc, lines)
        if mistake and doc["status"] == "void":
            doc["status"] = "open"
        payment_id = pay(rng, doc, payment_id, doc["status"], date, today)
        if doc["status"] in {"open", "closed"} and rng.random() < 0.7:
            doc["stamp"] = stamp(doc, account.identification, weighted(rng, LEGAL_STATUSES), doc["datetime"])
        _labels_of(client, catalogue, lines, day, labels)
        if mistake:
            planted.append((number, *mistake))
        negatives.extend((number, kind, detail) for kind, detail in labels.items())
        if doc["status"] != "void":
            client.invoices += 1
            for line in lines:
                client.sold[line.item_id] += 1
            recent.append((day, doc, [Line(**vars(line)) for line in lines], client))
        batch.append(SandboxInvoice(account=account, number=number, document=doc, **invoice_columns(doc)))
        if len(batch) >= BATCH:
            made += flush(batch, progress, made, count)
    made += flush(batch, progress, made, count)
    SandboxAccount.objects.filter(pk=account.pk).update(invoice_seq=count, payment_seq=payment_id)
    _labels_create(account, planted, negatives)
    return made, len(planted)


def _raise_first_order(rng, catalogue: Catalogue, client: Client, lines: list[Line], doc: dict) -> None:
    """A new client's opening order is a big one (over 5 million), all lines alike."""
    total = ar.to_decimal(doc["total"])
    if total < BIG_FIRST_ORDER:
        factor = min(Decimal(6), (BIG_FIRST_ORDER / total).to_integral_value(rounding="ROUND_CEILING"))
        for line in lines:
            line.quantity *= factor
        apply_totals(doc, lines)
    if ar.to_decimal(doc["total"]) < BIG_FIRST_ORDER:
        laptop = next(i for i in catalogue.items if i["name"].startswith("Portátil"))
        lines.append(Line(item_id=laptop["id"], name=laptop["name"], quantity=Decimal(3),
                          price=catalogue.price(laptop["id"], client.price_list, 0),
                          taxes=_taxes(client, laptop), reference=laptop["reference"]))
        apply_totals(doc, lines)


def _labels_create(account, planted, negatives) -> None:
    numbers = {n for n, _, _ in planted} | {n for n, _, _ in negatives}
    pks = {}
    ordered = sorted(numbers)
    for start in range(0, len(ordered), BATCH):
        pks.update(SandboxInvoice.objects.filter(account=account, number__in=ordered[start:start + BATCH])
                   .values_list("number", "pk"))
    SandboxPlantedMistake.objects.bulk_create([
        SandboxPlantedMistake(account=account, invoice_id=pks[n], kind=kind, detail=detail)
        for n, kind, detail in planted], batch_size=BATCH)
    SandboxHardNegative.objects.bulk_create([
        SandboxHardNegative(account=account, invoice_id=pks[n], kind=kind, detail=detail)
        for n, kind, detail in negatives], batch_size=BATCH)
