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


def test_prices_keep_their_decimals_up_to_six_and_never_fewer_than_the_invoice():
    assert formats.price(Decimal("5798.319328"), 2, "CO") == "5.798,319328"
    assert formats.price(Decimal("40"), 2, "CO") == "40,00"
    assert formats.price(Decimal("1.1234567"), 0, "CO") == "1,123457"


def test_numbers_and_garbage():
    assert formats.number(Decimal("17.60"), "CO") == "17,6"
    assert formats.number("abc") == "abc" and formats.number(None) == ""
    assert formats.money(0.1) == "0.1"  # a float is not a number here: shown as it came, never computed


def test_dates_as_the_country_writes_them():
    assert formats.date(datetime.date(2026, 3, 5), "CO") == "05/03/2026"
    assert formats.date("2026-03-05", "MX") == "05/03/2026"
    assert formats.date("not a date", "CO") == "not a date"


def test_how_long_ago_in_the_readers_language():
    now = datetime.datetime(2026, 11, 29, 12, 0, tzinfo=datetime.UTC)
    with translation.override("es"):
        assert formats.ago(now - datetime.timedelta(minutes=5), now=now) == "hace 5 minutos"
        assert formats.ago(now, now=now) == "ahora mismo"
    with translation.override("en"):
        assert formats.ago(now - datetime.timedelta(hours=2), now=now) == "2 hours ago"
