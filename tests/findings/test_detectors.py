"""The detectors as pure functions: each mistake is found, and each hard negative stays quiet.

Facts are built by hand (no database): a line with its neighbourhood, an invoice with its own.
Every "quiet" test is a counter-example a fixed-threshold rule set would flag.
"""

import datetime as dt
from decimal import Decimal as D

from findings import stats, windows
from findings.detectors import detect
from findings.detectors import invoices as whole
from findings.detectors.lines import quantity, tax
from findings.detectors.prices import price
from findings.facts import CatalogueItem, InvoiceRow, LineRow, is_missing_identification, signature
from findings.guard import GuardInvoice, guard_scan, rules_for

DAY = dt.date(2025, 6, 2)


def invoice(**changes) -> InvoiceRow:
    values = dict(invoice_id=1, client="1", rank="2025-06-02|1", date=DAY, due_date=DAY + dt.timedelta(days=30),
                  number="FE1", total=D("119000"), precision=2, is_stamped=False, editable=True,
                  identification="900123456", contact_term=30, signature="s", line_count=1, discount=D(0),
                  near_n=8, near_discount_max=D(0), term_habit=30, client_name="Constructora")
    values.update(changes)
    return InvoiceRow(**values)


def history(values, **changes) -> list[LineRow]:
    """A (client, item) group of lines a week apart with these prices, windows computed."""
    group = []
    for n, value in enumerate(values):
        day = DAY + dt.timedelta(days=7 * n)
        fields = dict(invoice_id=n + 1, position=0, client="1", item="7", price_list="1",
                      rank=f"{day.isoformat()}|{n:05d}|00000", date=day, price=D(value), quantity=D(10),
                      discount=D(0), tax=D(19), catalogue_price=D("12900"), catalogue_tax=D(19), name="Cemento")
        fields.update(changes)
        group.append(LineRow(**fields))
    windows.line_windows(group)
    return group


# --- prices ---------------------------------------------------------------------------------


def test_an_extra_zero_is_a_slip_and_the_fix_removes_it():
    group = history(["12900"] * 5 + ["129000"] + ["12900"] * 5)
    draft = price(invoice(), group[5], {})
    assert (draft.kind, draft.cause, draft.severity) == ("price", "slip", "high")
    assert draft.evidence["reference"] == "12900" and draft.evidence["ratio"] == "10"
    assert draft.suggestion == {"type": "update", "changes": [
        {"line": 0, "field": "price", "from": "129000", "to": "12900"}]}
    assert draft.impact == D("1381590.00")  # (129000 − 12900) × 10 × 1.19


def test_a_missing_zero_is_a_slip_too():
    group = history(["12900"] * 4 + ["1290"] + ["12900"] * 4)
    draft = price(invoice(), group[4], {})
    assert draft.cause == "slip" and draft.evidence["fix"] == "12900"


def test_a_negotiated_price_far_below_the_list_is_this_clients_usual_one():
    group = history(["9800"] * 9)  # the catalogue says 12,900; this client always pays 9,800
    assert all(price(invoice(), line, {}) is None for line in group)


def test_a_list_price_rise_in_july_keeps_junes_old_price_right():
    group = history(["12000"] * 6 + ["13200"] * 6)  # a 10 % rise halfway through
    assert all(price(invoice(), line, {}) is None for line in group)


def test_a_price_far_from_this_clients_usual_one_is_unusual():
    group = history(["12900"] * 5 + ["21900"] + ["12900"] * 5)
    draft = price(invoice(), group[5], {})
    assert draft.cause == "unusual" and draft.severity == "medium" and draft.evidence["basis"] == "client"


def test_the_price_of_another_item_is_named():
    catalogue = {"7": CatalogueItem({"1": D("12900")}, D(19), (), "Cemento"),
                 "8": CatalogueItem({"1": D("27500")}, D(19), (), "Varilla")}
    group = history(["12900"] * 5 + ["27500"] + ["12900"] * 5)
    draft = price(invoice(), group[5], catalogue)
    assert draft.cause == "other_item" and draft.evidence["other_name"] == "Varilla"


def test_with_too_little_history_the_company_and_the_catalogue_judge():
    lone = history(["129000"])[0]
    lone.company_ref = D("12900")
    assert price(invoice(), lone, {}).evidence["basis"] == "company"
    wholesale = history(["11610"])[0]  # the wholesale list, 10 % under the general one
    wholesale.company_ref = D("11610")
    assert price(invoice(), wholesale, {}) is None


