"""The month-end review (Cierre de mes): what stands between a month and its closing.

For the invoices dated in the month: open findings, change requests still pending or failed,
corrections applied (totals before and after), overdue invoices, and whether the mirror is
fresh. The month reads "clean" only when no finding is open, no request is pending or failed,
and the mirror is fresh; overdue invoices are shown for collection but do not block it.
"""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from invoices import queries as invoice_queries
from invoices.arithmetic import format_amount
from invoices.models import Invoice
from portal import formats
from portal.spreadsheets import safe_cell

from .models import OPEN_STATES, Finding
from .queries import next_month
from .requests import ChangeRequest

PENDING = (ChangeRequest.State.DRAFT, ChangeRequest.State.PENDING, ChangeRequest.State.APPROVED,
           ChangeRequest.State.PUSHING)
FAILED = (ChangeRequest.State.FAILED, ChangeRequest.State.CONFLICT)
LISTED = 200


@dataclass
class MonthEnd:
    month: datetime.date
    findings: list[Finding]
    findings_count: int
    findings_impact: Decimal
    findings_by_kind: list[tuple[str, int]]
    pending: list[ChangeRequest]
    failed: list[ChangeRequest]
    applied: list[ChangeRequest]
    applied_before: Decimal
    applied_after: Decimal
    overdue: list[Invoice]
    overdue_count: int
    overdue_balance: Decimal
    last_synced_at: datetime.datetime | None
    fresh: bool
    ended: bool = True  # a month still running (or to come) cannot be clean yet

    @property
    def clean(self) -> bool:
        return not (self.findings_count or self.pending or self.failed) and self.fresh and self.ended


def fresh_after() -> datetime.timedelta:
    """A mirror is fresh when a sync succeeded within the full-sync period (at least a day)."""
    return datetime.timedelta(hours=max(24, settings.SYNC_FULL_EVERY_HOURS))


def month_end(company_id: int, month: datetime.date) -> MonthEnd:
    end = next_month(month)
    findings = Finding.objects.filter(company_id=company_id, state__in=OPEN_STATES, invoice_date__gte=month,
                                      invoice_date__lt=end)
    totals = findings.aggregate(n=Count("id"), impact=Sum("impact"))
    by_kind = [(dict(Finding.Kind.choices).get(r["kind"], r["kind"]), r["n"]) for r in
               findings.order_by().values("kind").annotate(n=Count("id")).order_by("-n", "kind")]
    requests = list(ChangeRequest.objects.filter(
        company_id=company_id, invoice__date__gte=month, invoice__date__lt=end,
        state__in=[*PENDING, *FAILED, ChangeRequest.State.APPLIED])
        .select_related("invoice", "requester").order_by("-updated_at", "-id"))
    applied = [r for r in requests if r.state == ChangeRequest.State.APPLIED]
    today = timezone.localdate()
    overdue = Invoice.objects.filter(company_id=company_id, is_deleted=False, date__gte=month, date__lt=end,
                                     due_date__lt=today, balance__gt=0).exclude(status="void")
    overdue_totals = overdue.aggregate(n=Count("id"), balance=Sum("balance"))
    last_synced_at = invoice_queries.last_synced_at(company_id)
    fresh = bool(last_synced_at and timezone.now() - last_synced_at <= fresh_after())
    return MonthEnd(
        month=month,
        findings=list(findings.select_related("invoice").order_by("-rank", "-impact", "-id")[:LISTED]),
        findings_count=totals["n"] or 0, findings_impact=totals["impact"] or Decimal(0), findings_by_kind=by_kind,
        pending=[r for r in requests if r.state in PENDING], failed=[r for r in requests if r.state in FAILED],
        applied=applied, applied_before=sum((r.old_total for r in applied), Decimal(0)),
        applied_after=sum((r.new_total for r in applied), Decimal(0)),
        overdue=list(overdue.order_by("due_date", "id")[:LISTED]), overdue_count=overdue_totals["n"] or 0,
        overdue_balance=overdue_totals["balance"] or Decimal(0), last_synced_at=last_synced_at, fresh=fresh,
        ended=end <= timezone.localdate())


def as_csv(summary: MonthEnd, explain, country: str) -> str:
    """One row per item of the review, with its section. The columns name codes and plain values
    (ISO dates, amounts at the invoice's precision, half-up) for a spreadsheet to work on; the
    detail is in the reader's words, `explain(finding)` wording a finding. People's texts cannot
    start a formula."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "invoice", "client", "date", "detail", "state", "amount_before", "amount_after"])

    def row(section, number, client, date, detail, state, before, after="") -> None:
        writer.writerow([section, safe_cell(number or ""), safe_cell(client or ""), date.isoformat(),
                         safe_cell(detail), state, before, after])

    for f in summary.findings:
        row("finding", f.invoice.number, f.client_name, f.invoice_date, explain(f), f.state,
            format_amount(f.impact, f.invoice.decimal_precision))
    for section, rows in (("pending_request", summary.pending), ("failed_request", summary.failed),
                          ("applied_correction", summary.applied)):
        for r in rows:
            precision = r.invoice.decimal_precision
            row(section, r.invoice.number, r.invoice.client_name, r.invoice.date,
                f"#{r.pk} {r.get_kind_display()}: {r.reason}"[:300], r.state,
                format_amount(r.old_total, precision), format_amount(r.new_total, precision))
    for invoice in summary.overdue:
        row("overdue_invoice", invoice.number, invoice.client_name, invoice.date,
            _("due %(date)s") % {"date": formats.date(invoice.due_date, country)}, invoice.status,
            format_amount(invoice.balance, invoice.decimal_precision))
    writer.writerow(["summary", "", "", summary.month.strftime("%Y-%m"),
                     _("Clean") if summary.clean else _("Not clean yet"), "clean" if summary.clean else "not_clean",
                     "", ""])
    return out.getvalue()
