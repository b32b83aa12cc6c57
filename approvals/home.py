"""The home page's panels about change requests (see portal.home)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from portal import formats
from portal.access import DECIDE_ROLES
from portal.home import Figure, Item, Panel
from portal.models import Role

from .models import ChangeRequest, Decision

State = ChangeRequest.State
NEEDS_THE_REQUESTER = (State.DRAFT, State.REJECTED, State.CONFLICT, State.FAILED)
LIMIT = 8


def _url(name: str, company_id: int, **kwargs) -> str:
    return reverse(name, kwargs={"company_id": company_id, **kwargs})


def _request_item(change_request: ChangeRequest, meta: str) -> Item:
    tone = {State.CONFLICT: "bad", State.FAILED: "bad", State.REJECTED: "warn"}.get(change_request.state, "")
    return Item(f"#{change_request.pk} · {change_request.invoice} · {change_request.get_state_display()}",
                _url("approvals:request_detail", change_request.company_id, pk=change_request.pk), meta, tone)


def _mine(membership, user) -> Panel:
    company_id = membership.company_id
    rows = (ChangeRequest.objects.filter(company_id=company_id, requester=user, state__in=NEEDS_THE_REQUESTER)
            .select_related("invoice").order_by("-updated_at", "-id")[:LIMIT])
    pending = ChangeRequest.objects.filter(company_id=company_id, requester=user, state=State.PENDING).count()
    return Panel(
        "my-requests", _("My requests that need me"), order=20,
        items=[_request_item(cr, formats.ago(cr.updated_at)) for cr in rows],
        figures=[Figure(_("awaiting approval"), formats.number(pending), _url("approvals:my_requests", company_id))],
        empty=_("None: no draft to finish, nothing rejected, in conflict or failed."),
        more_url=_url("approvals:my_requests", company_id), more_label=_("All my requests"))


def _awaiting(membership, user) -> Panel:
    company_id = membership.company_id
    decided = Decision.objects.filter(approver=user).values("change_request_id")
    waiting = (ChangeRequest.objects.filter(company_id=company_id, state=State.PENDING)
               .exclude(requester=user).exclude(pk__in=decided))
    rows = waiting.select_related("invoice", "requester").order_by("submitted_at", "id")[:LIMIT]
    return Panel(
        "awaiting", _("Awaiting your decision, oldest first"), order=10,
        items=[_request_item(cr, _("asked by %(name)s, %(age)s") % {
            "name": cr.requester.get_full_name() or cr.requester.username, "age": formats.ago(cr.submitted_at)})
            for cr in rows],
        figures=[Figure(_("waiting"), formats.number(waiting.count()), _url("approvals:approval_inbox", company_id))],
        empty=_("Nothing awaits your decision."),
        more_url=_url("approvals:approval_inbox", company_id), more_label=_("Open the approvals inbox"))


def _month(membership, user) -> Panel:
    company = membership.company
    start = timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    month = ChangeRequest.objects.filter(company=company, updated_at__gte=start)
    counts = month.aggregate(applied=Count("id", filter=Q(state=State.APPLIED)),
                             pending=Count("id", filter=Q(state=State.PENDING)),
                             moved=Sum("new_total", filter=Q(state=State.APPLIED)),
                             before=Sum("old_total", filter=Q(state=State.APPLIED)))
    net = (counts["moved"] or Decimal(0)) - (counts["before"] or Decimal(0))
    troubles = (ChangeRequest.objects.filter(company=company, state__in=(State.FAILED, State.CONFLICT))
                .select_related("invoice").order_by("-updated_at", "-id")[:LIMIT])
    return Panel(
        "month", _("This month's corrections"), order=5,
        items=[_request_item(cr, formats.ago(cr.updated_at)) for cr in troubles],
        figures=[Figure(_("applied in Alegra"), formats.number(counts["applied"]), tone="good"),
                 Figure(_("net change in totals"), formats.money(net, company.decimal_precision, company.country)),
                 Figure(_("pending"), formats.number(counts["pending"]), _url("approvals:approval_inbox", company.pk))],
        empty=_("No failed push and no conflict: every approved change reached Alegra."),
        more_url=_url("audit:audit_log", company.pk), more_label=_("The audit log"))


def panels(membership, user) -> list[Panel]:
    if membership.role == Role.ACCOUNTANT:
        return [_mine(membership, user)]
    found = [_awaiting(membership, user)] if membership.role in DECIDE_ROLES else []
    if membership.role == Role.MANAGER:
        found.append(_month(membership, user))
    return found
