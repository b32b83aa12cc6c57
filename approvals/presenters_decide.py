"""What the decision panel, the inbox and the conflict screen show, computed once per render."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from invoices import diff
from invoices.documents import contacts, references
from portal.access import DECIDE_ROLES
from portal.models import Membership

from . import events, hooks
from .models import ChangeRequest, Decision, Push, Routing
from .presenters import EMPTY, HEADER_LABELS, field_value_text, money_text, number_text, price_text
from .services.decisions import ApprovalStatus, approval_status
from .revisions import revision_of

ACTIVE_PUSH = frozenset({Push.State.QUEUED, Push.State.PUSHING, Push.State.RETRYING})


@dataclass
class Panel:
    change_request: ChangeRequest
    routing: Routing | None
    status: ApprovalStatus
    decisions: list[Decision]
    earlier: list[Decision]
    push: Push | None
    can_decide: bool
    is_requester: bool
    already_decided: bool
    can_retry: bool
    can_copy: bool
    needs_text: str
    error: str = ""

    @property
    def polling(self) -> bool:
        """The panel refreshes itself while the change is on its way to Alegra."""
        state = self.change_request.state
        return state in (ChangeRequest.State.APPROVED, ChangeRequest.State.PUSHING) or bool(
            self.push and self.push.state in ACTIVE_PUSH)

    @property
    def push_state(self) -> str:
        return self.push.state if self.push else ""


def panel_for(change_request: ChangeRequest, membership: Membership, user, *, error: str = "") -> Panel:
    routing_row = Routing.objects.filter(change_request=change_request).select_related("auto_rule").first()
    all_decisions = list(change_request.decisions.select_related("approver", "auto_rule").order_by("created_at", "id"))
    revision = revision_of(change_request)
    current = [d for d in all_decisions if d.revision == revision]
    status = approval_status(change_request, routing_row, current)
    push = change_request.pushes.order_by("-created_at", "-id").first()
    is_requester = change_request.requester_id == user.pk
    already = any(d.approver_id == user.pk for d in current)
    State = ChangeRequest.State
    return Panel(
        change_request=change_request, routing=routing_row, status=status, decisions=current,
        earlier=[d for d in all_decisions if d.revision != revision], push=push,
        can_decide=(change_request.state == State.PENDING and membership.role in DECIDE_ROLES
                    and not is_requester and not already),
        is_requester=is_requester, already_decided=already,
        can_retry=(change_request.state == State.FAILED and push is not None and push.state == Push.State.FAILED
                   and (is_requester or membership.role in DECIDE_ROLES)),
        can_copy=change_request.state in (State.REJECTED, State.CANCELLED) and membership.role == "accountant",
        needs_text=events.needs_text(status.required, status.manager_required),
        error=error,
    )


# --- the inbox --------------------------------------------------------------------------


@dataclass
class InboxRow:
    change_request: ChangeRequest
    status: ApprovalStatus
    routing: Routing | None
    decided_by_me: bool
    is_mine: bool
    error: str = ""
    notice: str = ""
    notes: list[dict] = field(default_factory=list)  # the layers above's words (the learned hint)

    @property
    def age(self):
        return self.change_request.submitted_at or self.change_request.created_at

    @property
    def can_decide(self) -> bool:
        return (self.change_request.state == ChangeRequest.State.PENDING and not self.decided_by_me
                and not self.is_mine)


def pending_requests(company_id: int):
    return (ChangeRequest.objects.filter(company_id=company_id, state=ChangeRequest.State.PENDING)
            .select_related("invoice", "requester", "company", "routing")
            .prefetch_related(Prefetch("decisions", queryset=Decision.objects.select_related("approver")))
            .order_by("submitted_at", "id"))


def inbox_row(change_request: ChangeRequest, user, *, error: str = "", notice: str = "",
              notes: list[dict] | None = None) -> InboxRow:
    routing_row = getattr(change_request, "routing", None) if _has_routing(change_request) else None
    revision = revision_of(change_request)
    decisions = [d for d in change_request.decisions.all() if d.revision == revision]
    status = approval_status(change_request, routing_row, decisions)
    if notes is None:
        notes = hooks.inbox_notes(company_id=change_request.company_id, requests=[change_request]).get(
            change_request.pk, [])
    return InboxRow(change_request, status, routing_row, any(d.approver_id == user.pk for d in decisions),
                    change_request.requester_id == user.pk, error=error, notice=notice, notes=notes)


def _has_routing(change_request: ChangeRequest) -> bool:
    try:
        change_request.routing
    except Routing.DoesNotExist:
        return False
    return True


def waiting_count(company_id: int, user) -> int:
    """Pending requests of the company this user may still decide."""
    decided = Decision.objects.filter(approver=user).values("change_request_id")
    return (ChangeRequest.objects.filter(company_id=company_id, state=ChangeRequest.State.PENDING)
            .exclude(requester=user).exclude(pk__in=decided).count())


def attention_count(company_id: int, user) -> int:
    """The user's own requests that need them: rejected recently, in conflict, or failed."""
    return ChangeRequest.objects.filter(
        company_id=company_id, requester=user,
        state__in=[ChangeRequest.State.CONFLICT, ChangeRequest.State.FAILED]).count()


# --- the conflict screen ------------------------------------------------------------------


@dataclass
class ConflictRow:
    label: str
    base: str
    remote: str
    approved: str
    remote_changed: bool
    approved_changed: bool

    @property
    def clash(self) -> bool:
        return self.remote_changed and self.approved_changed and self.remote != self.approved


