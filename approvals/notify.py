"""News about change requests: to approvers when one awaits them, to the requester on the outcome.

Each becomes a notification (portal.notifications): the bell at once, and an e-mail in the
recipient's language sent by the worker after the deciding transaction commits (a rolled-back
approval tells nobody), at once, in the daily digest or never, as each person chose. The daily
reminder of requests waiting too long is sent by the worker too.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal import events, formats, notifications
from portal.access import DECIDE_ROLES
from portal.models import Membership

from .models import ApprovalSettings, ChangeRequest, Decision, Push
from .routing import policy_label

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


def deciders(company_id: int, *, exclude_user_id: int | None = None, with_email: bool = True):
    users = (get_user_model().objects.filter(
        memberships__company_id=company_id, memberships__role__in=sorted(DECIDE_ROLES), is_active=True)
        .distinct().order_by("pk"))
    if with_email:
        users = users.exclude(email="")
    if exclude_user_id is not None:
        users = users.exclude(pk=exclude_user_id)
    return users


def _params(change_request: ChangeRequest, **more) -> dict:
    return {"number": change_request.pk, "kind": change_request.kind, "invoice": str(change_request.invoice),
            "user": _name(change_request.requester), "reason": change_request.reason[:500], **more}


def _url(change_request: ChangeRequest) -> str:
    return request_url(change_request).removeprefix(settings.PORTAL_BASE_URL.rstrip("/"))


def _kind_label(code: str) -> str:
    return str(ChangeRequest.Kind(code).label) if code in ChangeRequest.Kind.values else code


def _summary(params) -> str:
    return _("%(kind)s of invoice %(invoice)s, asked by %(user)s.\nReason: %(reason)s") % {
        **params, "kind": _kind_label(params.get("kind", ""))}


def _money(params, key: str) -> str:
    return formats.money(params.get(key), int(params.get("precision") or 0), params.get("country"))


def _applied_body(params) -> str:
    lines = [_("The change is now in Alegra."), _summary(params)]
    if params.get("received") is not None:
        lines.append(_("Attention: Alegra's total (%(received)s) differs from the approved total (%(expected)s).") % {
            "received": _money(params, "received"), "expected": _money(params, "expected")})
    return "\n\n".join(lines)


def _decided_body(params) -> str:
    lines = [_summary(params)]
    if params.get("comment"):
        lines.append(_("Comment: %(comment)s") % params)
    return "\n\n".join(lines)


def _who(params) -> str:
    if params.get("rule"):
        return _("policy “%(name)s”") % {"name": policy_label(params["rule"])}
    return params.get("who", "")


KINDS = {
    "request.awaiting": notifications.Kind(
        lambda p: _("Request #%(number)s awaits your decision") % p,
        lambda p: "\n\n".join([_summary(p), events.describe(p.get("routing"))])),
    "request.approved": notifications.Kind(
        lambda p: _("Your request #%(number)s was approved by %(who)s") % {**p, "who": _who(p)}, _decided_body),
    "request.rejected": notifications.Kind(
        lambda p: _("Your request #%(number)s was rejected by %(who)s") % {**p, "who": _who(p)}, _decided_body),
    "request.applied": notifications.Kind(lambda p: _("Request #%(number)s is applied in Alegra") % p, _applied_body),
    "request.conflict": notifications.Kind(
        lambda p: _("Request #%(number)s is in conflict") % p,
        lambda p: "\n\n".join([_("The invoice was changed in Alegra after the request was drafted; nothing "
                                  "was written. Re-base the request or cancel it."), _summary(p)])),
    "request.failed": notifications.Kind(
        lambda p: _("Request #%(number)s failed") % p,
        lambda p: "\n\n".join([_("Alegra refused the change: %(status)s %(code)s %(message)s") % {
            "status": p.get("status") or "", "code": p.get("code") or "", "message": p.get("message") or ""},
            _summary(p)])),
}


def request_routed(change_request: ChangeRequest, *, routing_reason: str) -> None:
    """To everyone who may decide the request (never its requester)."""
    notifications.notify(users=deciders(change_request.company_id, exclude_user_id=change_request.requester_id,
                                        with_email=False),
                         company=change_request.company_id, kind="request.awaiting",
                         params=_params(change_request, routing=routing_reason), url=_url(change_request))


def request_decided(change_request: ChangeRequest, decision: Decision) -> None:
    """To the requester: approved (by whom, or by which policy) or rejected (with the comment)."""
    rejected = decision.outcome == Decision.Outcome.REJECT
    more = {"comment": decision.comment or ""}
    if decision.approver_id:
        more["who"] = _name(decision.approver)
    else:
        more["rule"] = decision.auto_rule.name if decision.auto_rule else "?"
    notifications.notify(users=[change_request.requester], company=change_request.company_id,
                         kind="request.rejected" if rejected else "request.approved",
                         params=_params(change_request, **more), url=_url(change_request))
    # Nobody is waited for any more: "awaits your decision" stays in the bell, but not as new.
    notifications.settle(company_id=change_request.company_id, kind="request.awaiting", number=change_request.pk)


def push_finished(change_request: ChangeRequest, push: Push) -> None:
    """To the requester always; to the approvers too when Alegra did not take the change."""
    company = change_request.company
    more: dict = {"precision": company.decimal_precision, "country": company.country}
    if push.state == Push.State.APPLIED:
        kind = "request.applied"
        if push.totals_mismatch:
            more.update(received=str(push.received_total), expected=str(push.expected_total))
    elif push.state == Push.State.CONFLICT:
        kind = "request.conflict"
    else:
        kind = "request.failed"
        more.update(status=push.last_status or "", code=push.last_code or "", message=(push.last_message or "")[:500])
    users = [change_request.requester]
    if push.state != Push.State.APPLIED:
        users += [d.approver for d in change_request.decisions.select_related("approver") if d.approver_id]
    notifications.notify(users=users, company=change_request.company_id, kind=kind,
                         params=_params(change_request, **more), url=_url(change_request))


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
    users = {membership.user_id: membership.user for membership in members}
    for user_id, requests in by_user.items():
        with translation.override(notifications.language_for(users[user_id], company=by_user[user_id][0].company)):
            subject = ngettext("[Enmienda] %(count)s request still awaits your decision",
                               "[Enmienda] %(count)s requests still await your decision", len(requests)) % {
                "count": len(requests)}
            lines = [_("These requests have been pending longer than your company's limit:")]
            for change_request in requests:
                lines.append(_("#%(number)s · %(company)s · %(invoice)s · %(user)s · pending since %(since)s\n  %(url)s") % {
                    "number": change_request.pk, "company": change_request.company.name,
                    "invoice": change_request.invoice, "user": _name(change_request.requester),
                    "since": formats.datetime(change_request.submitted_at, change_request.company.country),
                    "url": request_url(change_request)})
        try:
            send_mail(subject, "\n\n".join(lines), settings.DEFAULT_FROM_EMAIL, [emails[user_id]])
        except Exception:  # one bad address or a dead server must not stop the others' reminders
            log.exception("could not send a reminder")
            continue
        sent += 1
    return sent