def test_a_stamped_invoice_gets_a_credit_note_for_what_was_overcharged():
    group = history(["12900"] * 5 + ["129000"] + ["12900"] * 5)
    draft = price(invoice(is_stamped=True, editable=False), group[5], {})
    assert draft.suggestion["type"] == "credit_note"
    assert draft.suggestion["lines"] == [{"line": 0, "quantity": "10", "price": "116100"}]


# --- taxes ----------------------------------------------------------------------------------


def test_a_tax_off_the_catalogue_is_found():
    group = history(["12900"] * 6)
    group[3].tax = D(5)
    draft = tax(invoice(), group[3])
    assert (draft.kind, draft.cause, draft.evidence["expected"]) == ("tax", "catalogue", "19")


def test_an_exempt_client_is_always_charged_zero_and_that_is_right():
    group = history(["12900"] * 6, tax=D(0))
    assert all(tax(invoice(), line) is None for line in group)
    lone = history(["12900"], tax=D(0))[0]
    lone.habit_tax = D(0)  # the client is charged 0 % for every 19 % item
    assert tax(invoice(), lone) is None
    # A 5 % item for the first time: the client is exempt from every tax it was sold under.
    assert windows.tax_habit({"19>0": 7, "5>0": 1}, D(5), D(0)) == 0
    assert windows.tax_habit({"19>0": 7, "8>8": 1}, D(8), D(8)) is None  # an exemption need not cover INC
    assert windows.tax_habit({"19>19": 7, "5>0": 1}, D(5), D(0)) is None


def test_the_catalogue_tax_charged_to_an_exempt_client_is_the_clients_mistake():
    group = history(["12900"] * 6, tax=D(0))
    group[2].tax = D(19)
    windows.line_windows(group)
    draft = tax(invoice(), group[2])
    assert draft.cause == "client" and draft.evidence["expected"] == "0"


# --- quantities -----------------------------------------------------------------------------


def test_a_quantity_ten_times_the_usual_one_is_a_slip():
    group = history(["12900"] * 9)
    group[4].quantity = D(100)
    windows.line_windows(group)
    draft = quantity(invoice(), group[4], [group[4]])
    assert draft.cause == "slip" and draft.evidence["fix"] == "10"


def test_a_big_order_of_every_line_is_not_a_slip():
    cement, sand = history(["12900"] * 9), history(["98000"] * 9, item="8")
    for group in (cement, sand):
        group[4].quantity = D(70)  # a project: seven times the usual, on every line
        windows.line_windows(group)
    lines = [cement[4], sand[4]]
    lines[1].position = 1
    assert quantity(invoice(), lines[0], lines) is None


def test_an_occasional_item_bought_twice_has_no_usual_quantity_yet():
    group = history(["12900"] * 3)
    group[2].quantity = D(50)
    windows.line_windows(group)
    assert group[2].near_n == 2 and quantity(invoice(), group[2], [group[2]]) is None


def test_a_busy_season_order_below_the_slip_ratio_is_quiet():
    group = history(["12900"] * 9)
    group[4].quantity = D(40)
    windows.line_windows(group)
    assert quantity(invoice(), group[4], [group[4]]) is None


# --- discounts, dates, twins, parties -------------------------------------------------------


def test_a_discount_for_a_client_who_never_gets_one():
    line = history(["12900"])[0]
    line.discount = D(25)
    draft = whole.discount(invoice(discount=D(25)), [line])
    assert draft.evidence["usual"] == "0" and draft.suggestion["changes"][0]["to"] == "0"


def test_a_standing_discount_is_this_clients_normal():
    assert whole.discount(invoice(discount=D(30), near_discount_max=D(30)), []) is None


def test_a_new_client_with_a_discount_is_not_judged():
    assert whole.discount(invoice(discount=D(20), near_n=2), []) is None


def test_dates_and_terms():
    before = whole.dates(invoice(due_date=DAY - dt.timedelta(days=3)))
    assert before.kind == "due_before_date" and before.suggestion["changes"][0]["to"] == "2025-07-02"
    off = whole.dates(invoice(due_date=DAY + dt.timedelta(days=90)))
    assert off.kind == "due_terms" and off.evidence["expected"] == 30
    assert whole.dates(invoice(due_date=DAY + dt.timedelta(days=31))) is None  # off a weekend


def test_a_client_given_thirty_days_by_habit_while_the_contact_says_cash():
    assert whole.dates(invoice(contact_term=0, term_habit=30)) is None