@dataclass
class ConflictView:
    rows: list[ConflictRow] = field(default_factory=list)
    totals: list[ConflictRow] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # the fields Alegra moved, in the reader's words


def field_label(name: str) -> str:
    return str(_("Lines") if name in ("items", "lines") else HEADER_LABELS.get(name, name))


def _line_label(line: Mapping | None, index: int) -> str:
    name = str((line or {}).get("name") or (line or {}).get("description") or f"#{references.item_id(line)}")
    return f"{_('Line')} {index + 1} · {name}"


def _line_text(line: Mapping | None, precision: int, country: str) -> str:
    if not line:
        return EMPTY
    parts = [f"{_('Quantity')} {number_text(line.get('quantity'), country)}",
             f"{_('Price')} {price_text(line.get('price'), precision, country)}",
             f"{_('Discount')} {number_text(line.get('discount') or 0, country)} %"]
    taxes = ", ".join(str(t.get("name") or t.get("id")) if isinstance(t, Mapping) else str(t)
                      for t in line.get("tax") or ())
    if taxes:
        parts.append(taxes)
    if line.get("description"):
        parts.append(str(line.get("description")))
    return " · ".join(parts)


def conflict_view(change_request: ChangeRequest, remote: Mapping | None) -> ConflictView:
    """Three columns: the edit's base, what Alegra has now, what was approved."""
    base = change_request.base_document or {}
    approved = change_request.proposed_document or {}
    remote = remote or {}
    precision, country = change_request.invoice.decimal_precision, change_request.company.country
    view = ConflictView()
    if change_request.kind == ChangeRequest.Kind.CONTACT:

        for name in contacts.EDITABLE_PATHS:
            b, r, a = (contacts.text_at(doc, name) for doc in (base, remote, approved))
            if b != r or b != a:
                view.rows.append(ConflictRow(str(HEADER_LABELS.get(name, name)), b or EMPTY, r or EMPTY,
                                             a or EMPTY, b != r, b != a))
        return view
    if change_request.kind == ChangeRequest.Kind.CREDIT_NOTE:
        approved = base  # a credit note does not change the invoice's fields; Alegra moved alone
    remote_diff = diff.diff_documents(base, remote)
    approved_diff = diff.diff_documents(base, approved)
    names = [c.field for c in remote_diff.header] + [c.field for c in approved_diff.header]
    for name in dict.fromkeys(names):
        b, r, a = base.get(name), remote.get(name), approved.get(name)
        view.rows.append(ConflictRow(
            field_label(name), *(field_value_text(name, value) or EMPTY for value in (b, r, a)),
            diff.normalise_header(name, b) != diff.normalise_header(name, r),
            diff.normalise_header(name, b) != diff.normalise_header(name, a)))
    base_lines = [line for line in base.get("items") or () if isinstance(line, Mapping)]
    remote_lines = [line for line in remote.get("items") or () if isinstance(line, Mapping)]
    approved_lines = [line for line in approved.get("items") or () if isinstance(line, Mapping)]
    if remote_diff.lines_changed or approved_diff.lines_changed:
        for index in range(max(len(base_lines), len(remote_lines), len(approved_lines))):
            b = base_lines[index] if index < len(base_lines) else None
            r = remote_lines[index] if index < len(remote_lines) else None
            a = approved_lines[index] if index < len(approved_lines) else None
            bt, rt, at = (_line_text(line, precision, country) for line in (b, r, a))
            if bt != rt or bt != at:
                view.rows.append(ConflictRow(_line_label(b or r or a, index), bt, rt, at, bt != rt, bt != at))
    for name, label in (("total", _("Total")), ("balance", _("Balance"))):
        b, r, a = base.get(name), remote.get(name), approved.get(name)
        view.totals.append(ConflictRow(str(label), *(money_text(v, precision, country) for v in (b, r, a)),
                                       _dec(b) != _dec(r), _dec(b) != _dec(a)))
    return view


def _dec(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except Exception:
        return None


def age_days(when) -> int:
    return max(0, (timezone.now() - when).days) if when else 0


# --- what the inbox lists and the header counts ---------------------------------------------

INBOX_LIMIT = 200


def inbox_rows(company_id: int, user, data: Mapping[str, Any]) -> list[InboxRow]:
    """The pending requests the inbox filters ask for, oldest first."""
    requests = pending_requests(company_id)
    if data.get("kind"):
        requests = requests.filter(kind=data["kind"])
    if data.get("requester"):
        requests = requests.filter(requester_id=data["requester"])
    if data.get("older_than"):
        requests = requests.filter(submitted_at__lt=timezone.now() - timedelta(days=data["older_than"]))
    rows = [inbox_row(cr, user, notes=[]) for cr in requests[:INBOX_LIMIT]]
    if data.get("min_impact") is not None:
        floor = Decimal(data["min_impact"])
        rows = [row for row in rows if abs(row.change_request.new_total - row.change_request.old_total) >= floor]
    if data.get("waiting", "mine") in ("", "mine"):
        rows = [row for row in rows if row.can_decide]
    # What the layers above say (the learned hint), in one batch for the whole page.
    notes = hooks.inbox_notes(company_id=company_id, requests=[row.change_request for row in rows])
    for row in rows:
        row.notes = notes.get(row.change_request.pk, [])
    return rows


def counters_for(membership: Membership, user) -> dict:
    can_decide = membership.role in DECIDE_ROLES
    return {
        "company_id": membership.company_id, "role": membership.role, "can_decide": can_decide,
        "waiting": waiting_count(membership.company_id, user) if can_decide else 0,
        "attention": attention_count(membership.company_id, user),
    }
