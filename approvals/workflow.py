"""Where an edit of an invoice stands for one person, before any form is read.

One question, answered in one place for every edit screen: may this person edit this invoice
now, with which kind of change, continuing which draft, or is something in the way?
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from invoices.models import Invoice

from .models import ChangeRequest
from .services.proposals import open_request_for

Kind = ChangeRequest.Kind

DELETED = _("This invoice was deleted in Alegra. The mirror keeps its last version, but it cannot be changed.")
VOID = _("This invoice is void: it is read-only. A void invoice cannot be corrected here; if it was "
         "never stamped it can be reopened in Alegra, and it will be editable after the next sync.")


@dataclass
class Situation:
    kind: str | None  # None: read-only
    draft: ChangeRequest | None = None
    blocked_by: ChangeRequest | None = None
    readonly_reason: str = ""

    @property
    def readonly(self) -> bool:
        return self.kind is None


def _readonly(invoice: Invoice) -> Situation | None:
    if invoice.is_deleted:
        return Situation(None, readonly_reason=str(DELETED))
    if invoice.is_void:
        return Situation(None, readonly_reason=str(VOID))
    return None


def _own_draft(open_request: ChangeRequest, user, kinds: set[str]) -> bool:
    return (open_request.requester_id == user.pk and open_request.state == ChangeRequest.State.DRAFT
            and open_request.kind in kinds)


def situation(invoice: Invoice, user, wanted_kind: str | None) -> Situation:
    """For the invoice editor: an in-place update, a credit note, or read-only."""
    found = _readonly(invoice)
    if found is not None:
        return found
    open_request = open_request_for(invoice)
    if open_request is not None:
        if not _own_draft(open_request, user, {Kind.UPDATE, Kind.CREDIT_NOTE}):
            return Situation(None, blocked_by=open_request)
        return Situation(open_request.kind, draft=open_request)
    if invoice.editable_in_place and wanted_kind != Kind.CREDIT_NOTE:
        return Situation(Kind.UPDATE)
    return Situation(Kind.CREDIT_NOTE)


def contact_situation(invoice: Invoice, user) -> Situation:
    """For the client-contact update of the invoice's client."""
    found = _readonly(invoice)
    if found is not None:
        return found
    open_request = open_request_for(invoice)
    if open_request is not None:
        if not _own_draft(open_request, user, {Kind.CONTACT}):
            return Situation(None, blocked_by=open_request)
        return Situation(Kind.CONTACT, draft=open_request)
    return Situation(Kind.CONTACT)
