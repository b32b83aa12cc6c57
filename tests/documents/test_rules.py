import copy
from datetime import date

import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from invoices.editable import ReturnedLine, credit_note_body
from invoices.rules import (
    RuleViolation,
    editing_refusal,
    validate_credit_note,
    validate_document,
    validate_update,
)
from tests.documents import fixtures
from tests.documents.strategies import TAXES, invoices

CATALOGUE = {"3": TAXES["3"], "2": TAXES["2"]}


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _edit(base, **changes):
    proposed = copy.deepcopy(base)
    for path, value in changes.items():
        target, *keys = path.split("__")
        node = proposed
        if target == "line0":
            node = proposed["items"][0]
        elif target == "line1":
            node = proposed["items"][1]
        else:
            keys = [target]
        node[keys[0]] = value
    return proposed


def _codes(violations):
    return [(v.field, v.code) for v in violations]


def check(proposed, base=None, **kwargs):
    base = base or fixtures.simple_invoice()
    kwargs.setdefault("taxes", CATALOGUE)
    return validate_update(base, proposed, **kwargs)


def test_a_sound_edit_passes():
    base = fixtures.simple_invoice()
    proposed = _edit(base, observations="Entregado", line0__price="35.5", line1__quantity="2",
                     line1__discount="12.5", dueDate="2016-11-12")
    proposed["items"][0]["tax"] = [{"id": "2"}]
    assert check(proposed) == []


def test_nothing_to_submit():
    base = fixtures.simple_invoice()
    violations = check(copy.deepcopy(base))
    assert violations == [RuleViolation("", "nothing_to_submit",
                                        "Nothing has changed: there is nothing to submit.")]
    respelled = _edit(base, line0__price="40.00", line0__quantity=1, observations=None)
    assert _codes(check(respelled)) == [("", "nothing_to_submit")]


@pytest.mark.parametrize(
    ("changes", "expected", "text"),
    [
        ({"line0__quantity": "0"}, [("items[0].quantity", "quantity_not_positive")],
         "Line 1: the quantity must be greater than zero. To take goods back, lower the quantity or issue a credit note."),
        ({"line1__quantity": "-1"}, [("items[1].quantity", "quantity_not_positive")],
         ("Line 2: the quantity must be greater than zero. To take goods back, lower the quantity or issue a "
          "credit note.")),
        ({"line0__quantity": "dos"}, [("items[0].quantity", "invalid_quantity")],
         "Line 1: the quantity “dos” is not a number."),
        ({"line0__price": "-1"}, [("items[0].price", "price_negative")],
         "Line 1: the unit price cannot be negative."),
        ({"line0__price": "abc"}, [("items[0].price", "invalid_price")],
         "Line 1: the unit price “abc” is not a number."),
        ({"line0__price": "1.0000001"}, [("items[0].price", "price_too_precise")],
         "Line 1: the unit price can have at most 6 decimals."),
        # Alegra keeps six decimals of a quantity and a discount too.
        ({"line0__quantity": "2.0000001"}, [("items[0].quantity", "quantity_too_precise")],
         "Line 1: the quantity can have at most 6 decimals."),
        ({"line0__discount": "10.0000001"}, [("items[0].discount", "discount_too_precise")],
         "Line 1: the discount can have at most 6 decimals."),
        ({"line0__discount": "100.01"}, [("items[0].discount", "discount_out_of_range")],
         "Line 1: the discount must be between 0 % and 100 %."),
        ({"line0__discount": "-5"}, [("items[0].discount", "discount_out_of_range")],
         "Line 1: the discount must be between 0 % and 100 %."),
        ({"line0__discount": "x"}, [("items[0].discount", "invalid_discount")],
         "Line 1: the discount “x” is not a number."),
        ({"line0__tax": [{"id": "99"}]}, [("items[0].tax", "unknown_tax")],
         "Line 1: the tax “99” is not one of the company's taxes."),
        ({"line0__id": None}, [("items[0].id", "item_required")], "Line 1 has no item."),
        ({"items": []}, [("items", "no_lines")], "The invoice must have at least one line."),
        ({"dueDate": "2016-10-11"}, [("dueDate", "due_before_date")],
         "The due date (11/10/2016) cannot be before the invoice date (12/10/2016)."),
        ({"dueDate": "2024-13-45"}, [("dueDate", "invalid_date")],
         "The due date “2024-13-45” is not a valid date (yyyy-mm-dd)."),
        ({"date": "12/10/2016"}, [("date", "invalid_date")],
         "The date “12/10/2016” is missing or not a valid date (yyyy-mm-dd)."),
        ({"date": ""}, [("date", "invalid_date")], "The date “” is missing or not a valid date (yyyy-mm-dd)."),
        ({"observations": "x" * 501}, [("observations", "text_too_long")],
         "Observations can have at most 500 characters (it has 501)."),
        ({"anotation": "x" * 600}, [("anotation", "text_too_long")], "Notes can have at most 500 characters (it has 600)."),
        ({"termsConditions": "x" * 501}, [("termsConditions", "text_too_long")],
         "Terms and conditions can have at most 500 characters (it has 501)."),
        ({"line1__description": "é" * 501}, [("items[1].description", "text_too_long")],
         "Line 2: the description can have at most 500 characters (it has 501)."),
        ({"status": "closed"}, [("status", "not_editable")],
         "The field “status” cannot be changed here."),
    ],
)
def test_each_rule_refuses_with_its_message(changes, expected, text):
    violations = check(_edit(fixtures.simple_invoice(), **changes))
    assert _codes(violations) == expected
    assert violations[0].message == text


