"""Money and dates as the company's country writes them."""

from django import template

from portal import formats

from .. import vocabulary

register = template.Library()


@register.filter
def money(value, company):
    """{{ invoice.total|money:company }} — the company's precision and separators."""
    precision = getattr(company, "decimal_precision", 2)
    country = getattr(company, "country", "CO")
    return formats.money(value, precision, country)


@register.filter
def money_of(value, holder):
    """{{ cr.old_total|money_of:cr }} — the precision of the invoice it holds (an invoice may have
    its own decimalPrecision), the separators of its company."""
    invoice = getattr(holder, "invoice", holder)
    return formats.money(value, getattr(invoice, "decimal_precision", 2), getattr(holder.company, "country", "CO"))


@register.filter
def money_at(value, precision):
    """{{ amount|money_at:invoice.decimal_precision }} — the given precision."""
    return formats.money(value, int(precision or 0))


@register.filter
def price_at(value, precision):
    """{{ line.price|price_at:invoice.decimal_precision }} — a unit price at the invoice's precision."""
    return formats.price(value, int(precision or 0))


@register.filter
def number(value):
    """A quantity or percentage without trailing zeros: 2.00 → 2, 19.50 → 19,5."""
    return formats.number(value)


@register.filter
def invoice_status(value):
    """Alegra's status code as words in the reader's language."""
    return vocabulary.label("status", value)


@register.filter
def alegra_label(value, field):
    """{{ doc.paymentForm|alegra_label:"paymentForm" }}: Alegra's code as words ("CREDIT" → "Crédito")."""
    return vocabulary.label(str(field), value)
