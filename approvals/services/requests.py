"""Change requests: drafts, submission, cancellation, re-basing, and every state transition.

Every rule is checked here, not only in the form, so a view, a task, a command or a test that
calls these functions gets the same protection. A refusal raises `RequestRefused` with the list
of violations and writes nothing.

An edit is based on the mirrored version the accountant opened (`base_hash`). If the mirror
moves before submission, the request must be re-based: the accountant's own changes are
carried over onto the current version, unless the invoice changed in the same places.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from invoices.models import Invoice
from portal.models import Membership, Role

from ..models import ChangeRequest
# Re-exported: callers use this module as the one entry point to change requests.
from .proposals import (  # noqa: F401
    CONTACT_FIELDS,
    MAX_AMOUNT,
    MAX_REASON,
    Base,
    RequestRefused,
    StaleBase,
    _carried_over,
    _reason_violations,
    _refuse,
    _stored,
    base_for_hash,
    catalogue_taxes,
    client_block,
    contact_violations,
    current_base,
    money_impact,
    open_request_for,
    rebase_document,
    validate_proposal,
)

State = ChangeRequest.State
Kind = ChangeRequest.Kind

# Who may move a request where. The decisions and push code use `request_transition` for theirs.
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


# --- writes ---------------------------------------------------------------------------


def _lock_invoice(invoice: Invoice) -> Invoice:
    return Invoice.objects.select_for_update(of=("self",)).select_related("company").get(pk=invoice.pk)


def _lock_request(change_request: ChangeRequest) -> ChangeRequest:
    return ChangeRequest.objects.select_for_update().get(pk=change_request.pk)


def _require_role(user, company_id: int, roles: set[str], message: str) -> None:
    allowed = (user is not None and getattr(user, "is_active", False)
               and Membership.objects.filter(user=user, company_id=company_id,
                                             role__in=list(roles)).exists())
    if not allowed:
        raise _refuse("not_allowed", message)


def _require_requester(change_request: ChangeRequest, user) -> None:
    _require_role(user, change_request.company_id, {Role.ACCOUNTANT},
                  _("Only the company's accountants can propose changes."))
    if change_request.requester_id != user.pk:
        raise _refuse("not_yours", _("Only the person who drafted this request can change it."))


def _refuse_open(other: ChangeRequest) -> RequestRefused:
    return _refuse("open_request_exists", _(
        "Change request #%(number)s (%(state)s, by %(user)s) is already open for this "
        "invoice: only one at a time.") % {
            "number": other.pk, "state": other.get_state_display(),
            "user": other.requester.get_full_name() or other.requester.get_username()})


def _kind(kind: str) -> str:
    if kind not in Kind.values:
        raise _refuse("invalid_kind", _("Unknown kind of change."), "kind")
    return kind


def _set_state(change_request: ChangeRequest, to_state: str, user, reason: str) -> None:
    change_request.state = to_state
    if to_state == State.PENDING:
        change_request.submitted_at = timezone.now()
    change_request._change_reason = reason
    change_request._history_user = user
    change_request.save()


def _save(change_request: ChangeRequest, user, reason: str) -> ChangeRequest:
    change_request._change_reason = reason
    change_request._history_user = user
    try:
        with transaction.atomic():
            change_request.save()
    except IntegrityError:
        other = open_request_for(change_request.invoice, exclude_pk=change_request.pk)
        if other is None:
            raise
        raise _refuse_open(other) from None
    return change_request


def _choose_base(change_request: ChangeRequest | None, current: Base, base_hash: str | None) -> Base:
    if change_request is None:
        if base_hash and base_hash != current.hash:
            raise StaleBase(base_hash=base_hash, current_hash=current.hash)
        return current
    if not base_hash or base_hash == change_request.base_hash:
        return Base(change_request.base_document, change_request.base_hash)
    if base_hash == current.hash:  # the form was re-based onto the current version
        return current
    raise StaleBase(base_hash=base_hash, current_hash=current.hash)


@transaction.atomic
def request_save_draft(*, invoice: Invoice, user, proposed: Mapping, reason: str, kind: str,
                       request: ChangeRequest | None = None,
                       base_hash: str | None = None) -> ChangeRequest:
    """Create or update the user's draft. `base_hash` is the version the form was based on."""
    kind = _kind(kind)
    invoice = _lock_invoice(invoice)
    _require_role(user, invoice.company_id, {Role.ACCOUNTANT},
                  _("Only the company's accountants can propose changes."))
    if request is not None:
        request = _lock_request(request)
        if request.invoice_id != invoice.pk or request.kind != kind:
            raise _refuse("wrong_request", _("This draft belongs to another invoice or kind of change."))
        _require_requester(request, user)
        if request.state != State.DRAFT:
            raise _refuse("not_draft", _(
                "Only a draft can be edited; this request is %(state)s."
            ) % {"state": request.get_state_display()})
    other = open_request_for(invoice, exclude_pk=request.pk if request else None)
    if other is not None:
        raise _refuse_open(other)
    base = _choose_base(request, current_base(invoice, kind), base_hash)
    taxes = catalogue_taxes(invoice.company)
    violations = validate_proposal(invoice=invoice, kind=kind, base=base.document,
                                   proposed=proposed, taxes=taxes)
    violations += _reason_violations(reason, required=False)
    if violations:
        raise RequestRefused(violations)
    stored = _stored(kind, proposed, taxes)
    change_request = request or ChangeRequest(company=invoice.company, invoice=invoice, kind=kind,
                                              requester=user)
    change_request.base_document, change_request.base_hash = base.document, base.hash
    change_request.proposed_document = stored
    change_request.reason = (reason or "").strip()
    change_request.old_total, change_request.new_total = money_impact(kind, base.document, stored, taxes)
    if kind == Kind.CONTACT:
        change_request.contact_alegra_id = invoice.client_alegra_id
    return _save(change_request, user, "draft saved" if request else "draft created")