def test_limits_themselves_pass():
    base = fixtures.simple_invoice()
    proposed = _edit(base, observations="x" * 500, line0__price="0", line0__discount="100",
                     line1__price="0.000001", line1__discount="0.000001", line1__quantity="1.000001",
                     dueDate="2016-10-12")
    assert check(proposed) == []


def test_several_problems_are_all_reported():
    proposed = _edit(fixtures.simple_invoice(), line0__price="abc", line1__quantity="0",
                     dueDate="2016-01-01")
    assert {v.code for v in check(proposed)} == {"invalid_price", "quantity_not_positive",
                                                 "due_before_date"}


def test_taxes_may_be_a_set_of_ids():
    proposed = _edit(fixtures.simple_invoice(), observations="x")
    assert check(proposed, taxes={"3"}) == []
    assert _codes(check(proposed, taxes={3})) == []
    assert _codes(check(proposed, taxes=set())) == [("items[0].tax", "unknown_tax"),
                                                   ("items[1].tax", "unknown_tax")]


def test_closed_period():
    base = fixtures.simple_invoice()
    closed = date(2016, 10, 31)
    moved_in = _edit(base, date="2016-09-30", dueDate="2016-09-30")
    assert _codes(check(moved_in, closed_until=date(2016, 9, 30))) == [
        ("date", "date_in_closed_period")]
    assert check(moved_in, closed_until=date(2016, 9, 30))[0].message == (
        "The date 30/09/2016 falls in a closed period (closed until 30/09/2016).")
    moved_out = _edit(base, date="2016-11-02", dueDate="2016-11-02")
    assert _codes(check(moved_out, closed_until=closed)) == [("date", "date_in_closed_period")]
    assert check(moved_out, closed_until=date(2016, 10, 11)) == []
    assert check(_edit(base, observations="x"), closed_until=None) == []


