import dataclasses
from decimal import Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invoices.arithmetic import (
    InvoiceTotals,
    format_amount,
    invoice_totals,
    line_totals,
    quantize,
    to_decimal,
    to_precision,
    with_totals,
)
from tests.documents import fixtures
from tests.documents.strategies import TAXES, invoices, respelled

IVA16 = [{"id": "3", "name": "IVA", "percentage": "16.00", "type": "IVA"}]


# --- recorded answers ---------------------------------------------------------------


def test_recorded_line_price_40_with_iva_16_is_46():
    line = {"id": 1, "price": 40, "quantity": "1.00", "discount": "0.00", "tax": IVA16}
    assert line_totals(line, 0).total == Decimal(46)


def test_recorded_line_price_80_discount_10_with_iva_16_is_84():
    line = {"id": 2, "price": 80, "quantity": 1, "discount": "10", "tax": IVA16}
    totals = line_totals(line, 0)
    assert totals.discount == Decimal(8)
    assert totals.total == Decimal(84)


def test_recorded_invoice_totals_139():
    doc = fixtures.simple_invoice()
    totals = invoice_totals(doc)
    assert totals.total == Decimal(139) == to_decimal(doc["total"])
    assert [line.total for line in totals.lines] == [46, 93]
    assert (totals.subtotal, totals.discount, totals.tax) == (120, 0, 19)
    assert totals.balance == 139
    assert totals.precision == 0
    (iva,) = totals.taxes
    assert (iva.id, iva.name, iva.percentage, iva.amount) == ("3", "IVA", Decimal("16.00"), 19)


def test_recorded_created_invoice_with_empty_discount_and_no_tax():
    doc = fixtures.created_invoice()
    totals = invoice_totals(doc)
    assert [line.total for line in totals.lines] == [200, 84]
    assert totals.total == 284 == doc["total"]


def test_recorded_updated_invoice_keeps_its_totals():
    doc = fixtures.load("recorded-update_invoice.json")
    assert invoice_totals(doc).total == doc["total"]


def test_six_decimal_price_at_precision_2_with_tax_from_catalogue():
    # alegracli: 16746.218487 + 19 % IVA is shown as 19928.00; the line tax has no percentage.
    doc = fixtures.load("alegracli-GET_invoices_1.json")
    totals = invoice_totals(doc, {3: {"name": "IVA 19%", "percentage": "19.00"}})
    assert totals.total == Decimal("19928.00")
    assert str(totals.total) == "19928.00"
    assert totals.balance == to_decimal(doc["balance"])


def test_missing_tax_percentage_without_catalogue_is_a_clear_error():
    doc = fixtures.load("alegracli-GET_invoices_1.json")
    with pytest.raises(ValueError, match="tax 3 has no percentage"):
        invoice_totals(doc)


def test_with_totals_writes_strings_at_precision_and_leaves_the_input_alone():
    doc = fixtures.simple_invoice()
    doc["decimalPrecision"] = "2"
    result = with_totals(doc)
    assert result["total"] == "139.20"
    assert (result["subtotal"], result["discount"], result["tax"]) == ("120.00", "0.00", "19.20")
    assert result["balance"] == "139.20"
    assert [line["total"] for line in result["items"]] == ["46.40", "92.80"]
    assert doc["total"] == 139 and doc["items"][0]["total"] == 46
    assert result["client"] == doc["client"] and result["client"] is not doc["client"]


def test_balance_is_total_minus_total_paid():
    doc = fixtures.simple_invoice() | {"totalPaid": "39.0000000000"}
    totals = invoice_totals(doc)
    assert totals.total_paid == 39
    assert totals.balance == 100


def test_taxes_are_broken_down_by_id():
    doc = {
        "decimalPrecision": 2,
        "items": [
            {"id": 1, "price": "100", "quantity": 1, "tax": [TAXES["3"], TAXES["2"]]},
            {"id": 2, "price": "10.005", "quantity": 1, "tax": [TAXES["3"]]},
        ],
    }
    totals = invoice_totals(doc)
    assert [(t.id, t.amount) for t in totals.taxes] == [("3", Decimal("17.60")),
                                                        ("2", Decimal("5.00"))]
    assert totals.tax == Decimal("22.60")  # 16 + 5 + 1.6008 = 22.6008
    assert totals.total == totals.subtotal - totals.discount + totals.tax


