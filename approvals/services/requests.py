"""Change requests: drafts, submission, cancellation, re-basing, and every state transition.

Every rule is checked here, not only in the form, so a view, a task, a command or a test that
calls these functions gets the same protection. A refusal raises `RequestRefused` with the list
of violations and writes nothing.

An edit is based on the mirrored version the accountant opened (`base_hash`). If the mirror
moves before submission, the request must be re-based: the accountant's own changes are
carried over onto the current version, unless the invoice changed in the same places.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from invoices import arithmetic, diff, editable, mirror, rules
from invoices.models import Contact, Invoice, Item, Tax
from invoices.rules import RuleViolation
from portal.models import Membership, Role

from ..models import OPEN_STATES, ChangeRequest

State = ChangeRequest.State
Kind = ChangeRequest.Kind

MAX_REASON = 2000
MAX_AMOUNT = Decimal("1e15")
MAX_REFERENCE = rules.MAX_TEXT
MAX_CITY = 100
PHONE = re.compile(r"^[0-9+()\-. ]{0,30}$")
CONTACT_FIELDS = ("email", "phonePrimary", "phoneSecondary", "mobile", "address.address", "address.city")

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


class RequestRefused(Exception):
    """A write refused by a rule; `violations` say which and why, in the user's language."""

    def __init__(self, violations: list[RuleViolation]):
        self.violations = list(violations)
        super().__init__("; ".join(v.message for v in self.violations))

    @property
    def codes(self) -> list[str]:
        return [v.code for v in self.violations]


class StaleBase(RequestRefused):
    """The mirrored document moved since the edit began; the edit must be re-based first."""

    def __init__(self, *, base_hash: str, current_hash: str):
        self.base_hash, self.current_hash = base_hash, current_hash
        super().__init__([RuleViolation("", "base_changed", _(
            "The invoice changed in Alegra after you started editing. Review what changed "
            "meanwhile and re-base your changes before submitting."))])


@dataclass(frozen=True)
class Base:
    document: dict
    hash: str


def _refuse(code: str, message: str, field: str = "") -> RequestRefused:
    return RequestRefused([RuleViolation(field, code, message)])


# --- reads the rules need ---------------------------------------------------------------


def catalogue_taxes(company) -> dict[str, dict]:
    """The company's mirrored taxes, by id, in the shape of a line's tax entry."""
    rows = (Tax.objects.filter(company=company, is_deleted=False)
            .order_by("name", "id").values_list("alegra_id", "name", "percentage", "tax_type"))
    return {
        ident: {"id": ident, "name": name, "percentage": editable.decimal_text(percentage),
                "type": tax_type}
        for ident, name, percentage, tax_type in rows
    }


def client_block(invoice: Invoice) -> dict:
    document = invoice.document if isinstance(invoice.document, dict) else {}
    client = document.get("client")
    return copy.deepcopy(client) if isinstance(client, dict) else {}


def current_base(invoice: Invoice, kind: str) -> Base:
    """What an edit of this kind starts from now: the invoice, or its client's contact."""
    if kind == Kind.CONTACT:
        contact = (Contact.objects.filter(company_id=invoice.company_id, is_deleted=False,
                                          alegra_id=invoice.client_alegra_id).first()
                   if invoice.client_alegra_id else None)
        if contact is not None and isinstance(contact.document, dict):
            return Base(contact.document, contact.content_hash)
        block = client_block(invoice)
        return Base(block, mirror.content_hash(block))
    return Base(invoice.document, invoice.content_hash)


def base_for_hash(invoice: Invoice, base_hash: str) -> dict | None:
    """The invoice body an edit was based on: the current one, or a version from the history."""
    if base_hash == invoice.content_hash:
        return invoice.document
    version = (invoice.history.filter(content_hash=base_hash)
               .order_by("-history_id").values_list("document", flat=True).first())
    return version if isinstance(version, dict) else None


def open_request_for(invoice: Invoice, exclude_pk: int | None = None) -> ChangeRequest | None:
    requests = ChangeRequest.objects.filter(invoice=invoice, state__in=OPEN_STATES)
    if exclude_pk is not None:
        requests = requests.exclude(pk=exclude_pk)
    return requests.select_related("requester").order_by("-id").first()


# --- the rules --------------------------------------------------------------------------


def _reason_violations(reason: str, *, required: bool) -> list[RuleViolation]:
    text = (reason or "").strip()
    if required and not text:
        return [RuleViolation("reason", "reason_required", _(
            "Explain the reason for the change: a reason is required to submit."))]
    if len(text) > MAX_REASON:
        return [RuleViolation("reason", "reason_too_long", _(
            "The reason can have at most %(max)s characters (it has %(length)s)."
        ) % {"max": MAX_REASON, "length": len(text)})]
    return []


def _lines(document: Mapping[str, Any]) -> list:
    items = document.get("items")
    return items if isinstance(items, list) else []


