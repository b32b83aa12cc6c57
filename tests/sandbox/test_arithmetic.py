from decimal import Decimal

import pytest

from alegra_sandbox import arithmetic as ar
from alegra_sandbox.documents import Line, apply_totals


def D(text):
    return Decimal(text)


def test_recorded_lines_at_precision_zero():
    assert ar.line_amounts(D(40), D(1), D(0), [D(16)], 0).total == D(46)
    assert ar.line_amounts(D(80), D(1), D(10), [D(16)], 0).total == D(84)
    assert ar.line_amounts(D(80), D(1), D(0), [D(16)], 0).total == D(93)
    assert ar.line_amounts(D(40), D(5), D(0), [], 0).total == D(200)


def test_recorded_invoice_totals():
    lines = [ar.line_amounts(D(40), D(1), D(0), [D(16)], 0), ar.line_amounts(D(80), D(1), D(0), [D(16)], 0)]
    totals = ar.invoice_totals(lines, 0)
    assert (totals.subtotal, totals.discount, totals.tax, totals.total) == (D(120), D(0), D(19), D(139))
    # The recorded list's draft: 40 × 5 and 80 with 10 % off and IVA 16 %.
    lines = [ar.line_amounts(D(40), D(5), D(0), [], 0), ar.line_amounts(D(80), D(1), D(10), [D(16)], 0)]
    totals = ar.invoice_totals(lines, 0)
    assert (totals.subtotal, totals.discount, totals.tax, totals.total) == (D(280), D(8), D(12), D(284))


def test_six_decimal_unit_price_gives_round_gross():
    line = ar.line_amounts(D("16746.218487"), D(1), D(0), [D(19)], 2)
    assert ar.money(line.total, 2) == "19928.00"


@pytest.mark.parametrize(("value", "places", "expected"), [
    ("0.5", 0, "1"), ("2.5", 0, "3"), ("-2.5", 0, "-3"), ("1.005", 2, "1.01"), ("1.004999", 2, "1.00"),
])
def test_rounding_is_half_up(value, places, expected):
    assert ar.money(D(value), places) == expected


def test_text_formats():
    assert ar.quantity_text(D(1)) == "1.00"
    assert ar.quantity_text(D("2.125")) == "2.125"
    assert ar.percentage_text(D(19)) == "19.00"
    assert ar.price_text(D(40), 0) == "40"
    assert ar.price_text(D(40), 2) == "40.00"
    assert ar.price_text(D("16746.2184873"), 2) == "16746.218487"


def test_to_decimal_refuses_non_numbers():
    for value in (None, True, "abc", "NaN", "Infinity", [], {}):
        with pytest.raises(ValueError):
            ar.to_decimal(value)
    assert ar.to_decimal("1.50") == D("1.50")
    assert ar.to_decimal(3) == D(3)


def test_apply_totals_sets_every_computed_field():
    doc = {"decimalPrecision": "0", "payments": [{"amount": "39"}], "retentions": []}
    tax = {"id": "3", "name": "IVA", "percentage": "16.00", "description": "", "type": "IVA"}
    apply_totals(doc, [Line(1, "item1", D(40), D(1), taxes=[tax]), Line(2, "item2", D(80), D(1), taxes=[tax])],
                 credited=D(100))
    assert [i["total"] for i in doc["items"]] == ["46", "93"]
    assert (doc["subtotal"], doc["discount"], doc["tax"], doc["total"]) == ("120", "0", "19", "139")
    assert (doc["totalPaid"], doc["balance"]) == ("39", "0")
