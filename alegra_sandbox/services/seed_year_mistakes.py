"""The mistakes the `year` seed plants, one per chosen invoice, each with its label.

A mistake is planted only where it is a mistake by the definitions a person would use: a price
"far from this client's usual one" needs a usual one (the client bought the item three times
before), a quantity slip needs a usual quantity, an unusual discount needs a client who never
(or only a little) gets one. Each planter returns the label's detail, or None where it cannot
plant, and then another kind is tried.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import deque
from dataclasses import dataclass
from decimal import Decimal

from .. import arithmetic as ar
from ..documents import Line, contact_snapshot
from .common import TAX_BY_KEY

RATE = 0.045
KINDS = [("price_slip", 3.0), ("price_other_item", 1.5), ("price_unusual", 1.5), ("tax_catalogue", 2.0),
         ("tax_client", 1.0), ("quantity_slip", 2.0), ("discount_unusual", 1.5), ("duplicate_lines", 1.5),
         ("duplicate_number", 1.0), ("due_before_date", 1.0), ("due_terms", 1.5), ("empty_invoice", 1.0)]
WRONG_TAX = {"19.00": ["iva5", "iva0"], "5.00": ["iva19"], "0.00": ["iva19", "iva5"], "8.00": ["iva19"]}


@dataclass
class Context:
    rng: random.Random
    catalogue: object  # seed_year.Catalogue
    client: object  # seed_year.Client; a duplicate switches it to the original's client
    lines: list[Line]
    doc: dict
    day: int
    recent: deque  # (day, document, lines, client) of the latest invoices not void
    big_order: bool


def plant(context: Context) -> tuple[str, dict] | None:
    # An exempt client's typical slip is being charged the catalogue's tax after all.
    kinds = [(kind, 15.0 if kind == "tax_client" and context.client.exempt else weight) for kind, weight in KINDS]
    while kinds:
        roll, acc = context.rng.random() * sum(w for _, w in kinds), 0.0
        for position, (kind, weight) in enumerate(kinds):
            acc += weight
            if roll < acc:
                break
        detail = PLANTERS[kind](context)
        if detail is not None:
            return kind, detail
        kinds.pop(position)
    return None


def _line(context: Context, wanted=lambda line: True) -> tuple[int, Line] | None:
    choices = [(i, line) for i, line in enumerate(context.lines) if wanted(line)]
    return context.rng.choice(choices) if choices else None


def _near_power_of_ten(ratio: Decimal) -> bool:
    return any(abs(ratio / Decimal(10) ** k - 1) < Decimal("0.2") for k in (-2, -1, 1, 2))


def price_slip(context: Context) -> dict | None:
    position, line = _line(context)
    expected = line.price
    factor = Decimal(context.rng.choice(["10", "10", "10", "10", "0.1", "0.1", "100"]))
    line.price = ar.round_to(expected * factor, 6)
    return {"line": position, "item": line.item_id, "expected_price": f"{expected:f}",
            "actual_price": f"{line.price:f}", "factor": f"{factor:f}"}


def price_other_item(context: Context) -> dict | None:
    position, line = _line(context)
    expected = line.price
    others = []
    for item in context.catalogue.items:
        if item["id"] == line.item_id:
            continue
        price = context.catalogue.price(item["id"], context.client.price_list, context.day)
        ratio = price / expected
        if (ratio >= Decimal("1.6") or ratio <= Decimal("0.6")) and not _near_power_of_ten(ratio):
            others.append((item, price))
    if not others:
        return None
    item, price = context.rng.choice(others)
    line.price = price
    return {"line": position, "item": line.item_id, "other_item": item["id"],
            "expected_price": f"{expected:f}", "actual_price": f"{price:f}"}


def price_unusual(context: Context) -> dict | None:
    found = _line(context, lambda line: context.client.sold[line.item_id] >= 3)
    if found is None:
        return None
    position, line = found
    expected = line.price
    rng = context.rng
    factor = Decimal(str(round(rng.uniform(1.5, 2.5) if rng.random() < 0.6 else rng.uniform(0.4, 0.65), 2)))
    line.price = ar.round_to(expected * factor, 2)
    return {"line": position, "item": line.item_id, "expected_price": f"{expected:f}",
            "actual_price": f"{line.price:f}"}


def tax_catalogue(context: Context) -> dict | None:
    if context.client.exempt:
        return None
    position, line = _line(context)
    current = line.taxes[0]["percentage"] if line.taxes else "0.00"
    wrong = TAX_BY_KEY[context.rng.choice(WRONG_TAX.get(current, ["iva19"]))]
    expected = line.taxes[0]["id"] if line.taxes else None
    line.taxes = [dict(wrong)]
    return {"line": position, "item": line.item_id, "expected_tax": expected, "actual_tax": wrong["id"]}


def tax_client(context: Context) -> dict | None:
    client = context.client
    if not client.exempt or sum(client.sold.values()) < 4:
        return None
    found = _line(context, lambda line: context.catalogue.by_id[line.item_id]["tax"][0]["type"] == "IVA"
                  and context.catalogue.by_id[line.item_id]["tax"][0]["percentage"] != "0.00")
    if found is None:
        return None
    position, line = found
    expected = line.taxes[0]["id"]
    line.taxes = [dict(t) for t in context.catalogue.by_id[line.item_id]["tax"]]
    return {"line": position, "item": line.item_id, "expected_tax": expected, "actual_tax": line.taxes[0]["id"]}


def quantity_slip(context: Context) -> dict | None:
    if context.big_order:
        return None
    found = _line(context, lambda line: context.client.sold[line.item_id] >= 2)
    if found is None:
        return None
    position, line = found
    expected = line.quantity
    line.quantity = expected * (10 if context.rng.random() < 0.7 else 100)
    return {"line": position, "item": line.item_id, "expected_quantity": f"{expected:f}",
            "actual_quantity": f"{line.quantity:f}"}


def discount_unusual(context: Context) -> dict | None:
    habit, _value = context.client.discount
    if context.client.invoices < 4 or habit == "standing":
        return None
    choices = [10, 15, 20, 25, 30] if habit == "none" else [25, 30, 40]
    discount = Decimal(context.rng.choice(choices))
    targets = (range(len(context.lines)) if context.rng.random() < 0.7
               else [context.rng.randrange(len(context.lines))])
    for index in targets:
        context.lines[index].discount = discount
    return {"discount": f"{discount:f}", "lines": list(targets)}


def duplicate_lines(context: Context) -> dict | None:
    originals = [entry for entry in context.recent if context.day - 3 <= entry[0] <= context.day
                 and entry[2] and entry[3].doc["identification"] != "222222222222"]
    if not originals:
        return None
    _day, original, lines, client = context.rng.choice(originals)
    context.client = client
    context.lines = [Line(**vars(line)) for line in lines]
    date = dt.date.fromisoformat(context.doc["date"])
    days = (dt.date.fromisoformat(original["dueDate"]) - dt.date.fromisoformat(original["date"])).days
    # Issued twice: the whole order again, its reference and notes included.
    context.doc.update(client=contact_snapshot(client.doc), priceList=dict(original["priceList"]),
                       paymentForm=original["paymentForm"], paymentMethod=original["paymentMethod"],
                       observations=original["observations"],
                       anotation=original["anotation"], seller=original["seller"],
                       dueDate=(date + dt.timedelta(days=days)).isoformat())
    return {"duplicate_of": original["id"], "stamped": "stamp" in original}


def duplicate_number(context: Context) -> dict | None:
    if not context.recent:
        return None
    original = context.rng.choice(context.recent)[1]
    context.doc["numberTemplate"] = dict(original["numberTemplate"])
    return {"same_number_as": original["id"], "number": original["numberTemplate"]["fullNumber"]}


def due_before_date(context: Context) -> dict | None:
    date = dt.date.fromisoformat(context.doc["date"])
    context.doc["dueDate"] = (date - dt.timedelta(days=context.rng.randrange(1, 21))).isoformat()
    return {"due_date": context.doc["dueDate"]}


def due_terms(context: Context) -> dict | None:
    usual = context.client.term_days
    wrong = context.rng.choice([d for d in (0, 15, 30, 45, 60, 90) if abs(d - usual) >= 15])
    date = dt.date.fromisoformat(context.doc["date"])
    context.doc["dueDate"] = (date + dt.timedelta(days=wrong)).isoformat()
    return {"expected_days": usual, "actual_days": wrong}


def empty_invoice(context: Context) -> dict | None:
    if context.rng.random() < 0.5:
        context.lines = []
        return {"variant": "no_lines"}
    for line in context.lines:
        line.price = Decimal(0)
    return {"variant": "zero_total"}


PLANTERS = {
    "price_slip": price_slip, "price_other_item": price_other_item, "price_unusual": price_unusual,
    "tax_catalogue": tax_catalogue, "tax_client": tax_client, "quantity_slip": quantity_slip,
    "discount_unusual": discount_unusual, "duplicate_lines": duplicate_lines,
    "duplicate_number": duplicate_number, "due_before_date": due_before_date, "due_terms": due_terms,
    "empty_invoice": empty_invoice,
}
