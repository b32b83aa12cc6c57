"""Change request services: every rule refused with its message and nothing written; life cycle."""

import copy
import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from approvals.models import ChangeRequest
from approvals.errors import ApprovalError, StaleBase
from approvals.services import proposals, transitions
from approvals.services import requests as services
from portal import events
from tests.factories.edit import (
    change_in_alegra,
    line,
    make_invoice,
    mirror_catalogue,
)
from tests.factories import make_user

pytestmark = pytest.mark.django_db
State = ChangeRequest.State


@pytest.fixture
def invoice(company):
    mirror_catalogue(company)
    return make_invoice(company)


def edited(invoice, **changes) -> dict:
    document = copy.deepcopy(invoice.document)
    document.update(changes)
    return document


def with_line(invoice, index: int, **values) -> dict:
    document = copy.deepcopy(invoice.document)
    document["items"][index].update(values)
    return document


def nothing_written(invoice) -> None:
    assert not ChangeRequest.objects.filter(invoice=invoice).exists()
    assert not ChangeRequest.history.filter(invoice_id=invoice.pk).exists()


def draft(invoice, user, proposed=None, reason="Precio de lista equivocado", kind="update"):
    return services.request_save_draft(
        invoice=invoice, user=user, proposed=proposed or with_line(invoice, 0, price="45"),
        reason=reason, kind=kind)


# --- drafts and submission ---------------------------------------------------------------


def test_a_draft_keeps_base_proposal_totals_and_who_why_in_history(invoice, accountant):
    change_request = draft(invoice, accountant)
    assert change_request.state == State.DRAFT
    assert change_request.base_hash == invoice.content_hash
    assert change_request.base_document == invoice.document
    assert change_request.proposed_document["items"][0]["price"] == "45"
    # computed figures are rewritten as Alegra would compute them: 45 × 1.19 + 80 × 1.19
    assert change_request.proposed_document["total"] == "148.75"
    change_request.refresh_from_db()
    assert change_request.old_total == Decimal("142.80")
    assert change_request.new_total == Decimal("148.75")
    assert change_request.difference == Decimal("5.95")
    entry = change_request.history.get()
    assert entry.history_user == accountant and events.describe(entry.history_change_reason) == "draft created"


def test_submit_turns_the_draft_into_a_pending_request(invoice, accountant):
    submitted = services.request_submit(change_request=draft(invoice, accountant), user=accountant)
    assert submitted.state == State.PENDING and submitted.submitted_at is not None
    entry = submitted.history.get(history_change_reason=events.reason("request.submitted"))
    assert (entry.state, entry.history_user) == (State.PENDING, accountant)
    # the decisions code routes it in the same step
    assert submitted.routed_by


def test_save_and_submit_writes_nothing_when_the_reason_is_missing(invoice, accountant):
    with pytest.raises(ApprovalError) as refused:
        services.request_save_and_submit(invoice=invoice, user=accountant, reason="  ",
                                         proposed=with_line(invoice, 0, price="45"), kind="update")
    assert refused.value.codes == ["reason_required"]
    assert "reason" in refused.value.violations[0].message
    nothing_written(invoice)


def test_a_draft_is_updated_in_place_by_its_author(invoice, accountant):
    first = draft(invoice, accountant)
    second = services.request_save_draft(invoice=invoice, user=accountant, request=first,
                                         proposed=with_line(invoice, 1, quantity="2"),
                                         reason="Cantidad", kind="update")
    assert second.pk == first.pk
    assert second.proposed_document["items"][1]["quantity"] == "2"
    assert second.proposed_document["items"][0]["price"] == "40.000000"
    assert second.history.count() == 2


# --- every rule refused with its message, nothing written ---------------------------------

RULES = [
    ("quantity_not_positive", lambda inv: with_line(inv, 0, quantity="0"), "greater than zero"),
    ("price_negative", lambda inv: with_line(inv, 0, price="-1"), "negative"),
    ("price_too_precise", lambda inv: with_line(inv, 0, price="1.1234567"), "6 decimals"),
    ("discount_out_of_range", lambda inv: with_line(inv, 0, discount="100.5"), "between 0"),
    ("unknown_tax", lambda inv: with_line(inv, 0, tax=[{"id": "99"}]), "company's taxes"),
    ("due_before_date", lambda inv: edited(inv, dueDate="2026-10-01"), "cannot be before"),
    ("no_lines", lambda inv: edited(inv, items=[]), "at least one line"),
    ("text_too_long", lambda inv: edited(inv, observations="x" * 501), "500 characters"),
    ("text_too_long", lambda inv: with_line(inv, 0, description="y" * 501), "500 characters"),
    ("text_too_long", lambda inv: with_line(inv, 0, reference="r" * 501), "500 characters"),
    ("nothing_to_submit", lambda inv: copy.deepcopy(inv.document), "Nothing has changed"),
    ("invalid_quantity", lambda inv: with_line(inv, 0, quantity="abc"), "not a number"),
    ("invalid_date", lambda inv: edited(inv, date="2026-13-45"), "not a valid date"),
    ("not_editable", lambda inv: edited(inv, status="closed"), "cannot be changed here"),
    ("unknown_item", lambda inv: edited(inv, items=[*inv.document["items"], line(7) | {"id": 777}]),
     "catalogue"),
    ("unknown_client", lambda inv: edited(inv, client={"id": "555"}), "contacts"),
    ("amount_too_large", lambda inv: with_line(inv, 0, quantity="900000000000000",
                                               price="900000000000000"), "too large"),
]


