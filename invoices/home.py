"""The home page's panel on the mirror's freshness, for managers (see portal.home)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from portal import formats
from portal.home import Figure, Panel
from portal.models import Role

from . import queries
from .models import Invoice, SyncRun


def panels(membership, user) -> list[Panel]:
    if membership.role != Role.MANAGER:
        return []
    company = membership.company
    last = queries.last_synced_at(company.pk)
    running = SyncRun.objects.filter(company=company, state__in=(SyncRun.State.QUEUED, SyncRun.State.RUNNING)).exists()
    failed = SyncRun.objects.filter(company=company).order_by("-started_at").values_list("state", flat=True).first()
    figures = [Figure(_("last successful sync"), formats.ago(last) if last else _("never"),
                      tone="" if last else "bad"),
               Figure(_("invoices mirrored"), formats.number(Invoice.objects.filter(company=company).count()))]
    if running:
        figures.append(Figure(_("status"), _("a sync is running"), tone="warn"))
    elif failed == SyncRun.State.FAILED:
        figures.append(Figure(_("status"), _("the last sync failed"), tone="bad"))
    url = reverse("invoices:sync_page", kwargs={"company_id": company.pk})
    return [Panel("sync", _("The mirror of Alegra"), order=30, figures=figures, more_url=url,
                  more_label=_("The Sync page"))]
