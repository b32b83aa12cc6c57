"""The credit-note composer's state: which lines are credited, at what price, and the note it makes.

Nothing here writes; the view saves the note through the services like any proposal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from invoices.documents import references, numbers
from invoices.models import Invoice
from invoices.rules import RuleViolation
from portal import formats

from . import documents, presenters
from .editor import field_errors
from .forms.data import credit_lines_initial
from .forms.edit import CreditLineForm, CreditNoteForm
from .models import ChangeRequest
from .services import proposals
from .workflow import Situation

Kind = ChangeRequest.Kind
DEFAULT_TYPE = "PARTIALL_DEVOLUTION"


@dataclass
class CreditRow:
    index: int
    name: str
    invoiced: str
    price: str
    net_price: str
    taxes: str
    quantity: str
    credit_price: str
    errors: list[str] = field(default_factory=list)


@dataclass
class Composer:
    base: dict
    base_hash: str
    data: object
    form: CreditNoteForm
    line_forms: list
    note: dict | None
    posted: bool = False  # False on the first screen: nothing typed yet, nothing to complain about

    @property
    def items(self) -> list:
        items = self.base.get("items")
        return items if isinstance(items, list) else []

    @property
    def posted_hash(self) -> str:
        return (self.data.get("base_hash") or "")[:64]

    @property
    def reason(self) -> str:
        return self.form.cleaned_data.get("reason") or "" if self.note is not None else ""


def _net_text(line) -> str:
    """The line's net unit price as the box shows and reads it: written plain ("12.345") it came
    back as twelve thousand where "." groups thousands, and the note credited that."""
    net = documents.net_price(line) if isinstance(line, dict) else None
    return formats.input_text(numbers.decimal_text(net)) if net is not None else ""


def _above_net(items: list, line_forms: list[CreditLineForm]) -> bool:
    """Mark each line that credits a unit price above what the line sold at; whether any does."""
    found = False
    for line, form in zip(items, line_forms):
        price = form.cleaned_data.get("price") if form.is_valid() else None
        net = documents.net_price(line) if isinstance(line, dict) else None
        if price is not None and net is not None and price > net:
            form.add_error("price", _("The price credited cannot be above what the line sold at (%(net)s).")
                           % {"net": _net_text(line)})
            found = True
    return found


def _initial(base: dict, base_hash: str, draft: ChangeRequest | None) -> dict:
    note = draft.proposed_document if draft is not None else {}
    initial = credit_lines_initial(base, note)
    data = {"base_hash": base_hash, "date": note.get("date") or timezone.localdate().isoformat(),
            "type": note.get("type") or DEFAULT_TYPE, "cause": note.get("cause") or "",
            "reason": draft.reason if draft else ""}
    items = base.get("items") if isinstance(base.get("items"), list) else []
    for index, line in enumerate(items):
        values = initial.get(index, {})
        data[f"credit-{index}-quantity"] = values.get("quantity", "0")
        data[f"credit-{index}-price"] = values.get("price") or _net_text(line)
    return data


def compose(invoice: Invoice, situation: Situation, posted=None) -> Composer:
    """The composer on the posted data, or on the draft (or the invoice) for a first screen."""
    draft = situation.draft
    base = draft.base_document if draft is not None else invoice.document
    base_hash = draft.base_hash if draft is not None else invoice.content_hash
    data = posted if posted is not None else _initial(base, base_hash, draft)
    items = base.get("items") if isinstance(base.get("items"), list) else []
    form = CreditNoteForm(data)
    line_forms = [CreditLineForm(data, prefix=f"credit-{i}") for i in range(len(items))]
    valid = form.is_valid() & all([f.is_valid() for f in line_forms])
    valid = valid and not _above_net(items, line_forms)
    note = documents.proposed_credit_note(base, form.cleaned_data, [f.cleaned_data for f in line_forms]) if valid else None
    return Composer(base, base_hash, data, form, line_forms, note, posted=posted is not None)


def _rows(invoice: Invoice, composer: Composer) -> list[CreditRow]:
    precision, country = invoice.decimal_precision, invoice.company.country
    rows = []
    for index, line in enumerate(composer.items):
        line = line if isinstance(line, dict) else {}
        rows.append(CreditRow(
            index=index, name=str(line.get("name") or f"#{references.item_id(line)}"),
            invoiced=presenters.number_text(line.get("quantity")),
            price=presenters.price_text(line.get("price"), precision, country),
            net_price=_net_text(line), taxes=presenters.taxes_text(line.get("tax")),
            quantity=str(composer.data.get(f"credit-{index}-quantity", ""))[:40],
            credit_price=str(composer.data.get(f"credit-{index}-price", ""))[:40],
            errors=field_errors(composer.line_forms[index]) if composer.posted else [],
        ))
    return rows


def composer_context(invoice: Invoice, situation: Situation, composer: Composer,
                     violations: list[RuleViolation]) -> dict:
    company, draft = invoice.company, situation.draft
    posted_hash = composer.posted_hash
    stale = (posted_hash or composer.base_hash) != invoice.content_hash
    meanwhile = None
    if stale and draft is None:
        # Without a draft the note is already checked against the current invoice: the user
        # is told what changed, and the next submission is based on what they now see.
        old = proposals.base_for_hash(invoice, posted_hash)
        if old is not None:
            meanwhile = presenters.diff_of(old, invoice.document, country=company.country,
                                           before_label=_("When you started"), after_label=_("Now in Alegra"))
    violations = list(violations)
    preview = None
    if composer.note is not None:
        preview = presenters.present_note(composer.base, composer.note, country=company.country,
                                          taxes=proposals.catalogue_taxes(company))
    if composer.note is not None and composer.posted:
        known = {(v.field, v.code) for v in violations}
        violations += [v for v in proposals.validate_proposal(invoice=invoice, kind=Kind.CREDIT_NOTE,
                                                              base=composer.base, proposed=composer.note)
                       if (v.field, v.code) not in known]
    return {
        "kind": Kind.CREDIT_NOTE, "form": composer.form, "rows": _rows(invoice, composer), "preview": preview,
        "violations": violations, "form_errors": field_errors(composer.form) if composer.posted else [],
        "stale": stale,
        "draft": draft, "meanwhile": meanwhile,
        "base_hash": composer.base_hash if stale and draft is None else (posted_hash or composer.base_hash),
        "can_update_in_place": invoice.editable_in_place,
    }