@transaction.atomic
def request_submit(*, change_request: ChangeRequest, user) -> ChangeRequest:
    """Draft → pending, after checking every rule against the current mirror."""
    invoice = _lock_invoice(change_request.invoice)
    change_request = _lock_request(change_request)
    _require_requester(change_request, user)
    if change_request.state != State.DRAFT:
        raise _refuse("not_draft", _(
            "Only a draft can be submitted; this request is %(state)s."
        ) % {"state": change_request.get_state_display()})
    current = current_base(invoice, change_request.kind)
    if current.hash != change_request.base_hash:
        raise StaleBase(base_hash=change_request.base_hash, current_hash=current.hash)
    violations = _reason_violations(change_request.reason, required=True)
    violations += validate_proposal(invoice=invoice, kind=change_request.kind,
                                    base=current.document,
                                    proposed=change_request.proposed_document)
    if violations:
        raise RequestRefused(violations)
    _set_state(change_request, State.PENDING, user, "submitted")
    # Routing (how many approvals, auto-approval) belongs to the decisions code; it runs in the
    # same transaction so a pending request is never left unrouted. Imported here: decisions
    # builds on this module.
    from .decisions import request_submitted

    request_submitted(change_request=change_request)
    change_request.refresh_from_db()
    return change_request


@transaction.atomic
def request_save_and_submit(*, invoice: Invoice, user, proposed: Mapping, reason: str, kind: str,
                            request: ChangeRequest | None = None,
                            base_hash: str | None = None) -> ChangeRequest:
    """Save the draft and submit it in one step; on any refusal nothing is written."""
    reason_problems = _reason_violations(reason, required=True)
    try:
        change_request = request_save_draft(invoice=invoice, user=user, proposed=proposed,
                                            reason=reason, kind=kind, request=request,
                                            base_hash=base_hash)
    except StaleBase:
        raise
    except RequestRefused as exc:
        known = {(v.field, v.code) for v in exc.violations}
        raise RequestRefused(exc.violations + [v for v in reason_problems
                                               if (v.field, v.code) not in known]) from None
    if reason_problems:
        raise RequestRefused(reason_problems)
    return request_submit(change_request=change_request, user=user)