def test_twins_and_numbers():
    earlier = invoice(invoice_id=9, number="FE9", date=DAY - dt.timedelta(days=1), reference="oc-77")
    draft = whole.twin(invoice(twin_of=9, twin_group=2, reference="oc-77"), [], earlier)
    assert draft.kind == "duplicate_lines" and draft.evidence["days"] == 1
    assert whole.twin(invoice(twin_of=9, twin_group=2), [], earlier).kind == "duplicate_lines"


def test_twins_that_are_not_duplicates():
    earlier = invoice(invoice_id=9, number="FE9", date=DAY - dt.timedelta(days=1), reference="oc-77")
    assert whole.twin(invoice(twin_of=9, identification="222222222222"), [], earlier) is None  # counter sales
    assert whole.twin(invoice(twin_of=9, twin_group=5), [], earlier) is None  # a standing order, again
    assert whole.twin(invoice(twin_of=9, twin_group=5, reference="oc-77"), [], earlier) is not None
    lines = history(["12900"])
    same = signature(lines, D(100), ("1", "CASH", "OC-77", None))
    assert same == signature(lines, D(100), ("1", "cash", " oc-77 ", ""))
    assert same != signature(lines, D(100), ("1", "CASH", "OC-78", None))  # two orders, not one twice
    assert whole.same_number(invoice(number_of=9), earlier).kind == "duplicate_number"


def test_a_twin_of_a_stamped_invoice_is_credited_whole():
    line = history(["12900"])[0]
    draft = whole.twin(invoice(twin_of=9, twin_group=2, is_stamped=True, editable=False), [line],
                       invoice(invoice_id=9))
    assert draft.suggestion["type"] == "credit_note" and draft.suggestion["note_type"] == "VOID_ELECTRONIC_INVOICE"


def test_empty_invoices_and_identifications():
    assert whole.empty(invoice(line_count=0, total=D(0))).cause == "no_lines"
    assert whole.empty(invoice(total=D(0))).cause == "zero_total"
    assert whole.identification(invoice(identification="")).cause == "blank"
    assert whole.identification(invoice(identification="N/A")).cause == "placeholder"
    assert whole.identification(invoice(identification="222222222222")) is None
    assert [is_missing_identification(v) for v in ("1111111111", "0", "900123456", "79.123.456")] == \
        [True, True, False, False]


def test_detect_runs_every_detector_on_one_invoice():
    group = history(["12900"] * 5 + ["129000"] + ["12900"] * 5)
    found = detect(invoice(identification="", line_count=1), [group[5]], {}, {})
    assert {d.kind for d in found} == {"price", "missing_identification"}


# --- windows and statistics -----------------------------------------------------------------


def test_neighbours_and_what_a_change_reaches():
    group = history(["10"] * 20)
    assert (group[0].near_n, group[10].near_n, group[19].near_n) == (4, 8, 4)
    ranks = [line.rank for line in group]
    assert windows.reached(ranks, [ranks[10]], [], 4) == list(range(6, 15))
    assert windows.reached(ranks, [], ["2025-06-10"], 4) == list(range(0, 6))  # a gap after the 2nd


def test_robust_statistics():
    assert stats.median([D(1), D(3), D(100)]) == 3 and stats.median_low([D(1), D(2)]) == 1
    assert stats.histogram_median([{"10": 2}, {"30": 1}]) == 10
    assert stats.histogram_median([{"10": 1}], minimum=3) is None
    assert [stats.power_of_ten(D(v)) for v in ("10.2", "0.098", "100", "3")] == [1, -1, 2, 0]
    assert stats.tolerance([D(100), D(100), D(100)], D("0.25")) == D("0.25")
    assert signature([], D(0)) == ""


# --- the guard baseline ---------------------------------------------------------------------


def _guarded(n, total, **changes):
    values = dict(invoice_id=n, client="1", rank=f"2025-01-{n:02d}|{n}", identification="900123456",
                  total=D(total), line_count=1, max_discount=D(0), date=f"2025-01-{n:02d}", due_date=None)
    values.update(changes)
    return GuardInvoice(**values)


def test_the_guards_six_rules():
    assert rules_for(_guarded(1, 100, identification=" "), []) == ["no_identification"]
    assert rules_for(_guarded(1, 100, max_discount=D(25)), [D(100)]) == ["discount_over_20"]
    assert rules_for(_guarded(1, 6_000_000), []) == ["new_client_over_5m"]
    assert rules_for(_guarded(1, 0, line_count=0), [D(1)]) == ["no_items_or_zero"]
    assert rules_for(_guarded(1, 5, due_date="2024-12-31"), [D(1)]) == ["due_before_date"]
    flagged = guard_scan([_guarded(n, 100) for n in range(1, 4)] + [_guarded(4, 300)])
    assert flagged == {4: ["three_times_average"]}