# --- values ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("16.00", Decimal("16.00")), (" 5 ", Decimal(5)), (40, Decimal(40)), (None, Decimal(0)),
     ("", Decimal(0)), (Decimal("0.0000000000"), Decimal(0)),
     ("16746.218487", Decimal("16746.218487")), ("1234567890123456.78", Decimal("1234567890123456.78"))],
)
def test_to_decimal(value, expected):
    assert to_decimal(value) == expected


@pytest.mark.parametrize("value", ["abc", "1,5", "NaN", "Infinity", "1e", "--1", [1], {"a": 1}])
def test_to_decimal_refuses_garbage_with_a_value_error(value):
    with pytest.raises(ValueError, match="not a"):
        to_decimal(value)


@pytest.mark.parametrize("value", [0.1, 40.0, float("nan"), True, False])
def test_to_decimal_refuses_floats_and_bools(value):
    with pytest.raises(TypeError):
        to_decimal(value)


@pytest.mark.parametrize(("value", "expected"), [("0", 0), (2, 2), ("2.0", 2), (None, 0), ("", 0)])
def test_precision(value, expected):
    assert to_precision(value) == expected


@pytest.mark.parametrize("value", ["-1", "1.5", "abc", "11"])
def test_bad_precision(value):
    with pytest.raises(ValueError):
        to_precision(value)


@pytest.mark.parametrize(
    ("amount", "precision", "expected"),
    [("0.5", 0, "1"), ("1.5", 0, "2"), ("2.5", 0, "3"), ("2.49", 0, "2"), ("0.005", 2, "0.01"),
     ("0.015", 2, "0.02"), ("0.0049999", 2, "0.00"), ("46.4", 0, "46"), ("92.8", 0, "93"),
     ("19927.99999944", 2, "19928.00")],
)
def test_quantize_rounds_half_up(amount, precision, expected):
    assert str(quantize(amount, precision)) == expected
    assert format_amount(amount, precision) == expected


def test_quantize_refuses_float_amount_and_float_precision():
    with pytest.raises(TypeError):
        quantize(0.5, 0)
    with pytest.raises(TypeError):
        quantize("0.5", 0.0)


def test_a_float_anywhere_in_a_document_is_refused():
    doc = fixtures.simple_invoice()
    for path in (("items", 0, "price"), ("items", 1, "quantity"), ("items", 0, "discount"),
                 ("items", 0, "tax", 0, "percentage"), ("totalPaid",)):
        broken = fixtures.simple_invoice()
        target = broken
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = 1.0
        with pytest.raises(TypeError):
            invoice_totals(broken)
        with pytest.raises(TypeError):
            with_totals(broken)
    assert invoice_totals(doc).total == 139


def _walk(value):
    if dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            yield from _walk(getattr(value, f.name))
    elif isinstance(value, dict):
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _walk(v)
    else:
        yield value


# --- properties -------------------------------------------------------------------


def _half_up(value: Fraction, precision: int) -> Fraction:
    scale = 10**precision
    scaled = value * scale
    floor = scaled.numerator // scaled.denominator
    return Fraction(floor + (1 if scaled - floor >= Fraction(1, 2) else 0), scale)


def _oracle_total(doc: dict) -> Fraction:
    """The same formula in exact fractions, as an independent check."""
    p = int(doc["decimalPrecision"])
    bases, discounts, taxes = Fraction(0), Fraction(0), Fraction(0)
    for line in doc["items"]:
        base = Fraction(line["price"]) * Fraction(line["quantity"])
        discount = base * Fraction(line["discount"]) / 100
        bases += base
        discounts += discount
        for tax in line["tax"]:
            taxes += (base - discount) * Fraction(tax["percentage"]) / 100
    return _half_up(bases, p) - _half_up(discounts, p) + _half_up(taxes, p)