@transaction.atomic
def request_cancel(*, change_request: ChangeRequest, user, comment: str = "") -> ChangeRequest:
    """Withdrawn by the requester, or by a manager of the company."""
    _lock_invoice(change_request.invoice)
    change_request = _lock_request(change_request)
    is_manager = Membership.objects.filter(user=user, company_id=change_request.company_id,
                                           role=Role.MANAGER).exists()
    if not is_manager:
        _require_requester(change_request, user)
    if change_request.state not in CANCELLABLE:
        raise _refuse("not_cancellable", _(
            "This request is %(state)s: it can no longer be cancelled."
        ) % {"state": change_request.get_state_display()})
    comment = (comment or "").strip()[:MAX_REASON]
    _set_state(change_request, State.CANCELLED, user,
               f"cancelled: {comment}" if comment else "cancelled")
    return change_request


@transaction.atomic
def request_rebase(*, change_request: ChangeRequest, user) -> ChangeRequest:
    """Carry the proposed changes onto the current mirror; the request becomes a draft again."""
    invoice = _lock_invoice(change_request.invoice)
    change_request = _lock_request(change_request)
    _require_requester(change_request, user)
    if change_request.state not in REBASABLE:
        raise _refuse("not_rebasable", _(
            "This request is %(state)s: it can no longer be re-based."
        ) % {"state": change_request.get_state_display()})
    current = current_base(invoice, change_request.kind)
    proposed = _carried_over(change_request.kind, change_request.base_document,
                             change_request.proposed_document, current.document)
    taxes = catalogue_taxes(invoice.company)
    violations = validate_proposal(invoice=invoice, kind=change_request.kind,
                                   base=current.document, proposed=proposed, taxes=taxes)
    if violations:
        raise RequestRefused(violations)
    stored = _stored(change_request.kind, proposed, taxes)
    change_request.base_document, change_request.base_hash = current.document, current.hash
    change_request.proposed_document = stored
    change_request.old_total, change_request.new_total = money_impact(
        change_request.kind, current.document, stored, taxes)
    change_request.state = State.DRAFT
    return _save(change_request, user, "re-based onto the current version")


@transaction.atomic
def request_copy_to_draft(*, change_request: ChangeRequest, user) -> ChangeRequest:
    """A new draft with the changes of a rejected or cancelled request, on the current mirror."""
    invoice = _lock_invoice(change_request.invoice)
    _require_role(user, invoice.company_id, {Role.ACCOUNTANT},
                  _("Only the company's accountants can propose changes."))
    if change_request.state not in COPYABLE:
        raise _refuse("not_copyable", _(
            "Only a rejected or cancelled request can be copied into a new draft."))
    other = open_request_for(invoice)
    if other is not None:
        raise _refuse_open(other)
    kind = change_request.kind
    current = current_base(invoice, kind)
    proposed = _carried_over(kind, change_request.base_document,
                             change_request.proposed_document, current.document)
    taxes = catalogue_taxes(invoice.company)
    violations = validate_proposal(invoice=invoice, kind=kind, base=current.document,
                                   proposed=proposed, taxes=taxes)
    if violations:
        raise RequestRefused(violations)
    stored = _stored(kind, proposed, taxes)
    old, new = money_impact(kind, current.document, stored, taxes)
    copy_ = ChangeRequest(
        company=invoice.company, invoice=invoice, kind=kind, requester=user,
        base_document=current.document, base_hash=current.hash, proposed_document=stored,
        reason=change_request.reason, old_total=old, new_total=new,
        contact_alegra_id=change_request.contact_alegra_id,
    )
    return _save(copy_, user, f"draft copied from #{change_request.pk}")


@transaction.atomic
def request_transition(*, change_request: ChangeRequest, to_state: str, user,
                       reason: str = "") -> ChangeRequest:
    """Move a request along ALLOWED_TRANSITIONS, recording who, when and why in its history.

    For the decision and push code; the accountant's own moves have their functions above.
    """
    locked = _lock_request(change_request)
    allowed = ALLOWED_TRANSITIONS.get(locked.state, frozenset())
    if to_state not in allowed:
        raise _refuse("invalid_transition", _(
            "A request that is %(state)s cannot become %(to)s."
        ) % {"state": locked.get_state_display(),
             "to": State(to_state).label if to_state in State.values else to_state})
    _set_state(locked, to_state, user, reason or to_state)
    change_request.state, change_request.submitted_at = locked.state, locked.submitted_at
    change_request.updated_at = locked.updated_at
    return locked
