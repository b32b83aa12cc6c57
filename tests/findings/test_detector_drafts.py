"""Each detector's whole draft, to the figure: its evidence, confidence, fix, money at stake and
the line it points at, and the thresholds at their edges.

Facts are built by hand with the neighbourhood figures set directly (no windows, no database),
so each threshold can be put exactly on its edge.
"""

import datetime as dt
from decimal import Decimal as D

from findings.detectors import detect
from findings.detectors import invoices as whole
from findings.detectors.lines import quantity, tax
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


# --- taxes ----------------------------------------------------------------------------------


def taxed(**changes) -> LineRow:
    """Line 2 at 1,000 × 10 less 10 %, the catalogue's item at 19 %."""
    return line(**{"price": D(1000), "catalogue_tax": D(19), **changes})


def test_a_tax_off_the_catalogue_draft_in_full():
    draft = tax(invoice(), taxed(tax=D(5)))
    assert (draft.kind, draft.cause, draft.severity, draft.confidence) == ("tax", "catalogue", "high", D("0.95"))
    assert draft.evidence == {"tax": "5", "expected": "19", "catalogue": "19", "usual": None, "habit": None,
                              "item_name": "Cemento", "n": 8}
    assert draft.suggestion == {"type": "update", "changes": [{"line": 2, "field": "tax", "from": "5", "to": "19"}]}
    assert draft.impact == D("1260.00")  # 9,000 × (1.19 − 1.05)
    assert (draft.line, draft.item) == (2, "7")


def test_the_clients_usual_tax_wins_over_the_catalogue():
    draft = tax(invoice(), taxed(tax=D(5), tax_usual=D(0)))
    assert (draft.cause, draft.confidence) == ("client", D("0.95"))
    assert draft.evidence["expected"] == "0" and draft.evidence["usual"] == "0"


def test_a_tax_judged_by_the_clients_habit_alone_is_less_sure():
    draft = tax(invoice(), taxed(tax=D(19), habit_tax=D(0)))
    assert (draft.cause, draft.confidence) == ("client", D("0.8"))
    assert draft.evidence["habit"] == "0" and draft.evidence["expected"] == "0"
    assert tax(invoice(), taxed(tax=D(5), catalogue_tax=None)) is None  # nothing to compare with


def test_a_stamped_line_undercharged_tax_gets_advice_and_overcharged_by_cents_a_credit():
    stamped = invoice(is_stamped=True, editable=False)
    assert tax(stamped, taxed(tax=D(5))).suggestion == {"type": "advice", "code": "undercharged"}
    cents = tax(stamped, taxed(tax=D(19), catalogue_tax=D(5), price=D(1), quantity=D(1), discount=D(0)))
    assert cents.suggestion == {"type": "credit_note", "note_type": "PRICE_ADJUSTMENT", "reissue": True,
                                "lines": [{"line": 2, "quantity": "1", "price": "1"}]}  # 0.14 at stake
    free = tax(stamped, taxed(tax=D(19), catalogue_tax=D(5), price=D(0)))
    assert free.suggestion == {"type": "advice", "code": "undercharged"}  # nothing to credit, nothing to reissue


# --- quantities -----------------------------------------------------------------------------


def ordered(amount, usual=10, **changes) -> LineRow:
    return line(**{"price": D(1000), "quantity": D(amount), "quantity_ref": D(usual), **changes})


def test_a_quantity_slip_draft_in_full():
    slip = ordered(100)
    draft = quantity(invoice(), slip, [slip])
    assert (draft.kind, draft.cause, draft.severity, draft.confidence) == ("quantity", "slip", "high", D("0.9"))
    assert draft.evidence == {"quantity": "100", "usual": "10", "ratio": "10", "n": 8, "item_name": "Cemento",
                              "since": "2025-05-05", "until": "2025-06-30", "fix": "10", "others": None}
    assert draft.suggestion == {"type": "update", "changes": [
        {"line": 2, "field": "quantity", "from": "100", "to": "10"}]}
    assert draft.impact == D("96390.00")  # 1,000 × 90 × 0.90 × 1.19
    assert (draft.line, draft.item) == (2, "7")
    stamped = quantity(invoice(is_stamped=True, editable=False), slip, [slip])
    assert stamped.suggestion["lines"] == [{"line": 2, "quantity": "90", "price": "900"}]


