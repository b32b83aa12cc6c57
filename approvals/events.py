"""Why a request, a push, a policy or a mirrored version changed: the approvals app's codes.

Each function returns the stored form of a reason (see portal.events); the words are below,
rendered in the reader's language wherever a history is shown.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from portal import events, formats

from .models import ChangeRequest
from .routing import policy_label

reason = events.reason


def _failed(params) -> str:
    parts = [str(params.get(key)) for key in ("status", "code") if params.get(key)]
    message = params.get("message") or ""
    return str(_("Alegra refused it: %(answer)s")) % {"answer": " ".join([*parts, message]).strip()}


def _resent(params) -> str:
    return str({
        "worker_lost": _("the worker was lost mid-push; sent again"),
        "not_picked": _("nobody picked it up; sent again"),
        "retry_lost": _("its retry was not picked up; sent again"),
    }.get(params.get("why"), _("sent again")))


def _read_by_push(params) -> str:
    if params.get("found") == "already":
        return str(_("read by request #%(request)s's push: already so in Alegra")) % params
    return str(_("read by request #%(request)s's push: changed in Alegra meanwhile")) % params


def _moved(params) -> str:
    state = params.get("state")
    label = ChangeRequest.State(state).label if state in ChangeRequest.State.values else state
    return str(_("now %(state)s")) % {"state": str(label).lower()}


def _interrupted(params) -> str:
    count = int(params.get("attempts") or 0)
    return ngettext("the push was interrupted %(count)s time: no attempts left",
                    "the push was interrupted %(count)s times: no attempts left", count) % {"count": count}


def needs_text(approvals: int, manager: bool) -> str:
    """What a routing asks for: "one approval", "2 approvals by different people, one of them by a manager"."""
    if approvals == 1:
        text = str(_("one approval"))
    else:
        text = str(_("%(count)s approvals by different people")) % {"count": approvals}
    if manager:
        text = str(_("%(needs)s, one of them by a manager")) % {"needs": text}
    return text


def _condition(condition: dict) -> str:
    kind = condition.get("is")
    if kind == "kind":
        label = ChangeRequest.Kind(condition["kind"]).label if condition.get("kind") in ChangeRequest.Kind.values \
            else condition.get("kind")
        return str(_("the request is a %(kind)s")) % {"kind": str(label).lower()}
    if kind == "impact":
        def money(amount):
            return f"{formats.money(amount, int(condition.get('precision') or 0), condition.get('country'))} " \
                   f"{condition.get('currency', '')}".strip()
        return str(_("the impact of %(impact)s is above %(limit)s")) % {
            "impact": money(condition.get("impact")), "limit": money(condition.get("limit"))}
    if kind == "requester":
        return str(_("it was asked by %(name)s")) % {"name": condition.get("name", "")}
    if kind == "origin":
        if condition.get("origin") == "agent":
            return str(_("an AI agent proposed it (token '%(token)s')")) % {"token": condition.get("token", "")}
        return str(_("it came through the API (token '%(token)s')")) % {"token": condition.get("token", "")}
    return str({"client": _("the client changes"), "date": _("a date changes"),
                "lines": _("the lines change")}.get(kind, kind))


def _routed(params) -> str:
    need = needs_text(int(params.get("approvals") or 1), bool(params.get("manager")))
    conditions = [_condition(c) for c in params.get("conditions") or () if isinstance(c, dict)]
    params = {**params, "policy": policy_label(params.get("policy", ""))}
    if conditions:
        return str(_("Policy “%(name)s” applies because %(why)s: %(need)s.")) % {
            "name": params.get("policy", ""), "why": str(_(" and ")).join(conditions), "need": need}
    return str(_("Policy “%(name)s” applies to every request: %(need)s.")) % {
        "name": params.get("policy", ""), "need": need}


MESSAGES = {
    "route.none": _("No policy matches: one approval by an approver or a manager."),
    "route.policy": _routed,
    "request.draft_created": _("draft created"),
    "request.draft_saved": _("draft saved"),
    "request.copied": _("draft copied from request #%(source)s"),
    "request.submitted": _("submitted for approval"),
    "decision.approve": _("approved"),
    "decision.reject": _("rejected"),
    "request.routed": _("routed by the policy “%(policy)s”"),
    "request.approved": _("approved by %(names)s"),
    "request.approved_with_comment": _("approved by %(names)s: %(comment)s"),
    "request.auto_approved": _("approved by the policy “%(rule)s”"),
    "request.rejected": _("rejected by %(name)s: %(comment)s"),
    "request.cancelled": _("cancelled"),
    "request.cancelled_with_comment": _("cancelled: %(comment)s"),
    "request.rebased": _("re-based onto the current version"),
    "request.sending": _("sending to Alegra (attempt %(attempt)s)"),
    "request.applied": _("applied in Alegra"),
    "request.found_applied": _("found already applied in Alegra"),
    "request.conflict": _("changed in Alegra meanwhile: %(fields)s"),
    "request.failed": _failed,
    "request.interrupted": _("the push was interrupted too many times"),
    "request.moved": _moved,
    "request.retried": _("push retried by %(name)s"),
    "push.queued": _("queued for Alegra"),
    "push.attempt": _("attempt %(attempt)s"),
    "push.applied": _("applied"),
    "push.found_applied": _("already applied in Alegra"),
    "push.conflict": _("conflict: %(fields)s"),
    "push.retrying": _("attempt %(attempt)s failed: %(error)s"),
    "push.failed": _("failed: %(error)s"),
    "push.resent": _resent,
    "push.gave_up": _interrupted,
    "push.retried": _("retried by %(name)s"),
    "push.wrote": _("pushed by request #%(request)s (%(approvers)s): %(reason)s"),
    "push.read": _read_by_push,
    "policy.default": _("default policy"),
    "policy.default_settings": _("default settings"),
    "policy.saved": _("policy saved"),
    "policy.deleted": _("policy deleted"),
    "rule.saved": _("rule saved"),
    "request.drafted_by_rule": _("drafted by the system under the rule “%(rule)s”"),
    "request.submitted_by_rule": _("submitted by the system under the rule “%(rule)s”"),
    "rule.accepted_from_history": _("proposed by history (the last %(count)s such requests were all approved) "
                                   "and approved by a manager"),
    "rule.finding_fix": _("finding fixes pre-approved by a manager"),
    "rule.switched_off": _("rule switched off (it has decisions)"),
    "rule.deleted": _("rule deleted"),
    "settings.saved": _("settings saved"),
}
