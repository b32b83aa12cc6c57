"""Numbers, money and dates as the company's country writes them: the portal's one formatter.

Money is rounded here half-up at the precision asked for (Babel would round half-even), then
written with the separators of the company's locale (Colombia: 1.234.567,89; Mexico:
1,234,567.89). Every screen, export and message that shows a figure goes through this module.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from babel.dates import format_date, format_datetime, format_timedelta
from babel import Locale
from babel.numbers import get_decimal_symbol, get_group_symbol
from django.utils import timezone, translation
from django.utils.translation import gettext

# Alegra's countries and the locale each writes numbers and dates in.
LOCALES = {"CO": "es_CO", "MX": "es_MX", "CR": "es_CR", "PE": "es_PE", "AR": "es_AR", "CL": "es_CL",
           "DO": "es_DO", "PA": "es_PA", "ES": "es_ES", "US": "en_US"}
DEFAULT_LOCALE = "es_CO"
EMPTY = "—"
PRICE_DECIMALS = 6  # the most decimals Alegra keeps on a unit price
# Beyond this an amount is a typing accident, not an invoice; it is reported, never printed.
MAX_AMOUNT = Decimal("1e15")


# The country of the company whose page is being drawn: set when a view resolves the membership
# (portal.access), reset at the start of every request, so a filter without a company writes
# and reads numbers the way that company does.
_current_country: ContextVar[str | None] = ContextVar("enmienda_country", default=None)


def locale_for(country: str | None) -> str:
    return LOCALES.get((country or _current_country.get() or "").upper(), DEFAULT_LOCALE)


def language_of(country: str | None) -> str:
    """The language the country speaks, as Django names it ("es" for Colombia)."""
    return locale_for(country).split("_")[0]


# Babel parses a locale name on every call given it as text; a 500-line edit screen writes
# thousands of dates and numbers, so each is parsed once per process.
@functools.cache
def _babel_locale(name: str) -> Locale:
    return Locale.parse(name)


@functools.cache
def _separators(name: str) -> tuple[str, str]:
    """(decimal mark, group mark) of the locale, the group mark one of "." and ","."""
    decimal_mark, group = get_decimal_symbol(name), get_group_symbol(name)
    if group not in ".,":
        group = "," if decimal_mark == "." else "."
    return decimal_mark, group


@functools.cache
def _marks(name: str) -> dict[int, str]:
    """Python's "1,234.5" written with the locale's group and decimal marks, in one pass."""
    return str.maketrans({",": get_group_symbol(name), ".": get_decimal_symbol(name)})


def set_current_country(country: str | None) -> None:
    _current_country.set(country or None)


@contextmanager
def country_in_use(country: str | None) -> Iterator[None]:
    token = _current_country.set(country or None)
    try:
        yield
    finally:
        _current_country.reset(token)


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "" or isinstance(value, (bool, float)):
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _decimals(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def number(value: Any, country: str | None = None, *, decimals: int | None = None) -> str:
    """A quantity or percentage: its own decimals (or exactly `decimals`, rounded half-up)."""
    amount = _decimal(value)
    if amount is None:
        return "" if value in (None, "") else str(value)
    if decimals is None:
        decimals = _decimals(amount)
    try:
        amount = amount.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        # More digits than any amount has (1E+30, 1E-999999, as a document stored them): written
        # as it is rather than failing the page that shows it.
        return str(amount)
    # Decimal's own formatting is exact (no float) and, once rounded, gives Babel's digits and
    # groups of three for every locale in LOCALES: only the marks differ. Babel's pattern took
    # 20 µs a number, and a 500-line edit screen writes thousands (test_formats holds the two equal).
    return format(amount, f",.{decimals}f").translate(_marks(locale_for(country)))


def money(value: Any, precision: int = 2, country: str | None = None, symbol: str = "$") -> str:
    """An amount at the invoice's precision, rounded half-up: "$ 1.234.567,89"."""
    amount = _decimal(value)
    if amount is None:
        return "" if value in (None, "") else str(value)
    text = number(amount, country, decimals=int(precision))
    if not symbol:
        return text
    sign, digits = ("-", text[1:]) if text.startswith("-") else ("", text)
    return f"{sign}{symbol} {digits}"


def price(value: Any, precision: int = 2, country: str | None = None, *, full: bool = False) -> str:
    """A unit price at the invoice's precision ("23.109,24"); `full`: every decimal it has, up to six.

    Alegra keeps up to six decimals on a unit price (a price net of tax); screens show it as the
    invoice's money, the edit form keeps it whole. A diff asks for `full` where the rounded
    prices of both sides would read the same although they differ.
    """
    amount = _decimal(value)
    if amount is None:
        return str(value) if value not in (None, "") else EMPTY
    places = max(int(precision), min(PRICE_DECIMALS, _decimals(amount))) if full else int(precision)
    return number(amount, country, decimals=places)


