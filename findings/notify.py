"""News of new findings for the company's accountants: one notification per scan that raised any,
in each reader's language (portal.notifications), linking to Review."""

from __future__ import annotations

import datetime

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal import notifications
from portal.models import Membership, Role

from .models import Finding

SHOWN_NUMBERS = 5

KINDS = {
    "findings.new": notifications.Kind(
        lambda p: ngettext("%(count)s new finding to review", "%(count)s new findings to review", p["count"]) % p,
        lambda p: _("On invoices %(numbers)s. Review shows the evidence and the suggested fix of each.") % p),
}


def new_findings_told(*, company_id: int, since: datetime.datetime) -> int:
    """Tell the company's accountants of the findings raised (open) since `since`; how many."""
    raised = Finding.objects.filter(company_id=company_id, state=Finding.State.OPEN, first_seen_at__gte=since)
    count = raised.count()
    if not count:
        return 0
    numbers = []
    for number, alegra_id in (raised.order_by("-impact", "id").values_list("invoice__number", "invoice__alegra_id")
                              .distinct()[:SHOWN_NUMBERS * 4]):
        shown = number or alegra_id
        if shown not in numbers:
            numbers.append(shown)
    more = "…" if len(numbers) > SHOWN_NUMBERS else ""
    accountants = [m.user for m in Membership.objects.filter(company_id=company_id, role=Role.ACCOUNTANT)
                   .select_related("user")]
    notifications.notify(users=accountants, company=company_id, kind="findings.new",
                         params={"count": count, "numbers": ", ".join(numbers[:SHOWN_NUMBERS]) + more},
                         url=reverse("findings:review", args=[company_id]))
    return count
