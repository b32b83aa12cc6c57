"""The `reviewable` profile of the learning bench: standing arrangements the detectors cannot know
of, and flag at first, that an accountant dismisses with a reason.

The `year` seed's habits are ones the detectors already read from history (a client's negotiated
prices on items it buys often, a standing discount, an exemption, terms by habit), so on it they
sit at their target before any feedback and learning has nothing to lift. Real books also hold
arrangements too sparse for history to explain, each correct, each labelled here as a hard
negative:

- special_price: a price agreed with one client for an item it buys only twice a year, well below
  the list (about 60 %): with one purchase of its own nearby, the price is compared with the
  company's sales and the catalogue, and looks unusual;
- special_tax: an item one client is invoiced at 5 % IVA under its own arrangement, twice a year,
  while it pays 19 % on everything else;
- stock_up: a client that stocks up on an item it buys often once in each half of the year, about
  7.5 times its usual quantity, with the rest of the order as usual;
- promo_discount: a client without a discount habit that gets a 15 % promotion on one order in each
  half of the year.

The changes are made to the sandbox's invoices after seeding and before the mirror reads them
(totals, taxes and balances recomputed as the sandbox does), never on an invoice that holds a
planted mistake, a void one, or one already changed. Deterministic for a seed.
"""

from __future__ import annotations

import random
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

KINDS = ("special_price", "special_tax", "stock_up", "promo_discount")
PER_2000 = {"special_price": 14, "special_tax": 8, "stock_up": 8, "promo_discount": 6}
PRICE_SHARE = Decimal("0.60")
STOCK_UP = Decimal("7.5")
PROMO = Decimal(15)


