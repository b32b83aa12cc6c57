"""What the request pages show: my requests with their counts, an invoice's requests, one request."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Count
from django.utils.translation import gettext as _

from invoices.models import Invoice
from portal.models import Membership, Role

from . import presenters
from .models import CLOSED_STATES, OPEN_STATES, ChangeRequest
from .services import proposals, transitions

State = ChangeRequest.State
Kind = ChangeRequest.Kind
PAGE_SIZE = 50
STATE_FILTERS = {"open": OPEN_STATES, "closed": CLOSED_STATES}


def edit_url_name(change_request: ChangeRequest) -> str:
    return "approvals:invoice_contact_edit" if change_request.kind == Kind.CONTACT else "approvals:invoice_edit"


def my_requests(company_id: int, user, query) -> dict:
    wanted = query.get("state") or ""
    mine = ChangeRequest.objects.filter(company_id=company_id, requester=user)
    counts = dict(mine.values_list("state").annotate(n=Count("id")).order_by())
    rows = mine.select_related("invoice").only(
        "id", "kind", "state", "reason", "old_total", "new_total", "created_at", "updated_at",
        "submitted_at", "invoice__id", "invoice__number", "invoice__alegra_id",
        "invoice__client_name", "invoice__decimal_precision", "invoice__company_id",
    ).order_by("-updated_at", "-id")
    if wanted in STATE_FILTERS:
        rows = rows.filter(state__in=STATE_FILTERS[wanted])
    elif wanted in State.values:
        rows = rows.filter(state=wanted)
    else:
        wanted = ""
    return {
        "page": Paginator(rows, PAGE_SIZE).get_page(query.get("page")), "wanted": wanted,
        "counts": counts, "total": sum(counts.values()),
        "open_count": sum(n for state, n in counts.items() if state in OPEN_STATES),
        "closed_count": sum(n for state, n in counts.items() if state in CLOSED_STATES),
        "states": State.choices,
    }


def invoice_requests(invoice: Invoice) -> list[ChangeRequest]:
    return list(ChangeRequest.objects.filter(invoice=invoice).select_related("requester")
                .only("id", "kind", "state", "old_total", "new_total", "updated_at", "company_id",
                      "invoice_id", "requester__username", "requester__first_name", "requester__last_name")
                .order_by("-id")[:20])


def _meanwhile(change_request: ChangeRequest, current_document: dict, taxes: dict):
    labels = {"before_label": _("When it was drafted"), "after_label": _("Now in Alegra")}
    if change_request.kind == Kind.CONTACT:
        return presenters.present_contact_diff(change_request.base_document, current_document, **labels)
    return presenters.diff_of(change_request.base_document, current_document, taxes=taxes,
                              country=change_request.company.country, **labels)


def request_history(change_request: ChangeRequest) -> list:
    return list(change_request.history.select_related("history_user")
                .only("history_id", "history_date", "history_change_reason", "state",
                      "history_user__username", "history_user__first_name", "history_user__last_name")
                .order_by("-history_date", "-history_id")[:100])


def request_detail(change_request: ChangeRequest, membership: Membership, user) -> dict:
    taxes = proposals.catalogue_taxes(change_request.company)
    current = proposals.current_base(change_request.invoice, change_request.kind)
    stale = change_request.is_open and current.hash != change_request.base_hash
    is_accountant = membership.role == Role.ACCOUNTANT
    is_requester = is_accountant and change_request.requester_id == user.pk
    return {
        "cr": change_request, "invoice": change_request.invoice,
        "view": presenters.present_request(change_request, taxes=taxes), "stale": stale,
        "meanwhile": _meanwhile(change_request, current.document, taxes) if stale else None,
        "history": request_history(change_request), "edit_url_name": edit_url_name(change_request),
        "can_edit": is_requester and change_request.state == State.DRAFT,
        "can_cancel": (is_requester or membership.role == Role.MANAGER)
        and change_request.state in transitions.CANCELLABLE,
        "can_rebase": is_requester and change_request.state in transitions.REBASABLE and stale,
        "can_copy": is_accountant and change_request.state in transitions.COPYABLE,
    }
