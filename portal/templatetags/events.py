"""{{ version.history_change_reason|reason }}: why it happened, in the reader's language."""

from django import template

from portal import events

register = template.Library()


@register.filter
def reason(value) -> str:
    return events.describe(value)