def shape(account, seed: int, size: int) -> dict[str, int]:
    """Plant the arrangements in the account's invoices; returns how many invoices of each kind."""
    from django.db import transaction

    from alegra_sandbox.models import (
        SandboxHardNegative,
        SandboxInvoice,
        SandboxPlantedMistake,
    )

    rng = random.Random(seed * 7919 + 17)
    wanted = {kind: max(1, round(n * size / 2000)) for kind, n in PER_2000.items()}
    mistaken = set(SandboxPlantedMistake.objects.filter(account=account).values_list("invoice_id", flat=True))
    invoices = {row.pk: row for row in SandboxInvoice.objects.filter(account=account).order_by("number")
                if row.pk not in mistaken and row.document.get("status") in ("open", "closed")}
    lines = defaultdict(list)  # (client, item) → [(invoice pk, line position)] in date order
    per_client = defaultdict(list)
    for pk, row in sorted(invoices.items(), key=lambda pair: (pair[1].document["date"], pair[1].number)):
        client = str((row.document.get("client") or {}).get("id") or "")
        if not client or (row.document["client"].get("identification") or "") == "222222222222":
            continue
        per_client[client].append(pk)
        for position, item in enumerate(row.document.get("items") or []):
            lines[(client, str(item["id"]))].append((pk, position))
    touched: set[int] = set()
    labels: list[tuple[int, str, dict]] = []

    def free(pairs) -> bool:
        return all(pk not in touched for pk, _ in pairs)

    twice = [key for key, found in sorted(lines.items()) if len(found) == 2 and len({pk for pk, _ in found}) == 2]
    rng.shuffle(twice)
    for key in twice:
        if wanted["special_price"] <= 0:
            break
        found = lines[key]
        if not free(found):
            continue
        price = _item(invoices, found[0])["price"]
        agreed = (Decimal(str(price)) * PRICE_SHARE / 100).to_integral_value(ROUND_HALF_UP) * 100
        if agreed <= 0:
            continue
        for pk, position in found:
            _item(invoices, (pk, position))["price"] = str(agreed)
            labels.append((pk, "special_price", {"line": position, "price": str(agreed)}))
            touched.add(pk)
        wanted["special_price"] -= 1
    for key in twice:
        if wanted["special_tax"] <= 0:
            break
        found = lines[key]
        if not free(found) or any(_rate(_item(invoices, at)) != Decimal(19) for at in found):
            continue
        for pk, position in found:
            _item(invoices, (pk, position))["tax"] = [dict(_iva5())]
            labels.append((pk, "special_tax", {"line": position, "tax": "5"}))
            touched.add(pk)
        wanted["special_tax"] -= 1
    dates = sorted(row.document["date"] for row in invoices.values())
    middle = dates[0] if not dates else _middle(dates[0], dates[-1])

    def halves(pks: list[int], margin: int) -> list[int] | None:
        """One of the pks in each half of the year, away from the ends of its half's run."""
        first = [pk for pk in pks if invoices[pk].document["date"] < middle][margin:-margin or None]
        second = [pk for pk in pks if invoices[pk].document["date"] >= middle][margin:-margin or None]
        return [rng.choice(first), rng.choice(second)] if first and second else None

    often = [key for key, found in sorted(lines.items()) if len(found) >= 8]
    rng.shuffle(often)
    clients_used = set()
    for key in often:
        if wanted["stock_up"] <= 0:
            break
        found = lines[key]
        positions = dict(found)
        picked = halves([pk for pk, _ in found], 1) if key[0] not in clients_used else None
        if picked is None:
            continue
        chosen = [(pk, positions[pk]) for pk in picked]
        if not free(chosen) or any(len(invoices[pk].document["items"]) < 2 for pk, _ in chosen):
            continue
        quantities = sorted(Decimal(str(_item(invoices, at)["quantity"])) for at in found)
        usual = quantities[len(quantities) // 2]
        stocked = (usual * STOCK_UP).to_integral_value(ROUND_HALF_UP)
        for pk, position in chosen:
            _item(invoices, (pk, position))["quantity"] = str(stocked)
            labels.append((pk, "stock_up", {"line": position, "quantity": str(stocked)}))
            touched.add(pk)
        clients_used.add(key[0])
        wanted["stock_up"] -= 1
    steady = [client for client, pks in sorted(per_client.items())
              if len(pks) >= 14 and all(Decimal(str(i.get("discount") or 0)) == 0
                                        for pk in pks for i in invoices[pk].document["items"])]
    rng.shuffle(steady)
    for client in steady:
        if wanted["promo_discount"] <= 0:
            break
        chosen = halves(per_client[client], 2)
        if chosen is None or any(pk in touched for pk in chosen):
            continue
        for pk in chosen:
            for item in invoices[pk].document["items"]:
                item["discount"] = str(PROMO)
            labels.append((pk, "promo_discount", {"discount": str(PROMO)}))
            touched.add(pk)
        wanted["promo_discount"] -= 1
    with transaction.atomic():
        _save(invoices, touched)
        SandboxHardNegative.objects.bulk_create([SandboxHardNegative(account=account, invoice_id=pk, kind=kind,
                                                                     detail=detail) for pk, kind, detail in labels])
    counts = defaultdict(int)
    for pk, kind, _detail in labels:
        counts[kind] += 1
    return {kind: counts[kind] for kind in KINDS}


def _middle(first: str, last: str) -> str:
    import datetime

    start, end = datetime.date.fromisoformat(first[:10]), datetime.date.fromisoformat(last[:10])
    return (start + (end - start) / 2).isoformat()


def _item(invoices, at) -> dict:
    pk, position = at
    return invoices[pk].document["items"][position]


def _rate(item: dict) -> Decimal:
    return sum((Decimal(str(t.get("percentage") or 0)) for t in item.get("tax") or []), Decimal(0))


def _iva5() -> dict:
    from alegra_sandbox.services.common import TAX_BY_KEY

    return TAX_BY_KEY["iva5"]


def _save(invoices, touched: set[int]) -> None:
    """Totals, retentions and balance recomputed as the sandbox does; what was paid never exceeds
    the new total (a payment larger than the invoice would be a mistake of its own)."""
    from alegra_sandbox import arithmetic as ar
    from alegra_sandbox.documents import invoice_columns, recompute

    for pk in sorted(touched):
        row = invoices[pk]
        doc = row.document
        recompute(doc)
        total, excess = ar.to_decimal(doc["total"]), ar.to_decimal(doc["totalPaid"]) - ar.to_decimal(doc["total"])
        for payment in reversed(doc.get("payments") or []):
            if excess <= 0:
                break
            amount = ar.to_decimal(payment["amount"])
            cut = min(amount, excess)
            payment["amount"] = str(amount - cut)
            excess -= cut
        if doc.get("payments"):
            recompute(doc)
        assert ar.to_decimal(doc["totalPaid"]) <= total
        for name, value in invoice_columns(doc).items():
            setattr(row, name, value)
        row.save()
