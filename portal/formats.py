"""Numbers, money and dates as the company's country writes them: the portal's one formatter.

Money is rounded here half-up at the precision asked for (Babel would round half-even), then
written with the separators of the company's locale (Colombia: 1.234.567,89; Mexico:
1,234,567.89). Every screen, export and message that shows a figure goes through this module.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from babel.dates import format_date, format_datetime, format_timedelta
from babel.numbers import format_decimal
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


def locale_for(country: str | None) -> str:
    return LOCALES.get((country or "").upper(), DEFAULT_LOCALE)


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


def _pattern(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals > 0 else "")


def number(value: Any, country: str | None = None, *, decimals: int | None = None) -> str:
    """A quantity or percentage: its own decimals (or exactly `decimals`, rounded half-up)."""
    amount = _decimal(value)
    if amount is None:
        return "" if value in (None, "") else str(value)
    if decimals is None:
        decimals = _decimals(amount)
    amount = amount.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return format_decimal(amount, format=_pattern(decimals), locale=locale_for(country), decimal_quantization=False)


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


def price(value: Any, precision: int = 2, country: str | None = None) -> str:
    """A unit price with the decimals it has (up to six), never fewer than the invoice's."""
    amount = _decimal(value)
    if amount is None:
        return str(value) if value not in (None, "") else EMPTY
    places = max(int(precision), min(PRICE_DECIMALS, _decimals(amount)))
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
    return format_date(value, format="dd/MM/yyyy" if locale_for(country).startswith("es") else "medium",
                       locale=locale_for(country))


def datetime(value: dt.datetime | None, country: str | None = None) -> str:
    """A moment in the portal's time zone, to the minute."""
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    pattern = "dd/MM/yyyy HH:mm" if locale_for(country).startswith("es") else "medium"
    return format_datetime(local, format=pattern, locale=locale_for(country))


def ago(value: dt.datetime | None, *, now: dt.datetime | None = None) -> str:
    """How long ago, in the reader's language ("hace 5 minutos", "5 minutes ago")."""
    if value is None:
        return ""
    delta = value - (now or timezone.now())
    language = (translation.get_language() or "es").split("-")[0]
    if abs(delta.total_seconds()) < 60:
        return gettext("just now")
    return format_timedelta(delta, add_direction=True, locale=language)