@pytest.mark.parametrize("code, make, words", RULES, ids=[f"{r[0]}-{i}" for i, r in enumerate(RULES)])
def test_each_rule_is_refused_with_its_message_and_nothing_is_written(invoice, accountant, code, make, words):
    with pytest.raises(ApprovalError) as refused:
        services.request_save_draft(invoice=invoice, user=accountant, proposed=make(invoice),
                                    reason="motivo", kind="update")
    assert code in refused.value.codes
    message = next(v.message for v in refused.value.violations if v.code == code)
    assert words in message
    nothing_written(invoice)


def test_a_date_in_a_closed_period_is_refused(company, accountant):
    mirror_catalogue(company)
    company.closed_until = datetime.date(2026, 10, 31)
    company.save()
    invoice = make_invoice(company)
    with pytest.raises(ApprovalError) as refused:
        draft(invoice, accountant)
    assert refused.value.codes == ["date_in_closed_period"]
    assert "closed period" in refused.value.violations[0].message
    nothing_written(invoice)


def test_the_new_total_cannot_go_below_what_was_paid(company, accountant):
    mirror_catalogue(company)
    invoice = make_invoice(company, paid="140")
    with pytest.raises(ApprovalError) as refused:
        draft(invoice, accountant, with_line(invoice, 1, quantity="0.5"))
    assert refused.value.codes == ["total_below_paid"]
    assert "already been paid" in refused.value.violations[0].message
    nothing_written(invoice)


def test_messages_are_translated(invoice, accountant):
    from django.utils import translation

    with translation.override("en"), pytest.raises(ApprovalError) as refused:
        draft(invoice, accountant, with_line(invoice, 0, quantity="0"))
    assert "greater than zero" in refused.value.violations[0].message


def test_a_stamped_invoice_is_not_updated_in_place(company, accountant):
    mirror_catalogue(company)
    invoice = make_invoice(company, stamped=True)
    with pytest.raises(ApprovalError) as refused:
        draft(invoice, accountant)
    assert refused.value.codes == ["stamped_use_credit_note"]
    nothing_written(invoice)


def test_a_void_invoice_is_read_only_for_every_kind(company, accountant):
    mirror_catalogue(company)
    invoice = make_invoice(company, status="void")
    for kind, proposed in [("update", with_line(invoice, 0, price="1")),
                           ("contact", {**invoice.document["client"], "email": "x@y.co"})]:
        with pytest.raises(ApprovalError) as refused:
            services.request_save_draft(invoice=invoice, user=accountant, proposed=proposed,
                                        reason="r", kind=kind)
        assert refused.value.codes == ["void_read_only"]
    nothing_written(invoice)


def test_only_accountants_of_the_company_propose(invoice, approver, outsider):
    for user in (approver, outsider):
        with pytest.raises(ApprovalError) as refused:
            draft(invoice, user)
        assert refused.value.codes == ["not_allowed"]
    nothing_written(invoice)


def test_an_unknown_kind_is_refused(invoice, accountant):
    with pytest.raises(ApprovalError) as refused:
        draft(invoice, accountant, kind="delete")
    assert refused.value.codes == ["invalid_kind"]


# --- one open request per invoice ----------------------------------------------------------


def test_a_second_accountant_cannot_open_a_competing_request(invoice, company, accountant):
    first = draft(invoice, accountant)
    other = make_user("luis", company, "accountant")
    with pytest.raises(ApprovalError) as refused:
        draft(invoice, other)
    assert refused.value.codes == ["open_request_exists"]
    assert f"#{first.pk}" in refused.value.violations[0].message
    assert ChangeRequest.objects.filter(invoice=invoice).count() == 1