def test_total_below_what_was_paid():
    base = fixtures.simple_invoice() | {"totalPaid": "100", "status": "open"}
    # Lines of 46 and 46, but the invoice rounds once: 80 + round(12.8) = 93 < 100.
    proposed = _edit(base, line1__price="40")
    violations = check(proposed, base=base)
    assert _codes(violations) == [("total", "total_below_paid")]
    # Amounts as the company writes them (the formatter's), never raw numbers.
    assert violations[0].message == ("The new total ($ 93) cannot be lower than what has already been paid "
                                     "($ 100). The payments must be undone first.")
    assert check(_edit(base, line1__price="50"), base=base) == []  # 46 + 58 = 104


def test_stamped_invoice_needs_a_credit_note():
    base = fixtures.simple_invoice() | {"stamp": {"legalStatus": "STAMPED_AND_ACCEPTED",
                                                  "cufe": "abc123"}}
    violations = check(_edit(base, observations="x"), base=base)
    assert _codes(violations) == [("stamp", "stamped_use_credit_note")]
    assert violations[0].message == ("This invoice has been stamped electronically and cannot be changed in "
                                     "place; issue a credit note instead.")
    mexican = fixtures.simple_invoice() | {"stamp": {"uuid": "6F0B..."}}
    assert editing_refusal(mexican).code == "stamped_use_credit_note"
    assert editing_refusal(fixtures.simple_invoice() | {"stamp": None}) is None


def test_void_invoice_is_read_only():
    base = fixtures.simple_invoice() | {"status": "void"}
    violations = check(_edit(base, observations="x"), base=base)
    assert _codes(violations) == [("status", "void_read_only")]
    assert violations[0].message == "This invoice is void: it is read-only and cannot be changed."


def test_malformed_documents_never_raise():
    base = fixtures.simple_invoice()
    odd = _edit(base, items=[None, "x", {"price": [1], "quantity": {}, "tax": None}],
                date=20161012, dueDate=["2016"])
    codes = {v.code for v in check(odd)}
    assert {"item_required", "invalid_quantity", "invalid_price", "invalid_date"} <= codes
    assert _codes(validate_document({}, taxes=None)) == [("items", "no_lines"),
                                                         ("date", "invalid_date")]


def test_a_float_is_still_a_programming_error():
    with pytest.raises(TypeError):
        check(_edit(fixtures.simple_invoice(), line0__price=40.5))


def test_messages_are_translatable_strings():
    (violation,) = check(_edit(fixtures.simple_invoice(), line0__quantity="0"))
    assert isinstance(violation.message, str)


@settings(max_examples=60, deadline=None)
@given(invoices(), st.integers(1, 10**6))
def test_random_sound_edits_pass(base, cents):
    proposed = copy.deepcopy(base)
    proposed["items"][0]["price"] = f"{cents}"
    proposed["observations"] = "revisado"
    assert validate_update(base, proposed, taxes=TAXES) == []


# --- credit notes -------------------------------------------------------------------


def _stamped():
    doc = fixtures.simple_invoice()
    doc["stamp"] = {"legalStatus": "STAMPED_AND_ACCEPTED", "cufe": "abc"}
    doc["items"][1]["discount"] = "10.00"
    doc["balance"] = 130  # 46 + 84
    return doc


def _note(**changes):
    note = credit_note_body(_stamped(), [ReturnedLine(1, "1")], "PARTIALL_DEVOLUTION",
                            "Devolución de mercancía", "2016-10-20")
    note.update(changes)
    return note


def test_a_sound_credit_note_passes():
    assert validate_credit_note(_stamped(), _note()) == []
    # The client and the invoice as Alegra writes them, or as bare ids; observations; no stamp.
    assert validate_credit_note(_stamped(), _note(client="1", observations="x", stamp=None,
                                                  invoices=[{"id": 1, "amount": "84"}])) == []
    assert validate_credit_note(_stamped(), _note(invoices=None)) == []


