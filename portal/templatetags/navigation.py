"""{% main_nav %}: the header's links for the company and role being looked at."""

from functools import lru_cache
from types import SimpleNamespace

from django import template
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()


@register.simple_tag(takes_context=True)
def main_nav(context) -> SafeString:
    """partials/nav.html for the current membership, written once per company, role, language
    and address prefix in a process: its dozen addresses cost every page about a millisecond to
    reverse, and none of them changes while the process runs. Its counters load after the page."""
    membership = context["current_membership"]
    return _written(membership.company_id, membership.role, get_language(), get_script_prefix())


@lru_cache(maxsize=4096)
def _written(company_id: int, role: str, language: str, prefix: str) -> SafeString:
    # The template reads nothing of the membership but these two.
    seen = SimpleNamespace(company_id=company_id, role=role)
    return mark_safe(render_to_string("partials/nav.html", {"current_membership": seen}))
