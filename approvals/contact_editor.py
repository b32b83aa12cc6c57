"""The client-contact update's state: the form, the contact it proposes, and the diff."""

from __future__ import annotations

from dataclasses import dataclass

from invoices.models import Invoice
from invoices.rules import RuleViolation

from . import documents, presenters
from .editor import field_errors
from .forms.edit import ContactForm
from .models import ChangeRequest
from .services import proposals
from .workflow import Situation

Kind = ChangeRequest.Kind


@dataclass
class ContactScreen:
    form: ContactForm
    base: dict
    current_hash: str
    base_hash: str
    proposed: dict | None

    @property
    def reason(self) -> str:
        return self.form.cleaned_data.get("reason") or "" if self.proposed is not None else ""

    @property
    def posted_base_hash(self) -> str | None:
        return (self.form.cleaned_data.get("base_hash") or None) if self.proposed is not None else None


def contact_screen(invoice: Invoice, situation: Situation, posted=None, reason: str = "") -> ContactScreen:
    """`reason` fills the reason of a new draft (a finding's evidence, when it leads here)."""
    draft = situation.draft
    current = proposals.current_base(invoice, Kind.CONTACT)
    base, base_hash = (draft.base_document, draft.base_hash) if draft else (current.document, current.hash)
    if posted is None:
        source = draft.proposed_document if draft else base
        posted = {**documents.contact_initial(source), "base_hash": base_hash,
                  "reason": draft.reason if draft else reason}
    form = ContactForm(posted)
    proposed = documents.proposed_contact(base, form.cleaned_data) if form.is_valid() else None
    return ContactScreen(form, base, current.hash, base_hash, proposed)


def contact_context(invoice: Invoice, situation: Situation, screen: ContactScreen,
                    violations: list[RuleViolation]) -> dict:
    violations = list(violations)
    preview = None
    if screen.proposed is not None:
        preview = presenters.present_contact_diff(screen.base, screen.proposed)
        known = {(v.field, v.code) for v in violations}
        violations += [v for v in proposals.validate_proposal(invoice=invoice, kind=Kind.CONTACT,
                                                              base=screen.base, proposed=screen.proposed)
                       if v.code != "nothing_to_submit" and (v.field, v.code) not in known]
    return {
        "form": screen.form, "preview": preview, "violations": violations, "draft": situation.draft,
        "stale": screen.base_hash != screen.current_hash, "client": proposals.client_block(invoice),
        "form_errors": field_errors(screen.form),
    }