@pytest.mark.parametrize(
    ("changes", "expected", "text"),
    [
        ({"type": "RETURN"}, [("type", "invalid_note_type")],
         ("The credit note type “RETURN” is not valid; choose one of: PARTIALL_DEVOLUTION, VOID_ELECTRONIC_INVOICE, "
          "REDUCTION_DISCOUNT_PARTIAL_TOTAL, PRICE_ADJUSTMENT, OTHER.")),
        ({"type": None}, [("type", "invalid_note_type")],
         ("The credit note type “” is not valid; choose one of: PARTIALL_DEVOLUTION, VOID_ELECTRONIC_INVOICE, "
          "REDUCTION_DISCOUNT_PARTIAL_TOTAL, PRICE_ADJUSTMENT, OTHER.")),
        ({"cause": "  "}, [("cause", "cause_required")],
         "The cause printed on the credit note is required."),
        ({"items": []}, [("items", "no_lines")], "The credit note must have at least one line."),
        ({"date": "2016-10-01"}, [("date", "note_before_invoice")],
         "The credit note date (01/10/2016) cannot be before the invoice date (12/10/2016)."),
        ({"date": "2016-02-30"}, [("date", "invalid_date")],
         "The date “2016-02-30” is missing or not a valid date (yyyy-mm-dd)."),
        ({"invoices": [{"id": "1", "amount": "90"}]}, [("invoices", "amount_mismatch")],
         "The amounts applied to invoices ($ 90) cannot add up to more than the credit note total ($ 84)."),
        ({"invoices": [{"id": "1", "amount": "-5"}]}, [("invoices", "invalid_amount")],
         "The amount applied to the invoice cannot be negative."),
        ({"invoices": [{"id": "1", "amount": "ochenta"}]}, [("invoices", "invalid_amount")],
         "The amount applied to the invoice is not a number."),
        # The note credits the invoice's own client, applied to this invoice only, and carries
        # nothing the approver does not read.
        ({"client": {"id": "2"}}, [("client", "other_client")],
         "A credit note on this invoice is for the invoice's client."),
        ({"client": None}, [("client", "other_client")],
         "A credit note on this invoice is for the invoice's client."),
        ({"invoices": [{"id": "2", "amount": "84"}]}, [("invoices", "other_invoice")],
         "A credit note on this invoice can be applied to this invoice only."),
        ({"invoices": [{"id": "1", "amount": "40"}, {"id": "9", "amount": "44"}]}, [("invoices", "other_invoice")],
         "A credit note on this invoice can be applied to this invoice only."),
        ({"invoices": ["1"]}, [("invoices", "other_invoice")],
         "A credit note on this invoice can be applied to this invoice only."),
        ({"invoices": {"id": "1"}}, [("invoices", "other_invoice")],
         "A credit note on this invoice can be applied to this invoice only."),
        ({"numberTemplate": {"id": "7"}}, [("numberTemplate", "unknown_field")],
         "The credit note cannot carry “numberTemplate”."),
        ({"stamp": {"generateStamp": True, "cufe": "x"}}, [("stamp", "invalid_stamp")],
         "A credit note can only ask for its electronic stamp."),
    ],
)
def test_each_credit_note_rule(changes, expected, text):
    violations = validate_credit_note(_stamped(), _note(**changes))
    assert _codes(violations) == expected
    assert violations[0].message == text


def test_credit_more_than_invoiced():
    note = credit_note_body(_stamped(), [ReturnedLine(0, "1"), ReturnedLine(0, "0.5")],
                            "PARTIALL_DEVOLUTION", "x", "2016-10-20")
    violations = validate_credit_note(_stamped(), note)
    assert _codes(violations) == [("items", "quantity_above_invoiced")]
    assert violations[0].message == "Item 1: 1,5 credited, but only 1 invoiced."


def test_credit_an_item_not_on_the_invoice_and_a_bad_quantity():
    note = _note()
    note["items"] = [{"id": 7, "price": "10", "quantity": "1", "tax": []},
                     {"id": 1, "price": "10", "quantity": "0", "tax": []}]
    codes = _codes(validate_credit_note(_stamped(), note))
    assert ("items[0].id", "item_not_on_invoice") in codes
    assert ("items[1].quantity", "quantity_not_positive") in codes