def test_the_database_holds_one_open_request_per_invoice(invoice, accountant):
    first = draft(invoice, accountant)
    clone = ChangeRequest(company=invoice.company, invoice=invoice, kind="update",
                          base_document={}, base_hash="x", proposed_document={}, requester=accountant)
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save()
    services.request_cancel(change_request=first, user=accountant)
    clone.save()  # once the first is closed, a new one may open
    assert clone.pk


def test_someone_else_cannot_edit_or_submit_my_draft(invoice, company, accountant):
    mine = draft(invoice, accountant)
    other = make_user("luis", company, "accountant")
    with pytest.raises(ApprovalError) as refused:
        services.request_submit(change_request=mine, user=other)
    assert refused.value.codes == ["not_yours"]
    with pytest.raises(ApprovalError):
        services.request_save_draft(invoice=invoice, user=other, request=mine,
                                    proposed=with_line(invoice, 0, price="50"), reason="", kind="update")
    mine.refresh_from_db()
    assert mine.state == State.DRAFT and mine.proposed_document["items"][0]["price"] == "45"


# --- the mirror moved: told, re-based ------------------------------------------------------


def test_submit_is_refused_when_the_invoice_changed_in_alegra_meanwhile(invoice, accountant):
    change_request = draft(invoice, accountant)
    change_in_alegra(invoice, observations="Entregado en obra")
    with pytest.raises(StaleBase) as refused:
        services.request_submit(change_request=change_request, user=accountant)
    assert refused.value.codes == ["base_changed"]
    change_request.refresh_from_db()
    assert change_request.state == State.DRAFT


def test_rebase_carries_my_change_onto_the_current_version(invoice, accountant):
    change_request = draft(invoice, accountant)
    change_in_alegra(invoice, observations="Entregado en obra")
    rebased = services.request_rebase(change_request=change_request, user=accountant)
    assert rebased.base_hash == invoice.content_hash
    assert rebased.proposed_document["observations"] == "Entregado en obra"
    assert rebased.proposed_document["items"][0]["price"] == "45"
    assert events.code_of(rebased.history.order_by("-history_id").first().history_change_reason) == "request.rebased"
    assert services.request_submit(change_request=rebased, user=accountant).state == State.PENDING


def test_rebase_refuses_when_alegra_changed_the_same_field(invoice, accountant):
    change_request = draft(invoice, accountant, edited(invoice, observations="Mía"))
    change_in_alegra(invoice, observations="De Alegra")
    with pytest.raises(ApprovalError) as refused:
        services.request_rebase(change_request=change_request, user=accountant)
    assert refused.value.codes == ["rebase_conflict"]
    assert "observations" in refused.value.violations[0].message


def test_a_form_based_on_an_older_version_is_refused_on_save(invoice, accountant):
    old_hash = invoice.content_hash
    change_in_alegra(invoice, observations="Entregado")
    with pytest.raises(StaleBase):
        services.request_save_draft(invoice=invoice, user=accountant, proposed=with_line(invoice, 0, price="45"),
                                    reason="", kind="update", base_hash=old_hash)
    nothing_written(invoice)
    assert proposals.base_for_hash(invoice, old_hash)["observations"] == ""


# --- transitions ---------------------------------------------------------------------------


def test_transitions_follow_the_table_and_record_who_and_why(invoice, accountant, approver):
    change_request = services.request_submit(change_request=draft(invoice, accountant), user=accountant)
    transitions.request_transition(change_request=change_request, to_state=State.APPROVED,
                                user=approver, reason="approved: OK")
    assert change_request.state == State.APPROVED
    with pytest.raises(ApprovalError) as refused:
        transitions.request_transition(change_request=change_request, to_state=State.DRAFT,
                                    user=approver, reason="no")
    assert refused.value.codes == ["invalid_transition"]
    for state in (State.PUSHING, State.APPLIED):
        transitions.request_transition(change_request=change_request, to_state=state, user=None,
                                    reason=f"push: {state}")
    entries = list(change_request.history.order_by("history_id").exclude(
        history_change_reason__contains='"request.routed"').values_list(
        "state", "history_user__username", "history_change_reason"))
    entries = [(state, user, events.describe(why)) for state, user, why in entries]
    assert entries == [
        ("draft", "ana", "draft created"), ("pending", "ana", "submitted for approval"),
        ("approved", "pedro", "approved: OK"), ("pushing", None, "push: pushing"),
        ("applied", None, "push: applied"),
    ]
    for state in State.values:
        with pytest.raises(ApprovalError):
            transitions.request_transition(change_request=change_request, to_state=state, user=None)


def test_every_state_appears_in_the_transition_table():
    assert set(transitions.ALLOWED_TRANSITIONS) == set(State.values)
    for targets in transitions.ALLOWED_TRANSITIONS.values():
        assert targets <= set(State.values)


