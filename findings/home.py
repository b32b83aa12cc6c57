"""The home page's panel of open findings, for accountants (see portal.home)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from portal import formats
from portal.home import Figure, Item, Panel
from portal.models import Role

from .models import Finding

LIMIT = 6


def panels(membership, user) -> list[Panel]:
    if membership.role != Role.ACCOUNTANT:
        return []
    company = membership.company
    open_ = Finding.objects.filter(company=company, state=Finding.State.OPEN)
    rows = open_.select_related("invoice").order_by("-rank", "-impact", "-id")[:LIMIT]
    review = reverse("findings:review", kwargs={"company_id": company.pk})
    return [Panel(
        "findings", _("Open findings, most serious first"), order=10,
        items=[Item(f"{f.invoice} · {f.get_kind_display()} · {f.get_severity_display()}",
                    reverse("findings:finding_detail", kwargs={"company_id": company.pk, "pk": f.pk}),
                    formats.money(f.impact, company.decimal_precision, company.country),
                    "bad" if f.severity == Finding.Severity.HIGH else "") for f in rows],
        figures=[Figure(_("open"), formats.number(open_.count()), review)],
        empty=_("No open findings: the last scan found nothing to look at."),
        more_url=review, more_label=_("Open the Review page"))]