def _update_extras(company, base: Mapping, proposed: Mapping) -> list[RuleViolation]:
    """What the document rules cannot know alone: the catalogue, the reference length."""
    found = []
    for index, line in enumerate(_lines(proposed)):
        reference = line.get("reference") if isinstance(line, Mapping) else None
        if reference is not None and len(str(reference)) > MAX_REFERENCE:
            found.append(RuleViolation(f"items[{index}].reference", "text_too_long", _(
                "Line %(line)s: the reference can have at most %(max)s characters "
                "(it has %(length)s)."
            ) % {"line": index + 1, "max": MAX_REFERENCE, "length": len(str(reference))}))
    known_items = {diff.item_id(line) for line in _lines(base)}
    new_items = {}
    for index, line in enumerate(_lines(proposed)):
        ident = diff.item_id(line)
        if ident and ident not in known_items:
            new_items.setdefault(ident, index)
    if new_items:
        found_ids = set(Item.objects.filter(company=company, is_deleted=False,
                                            alegra_id__in=list(new_items))
                        .values_list("alegra_id", flat=True))
        for ident, index in new_items.items():
            if ident not in found_ids:
                found.append(RuleViolation(f"items[{index}].id", "unknown_item", _(
                    "Line %(line)s: the item %(item)s is not in the company's catalogue."
                ) % {"line": index + 1, "item": ident}))
    old_client = diff.reference_id(base.get("client"))
    new_client = diff.reference_id(proposed.get("client"))
    if new_client is None:
        found.append(RuleViolation("client", "client_required", _("Choose the client.")))
    elif new_client != old_client and not Contact.objects.filter(
            company=company, is_deleted=False, alegra_id=new_client).exists():
        found.append(RuleViolation("client", "unknown_client", _(
            "The client %(client)s is not among the company's contacts."
        ) % {"client": new_client}))
    return found


def _get(document: Mapping, path: str) -> str:
    value: Any = document
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return "" if value is None else str(value)


def _set(document: dict, path: str, value: str) -> None:
    *parents, last = path.split(".")
    target = document
    for part in parents:
        if not isinstance(target.get(part), dict):
            target[part] = {}
        target = target[part]
    target[last] = value


CONTACT_LABELS = {
    "email": gettext_lazy("E-mail"), "phonePrimary": gettext_lazy("Phone"),
    "phoneSecondary": gettext_lazy("Second phone"), "mobile": gettext_lazy("Mobile"),
    "address.address": gettext_lazy("Address"), "address.city": gettext_lazy("City"),
}


def contact_violations(base: Mapping, proposed: Mapping) -> list[RuleViolation]:
    found = []
    email = _get(proposed, "email").strip()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            found.append(RuleViolation("email", "invalid_email", _(
                "The e-mail “%(value)s” is not a valid address.") % {"value": email[:80]}))
    for name in ("phonePrimary", "phoneSecondary", "mobile"):
        value = _get(proposed, name)
        if not PHONE.match(value):
            found.append(RuleViolation(name, "invalid_phone", _(
                "“%(value)s” is not a phone number: use digits, spaces and + ( ) - only, "
                "at most 30 characters.") % {"value": value[:40]}))
    for name, limit in (("address.address", rules.MAX_TEXT), ("address.city", MAX_CITY)):
        value = _get(proposed, name)
        if len(value) > limit:
            found.append(RuleViolation(name, "text_too_long", _(
                "%(field)s can have at most %(max)s characters (it has %(length)s)."
            ) % {"field": CONTACT_LABELS[name], "max": limit, "length": len(value)}))
    if all(_get(base, name) == _get(proposed, name) for name in CONTACT_FIELDS):
        found.append(RuleViolation("", "nothing_to_submit",
                                   _("Nothing has changed: there is nothing to submit.")))
    return found


def _too_large() -> list[RuleViolation]:
    return [RuleViolation("total", "amount_too_large", _(
        "The amounts are too large: check the quantities and prices (at most %(max)s)."
    ) % {"max": "999.999.999.999.999"})]


def _amount_violations(proposed: Mapping, taxes: Mapping) -> list[RuleViolation]:
    try:
        totals = arithmetic.invoice_totals(proposed, taxes)
    except ValueError:
        return []  # a malformed value: the line rules say which
    figures = (totals.subtotal, totals.discount, totals.tax, totals.total, totals.balance)
    return _too_large() if any(abs(figure) >= MAX_AMOUNT for figure in figures) else []


def validate_proposal(*, invoice: Invoice, kind: str, base: Mapping, proposed: Mapping,
                      taxes: Mapping[str, Any] | None = None) -> list[RuleViolation]:
    """Every reason `proposed` cannot be requested for `invoice`; empty when it can."""
    try:
        return _validate_proposal(invoice=invoice, kind=kind, base=base, proposed=proposed,
                                  taxes=taxes)
    except ArithmeticError:
        # Beyond Decimal's working precision: no real invoice gets there.
        return _too_large()


