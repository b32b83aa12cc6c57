"""{{ page.rows|invoice_rows:list_url }}: the rows of the invoice list, written in one pass."""

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


def e(value) -> str:
    """conditional_escape's result without its lazy-string wrapper (a third of this filter's time)."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


class _Memo(dict):
    def __init__(self, write):
        super().__init__()
        self.write = write

    def __missing__(self, key):
        self[key] = written = self.write(key)
        return written


@register.filter
def invoice_rows(rows, list_url) -> SafeString:
    """Every row of a list page, byte for byte what a template loop over them writes.

    A template loop resolved a dozen variables and filters a row: at 50 rows that was half of
    the page's rendering. Every value is escaped here as the template would. A page's rows share
    a few dates and codes: each is written once. An id is written as Python writes it, as the
    template did: the portal sets no thousands separator for plain numbers.
    """
    url, stamped, overdue = e(list_url), e(gettext("stamped")), e(pgettext("an invoice", "overdue"))
    dates = _Memo(lambda day: e(formats.date(day)))
    statuses = _Memo(lambda code: e(vocabulary.label("status", code)))
    legal = _Memo(lambda code: e(vocabulary.label("legalStatus", code)))
    written = []
    for row in rows:
        precision = int(row.decimal_precision or 0)
        owes, late = row.owes, row.is_overdue
        written.append(_ROW.format(
            overdue_class=' class="overdue"' if late else "",
            list_url=url, pk=row.pk, number=e(row.number or row.alegra_id),
            stamped=_STAMPED.format(title=legal[row.legal_status], label=stamped)
            if row.is_stamped else "",
            badges="".join(_BADGE.format(tone=e(badge["tone"]), url=e(badge["url"]), title=e(badge["title"]),
                                         label=e(badge["label"])) for badge in row.badges),
            client_id=e(quote(str(row.client_alegra_id), safe="/")), client_name=e(row.client_name),
            date=dates[row.date], due_date=dates[row.due_date],
            overdue=_OVERDUE.format(label=overdue) if late else "",
            status=e(row.status), status_label=statuses[row.status],
            total=e(formats.money(row.total, precision)),
            balance=e(formats.money(row.balance, precision)) if owes else "—"))
    return mark_safe("".join(written))
