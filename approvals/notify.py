"""E-mails about change requests: to approvers when one awaits them, to the requester on the outcome.

Mail goes out after the transaction that decided it commits (a rolled-back
approval sends nothing), through Django's mail backend (the console in the
demo). A mail server that fails never undoes a decision: the failure is logged.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from portal import events
from portal.access import DECIDE_ROLES
from portal.models import Membership

from .models import ApprovalSettings, ChangeRequest, Decision, Push

log = logging.getLogger(__name__)


def _absolute(path: str) -> str:
    return settings.PORTAL_BASE_URL.rstrip("/") + path


def request_url(change_request: ChangeRequest) -> str:
    try:
        path = reverse("approvals:request_detail", kwargs={"company_id": change_request.company_id,
                                                 "pk": change_request.pk})
    except NoReverseMatch:
        path = reverse("approvals:approval_inbox", kwargs={"company_id": change_request.company_id})
    return _absolute(path)


def _name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def _send(subject: str, body: str, recipients: Iterable[str]) -> None:
    to = sorted({r for r in recipients if r})
    if not to:
        return

    def deliver() -> None:
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, to)
        except Exception:  # a dead mail server must not turn a decision into an error page
            log.exception("could not send %r to %d recipient(s)", subject, len(to))

    transaction.on_commit(deliver)


def deciders(company_id: int, *, exclude_user_id: int | None = None):
    users = (get_user_model().objects.filter(
        memberships__company_id=company_id, memberships__role__in=sorted(DECIDE_ROLES), is_active=True)
        .exclude(email="").distinct().order_by("pk"))
    if exclude_user_id is not None:
        users = users.exclude(pk=exclude_user_id)
    return users


def _summary(change_request: ChangeRequest) -> str:
    return _("%(kind)s of invoice %(invoice)s, asked by %(user)s.\nReason: %(reason)s") % {
        "kind": change_request.get_kind_display(), "invoice": change_request.invoice,
        "user": _name(change_request.requester), "reason": change_request.reason}


def request_routed(change_request: ChangeRequest, *, routing_reason: str) -> None:
    """To everyone who may decide the request (never its requester)."""
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("[Enmienda] Request #%(number)s awaits your approval") % {"number": change_request.pk}
        body = "\n\n".join([
            _summary(change_request), events.describe(routing_reason),
            _("Review it: %(url)s") % {"url": request_url(change_request)},
        ])
    emails = deciders(change_request.company_id, exclude_user_id=change_request.requester_id
                      ).values_list("email", flat=True)
    _send(subject, body, emails)


def request_decided(change_request: ChangeRequest, decision: Decision) -> None:
    """To the requester: approved (by whom, or by which policy) or rejected (with the comment)."""
    with translation.override(settings.LANGUAGE_CODE):
        who = _name(decision.approver) if decision.approver_id else (
            _("policy “%(name)s”") % {"name": decision.auto_rule.name if decision.auto_rule else "?"})
        if decision.outcome == Decision.Outcome.REJECT:
            subject = _("[Enmienda] Request #%(number)s was rejected") % {"number": change_request.pk}
            lines = [_("%(who)s rejected your request.") % {"who": who},
                     _("Comment: %(comment)s") % {"comment": decision.comment}]
        else:
            subject = _("[Enmienda] Request #%(number)s was approved") % {"number": change_request.pk}
            lines = [_("Approved by %(who)s. It is being sent to Alegra.") % {"who": who}]
            if decision.comment:
                lines.append(_("Comment: %(comment)s") % {"comment": decision.comment})
        body = "\n\n".join([_summary(change_request), *lines, request_url(change_request)])
    _send(subject, body, [change_request.requester.email])


def push_finished(change_request: ChangeRequest, push: Push) -> None:
    """To the requester always; to the approvers too when Alegra did not take the change."""
    with translation.override(settings.LANGUAGE_CODE):
        number = change_request.pk
        if push.state == Push.State.APPLIED:
            subject = _("[Enmienda] Request #%(number)s is applied in Alegra") % {"number": number}
            lines = [_("The change is now in Alegra.")]
            if push.totals_mismatch:
                lines.append(_("Attention: Alegra's total (%(received)s) differs from the approved "
                               "total (%(expected)s).") % {"received": push.received_total,
                                                          "expected": push.expected_total})
        elif push.state == Push.State.CONFLICT:
            subject = _("[Enmienda] Request #%(number)s is in conflict") % {"number": number}
            lines = [_("The invoice was changed in Alegra after the request was drafted; nothing "
                       "was written. Re-base the request or cancel it.")]
        else:
            subject = _("[Enmienda] Request #%(number)s failed") % {"number": number}
            lines = [_("Alegra refused the change: %(status)s %(code)s %(message)s") % {
                "status": push.last_status or "", "code": push.last_code, "message": push.last_message}]
        body = "\n\n".join([_summary(change_request), *lines, request_url(change_request)])
    recipients = [change_request.requester.email]
    if push.state != Push.State.APPLIED:
        recipients += [d.approver.email for d in change_request.decisions.select_related("approver")
                       if d.approver_id]
    _send(subject, body, recipients)


def reminders_send(*, now: datetime | None = None) -> int:
    """One e-mail per approver listing the requests pending longer than the company's limit."""
    now = now or timezone.now()
    limits = dict(ApprovalSettings.objects.values_list("company_id", "remind_after_hours"))
    pending = (ChangeRequest.objects.filter(state=ChangeRequest.State.PENDING, submitted_at__isnull=False)
               .select_related("company", "invoice", "requester").order_by("submitted_at", "pk"))
    overdue: dict[int, list[ChangeRequest]] = defaultdict(list)
    for change_request in pending:
        hours = limits.get(change_request.company_id, ApprovalSettings._meta.get_field(
            "remind_after_hours").default)
        if change_request.submitted_at <= now - timedelta(hours=hours):
            overdue[change_request.company_id].append(change_request)
    if not overdue:
        return 0
    by_user: dict[int, list[ChangeRequest]] = defaultdict(list)
    emails: dict[int, str] = {}
    members = (Membership.objects.filter(company_id__in=list(overdue), role__in=sorted(DECIDE_ROLES),
                                         user__is_active=True)
               .exclude(user__email="").select_related("user"))
    for membership in members:
        emails[membership.user_id] = membership.user.email
        for change_request in overdue[membership.company_id]:
            already = change_request.decisions.filter(approver_id=membership.user_id).exists()
            if change_request.requester_id != membership.user_id and not already:
                by_user[membership.user_id].append(change_request)
    sent = 0
    for user_id, requests in by_user.items():
        with translation.override(settings.LANGUAGE_CODE):
            subject = _("[Enmienda] %(count)s request(s) still await your decision") % {"count": len(requests)}
            lines = [_("These requests have been pending longer than your company's limit:")]
            for change_request in requests:
                lines.append(_("#%(number)s · %(company)s · %(invoice)s · %(user)s · pending since %(since)s\n  %(url)s") % {
                    "number": change_request.pk, "company": change_request.company.name,
                    "invoice": change_request.invoice, "user": _name(change_request.requester),
                    "since": timezone.localtime(change_request.submitted_at).strftime("%Y-%m-%d %H:%M"),
                    "url": request_url(change_request)})
        _send(subject, "\n\n".join(lines), [emails[user_id]])
        sent += 1
    return sent
