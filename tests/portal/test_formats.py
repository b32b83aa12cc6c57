"""The one formatter: the company's separators, half-up rounding at the invoice's precision."""

import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from portal import formats


@pytest.mark.parametrize(("country", "expected"), [
    ("CO", "$ 1.234.567,89"), ("MX", "$ 1,234,567.89"), ("AR", "$ 1.234.567,89"), ("", "$ 1.234.567,89"),
])
def test_money_follows_the_companys_country(country, expected):
    assert formats.money(Decimal("1234567.885"), 2, country) == expected


def test_money_rounds_half_up_not_to_even():
    # Babel alone rounds half to even (12.5 → 12); Alegra and the portal round half up.
    assert formats.money(Decimal("12.5"), 0, "CO") == "$ 13"
    assert formats.money(Decimal("-12.5"), 0, "CO") == "-$ 13"
    assert formats.money("0.125", 2, "MX", symbol="") == "0.13"


def test_prices_are_shown_at_the_invoices_precision_and_whole_when_asked():
    assert formats.price(Decimal("5798.319328"), 2, "CO") == "5.798,32"
    assert formats.price(Decimal("40"), 2, "CO") == "40,00"
    assert formats.price(Decimal("1.5"), 0, "CO") == "2"
    assert formats.price(Decimal("5798.319328"), 2, "CO", full=True) == "5.798,319328"
    assert formats.price(Decimal("1.1234567"), 0, "CO", full=True) == "1,123457"


@pytest.mark.parametrize(("typed", "country", "expected"), [
    ("6.500,50", "CO", "6500.50"), ("6500,50", "CO", "6500.50"), ("6500.50", "CO", "6500.50"),
    ("6.500", "CO", "6500"), ("1.234.567,8", "CO", "1234567.8"), ("5798.319328", "CO", "5798.319328"),
    ("0.001", "CO", "0.001"), ("-1,5", "CO", "-1.5"), ("6,500.50", "CO", "6500.50"),
    ("6,500", "MX", "6500"), ("6,500.50", "MX", "6500.50"), ("6500,50", "MX", "6500.50"), ("6.5", "MX", "6.5"),
])
def test_numbers_are_read_as_the_companys_country_types_them(typed, country, expected):
    assert formats.parse_decimal(typed, country) == Decimal(expected)


@pytest.mark.parametrize("typed", ["", "abc", "1.2.3", "6.50,0", "1,2,3", "1e5", "NaN", "--1", "6.500,5,0"])
def test_what_cannot_be_read_is_refused(typed):
    with pytest.raises(ValueError):
        formats.parse_decimal(typed, "CO")


def test_the_page_company_sets_the_country_a_number_is_read_and_written_in():
    with formats.country_in_use("MX"):
        assert formats.parse_decimal("6,500") == Decimal("6500")
        assert formats.money(Decimal("6500.5")) == "$ 6,500.50"
    with formats.country_in_use("CO"):
        assert formats.parse_decimal("6,500") == Decimal("6.5")
        assert formats.input_text("6500.5") == "6.500,5"


def test_numbers_and_garbage():
    assert formats.number(Decimal("17.60"), "CO") == "17,6"
    assert formats.number("abc") == "abc" and formats.number(None) == ""
    assert formats.money(0.1) == "0.1"  # a float is not a number here: shown as it came, never computed


def test_dates_as_the_country_writes_them():
    assert formats.date(datetime.date(2026, 3, 5), "CO") == "05/03/2026"
    assert formats.date("2026-03-05", "MX") == "05/03/2026"
    assert formats.date("not a date", "CO") == "not a date"


def test_never_zero_minutes_ago():
    now = datetime.datetime(2026, 11, 29, 12, 0, tzinfo=datetime.UTC)
    with translation.override("es"):
        for seconds in (0, 10, 59, 89):
            assert "0 minutos" not in formats.ago(now - datetime.timedelta(seconds=seconds), now=now)


def test_how_long_ago_in_the_readers_language():
    now = datetime.datetime(2026, 11, 29, 12, 0, tzinfo=datetime.UTC)
    with translation.override("es"):
        assert formats.ago(now - datetime.timedelta(minutes=5), now=now) == "hace 5 minutos"
        assert formats.ago(now, now=now) == "ahora mismo"
    with translation.override("en"):
        assert formats.ago(now - datetime.timedelta(hours=2), now=now) == "2 hours ago"


@pytest.mark.parametrize("country", sorted(formats.LOCALES))
def test_moments_are_written_as_babel_writes_them_for_every_country(country):
    """Spanish-speaking countries' moments are written without Babel: the same characters it writes."""
    from babel.dates import format_datetime

    name = formats.LOCALES[country]
    moments = [datetime.datetime(year, month, day, hour, minute, second)
               for year, month, day, hour, minute, second in [
                   (2026, 3, 5, 0, 0, 0), (2026, 12, 31, 23, 59, 59), (1999, 1, 9, 9, 5, 7), (5, 2, 3, 4, 5, 6),
                   (2028, 2, 29, 12, 30, 1), (9999, 12, 31, 13, 0, 59)]]
    for moment in moments:
        for seconds in (False, True):
            pattern = ("dd/MM/yyyy" if name.startswith("es") else "MM/dd/yyyy") + " HH:mm" + (":ss" if seconds else "")
            expected = format_datetime(moment, format=pattern, locale=name)
            assert formats.datetime(moment, country, seconds=seconds) == expected, (moment, seconds)


def test_a_moment_a_day_and_a_month_are_in_figures_or_in_the_reader_s_words():
    """A US company's dates were Babel's "medium" ("Mar 5, 2026"): English words on a Spanish
    page. The month-end's month was in the company's language on an English page."""
    moment = datetime.datetime(2026, 3, 5, 14, 7, 9)
    with translation.override("es"):
        assert (formats.date(moment.date(), "US"), formats.datetime(moment, "US")) == ("03/05/2026", "03/05/2026 14:07")
        assert (formats.month(moment.date(), "US"), formats.month(moment.date(), "CO")) == ("marzo de 2026",) * 2
    with translation.override("en"):
        assert (formats.month(moment.date(), "US"), formats.month(moment.date(), "CO")) == ("March 2026",) * 2


@pytest.mark.parametrize("country", sorted(formats.LOCALES))
def test_numbers_are_written_as_babel_writes_them_for_every_country(country):
    """Numbers are written without Babel's pattern engine: the same characters it writes."""
    import random

    from babel.numbers import parse_pattern

    name = formats.LOCALES[country]
    draw = random.Random(country)
    values = ["0", "-0", "0.005", "-0.005", "1", "-1", "999", "1000", "-1000", "999999.995", "1234567.891",
              "1E+6", "1.5E-3", "123456789012345.678901", "-98765432109876.5"]
    values += [f"{draw.choice('-+')}{draw.randrange(10 ** draw.randrange(1, 16))}.{draw.randrange(10 ** 6):06d}"
               for _ in range(300)]
    for text in values:
        for decimals in range(7):
            rounded = Decimal(text).quantize(Decimal(1).scaleb(-decimals), rounding="ROUND_HALF_UP")
            expected = parse_pattern("#,##0" + ("." + "0" * decimals if decimals else "")).apply(
                rounded, name, decimal_quantization=False)
            assert formats.number(text, country, decimals=decimals) == expected, (text, decimals)
    assert formats.number("1234.5", country) == parse_pattern("#,##0.0").apply(Decimal("1234.5"), name)
