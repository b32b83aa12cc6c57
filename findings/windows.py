"""What each fact's neighbourhood says: the nearest sales of the same item to the same client,
the client's nearest invoices, twins by lines and by number. Pure functions over groups already
sorted by rank, used alike by the full and the incremental scan.

A line is compared with at most K sales before it and K after it. Comparing with both sides
keeps a lasting change of price (a new list price, a renegotiation) from looking like a
mistake: on either side of the change the line agrees with half of its neighbours.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from . import stats
from .facts import InvoiceRow, LineRow

LINE_NEIGHBOURS = 4
INVOICE_NEIGHBOURS = 6
PRICE_FLOOR = Decimal("0.25")  # list changes and renegotiations move prices less than this
TWIN_DAYS = 3
HABIT_SHARE = Decimal("0.8")
HABIT_MINIMUM = 3


def _around(group: Sequence, index: int, k: int) -> list:
    return list(group[max(0, index - k):index]) + list(group[index + 1:index + 1 + k])


def line_windows(group: Sequence[LineRow], only: Iterable[int] | None = None) -> None:
    """Set the derived fields of the lines of one (client, item) group sorted by rank (of those
    at the positions `only`, when the group is a slice around a change)."""
    for index in range(len(group)) if only is None else only:
        line = group[index]
        near = group[max(0, index - LINE_NEIGHBOURS):index] + group[index + 1:index + 1 + LINE_NEIGHBOURS]
        line.near_n = len(near)
        if not near:
            line.price_agree, line.price_ref, line.price_tolerance = 0, None, None
            line.quantity_ref = line.tax_usual = line.near_from = line.near_to = None
            continue
        prices = sorted(n.price for n in near)
        tolerance = stats.stored(stats.tolerance(prices, PRICE_FLOOR), 4)
        # |price / p − 1| ≤ tolerance, without a division per neighbour.
        line.price_agree = sum(1 for p in prices if (abs(line.price - p) <= tolerance * p if p > 0
                                                       else line.price == p))
        line.price_tolerance = tolerance
        line.price_ref = prices[(len(prices) - 1) // 2]
        quantities = sorted(n.quantity for n in near)
        line.quantity_ref = quantities[(len(quantities) - 1) // 2]
        first_tax = near[0].tax
        line.tax_usual = first_tax if len(near) >= 2 and all(n.tax == first_tax for n in near) else None
        line.near_from, line.near_to = near[0].date, near[-1].date


def _term(invoice: InvoiceRow) -> int | None:
    return (invoice.due_date - invoice.date).days if invoice.due_date else None


def invoice_windows(group: Sequence[InvoiceRow], only: Iterable[int] | None = None) -> None:
    """Set the neighbourhood fields of the invoices of one client sorted by rank (of those at the
    positions `only`, when the group is a slice around a change)."""
    for index in range(len(group)) if only is None else only:
        invoice = group[index]
        near = _around(group, index, INVOICE_NEIGHBOURS)
        invoice.near_n = len(near)
        invoice.near_discount_max = max((n.discount for n in near), default=None)
        terms = Counter(t for t in map(_term, near) if t is not None)
        invoice.term_habit = None
        if terms:
            term, count = terms.most_common(1)[0]
            if count >= HABIT_MINIMUM and count >= Decimal("0.6") * sum(terms.values()):
                invoice.term_habit = term


def twins(group: Sequence[InvoiceRow]) -> None:
    """Within one (client, signature) group sorted by rank: the earlier twin a few days before,
    and how many invoices the group holds (a client who orders exactly this often repeats it)."""
    previous = None
    for invoice in group:
        invoice.twin_of, invoice.twin_group = None, len(group) if invoice.signature else 0
        if previous is not None and invoice.signature and (invoice.date - previous.date).days <= TWIN_DAYS:
            invoice.twin_of = previous.invoice_id
        previous = invoice


def same_numbers(group: Sequence[InvoiceRow]) -> None:
    """Within one number's group sorted by rank: every later invoice points at the first."""
    first = group[0] if group else None
    for invoice in group:
        invoice.number_of = first.invoice_id if invoice is not first and invoice.number else None


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_window(day: dt.date) -> list[dt.date]:
    """The months whose sales give a line's company reference: its own and one either side."""
    this = month_start(day)
    before = month_start(this - dt.timedelta(days=1))
    after = month_start(this + dt.timedelta(days=32))
    return [before, this, after]


def tax_key(catalogue: Decimal, charged: Decimal) -> str:
    return f"{stats.number_text(catalogue)}>{stats.number_text(charged)}"


def exempt_everywhere(counts: Mapping[str, int]) -> bool:
    """Charged nothing for at least 80 % (and three) of the taxed items it bought: an exempt client."""
    taxed = {key: n for key, n in counts.items() if n > 0 and Decimal(key.split(">")[0]) > 0}
    exempt = sum(n for key, n in taxed.items() if Decimal(key.split(">")[1]) == 0)
    return exempt >= HABIT_MINIMUM and exempt >= HABIT_SHARE * sum(taxed.values())


def tax_habit(counts: Mapping[str, int], catalogue: Decimal | None, charged: Decimal | None = None) -> Decimal | None:
    """The tax a client is charged for items of this catalogue tax, when it is a habit. With too
    few of them, an exempt client's 0 % still counts as its habit — to keep a 0 % line quiet,
    never to flag one (an exemption need not cover every tax)."""
    if catalogue is None:
        return None
    prefix = f"{stats.number_text(catalogue)}>"
    mine = {key[len(prefix):]: n for key, n in counts.items() if key.startswith(prefix) and n > 0}
    total = sum(mine.values())
    if total >= HABIT_MINIMUM:
        charged, count = max(mine.items(), key=lambda pair: (pair[1], pair[0]))
        return Decimal(charged) if count >= HABIT_SHARE * total else None
    if catalogue > 0 and charged == 0 and exempt_everywhere(counts):
        return Decimal(0)
    return None


def reached(ranks: Sequence[str], inserted: Iterable[str], removed: Iterable[str], k: int) -> list[int]:
    """Positions in a rank-sorted slice whose window of k neighbours either side an insertion or
    a removal changed. The slice must hold 2k neighbours either side of every change."""
    found = set()
    for rank in inserted:
        index = bisect.bisect_left(ranks, rank)
        found.update(range(max(0, index - k), min(len(ranks), index + k + 1)))
    for rank in removed:
        gap = bisect.bisect_left(ranks, rank)
        found.update(range(max(0, gap - k), min(len(ranks), gap + k)))
    return sorted(found)
