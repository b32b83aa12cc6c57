"""Money and dates as the company's country writes them."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

register = template.Library()

# (thousands separator, decimal separator) by country; Colombia writes 1.234.567,89.
SEPARATORS = {"CO": (".", ","), "AR": (".", ","), "CL": (".", ","), "ES": (".", ","),
              "MX": (",", "."), "PE": (",", "."), "CR": (" ", ","), "US": (",", ".")}


def format_money(value, precision: int = 2, country: str = "CO", symbol: str = "$") -> str:
    if value in (None, ""):
        return ""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    amount = amount.quantize(Decimal(1).scaleb(-int(precision)), rounding=ROUND_HALF_UP)
    thousands, decimal_sep = SEPARATORS.get(country, (",", "."))
    sign = "-" if amount < 0 else ""
    whole, _, fraction = f"{abs(amount):f}".partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    text = thousands.join(groups)
    if fraction:
        text += decimal_sep + fraction
    return f"{sign}{symbol} {text}".strip()


@register.filter
def money(value, company):
    """{{ invoice.total|money:company }} — the company's precision and separators."""
    precision = getattr(company, "decimal_precision", 2)
    country = getattr(company, "country", "CO")
    return format_money(value, precision, country)


@register.filter
def money_at(value, precision):
    """{{ amount|money_at:invoice.decimal_precision }} — Colombian separators, given precision."""
    return format_money(value, int(precision or 0), "CO")


@register.filter
def number(value):
    """A quantity or percentage without trailing zeros: 2.00 → 2, 19.50 → 19.5."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return value
    text = format(amount, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@register.filter
def invoice_status(value):
    """Alegra's status code as words in the reader's language."""
    from django.utils.translation import gettext

    labels = {"draft": gettext("Draft"), "open": gettext("Open"), "closed": gettext("Paid"), "void": gettext("Void")}
    return labels.get(value, value)
