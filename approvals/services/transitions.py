"""Where a change request may move, and the one function that moves it.

Every state change of a request goes through `request_transition` (or, for the author's own
moves, the services built on `set_state`), so each is checked against `ALLOWED_TRANSITIONS`
and recorded in the request's history with who, when and why.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from invoices.models import Invoice

from ..errors import ApprovalError
from .. import events
from ..models import ChangeRequest

State = ChangeRequest.State

ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    State.DRAFT: frozenset({State.PENDING, State.CANCELLED}),
    State.PENDING: frozenset({State.APPROVED, State.REJECTED, State.CANCELLED, State.DRAFT}),
    State.APPROVED: frozenset({State.PUSHING, State.APPLIED, State.CONFLICT, State.FAILED}),
    State.PUSHING: frozenset({State.APPLIED, State.CONFLICT, State.FAILED, State.APPROVED}),
    State.CONFLICT: frozenset({State.DRAFT, State.CANCELLED}),
    State.FAILED: frozenset({State.PUSHING, State.APPROVED, State.DRAFT, State.CANCELLED}),
    State.REJECTED: frozenset(),
    State.CANCELLED: frozenset(),
    State.APPLIED: frozenset(),
}
CANCELLABLE = frozenset({State.DRAFT, State.PENDING, State.CONFLICT, State.FAILED})
REBASABLE = frozenset({State.DRAFT, State.PENDING, State.CONFLICT, State.FAILED})
COPYABLE = frozenset({State.REJECTED, State.CANCELLED})


def lock_invoice(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update(of=("self",)).select_related("company").get(pk=invoice.pk)


def lock_request(change_request: ChangeRequest) -> ChangeRequest:
    return ChangeRequest.objects.select_for_update().get(pk=change_request.pk)


def state_label(state: str):
    return State(state).label if state in State.values else state


def set_state(change_request: ChangeRequest, to_state: str, user, reason: str) -> None:
    change_request.state = to_state
    if to_state == State.PENDING:
        change_request.submitted_at = timezone.now()
    change_request._change_reason = reason
    change_request._history_user = user
    change_request.save()


@transaction.atomic
def request_transition(*, change_request: ChangeRequest, to_state: str, user,
                       reason: str = "") -> ChangeRequest:
    """Move a request along ALLOWED_TRANSITIONS, recording who, when and why in its history.

    For the decision and push code; the accountant's own moves have their services.
    """
    locked = lock_request(change_request)
    if to_state not in ALLOWED_TRANSITIONS.get(locked.state, frozenset()):
        raise ApprovalError("invalid_transition", {"state": state_label(locked.state),
                                                   "to": state_label(to_state)})
    set_state(locked, to_state, user, reason or events.reason("request.moved", state=to_state))
    change_request.state, change_request.submitted_at = locked.state, locked.submitted_at
    change_request.updated_at = locked.updated_at
    return locked