def _validate_proposal(*, invoice: Invoice, kind: str, base: Mapping, proposed: Mapping,
                       taxes: Mapping[str, Any] | None) -> list[RuleViolation]:
    company = invoice.company
    if taxes is None:
        taxes = catalogue_taxes(company)
    if invoice.is_deleted:
        return [RuleViolation("", "invoice_deleted", _(
            "This invoice was deleted in Alegra: it cannot be changed."))]
    if kind == Kind.UPDATE:
        refusal = rules.editing_refusal(base)
        if refusal is not None:
            return [refusal]
        status = str(base.get("status") or "").lower()
        if status not in ("draft", "open"):
            return [RuleViolation("status", "not_editable_in_place", _(
                "This invoice is %(status)s: it cannot be changed in place; issue a credit "
                "note instead.") % {"status": status or "?"})]
        found = _amount_violations(proposed, taxes)
        if found:
            return found
        found = rules.validate_update(base, proposed, taxes=taxes,
                                      closed_until=company.closed_until)
        if [v.code for v in found] == ["nothing_to_submit"]:
            return found
        return found + _update_extras(company, base, proposed)
    if kind == Kind.CREDIT_NOTE:
        try:
            amount = editable.credit_note_amount(base, proposed, taxes)
        except (ValueError, TypeError):
            amount = None
        if amount is not None and abs(amount) >= MAX_AMOUNT:
            return _too_large()
        found = rules.validate_credit_note(base, proposed, closed_until=company.closed_until)
        if amount is None:
            if not found:
                found.append(RuleViolation("items", "not_computable", _(
                    "The credit note total cannot be computed from these lines.")))
        return found
    if kind == Kind.CONTACT:
        if editable.is_void(invoice.document if isinstance(invoice.document, dict) else {}):
            return [RuleViolation("status", "void_read_only", _(
                "This invoice is void: it is read-only and cannot be changed."))]
        return contact_violations(base, proposed)
    return [RuleViolation("kind", "invalid_kind", _("Unknown kind of change."))]


# --- documents ------------------------------------------------------------------------


def rebase_document(old_base: Mapping, proposed: Mapping, current: Mapping) -> dict:
    """The accountant's changes (old_base → proposed) carried onto `current`.

    Raises RequestRefused when the invoice changed meanwhile in the same places.
    """
    changes = diff.diff_documents(old_base, proposed)
    try:
        return diff.apply_diff(current, changes)
    except diff.DiffConflict as exc:
        raise _refuse("rebase_conflict", _(
            "Your changes cannot be carried over: the invoice was changed meanwhile in the "
            "same places (%(fields)s). Cancel this request and start again from the current "
            "version.") % {"fields": ", ".join(exc.fields)}) from None


def _rebase_contact(old_base: Mapping, proposed: Mapping, current: Mapping) -> dict:
    result = copy.deepcopy(dict(current))
    clashes = []
    for name in CONTACT_FIELDS:
        old, new, now = _get(old_base, name), _get(proposed, name), _get(current, name)
        if old == new:
            continue
        if now not in (old, new):
            clashes.append(name)
        _set(result, name, new)
    if clashes:
        raise _refuse("rebase_conflict", _(
            "Your changes cannot be carried over: the contact was changed meanwhile in the "
            "same places (%(fields)s). Cancel this request and start again from the current "
            "version.") % {"fields": ", ".join(clashes)})
    return result


def _carried_over(kind: str, old_base: Mapping, proposed: Mapping, current: Mapping) -> dict:
    if kind == Kind.UPDATE:
        return rebase_document(old_base, proposed, current)
    if kind == Kind.CONTACT:
        return _rebase_contact(old_base, proposed, current)
    # A credit note stands on its own; it is checked again against the current invoice.
    return copy.deepcopy(dict(proposed))


def _stored(kind: str, proposed: Mapping, taxes: Mapping) -> dict:
    document = copy.deepcopy(dict(proposed))
    if kind == Kind.UPDATE:
        document = arithmetic.with_totals(document, taxes)
    return mirror.canonical(document)


def _recorded_total(document: Mapping) -> Decimal:
    try:
        return arithmetic.to_decimal(document.get("total"))
    except (ValueError, TypeError):
        return Decimal(0)


def money_impact(kind: str, base: Mapping, proposed: Mapping,
                 taxes: Mapping | None = None) -> tuple[Decimal, Decimal]:
    """(old total, new total); for a credit note, the invoice total before and after it."""
    try:
        if kind == Kind.UPDATE:
            return (arithmetic.invoice_totals(base, taxes).total,
                    arithmetic.invoice_totals(proposed, taxes).total)
        if kind == Kind.CREDIT_NOTE:
            old = _recorded_total(base)
            return old, old - editable.credit_note_amount(base, proposed, taxes)
    except (ValueError, TypeError, ArithmeticError):
        pass
    return Decimal(0), Decimal(0)


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