def test_credit_more_than_the_balance():
    invoice = _stamped() | {"balance": "50", "totalPaid": "80"}
    violations = validate_credit_note(invoice, _note())
    assert _codes(violations) == [("invoices", "amount_above_balance")]
    assert violations[0].message == (
        "The credit note amount ($ 84) is greater than the invoice balance ($ 50).")


def test_a_note_on_a_paid_invoice_settles_nothing_and_leaves_the_client_a_credit():
    paid = _stamped() | {"balance": "0", "totalPaid": "139", "status": "closed"}
    note = credit_note_body(paid, [ReturnedLine(1, "1")], "PARTIALL_DEVOLUTION", "x", "2016-10-20")
    assert note["invoices"] == [{"id": "1", "amount": "0"}]  # the legal link, nothing applied
    assert validate_credit_note(paid, note) == []
    partly = _stamped() | {"balance": "50", "totalPaid": "89"}
    note = credit_note_body(partly, [ReturnedLine(1, "1")], "PARTIALL_DEVOLUTION", "x", "2016-10-20")
    assert note["invoices"] == [{"id": "1", "amount": "50"}]  # 84 credited: 50 settle the balance, 34 credit
    assert validate_credit_note(partly, note) == []


def test_an_amount_that_cannot_be_applied_to_the_invoice_is_refused():
    note = _note(invoices=[{"id": "1", "amount": "60"}])
    violations = validate_credit_note(_stamped() | {"balance": "50", "totalPaid": "89"}, note)
    assert _codes(violations) == [("invoices", "amount_above_balance")]


def test_credit_note_on_a_void_invoice_and_in_a_closed_period():
    assert _codes(validate_credit_note(_stamped() | {"status": "void"}, _note())) == [
        ("status", "invoice_void")]
    assert _codes(validate_credit_note(_stamped(), _note(), closed_until=date(2016, 10, 20))) == [
        ("date", "date_in_closed_period")]


def test_every_credit_note_type_is_accepted():
    for kind in ("PARTIALL_DEVOLUTION", "VOID_ELECTRONIC_INVOICE",
                 "REDUCTION_DISCOUNT_PARTIAL_TOTAL", "PRICE_ADJUSTMENT", "OTHER"):
        assert validate_credit_note(_stamped(), _note(type=kind)) == []


garbage = st.one_of(
    st.none(), st.text(max_size=8), st.integers(-5, 5), st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.sampled_from(["2024-13-45", "abc", "", "1e999", "NaN", "-0", "1.0000000001"]),
)


@settings(max_examples=150, deadline=None)
@given(invoices(), st.data())
def test_malformed_values_are_violations_never_exceptions(base, data):
    proposed = copy.deepcopy(base)
    for _ in range(data.draw(st.integers(1, 4))):
        where = data.draw(st.sampled_from(["price", "quantity", "discount", "tax", "id",
                                           "description", "date", "dueDate", "items", "line"]))
        value = data.draw(garbage)
        if where in ("date", "dueDate", "items"):
            proposed[where] = value
        elif isinstance(proposed.get("items"), list) and proposed["items"]:
            if where == "line":
                proposed["items"][0] = value
            elif isinstance(proposed["items"][0], dict):
                proposed["items"][0][where] = value
    violations = validate_update(base, proposed, taxes=TAXES)
    assert all(isinstance(v, RuleViolation) and v.message for v in violations)
    validate_credit_note(base, {"items": proposed.get("items"), "date": proposed.get("date")})


@pytest.mark.parametrize("items", [3, "abc", None, [None], [{"id": 1, "quantity": [1]}], {"a": 1}])
def test_malformed_credit_notes_never_raise(items):
    violations = validate_credit_note(_stamped(), _note(items=items))
    assert violations and all(v.message for v in violations)


# --- edges of the rules, and each message in full -------------------------------------------------