def test_cancel_then_copy_into_a_new_draft(invoice, accountant):
    change_request = services.request_submit(change_request=draft(invoice, accountant), user=accountant)
    services.request_cancel(change_request=change_request, user=accountant, comment="Me equivoqué")
    change_request.refresh_from_db()
    assert change_request.state == State.CANCELLED
    assert events.describe(change_request.history.order_by("-history_id").first().history_change_reason) == "cancelled: Me equivoqué"
    copy_ = services.request_copy_to_draft(change_request=change_request, user=accountant)
    assert copy_.pk != change_request.pk and copy_.state == State.DRAFT
    assert copy_.proposed_document["items"][0]["price"] == "45"
    assert copy_.reason == change_request.reason
    with pytest.raises(ApprovalError) as refused:
        services.request_copy_to_draft(change_request=change_request, user=accountant)
    assert refused.value.codes == ["open_request_exists"]


def test_a_rejected_request_can_be_copied_but_not_cancelled(invoice, accountant, approver):
    change_request = services.request_submit(change_request=draft(invoice, accountant), user=accountant)
    transitions.request_transition(change_request=change_request, to_state=State.REJECTED,
                                user=approver, reason="rejected: precio alto")
    with pytest.raises(ApprovalError) as refused:
        services.request_cancel(change_request=change_request, user=accountant)
    assert refused.value.codes == ["not_cancellable"]
    assert services.request_copy_to_draft(change_request=change_request, user=accountant).state == State.DRAFT


# --- credit notes and contacts -------------------------------------------------------------


def note_for(invoice, quantity="1", **changes):
    from invoices import editable

    body = editable.credit_note_body(invoice.document, [editable.ReturnedLine(0, quantity)],
                                     "PARTIALL_DEVOLUTION", "Devolución", "2026-10-20")
    body.update(changes)
    return body


def test_a_credit_note_for_a_stamped_invoice(company, accountant):
    mirror_catalogue(company)
    invoice = make_invoice(company, stamped=True)
    change_request = services.request_save_and_submit(
        invoice=invoice, user=accountant, proposed=note_for(invoice), reason="Devolvió un bulto",
        kind="credit_note")
    assert change_request.state == State.PENDING
    assert change_request.proposed_document["stamp"] == {"generateStamp": True}
    change_request.refresh_from_db()
    assert (change_request.old_total, change_request.new_total) == (Decimal("142.80"), Decimal("95.20"))


def test_a_credit_note_above_the_balance_is_refused(company, accountant):
    mirror_catalogue(company)
    invoice = make_invoice(company, stamped=True, paid="100")
    with pytest.raises(ApprovalError) as refused:
        services.request_save_draft(invoice=invoice, user=accountant, proposed=note_for(
            invoice, invoices=[{"id": invoice.alegra_id, "amount": "47.60"}]), reason="r", kind="credit_note")
    assert "amount_above_balance" in refused.value.codes
    nothing_written(invoice)


def test_a_credit_note_needs_type_cause_and_a_returnable_quantity(company, accountant):
    mirror_catalogue(company)
    invoice = make_invoice(company, stamped=True)
    with pytest.raises(ApprovalError) as refused:
        services.request_save_draft(invoice=invoice, user=accountant,
                                    proposed=note_for(invoice, quantity="3", type="", cause=""),
                                    reason="r", kind="credit_note")
    assert {"invalid_note_type", "cause_required", "quantity_above_invoiced"} <= set(refused.value.codes)
    nothing_written(invoice)


def test_a_contact_update_is_based_on_the_mirrored_contact(invoice, accountant):
    base = proposals.current_base(invoice, "contact")
    proposed = copy.deepcopy(base.document)
    proposed["address"] = {"address": "Avenida 68 # 12-30", "city": "Cali"}
    change_request = services.request_save_draft(invoice=invoice, user=accountant, proposed=proposed,
                                                 reason="Se mudó", kind="contact")
    assert change_request.kind == "contact" and change_request.contact_alegra_id == "1"
    assert change_request.base_hash == base.hash


@pytest.mark.parametrize("field, value, code", [
    ("email", "no-es-un-correo", "invalid_email"),
    ("mobile", "300-abc", "invalid_phone"),
    ("email", None, "nothing_to_submit"),
])
def test_contact_rules(invoice, accountant, field, value, code):
    proposed = copy.deepcopy(proposals.current_base(invoice, "contact").document)
    if value is not None:
        proposed[field] = value
    with pytest.raises(ApprovalError) as refused:
        services.request_save_draft(invoice=invoice, user=accountant, proposed=proposed,
                                    reason="r", kind="contact")
    assert code in refused.value.codes
    nothing_written(invoice)
