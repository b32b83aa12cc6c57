"""{{ page.rows|invoice_rows:list_url }}: the rows of the invoice list, written in one pass."""

import functools
import html
from urllib.parse import quote

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, pgettext

from portal import formats

from .. import vocabulary

register = template.Library()

_ROW = ('\n      <tr{overdue_class}>\n'
        '        <td><a href="{list_url}{pk}/">{number}</a>{stamped}{badges}</td>\n'
        '        <td><a href="?client={client_id}">{client_name}</a></td>\n'
        '        <td>{date}</td>\n'
        '        <td>{due_date}{overdue}</td>\n'
        '        <td><span class="pill {status}">{status_label}</span></td>\n'
        '        <td class="num">{total}</td>\n'
        '        <td class="num">{balance}</td>\n'
        '      </tr>\n    ')
_STAMPED = ' <span class="pill" title="{title}">{label}</span>'
_BADGE = ' <a class="pill badge-{tone}" href="{url}" title="{title}">{label}</a>'
_OVERDUE = ' <span class="pill overdue" data-testid="overdue">{label}</span>'


def _escaped(value) -> str:
    """conditional_escape's result without its lazy-string wrapper (a third of this filter's time)."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


@register.filter
def invoice_rows(rows, list_url) -> SafeString:
    """Every row of a list page, byte for byte what a template loop over them writes.

    A template loop resolved a dozen variables and filters a row: at 50 rows that was half of
    the page's rendering. Every value is escaped here as the template would. A page's rows share
    a few dates and codes: each is written once. An id is written as Python writes it, as the
    template did: the portal sets no thousands separator for plain numbers.
    """
    url, stamped = _escaped(list_url), _escaped(gettext("stamped"))
    overdue = _escaped(pgettext("an invoice", "overdue"))
    dates = functools.cache(lambda day: _escaped(formats.date(day)))
    statuses = functools.cache(lambda code: _escaped(vocabulary.label("status", code)))
    legal = functools.cache(lambda code: _escaped(vocabulary.label("legalStatus", code)))
    written = []
    for row in rows:
        precision = int(row.decimal_precision or 0)
        owes, late = row.owes, row.is_overdue
        written.append(_ROW.format(
            overdue_class=' class="overdue"' if late else "",
            list_url=url, pk=row.pk, number=_escaped(row.number or row.alegra_id),
            stamped=_STAMPED.format(title=legal(row.legal_status), label=stamped)
            if row.is_stamped else "",
            badges="".join(_BADGE.format(tone=_escaped(badge["tone"]), url=_escaped(badge["url"]),
                                         title=_escaped(badge["title"]), label=_escaped(badge["label"]))
                           for badge in row.badges),
            client_id=_escaped(quote(str(row.client_alegra_id), safe="/")),
            client_name=_escaped(row.client_name),
            date=dates(row.date), due_date=dates(row.due_date),
            overdue=_OVERDUE.format(label=overdue) if late else "",
            status=_escaped(row.status), status_label=statuses(row.status),
            total=_escaped(formats.money(row.total, precision)),
            balance=_escaped(formats.money(row.balance, precision)) if owes else "—"))
    return mark_safe("".join(written))


@register.filter
def filter_fields(form, skipped="") -> SafeString:
    """The list's filter form, byte for byte what its template loop wrote: hidden fields bare
    (but `skipped`, the cursor, which the links carry), the others labelled with their errors.
    The loop's tags took 0.3 ms of the form's 1.1 ms; its ten widgets take the rest."""
    parts = []
    for field in form:
        if field.is_hidden:
            if field.name != skipped:
                parts.append(str(field))
            continue
        errors = "".join(f'<span class="error">{_escaped(error)}</span>' for error in field.errors)
        parts.append(f"\n    <label>{_escaped(field.label)} {field}{errors}</label>\n  ")
    return mark_safe("".join(parts))