def test_more_limits_that_pass():
    base = fixtures.simple_invoice()
    assert check(_edit(base, dueDate="", observations="x")) == []  # no due date at all
    assert check(_edit(base, line0__description="x" * 500)) == []


def test_a_single_tax_given_as_one_entry_is_checked_too():
    violations = check(_edit(fixtures.simple_invoice(), line0__tax={"id": "99"}))
    assert _codes(violations) == [("items[0].tax", "unknown_tax")]
    assert violations[0].message == "Line 1: the tax “99” is not one of the company's taxes."


def test_an_invoice_in_a_closed_period_is_refused_once():
    base = fixtures.simple_invoice()
    assert _codes(check(_edit(base, observations="x"), closed_until=date(2016, 10, 31))) == [
        ("date", "date_in_closed_period")]
    undated = base | {"date": None}
    assert _codes(check(_edit(undated, observations="x"), base=undated, closed_until=date(2016, 9, 30))) == [
        ("date", "invalid_date")]


def test_the_new_total_is_computed_with_the_companys_taxes():
    base = fixtures.simple_invoice()
    paid = base | {"totalPaid": str(base["total"]), "status": "open"}
    cheaper = _edit(paid, line0__tax=[{"id": "2"}])  # 5 % instead of 16 %, named by its id only
    assert _codes(check(cheaper, base=paid)) == [("total", "total_below_paid")]


def test_a_credit_note_on_a_void_invoice_says_so():
    (violation,) = validate_credit_note(_stamped() | {"status": "void"}, _note())
    assert violation.message == "A void invoice cannot be corrected with a credit note."


def test_a_credit_note_edges():
    assert validate_credit_note(_stamped(), _note(date="2016-10-12")) == []  # the invoice's own day
    assert _codes(validate_credit_note(_stamped(), _note(cause=None))) == [("cause", "cause_required")]
    (undated,) = validate_credit_note(_stamped(), _note(date=None))
    assert undated.message == "The date “” is missing or not a valid date (yyyy-mm-dd)."
    note = _note()
    note["items"] = [{"id": 7, "price": "10", "quantity": "1", "tax": []}]
    (violation, *_) = validate_credit_note(_stamped(), note)
    assert violation == RuleViolation("items[0].id", "item_not_on_invoice",
                                      "Line 1: the item 7 is not on the invoice.")


def test_what_was_invoiced_adds_up_each_items_lines():
    twice = _stamped()
    twice["items"] = [dict(twice["items"][0], quantity="1"), dict(twice["items"][0], quantity="1")]
    twice["balance"] = 1000
    note = credit_note_body(twice, [ReturnedLine(0, "1"), ReturnedLine(1, "1")], "PARTIALL_DEVOLUTION", "x",
                            "2016-10-20")
    assert validate_credit_note(twice, note) == []  # 2 of the item invoiced, 2 credited
    none = _stamped()
    none["items"][0]["quantity"] = "0"
    note = _note()
    note["items"] = [dict(none["items"][0], quantity="1")]
    violations = validate_credit_note(none, note)
    assert ("items", "quantity_above_invoiced") in _codes(violations)


def test_a_credit_note_s_parties_are_refused_in_spanish_too():
    """The four refusals of a note's client, invoices, fields and stamp had no Spanish words."""
    note = _note(client={"id": "2"}, invoices=[{"id": "2", "amount": "84"}], numberTemplate={"id": "7"},
                 stamp={"generateStamp": True, "cufe": "x"})
    with translation.override("es"):
        messages = [v.message for v in validate_credit_note(_stamped(), note)]
    assert messages[:4] == ["La nota crédito no puede llevar «numberTemplate».",
                            "Una nota crédito sobre esta factura es para el cliente de la factura.",
                            "Una nota crédito sobre esta factura solo puede aplicarse a esta factura.",
                            "Una nota crédito solo puede pedir su timbrado electrónico."]