def test_the_guard_flags_what_the_detectors_know_to_be_right():
    """A standing 25 % discount and a big first order: flagged by fixed thresholds."""
    assert "discount_over_20" in rules_for(_guarded(1, 100, max_discount=D(25)), [D(100)] * 5)
    assert whole.discount(invoice(discount=D(25), near_discount_max=D(25)), []) is None


# --- the arithmetic of money at stake and of fixes (base) -----------------------------------


def test_a_line_amount_with_any_figure_replaced():
    from findings.detectors.base import line_amount, money, net_price

    line = history(["1000"])[0]
    line.quantity, line.discount, line.tax = D(3), D(10), D(19)
    assert line_amount(line) == D("3213")  # 1000 × 3 × 0.90 × 1.19
    assert line_amount(line, price=D(2000)) == D("6426")
    assert line_amount(line, quantity=D(1)) == D("1071")
    assert line_amount(line, discount=D(0)) == D("3570")
    assert line_amount(line, tax=D(5)) == D("2835")
    assert net_price(D(1000), D(10)) == D(900)
    assert money(D("-12.345"), invoice(precision=2)) == D("12.35")  # what is at stake, half up
    assert money(D("2.5"), invoice(precision=0)) == D("3")


def test_a_fix_is_an_update_a_credit_or_advice_and_each_says_so():
    from findings.detectors.base import advice, credit, line_fix

    line = history(["1000"])[0]
    assert line_fix(invoice(), line, "price", D(900), credited=(D(10), D(100))) == {
        "type": "update", "changes": [{"line": 0, "field": "price", "from": "1000", "to": "900"}]}
    stamped = invoice(is_stamped=True, editable=False)
    assert line_fix(stamped, line, "price", D(900), credited=(D(10), D(100))) == {
        "type": "credit_note", "note_type": "PRICE_ADJUSTMENT",
        "lines": [{"line": 0, "quantity": "10", "price": "100"}]}
    undercharged = {"type": "advice", "code": "undercharged"}
    for credited in (None, (D(0), D(100)), (D(10), D(0)), (D(-1), D(100)), (D(10), D(-1))):
        assert line_fix(stamped, line, "price", D(1100), credited=credited) == undercharged
    assert line_fix(stamped, line, "price", D(900), credited=(D("0.5"), D("0.5")))["type"] == "credit_note"
    assert advice("check") == {"type": "advice", "code": "check"}
    assert credit([(1, D(2), D(3))], "OTHER")["note_type"] == "OTHER"


def test_a_stamped_line_charged_too_much_tax_is_credited_at_its_net_price_and_reissued():
    group = history(["1000"] * 6, tax=D(5), catalogue_tax=D(5))
    group[3].tax, group[3].discount = D(19), D(10)
    windows.line_windows(group)
    draft = tax(invoice(is_stamped=True, editable=False, precision=0), group[3])
    assert draft.suggestion == {"type": "credit_note", "note_type": "PRICE_ADJUSTMENT", "reissue": True,
                                "lines": [{"line": 0, "quantity": "10", "price": "900"}]}
    assert draft.impact == D("1260")  # 1000 × 10 × 0.90 × (1.19 − 1.05)


def test_detect_hands_each_detector_the_invoice_its_lines_and_what_it_points_at():
    earlier = invoice(invoice_id=9, number="FE1", date=DAY - dt.timedelta(days=1), reference="oc-77")
    group = history(["12900"] * 9)
    slip = group[4]
    slip.quantity, slip.tax, slip.discount = D(100), D(5), D(25)
    windows.line_windows(group)
    slip.tax_usual = None
    this = invoice(invoice_id=10, twin_of=9, twin_group=2, reference="oc-77", number_of=9, discount=D(25))
    catalogue = {"7": CatalogueItem(prices={"1": D("12900")}, tax=D(19), taxes=(), name="Cemento")}

    found = {d.kind: d for d in detect(this, [slip], catalogue, {9: earlier})}

    assert set(found) >= {"tax", "quantity", "discount", "duplicate_lines", "duplicate_number"}
    assert found["quantity"].evidence["fix"] == "10"
    assert found["duplicate_number"].evidence is not None