@settings(max_examples=150, deadline=None)
@given(invoices())
def test_invoice_invariants(doc):
    totals = invoice_totals(doc)
    p = totals.precision
    assert totals.total == totals.subtotal - totals.discount + totals.tax
    assert totals.balance == totals.total - totals.total_paid
    for amount in (totals.subtotal, totals.discount, totals.tax, totals.total,
                   *(line.total for line in totals.lines), *(t.amount for t in totals.taxes)):
        assert amount.as_tuple().exponent == -p
    assert Fraction(totals.total) == _oracle_total(doc)
    for line, line_total in zip(doc["items"], totals.lines):
        exact = Fraction(line_total.taxable + line_total.tax)
        assert Fraction(line_total.total) == _half_up(exact, p)
    assert not any(isinstance(v, float) for v in _walk(totals))
    assert isinstance(totals, InvoiceTotals)


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_result_is_independent_of_how_numbers_are_written(data):
    doc = data.draw(invoices())
    other = data.draw(respelled(doc))
    assert invoice_totals(doc) == invoice_totals(other)
    assert with_totals(doc)["total"] == with_totals(other)["total"]


@settings(max_examples=100, deadline=None)
@given(invoices())
def test_with_totals_is_stable_and_float_free(doc):
    once = with_totals(doc)
    assert with_totals(once) == once
    assert invoice_totals(once) == invoice_totals(doc)
    for key in ("subtotal", "discount", "tax", "total", "balance"):
        assert isinstance(once[key], str)
    assert not any(isinstance(v, float) for v in _walk(once))


@given(st.integers(0, 10**9), st.sampled_from([0, 2]))
def test_half_up_at_the_half(units, precision):
    # x.5 (or x.xx5) with no tax or discount always rounds away from zero.
    price = Decimal(units).scaleb(-precision) + Decimal(5).scaleb(-precision - 1)
    line = {"price": format(price, "f"), "quantity": "1", "tax": []}
    assert line_totals(line, precision).total == (Decimal(units + 1)).scaleb(-precision)


@pytest.mark.parametrize("value", ["1e999", "1" * 19, Decimal("-1E+18")])
def test_absurd_magnitudes_are_refused(value):
    with pytest.raises(ValueError, match="sane size"):
        to_decimal(value)


def test_the_largest_figures_still_round_exactly():
    line = {"price": "999999999999999999.999999", "quantity": "999999999999999999.99",
            "discount": "33.333333", "tax": [TAXES["4"], TAXES["3"]]}
    totals = invoice_totals({"decimalPrecision": 10, "items": [line]})
    # 46 significant digits: the check itself needs a wider context than Python's 28.
    with localcontext(prec=60):
        assert totals.total == totals.subtotal - totals.discount + totals.tax
    assert Fraction(totals.total) == _oracle_total({"decimalPrecision": 10, "items": [
        {**line, "tax": [TAXES["4"], TAXES["3"]]}]})
    assert format_amount(totals.total, 10) == format(totals.total, "f")


def test_retentions_are_computed_on_their_base_and_written_with_the_totals():
    from invoices.arithmetic import with_totals

    doc = {"decimalPrecision": "0", "items": [
        {"id": 1, "price": "1000", "quantity": "3", "discount": "10",
         "tax": [{"id": "3", "name": "IVA", "percentage": "19", "type": "IVA"}]}],
        "retentions": [{"id": "1", "name": "Retefuente", "percentage": "2.5", "type": "FUENTE", "amount": "0"},
                       {"id": "4", "name": "ReteIVA", "percentage": "15", "type": "IVA", "amount": "0"}]}
    totals = invoice_totals(doc)
    # taxable 2,700; IVA 513; ReteFuente 2.5 % of 2,700 = 67.5 → 68; ReteIVA 15 % of 513 = 76.95 → 77
    assert [(r.id, r.amount) for r in totals.retentions] == [("1", Decimal("68")), ("4", Decimal("77"))]
    assert totals.total == Decimal("3213")  # withholdings do not change the total
    assert [r["amount"] for r in with_totals(doc)["retentions"]] == ["68", "77"]


# --- edges the mutation run found unguarded ------------------------------------------------


CATALOGUE = {3: {"name": "IVA 19%", "percentage": "19.00"}}


