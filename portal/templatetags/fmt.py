"""Dates and moments as the company's country writes them, through portal.formats.

{{ invoice.date|fdate }} · {{ run.started_at|fdatetime }} · {{ decision.created_at|ago }}
"""

from django import template

from portal import formats

register = template.Library()


@register.filter
def fdate(value):
    return formats.date(value)


@register.filter
def fdatetime(value):
    return formats.datetime(value)


@register.filter
def fdatetime_seconds(value):
    return formats.datetime(value, seconds=True)


@register.filter
def ago(value):
    """"hace 5 minutos", "5 minutes ago", "ahora mismo" — never "hace 0 minutos"."""
    return formats.ago(value)


@register.filter
def fnumber(value):
    return formats.number(value)
