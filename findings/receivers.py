"""What findings does when the mirror speaks (registered in FindingsConfig.ready)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import OPEN_STATES, Finding

SEVERITY_BY_RANK = {3: "high", 2: "medium", 1: "low"}


def invoices_changed(*, company_id: int, invoice_ids: list[int], source: str) -> None:
    """Called once the change has committed: queue those invoices, and a task to scan the queue.
    Webhooks arriving faster than the worker scans are judged together by the first task free."""
    if not settings.FINDINGS_SCAN_ON_CHANGE:
        return
    _queue_scan(company_id, list(invoice_ids))


def catalogue_changed(*, company_id: int, kind: str, alegra_ids: list[str]) -> None:
    """A contact's terms or identification, an item's prices or taxes: the facts of the invoices
    built from them are stale. Queue those invoices for a scan (taken a batch at a time)."""
    if not settings.FINDINGS_SCAN_ON_CHANGE:
        return
    from invoices.models import Invoice, InvoiceLine

    if kind == "contact":
        ids = Invoice.objects.filter(company_id=company_id, client_alegra_id__in=alegra_ids).values_list("id", flat=True)
    elif kind == "item":
        ids = (InvoiceLine.objects.filter(company_id=company_id, item_alegra_id__in=alegra_ids)
               .values_list("invoice_id", flat=True).distinct())
    else:
        return
    ids = sorted(set(ids))
    if ids:
        _queue_scan(company_id, ids)


def _queue_scan(company_id: int, invoice_ids: list[int]) -> None:
    """The invoices into the scan queue, and a task to drain it."""
    from . import services
    from .tasks import scan_pending

    services.scan_queue(company_id=company_id, invoice_ids=invoice_ids)
    scan_pending.delay(company_id)


def list_badges(*, company_id: int, invoice_ids: list[int]) -> dict[int, list[dict]]:
    """One badge per invoice of the page with open findings: how many, the worst severity.

    One plain statement: every list page asks, and composing the grouped query through the ORM
    (a lookup prepared per id of the page) cost three times what the database takes to answer it.
    """
    ids = [int(pk) for pk in invoice_ids]
    if not ids:
        return {}
    states = [str(state) for state in OPEN_STATES]
    sql = (f"SELECT invoice_id, COUNT(*), MAX(rank) FROM {connection.ops.quote_name(Finding._meta.db_table)} "
           f"WHERE company_id = %s AND invoice_id IN ({', '.join(['%s'] * len(ids))}) "
           f"AND state IN ({', '.join(['%s'] * len(states))}) GROUP BY invoice_id")
    with connection.cursor() as cursor:
        cursor.execute(sql, [int(company_id), *ids, *states])
        rows = cursor.fetchall()
    badges = {}
    for invoice_id, n, worst in rows:
        url = reverse("findings:invoice_findings", kwargs={"company_id": company_id, "pk": invoice_id})
        badges[invoice_id] = [{
            "label": ngettext("%(n)s finding", "%(n)s findings", n) % {"n": n},
            "title": _("Open findings on this invoice"), "url": url,
            "tone": SEVERITY_BY_RANK.get(worst, "low")}]
    return badges


def request_saved(sender, instance, **kwargs) -> None:
    """A correction request rejected or cancelled: its findings are open again, once that commits
    (in a transaction of their own: the request's own lock order is not the findings')."""
    from django.db import transaction

    from . import services

    if instance.state in services.ENDED:
        transaction.on_commit(lambda: services.correction_ended(change_request_id=instance.pk))
