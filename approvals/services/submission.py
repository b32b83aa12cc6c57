"""What happens when a request is submitted: routing, auto-approval, and the approval itself.

A pending request is routed in the transaction that submitted it (it is never left unrouted).
The approval that completes a request writes its push outbox row in the same transaction.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .. import events, notify, routing
from ..models import ChangeRequest, Decision, Push, Routing
from ..revisions import revision_of
from . import push as push_service
from .transitions import request_transition

State = ChangeRequest.State


def lock(change_request: ChangeRequest) -> ChangeRequest:
    return (ChangeRequest.objects.select_for_update(of=("self",))
            .select_related("company", "invoice", "requester").get(pk=change_request.pk))


@transaction.atomic
def request_route(*, change_request: ChangeRequest) -> Routing:
    """Decide and store which approvals the request needs (the request shows why)."""
    route = routing.route(change_request)
    row, _created = Routing.objects.update_or_create(
        change_request=change_request,
        defaults={"policy": route.policy, "policy_name": route.policy_name[:120],
                  "approvals_required": route.approvals_required,
                  "manager_required": route.manager_required, "reason": route.reason,
                  "impact": route.impact, "auto_rule": None},
    )
    change_request.approvals_required = route.approvals_required
    change_request.routed_by = route.policy_name
    change_request.routing_reason = route.reason
    change_request._change_reason = events.reason("request.routed", policy=route.policy_name)
    change_request.save()
    return row


def routing_for(change_request: ChangeRequest) -> Routing:
    row = Routing.objects.filter(change_request=change_request).first()
    return row if row is not None else request_route(change_request=change_request)


def approve(change_request: ChangeRequest, revision: str, *, user, reason: str) -> Push:
    """The request approved, and its outbox row written in the same transaction."""
    request_transition(change_request=change_request, to_state=State.APPROVED, user=user, reason=reason)
    try:
        with transaction.atomic():
            return push_service.push_create(change_request=change_request, revision=revision, reason=reason)
    except IntegrityError:
        # Already written for this revision (only reachable if the lock was bypassed).
        return Push.objects.get(change_request=change_request, revision=revision)


@transaction.atomic
def request_submitted(*, change_request: ChangeRequest) -> Routing:
    """After draft → pending: route, approve by policy if a rule allows, else tell the approvers.

    Safe to call twice: a request already routed for this revision is left alone.
    """
    change_request = lock(change_request)
    revision = revision_of(change_request)
    existing = Routing.objects.filter(change_request=change_request).first()
    if change_request.state != State.PENDING:
        return existing
    if existing and existing.revision == revision:
        return existing
    routing_row = request_route(change_request=change_request)
    routing_row.revision = revision
    rule = routing.auto_rule_for(change_request)
    if rule is None:
        routing_row.save()
        notify.request_routed(change_request, routing_reason=routing_row.reason)
        return routing_row
    routing_row.auto_rule = rule
    routing_row.save()
    decision = Decision.objects.create(
        change_request=change_request, revision=revision, approver=None, requester=change_request.requester,
        outcome=Decision.Outcome.APPROVE, auto_rule=rule,
        comment=_("Approved by policy “%(name)s”.") % {"name": rule.name},
    )
    approve(change_request, revision, user=None, reason=events.reason("request.auto_approved", rule=rule.name))
    notify.request_decided(change_request, decision)
    return routing_row