def printable(value: Any) -> bool:
    amount = _decimal(value)
    return amount is not None and abs(amount) < MAX_AMOUNT


def date(value: dt.date | str | None, country: str | None = None) -> str:
    """A date as the company's country writes it (Colombia: 05/03/2026)."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
        return date(day, country)
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if not isinstance(value, dt.date):
        return str(value)  # a document's date that is no date (5, an object): shown, not a crash
    name = locale_for(country)
    # In figures, never in words: the words would be the company's language, not the reader's.
    return format_date(value, format="dd/MM/yyyy" if name.startswith("es") else "MM/dd/yyyy",
                       locale=_babel_locale(name))


def month(value: dt.date, country: str | None = None) -> str:
    """A month in words, in the reader's language whatever the company's country ("noviembre de
    2026", "November 2026"): one language per screen."""
    if (translation.get_language() or "es").startswith("es"):
        return format_date(value, format="LLLL 'de' y", locale=_babel_locale("es"))
    return format_date(value, format="LLLL y", locale=_babel_locale("en"))


def datetime(value: dt.datetime | None, country: str | None = None, *, seconds: bool = False) -> str:
    """A moment in the portal's time zone, to the minute (or the second)."""
    if value is None or value == "":
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    name = locale_for(country)
    if name.startswith("es"):
        # Babel's "dd/MM/yyyy HH:mm[:ss]" to the character (the tests compare them), written
        # directly: a page of fifty moments through Babel's pattern machinery costs milliseconds.
        text = f"{local.day:02d}/{local.month:02d}/{local.year:04d} {local.hour:02d}:{local.minute:02d}"
        return f"{text}:{local.second:02d}" if seconds else text
    # In figures, as date() writes the day.
    return format_datetime(local, format="MM/dd/yyyy HH:mm:ss" if seconds else "MM/dd/yyyy HH:mm",
                           locale=_babel_locale(name))


def ago(value: dt.datetime | None, *, now: dt.datetime | None = None) -> str:
    """How long ago, in the reader's language ("hace 5 minutos", "5 minutes ago")."""
    if value is None:
        return ""
    delta = value - (now or timezone.now())
    language = (translation.get_language() or "es").split("-")[0]
    if abs(delta.total_seconds()) < 60:
        return gettext("just now")
    return format_timedelta(delta, add_direction=True, locale=language)


# --- reading what people type -------------------------------------------------------------

_DIGITS = re.compile(r"^\d+$")


def _grouped(text: str, group: str) -> bool:
    """"6.500" or "1.234.567" with `group` "."; the first group 1-3 digits, the others exactly 3."""
    parts = text.split(group)
    return (len(parts) > 1 and 1 <= len(parts[0]) <= 3 and not parts[0].startswith("0") and all(_DIGITS.match(p) for p in parts)
            and all(len(p) == 3 for p in parts[1:]))


def parse_decimal(value: Any, country: str | None = None) -> Decimal:
    """A number as typed in the company's country: "6.500,50" in Colombia is 6500.50.

    Also accepted everywhere: "6500,50" and "6500.50" (one separator followed by other than three
    digits is the decimal one), and the other convention's full form ("6,500.50"). "6.500" is
    six thousand five hundred where "." groups thousands. Raises ValueError when unreadable.
    """
    text = str(value or "").strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "").replace("'", "")
    sign = ""
    if text and text[0] in "+-":
        sign, text = ("-" if text[0] == "-" else ""), text[1:]
    if not re.fullmatch(r"[\d.,]+", text) or not any(char.isdigit() for char in text):
        raise ValueError(text)
    _local_decimal, local_group = _separators(locale_for(country))
    if "." in text and "," in text:
        decimal_mark = "." if text.rfind(".") > text.rfind(",") else ","
        group = "," if decimal_mark == "." else "."
        whole, _sep, fraction = text.rpartition(decimal_mark)
        if not _grouped(whole, group) or not _DIGITS.match(fraction):
            raise ValueError(text)
        digits = whole.replace(group, "") + "." + fraction
    else:
        mark = "." if "." in text else "," if "," in text else ""
        if not mark:
            digits = text
        elif mark == local_group and _grouped(text, mark):
            digits = text.replace(mark, "")
        elif text.count(mark) == 1:
            whole, _sep, fraction = text.partition(mark)
            if not (whole or fraction) or (whole and not _DIGITS.match(whole)) or (fraction and not _DIGITS.match(fraction)):
                raise ValueError(text)
            digits = (whole or "0") + "." + (fraction or "0")
        else:
            raise ValueError(text)
    try:
        number = Decimal(sign + digits)
    except InvalidOperation:
        raise ValueError(text) from None
    if not number.is_finite():
        raise ValueError(text)
    return number


def input_text(value: Any, country: str | None = None) -> str:
    """A stored number as an input box shows it: every stored decimal, the company's separators."""
    amount = _decimal(value)
    if amount is None:
        return "" if value in (None, "") else str(value)
    return number(amount, country)
