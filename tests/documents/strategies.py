"""Random Alegra invoice documents, with values written the many ways Alegra writes them."""

import copy
from decimal import Decimal

from hypothesis import strategies as st

TAXES = {
    "1": {"id": "1", "name": "IVA 0%", "percentage": "0.00", "type": "IVA"},
    "2": {"id": "2", "name": "IVA 5%", "percentage": "5.00", "type": "IVA"},
    "3": {"id": "3", "name": "IVA", "percentage": "16.00", "type": "IVA"},
    "4": {"id": "4", "name": "IVA 19%", "percentage": "19.00", "type": "IVA"},
}


def decimals(max_value: int, places: int, min_value: int = 0) -> st.SearchStrategy[Decimal]:
    scale = 10**places
    return st.integers(min_value * scale, max_value * scale).map(
        lambda n: Decimal(n).scaleb(-places)
    )


prices = st.one_of(decimals(100_000, 6), decimals(1_000_000, 0), decimals(5_000, 2))
quantities = st.one_of(decimals(50, 0, 1), decimals(200, 2).filter(lambda q: q > 0))
discounts = st.one_of(st.just(Decimal(0)), decimals(100, 2), decimals(100, 0))
tax_sets = st.lists(st.sampled_from(sorted(TAXES)), max_size=2, unique=True)


def spelled(value: Decimal) -> st.SearchStrategy:
    """The same number as Alegra may send it: text with padding, an int, a Decimal."""
    options = [st.just(format(value, "f")), st.just(value)]
    if value == value.to_integral_value():
        options += [st.just(int(value)), st.just(f"{int(value)}.00")]
    return st.one_of(options)


@st.composite
def lines(draw, item_ids=st.integers(1, 6)) -> dict:
    return {
        "id": draw(item_ids),
        "name": "item",
        "description": draw(st.sampled_from(["", "item de venta", None])),
        "reference": draw(st.sampled_from(["", "ref1", None])),
        "price": draw(prices),
        "quantity": draw(quantities),
        "discount": draw(discounts),
        "tax": [dict(TAXES[t]) for t in draw(tax_sets)],
    }


@st.composite
def invoices(draw, precision=st.sampled_from([0, 2]), max_lines: int = 5) -> dict:
    return {
        "id": "7",
        "date": "2024-03-10",
        "dueDate": "2024-04-09",
        "status": "open",
        "decimalPrecision": str(draw(precision)),
        "client": {"id": "1", "name": "cliente"},
        "observations": "",
        "anotation": None,
        "termsConditions": "Contado",
        "paymentForm": "CASH",
        "paymentMethod": "CASH",
        "seller": None,
        "priceList": {"id": "1", "name": "General"},
        "totalPaid": "0",
        "items": draw(st.lists(lines(), min_size=1, max_size=max_lines)),
    }


@st.composite
def respelled(draw, doc: dict) -> dict:
    """`doc` with every number written another way (strings, ints, Decimals)."""
    def number(value):
        return draw(spelled(value)) if isinstance(value, Decimal) else value

    items = []
    for line in doc["items"]:
        new = {k: number(v) for k, v in line.items()}
        new["id"] = draw(st.sampled_from([str(line["id"]), int(line["id"])]))
        new["tax"] = [{**tax, "id": draw(st.sampled_from([tax["id"], int(tax["id"])]))}
                      for tax in line["tax"]]
        if new["discount"] in (0, Decimal(0), "0"):
            new["discount"] = draw(st.sampled_from(["", "0.00", 0]))
        items.append(new)
    precision = int(doc["decimalPrecision"])
    return {**doc, "items": items,
            "decimalPrecision": draw(st.sampled_from([precision, str(precision)]))}


@st.composite
def edits(draw, base: dict) -> dict:
    """A proposed document: some header fields and lines edited, lines added and removed."""
    proposed = copy.deepcopy(base)
    header = {
        "observations": st.text(max_size=20), "anotation": st.one_of(st.none(), st.text(max_size=10)),
        "dueDate": st.sampled_from(["2024-03-10", "2024-05-01"]),
        "seller": st.sampled_from([None, {"id": "2", "name": "Ana"}, "3"]),
        "client": st.sampled_from([{"id": "1", "name": "cliente"}, {"id": 4, "name": "Otro"}]),
        "paymentForm": st.sampled_from(["CASH", "CREDIT"]),
    }
    for name in draw(st.lists(st.sampled_from(sorted(header)), unique=True)):
        proposed[name] = draw(header[name])
    items = proposed["items"]
    for _ in range(draw(st.integers(0, 4))):
        action = draw(st.sampled_from(["edit", "insert", "delete"]))
        if action == "insert" or not items:
            items.insert(draw(st.integers(0, len(items))), draw(lines()))
        elif action == "delete":
            del items[draw(st.integers(0, len(items) - 1))]
        else:
            line = items[draw(st.integers(0, len(items) - 1))]
            replacement = draw(lines())
            for name in draw(st.lists(st.sampled_from(
                    ["price", "quantity", "discount", "tax", "description", "reference"]),
                    min_size=1, unique=True)):
                line[name] = replacement[name]
    return proposed