def test_an_unusual_quantity_is_set_back_to_the_usual_one():
    big = ordered(200)  # twenty times: no typing slip
    draft = quantity(invoice(), big, [big])
    assert (draft.cause, draft.severity, draft.confidence, draft.evidence["fix"]) == ("unusual", "medium",
                                                                                       D("0.6"), "10")
    seven = ordered(70)  # 7 is 10 within 35 %: a slip of a zero
    assert quantity(invoice(), seven, [seven]).evidence["fix"] == "7"


def test_a_quantity_is_judged_against_the_invoices_other_lines():
    slip, other, empty = ordered(100), ordered(25, position=3), ordered(0, position=4)
    draft = quantity(invoice(), slip, [slip, other, empty])  # 4 times the others' 2.5: still alone
    assert draft.evidence["others"] == "2.5"


def test_the_quantity_thresholds_at_their_edges():
    edge = ordered(65)  # 6.5 times the usual
    assert quantity(invoice(), edge, [edge]) is not None
    three = ordered(100, near_n=3)  # three purchases are a usual quantity
    assert quantity(invoice(), three, [three]) is not None
    assert quantity(invoice(), ordered(100, near_n=2), []) is None
    small = ordered(1, usual=D("0.1"))
    assert quantity(invoice(), small, [small]).evidence["fix"] == "0.1"


def test_two_extra_zeros_on_a_quantity_are_one_slip():
    slip = ordered(1000)
    assert quantity(invoice(), slip, [slip]).evidence["fix"] == "10"


# --- discounts ------------------------------------------------------------------------------


def test_a_discount_above_the_clients_usual_draft_in_full():
    above, within = line(price=D(1000), discount=D(25)), line(price=D(1000), discount=D(10), position=3)
    this = invoice(discount=D(25), near_n=4, near_discount_max=D(5))  # four invoices are a history
    draft = whole.discount(this, [above, within])  # 10 % is 5 over the usual 5 %: not above it
    assert (draft.kind, draft.cause, draft.severity, draft.confidence) == ("discount", "above_usual", "medium",
                                                                           D("0.8"))
    assert draft.evidence == {"discount": "25", "usual": "5", "n": 4, "lines": [2]}
    assert draft.suggestion == {"type": "update", "changes": [
        {"line": 2, "field": "discount", "from": "25", "to": "5"}]}
    assert draft.impact == D("2380.00")  # 10,000 × (0.95 − 0.75) × 1.19
    stamped = whole.discount(invoice(discount=D(25), near_discount_max=D(5), editable=False), [above])
    assert stamped.suggestion == {"type": "advice", "code": "undercharged"}


def test_a_discount_on_the_whole_invoice_alone_puts_nothing_at_stake():
    assert whole.discount(invoice(discount=D(25)), []).impact == D(0)


def test_the_discount_thresholds_at_their_edges():
    assert whole.discount(invoice(discount=D(25), near_discount_max=None), []) is None  # no habit known
    assert whole.discount(invoice(discount=D(10), near_discount_max=D(5)), []) is None  # exactly the margin


# --- twins and numbers ----------------------------------------------------------------------


EARLIER = invoice(invoice_id=9, number="FE9", date=DAY - dt.timedelta(days=1), reference="oc-1")


def test_a_twin_draft_in_full():
    draft = whole.twin(invoice(twin_of=9, twin_group=2), [], EARLIER)
    assert (draft.kind, draft.cause, draft.severity, draft.confidence) == ("duplicate_lines", "same_lines", "high",
                                                                           D("0.85"))
    assert draft.evidence == {"other": 9, "other_number": "FE9", "other_date": "2025-06-01", "days": 1,
                              "total": "119000", "lines": 1}
    assert draft.suggestion == {"type": "advice", "code": "void_duplicate"}
    assert draft.impact == D("119000.00")
    same_day = whole.twin(invoice(twin_of=9, twin_group=2), [], invoice(invoice_id=9))
    assert same_day.confidence == D("0.95")


def test_a_twin_of_a_closed_invoice_that_is_not_stamped_is_credited_as_other():
    draft = whole.twin(invoice(twin_of=9, twin_group=2, editable=False), [line()], EARLIER)
    assert draft.suggestion == {"type": "credit_note", "note_type": "OTHER",
                                "lines": [{"line": 2, "quantity": "10", "price": "116100"}]}


