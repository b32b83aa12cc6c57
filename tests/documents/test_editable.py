import copy
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invoices.arithmetic import invoice_totals
from invoices.diff import diff_documents
from invoices.documents.numbers import decimal_text
from invoices.documents.status import is_stamped, is_void
from invoices.editable import EDITABLE_FIELDS, ReturnedLine, credit_note_body, put_body
from tests.documents import fixtures
from tests.documents.strategies import edits, invoices

COMPUTED = {"total", "subtotal", "tax", "balance", "totalPaid", "discount"}


def test_an_observations_edit_sends_only_the_observations():
    before = fixtures.simple_invoice()
    after = fixtures.load("recorded-update_invoice.json")
    assert put_body(before, after) == {"observations": "This invoice has been updated!"}


def test_nothing_changed_sends_nothing():
    doc = fixtures.simple_invoice()
    assert put_body(doc, copy.deepcopy(doc)) == {}


def test_references_go_as_ids():
    before = fixtures.simple_invoice()
    after = before | {"client": {"id": "5", "name": "Otro"}, "seller": {"id": "2", "name": "Ana"},
                      "priceList": {"id": "3", "name": "Mayoristas"}}
    assert put_body(before, after) == {"client": {"id": "5"}, "seller": "2", "priceList": "3"}
    assert put_body(after, after | {"seller": None}) == {"seller": None}


def test_a_changed_line_sends_every_line_without_computed_figures():
    before = fixtures.simple_invoice()
    after = copy.deepcopy(before)
    after["items"][1]["price"] = Decimal("70.123456")
    after["items"][1]["description"] = "con descuento"
    body = put_body(before, after)
    assert body == {"items": [
        {"id": 1, "price": "40", "quantity": "1", "discount": "0",
         "tax": [{"id": "3"}], "description": "item de venta 1", "reference": "ref1"},
        {"id": 2, "price": "70.123456", "quantity": "1", "discount": "0",
         "tax": [{"id": "3"}], "description": "con descuento", "reference": "ref2"},
    ]}


def test_removed_and_added_lines_send_the_whole_new_list():
    before = fixtures.simple_invoice()
    after = copy.deepcopy(before)
    del after["items"][0]
    after["items"].append({"id": 9, "price": "5", "quantity": 3, "discount": "", "tax": []})
    body = put_body(before, after)
    assert [line["id"] for line in body["items"]] == [2, 9]
    assert body["items"][1] == {"id": 9, "price": "5", "quantity": "3", "discount": "0",
                                "tax": []}


def test_status_and_unknown_fields_are_never_sent():
    before = fixtures.simple_invoice()
    after = before | {"status": "closed", "total": 1, "numberTemplate": {"id": "9"}}
    assert put_body(before, after) == {}


@pytest.mark.parametrize(("value", "text"), [(Decimal("40.0000"), "40"), ("16.00", "16"),
                                             (5, "5"), ("", "0"), ("1E+2", "100"),
                                             ("0.000001", "0.000001")])
def test_decimal_text(value, text):
    assert decimal_text(value) == text


def test_decimal_text_refuses_float():
    with pytest.raises(TypeError):
        decimal_text(0.5)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_put_body_is_json_without_floats_or_computed_fields(data):
    base = data.draw(invoices())
    proposed = data.draw(edits(base))
    body = put_body(base, proposed)
    text = json.dumps(body)  # plain json: no Decimal, no float needed
    assert set(body) <= EDITABLE_FIELDS
    assert not COMPUTED & set(body)

    def no_float(value):
        if isinstance(value, dict):
            return all(no_float(v) for v in value.values())
        if isinstance(value, list):
            return all(no_float(v) for v in value)
        return not isinstance(value, float)

    assert no_float(json.loads(text))
    for line in body.get("items", ()):
        assert "total" not in line
    assert ("items" in body) == diff_documents(base, proposed).lines_changed
    if "items" in body:
        # What Alegra recomputes from the body equals what the approver saw.
        sent = base | {"items": [line | {"tax": full} for line, full in zip(
            body["items"], (line["tax"] for line in proposed["items"]))]}
        assert invoice_totals(sent).total == invoice_totals(proposed).total


def test_stamped_and_void():
    doc = fixtures.simple_invoice()
    assert not is_stamped(doc) and not is_void(doc)
    assert is_stamped(doc | {"stamp": {"legalStatus": "STAMPED_AND_WAITING_RESPONSE"}})
    assert is_stamped(doc | {"stamp": {"cufe": "a1"}})
    assert not is_stamped(doc | {"stamp": {"generateStamp": True}})
    assert is_void(doc | {"status": "void"})


# --- credit notes -------------------------------------------------------------------


def _invoice():
    doc = fixtures.created_invoice()  # lines 40 × 5 without tax; 80 − 10 % with IVA 16 %
    doc["decimalPrecision"] = "2"
    doc["stamp"] = {"cufe": "abc"}
    return doc


def test_credit_note_body_folds_the_discount_into_the_price():
    body = credit_note_body(_invoice(), [ReturnedLine(1, "1"), ReturnedLine(0, 2)],
                            "PARTIALL_DEVOLUTION", "Devolución", "2016-10-20")
    assert body == {
        "client": {"id": "1"},
        "date": "2016-10-20",
        "items": [{"id": 2, "price": "72", "quantity": "1", "tax": [{"id": "3"}]},
                  {"id": 1, "price": "40", "quantity": "2", "tax": []}],
        "type": "PARTIALL_DEVOLUTION",
        "cause": "Devolución",
        "invoices": [{"id": "4", "amount": "163.52"}],  # 72 × 1.16 + 80
        "stamp": {"generateStamp": True},
    }
    json.dumps(body)


def test_credit_note_price_adjustment_and_no_stamp_for_paper_invoices():
    invoice = _invoice()
    del invoice["stamp"]
    body = credit_note_body(invoice, [ReturnedLine(1, "1", price="10")], "PRICE_ADJUSTMENT",
                            "Precio mal digitado", "2016-10-20")
    assert body["items"][0]["price"] == "10"
    assert body["invoices"] == [{"id": "4", "amount": "11.60"}]
    assert "stamp" not in body


def test_credit_note_for_a_line_the_invoice_lacks_is_a_value_error():
    with pytest.raises(ValueError, match="no line 3"):
        credit_note_body(_invoice(), [ReturnedLine(2, "1")], "OTHER", "x", "2016-10-20")


@pytest.mark.parametrize("stamp", [
    None, {}, {"cufe": "abc"}, {"uuid": "u-1"}, {"legalStatus": "STAMPED_AND_ACCEPTED"},
    {"legalStatus": "STAMPED_AND_WAITING_RESPONSE"}, {"legalStatus": "PENDING"}, {"legalStatus": ""}, "odd",
])
def test_the_mirror_and_the_editor_agree_on_what_is_stamped(stamp):
    from invoices.mirror import invoice_columns

    doc = {"id": "7", "date": "2026-10-01", "status": "open", "items": [], "stamp": stamp}
    assert invoice_columns(doc)["is_stamped"] == is_stamped(doc)
