"""Each detector's whole draft, to the figure: its evidence, confidence, fix, money at stake and
the line it points at, and the thresholds at their edges.

Facts are built by hand with the neighbourhood figures set directly (no windows, no database),
so each threshold can be put exactly on its edge.
"""

import datetime as dt
from decimal import Decimal as D

from findings.detectors import detect
from findings.detectors.prices import price
from findings.facts import CatalogueItem, InvoiceRow, LineRow

DAY = dt.date(2025, 6, 2)
SINCE, UNTIL = DAY - dt.timedelta(days=28), DAY + dt.timedelta(days=28)


def invoice(**changes) -> InvoiceRow:
    values = {"invoice_id": 1, "client": "1", "rank": "2025-06-02|1", "date": DAY,
              "due_date": DAY + dt.timedelta(days=30), "number": "FE1", "total": D(119000), "precision": 2,
              "is_stamped": False, "editable": True, "identification": "900123456", "contact_term": 30,
              "signature": "s", "line_count": 1, "discount": D(0), "near_n": 8, "near_discount_max": D(0),
              "term_habit": 30, "client_name": "Constructora"}
    values.update(changes)
    return InvoiceRow(**values)


def line(**changes) -> LineRow:
    """Line 2 of the invoice, item 7; by default with eight neighbours none of which agree."""
    values = {"invoice_id": 1, "position": 2, "client": "1", "item": "7", "price_list": "1",
              "rank": "2025-06-02|00001|00002", "date": DAY, "price": D(129000), "quantity": D(10),
              "discount": D(10), "tax": D(19), "near_n": 8, "price_agree": 0, "price_ref": D(12900),
              "near_from": SINCE, "near_to": UNTIL, "name": "Cemento"}
    values.update(changes)
    return LineRow(**values)


# --- prices ---------------------------------------------------------------------------------


def test_a_price_slip_draft_in_full():
    draft = price(invoice(), line(), {})
    assert (draft.kind, draft.cause, draft.severity, draft.confidence) == ("price", "slip", "high", D("0.95"))
    assert draft.evidence == {"price": "129000", "reference": "12900", "basis": "client", "ratio": "10",
                              "item_name": "Cemento", "n": 8, "agree": 0, "since": "2025-05-05",
                              "until": "2025-06-30", "factor": "10", "fix": "12900"}
    assert draft.suggestion == {"type": "update", "changes": [
        {"line": 2, "field": "price", "from": "129000", "to": "12900"}]}
    assert draft.impact == D("1243431.00")  # (129000 − 12900) × 10 × 0.90 × 1.19
    assert (draft.line, draft.item) == (2, "7")


def test_a_slip_a_little_off_ten_times_is_still_a_slip():
    draft = price(invoice(), line(price=D(136740)), {})  # 10.6 times: within 12 %
    assert (draft.cause, draft.evidence["factor"], draft.evidence["fix"]) == ("slip", "10", "13674")
    assert price(invoice(), line(price=D(1290)), {}).evidence["factor"] == "0.1"


def test_a_price_of_another_item_draft_in_full():
    catalogue = {"7": CatalogueItem({"1": D(12900)}, D(19), (), "Cemento"),
                 "8": CatalogueItem({"1": D(27500)}, D(19), (), "Varilla")}
    draft = price(invoice(), line(price=D(27500)), catalogue)
    assert (draft.cause, draft.severity, draft.confidence) == ("other_item", "high", D("0.85"))
    assert draft.evidence["other_item"] == "8" and draft.evidence["other_name"] == "Varilla"
    assert draft.evidence["fix"] == "12900"


def test_another_items_price_is_read_from_the_lines_price_list_then_the_general_one():
    wholesale = line(price=D(27500), price_list="2")
    on_the_list = {"8": CatalogueItem({"2": D(27500), "1": D(30000)}, D(19), (), "Varilla")}
    assert price(invoice(), wholesale, on_the_list).evidence["other_item"] == "8"
    general_only = {"8": CatalogueItem({"1": D(27500)}, D(19), (), "Varilla")}
    assert price(invoice(), wholesale, general_only).evidence["other_item"] == "8"
    unpriced = {"8": CatalogueItem({"3": D(27500)}, D(19), (), "Varilla")}
    assert price(invoice(), wholesale, unpriced).cause == "unusual"


def test_an_unusual_price_is_as_sure_as_the_clients_history_is_long():
    assert price(invoice(), line(price=D(21900), near_n=8), {}).confidence == D("0.85")  # six count
    assert price(invoice(), line(price=D(21900), near_n=3), {}).confidence == D("0.70")
    sparse = line(price=D(21900), near_n=1, price_ref=None, company_ref=D(12900))
    draft = price(invoice(), sparse, {})
    assert (draft.cause, draft.severity, draft.confidence) == ("unusual", "medium", D("0.55"))
    assert draft.evidence == {"price": "21900", "reference": "12900", "basis": "company", "ratio": "1.7",
                              "item_name": "Cemento", "fix": "12900"}


def test_with_too_little_history_the_catalogue_judges_when_the_company_has_no_sales():
    draft = price(invoice(), line(price=D(21900), near_n=0, price_ref=None, catalogue_price=D(12900)), {})
    assert draft.evidence["basis"] == "catalogue" and draft.evidence["reference"] == "12900"


def test_the_price_thresholds_at_their_edges():
    assert price(invoice(), line(price=D(0)), {}) is None  # a gift is not a slip
    assert price(invoice(), line(price=D(1), price_ref=D(100)), {}).cause == "slip"  # 0.01 of the usual
    two = line(price=D(21900), near_n=2)  # two neighbours are enough to judge by the client
    assert price(invoice(), two, {}).evidence["basis"] == "client"
    assert price(invoice(), line(price=D(21900), near_n=5, price_agree=2), {}) is not None  # 2 of 5 agree
    assert price(invoice(), line(price=D(21900), near_n=4, price_agree=2), {}) is None  # half agree


def test_a_stamped_invoice_credits_the_overcharge_at_its_net_price():
    draft = price(invoice(is_stamped=True, editable=False), line(), {})
    assert draft.suggestion == {"type": "credit_note", "note_type": "PRICE_ADJUSTMENT",
                                "lines": [{"line": 2, "quantity": "10", "price": "104490"}]}  # 116100 × 0.90


# --- detect ---------------------------------------------------------------------------------


def test_detect_hands_the_price_check_the_catalogue_and_the_twin_check_the_lines():
    catalogue = {"8": CatalogueItem({"1": D(27500)}, D(19), (), "Varilla")}
    stamped = invoice(invoice_id=10, twin_of=9, twin_group=2, is_stamped=True, editable=False)
    found = {d.kind: d for d in detect(stamped, [line(price=D(27500))], catalogue, {9: invoice(invoice_id=9)})}
    assert found["price"].evidence["other_item"] == "8"
    assert found["duplicate_lines"].suggestion["lines"] == [{"line": 2, "quantity": "10", "price": "24750"}]