def test_what_is_not_a_twin():
    assert whole.twin(invoice(), [], EARLIER) is None  # it points at no earlier invoice
    assert whole.twin(invoice(twin_of=9, twin_group=4), [], EARLIER) is None  # the fourth of a standing order
    assert whole.twin(invoice(twin_of=9, twin_group=5, reference="oc-2"), [], EARLIER) is None  # another order


def test_a_number_used_twice_draft_in_full():
    draft = whole.same_number(invoice(number_of=9), EARLIER)
    assert (draft.kind, draft.cause, draft.severity, draft.confidence) == ("duplicate_number", "same_number",
                                                                           "high", D("0.95"))
    assert draft.evidence == {"number": "FE1", "other": 9, "other_date": "2025-06-01"}
    assert draft.suggestion == {"type": "advice", "code": "renumber"}
    assert whole.same_number(invoice(), EARLIER) is None


# --- dates and terms ------------------------------------------------------------------------


def test_a_due_date_before_the_invoice_draft_in_full():
    draft = whole.dates(invoice(due_date=DAY - dt.timedelta(days=3)))
    assert (draft.kind, draft.cause, draft.severity, draft.confidence) == ("due_before_date", "before", "medium",
                                                                           D("0.99"))
    assert draft.evidence == {"date": "2025-06-02", "due": "2025-05-30", "days": 3, "fix_days": 30}
    assert draft.suggestion == {"type": "update", "changes": [
        {"line": None, "field": "dueDate", "from": "2025-05-30", "to": "2025-07-02"}]}
    stamped = whole.dates(invoice(due_date=DAY - dt.timedelta(days=3), editable=False, is_stamped=True))
    assert stamped.suggestion == {"type": "advice", "code": "due_date_stamped"}


def test_a_due_date_before_the_invoice_without_terms_is_moved_to_the_invoice_date():
    draft = whole.dates(invoice(due_date=DAY - dt.timedelta(days=3), term_habit=None, contact_term=None))
    assert draft.evidence["fix_days"] == 0 and draft.suggestion["changes"][0]["to"] == "2025-06-02"


def test_a_due_date_off_terms_draft_in_full():
    draft = whole.dates(invoice(due_date=DAY + dt.timedelta(days=90)))
    assert (draft.kind, draft.cause, draft.severity, draft.confidence) == ("due_terms", "habit", "low", D("0.75"))
    assert draft.evidence == {"days": 90, "expected": 30, "contact": 30, "habit": 30, "due": "2025-08-31"}
    assert draft.suggestion == {"type": "update", "changes": [
        {"line": None, "field": "dueDate", "from": "2025-08-31", "to": "2025-07-02"}]}
    by_contact = whole.dates(invoice(due_date=DAY + dt.timedelta(days=90), term_habit=None))
    assert by_contact.cause == "contact" and by_contact.evidence["expected"] == 30
    both = whole.dates(invoice(due_date=DAY + dt.timedelta(days=90), contact_term=15))  # the habit comes first
    assert both.confidence == D("0.85") and both.evidence["expected"] == 30


def test_the_date_thresholds_at_their_edges():
    assert whole.dates(invoice(due_date=DAY)).kind == "due_terms"  # cash on a thirty-day client: not before
    assert whole.dates(invoice(due_date=DAY + dt.timedelta(days=32))) is None  # two days of slack


# --- empty invoices and identifications -----------------------------------------------------


def test_an_empty_invoice_draft_in_full():
    draft = whole.empty(invoice(line_count=0, total=D(0)))
    assert (draft.kind, draft.cause, draft.severity, draft.confidence) == ("empty", "no_lines", "medium", D("0.99"))
    assert draft.evidence == {"lines": 0, "total": "0"}
    assert draft.suggestion == {"type": "advice", "code": "void_or_complete"}


def test_a_missing_identification_draft_in_full():
    draft = whole.identification(invoice(identification=""))
    assert (draft.kind, draft.cause, draft.severity, draft.confidence) == ("missing_identification", "blank",
                                                                           "medium", D("0.95"))
    assert draft.evidence == {"identification": "", "client": "1"}
    assert draft.suggestion == {"type": "contact", "field": "identification", "from": ""}