def test_a_tax_with_an_empty_percentage_takes_the_catalogue_s_and_its_name():
    line = {"price": "100", "quantity": "1", "tax": [{"id": "3", "percentage": ""}]}
    totals = line_totals(line, 2, CATALOGUE)
    assert [(t.id, t.name, t.percentage, t.amount) for t in totals.taxes] == [("3", "IVA 19%", Decimal("19.00"),
                                                                              Decimal("19"))]
    assert totals.total == Decimal("119.00")
    # A bare id works the same way.
    assert line_totals({**line, "tax": ["3"]}, 2, CATALOGUE).total == Decimal("119.00")
    # The line's own non-empty values win over the catalogue's.
    named = line_totals({**line, "tax": [{"id": "3", "name": "IVA general", "percentage": ""}]}, 2, CATALOGUE)
    assert [(t.name, t.percentage) for t in named.taxes] == [("IVA general", Decimal("19.00"))]
    # A tax that carries its own percentage is taken as written, the catalogue unread.
    own = line_totals({**line, "tax": [{"id": "3", "percentage": "5"}]}, 2, CATALOGUE)
    assert [(t.name, t.percentage) for t in own.taxes] == [("", Decimal("5"))]
    with pytest.raises(ValueError, match="tax 3 has no percentage"):
        line_totals(line, 2)
    with pytest.raises(ValueError, match=r"tax \? has no percentage"):
        line_totals({**line, "tax": [{"percentage": None}]}, 2)


def test_a_tax_without_a_name_is_named_empty_and_without_taxes_the_tax_is_a_decimal_zero():
    totals = line_totals({"price": "100", "quantity": "1", "tax": [{"id": "3", "percentage": "5"}]}, 0)
    assert [t.name for t in totals.taxes] == [""]
    untaxed = line_totals({"price": "100", "quantity": "1"}, 0)
    assert untaxed.taxes == () and untaxed.total == Decimal("100")


def test_with_totals_fills_missing_percentages_from_the_catalogue():
    doc = {"decimalPrecision": "2", "items": [{"price": "100", "quantity": "2", "tax": [{"id": "3"}]}]}
    result = with_totals(doc, CATALOGUE)
    assert (result["subtotal"], result["tax"], result["total"]) == ("200.00", "38.00", "238.00")
    assert result["items"][0]["total"] == "238.00"


def test_figures_past_28_digits_stay_exact():
    # 18 integer digits times 6 decimals: 31 significant digits, past Decimal's default context.
    line = {"price": "999999999999999999", "quantity": "999999.999999", "tax": []}
    exact = Decimal("999999999998999999000000.000001")  # at 28 digits: ...000000.0000
    assert line_totals(line, 6).base == exact
    assert invoice_totals({"decimalPrecision": "6", "items": [line]}).subtotal == exact


def test_retentions_skip_what_is_not_one_and_keep_their_name_and_percentage():
    doc = {"decimalPrecision": "0", "items": [
        {"price": "1000", "quantity": "1", "tax": [{"id": "3", "name": "IVA", "percentage": "19"}]}],
        "retentions": ["basura", {"id": "4", "name": "ReteIVA", "percentage": "15", "type": "iva"},
                       {"id": "5", "percentage": "1"}]}
    retentions = invoice_totals(doc).retentions
    assert [(r.id, r.name, r.percentage, r.amount) for r in retentions] == [
        ("4", "ReteIVA", Decimal("15"), Decimal("29")),  # 15 % of the 190 of IVA (type in any case)
        ("5", "", Decimal("1"), Decimal("10")),  # 1 % of the taxable 1,000
    ]


def test_fixed_point_even_for_a_zero_at_ten_decimals_and_a_bool_precision_is_refused():
    assert format_amount("0", 10) == "0.0000000000"
    assert format_amount("100000", 0) == "100000"
    with pytest.raises(TypeError, match="^precision must be an int, not bool$"):
        quantize("0.5", True)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: to_precision("1.5"), "not a decimal precision: '1.5'"),
    (lambda: line_totals(["x"], 0), "not an invoice line: ['x']"),
    (lambda: line_totals({"price": "1", "tax": "IVA"}, 0), "not a list of taxes: 'IVA'"),
    (lambda: invoice_totals({"items": "x"}), "not a list of lines: 'x'"),
])
def test_refusals_say_what_was_wrong(call, message):
    with pytest.raises(ValueError) as refused:
        call()
    assert str(refused.value) == message
