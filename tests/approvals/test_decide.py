"""Deciding requests: who may, how many approvals, auto-approval, notifications, reminders."""

import copy
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from approvals.models import AutoApprovalRule, ChangeRequest, Decision, Push, RoutingPolicy
from approvals.notify import reminders_send
from approvals.services import requests as request_services
from approvals.errors import ApprovalError
from approvals.services.decisions import approval_status, latest_push, request_decide
from approvals.services.policies import (
    approval_settings_save, auto_rule_save, policies_ensure_defaults, policy_save,
)
from approvals.revisions import revision_of
from approvals.services.submission import request_submitted
from approvals.services.transitions import state_label
from tests.factories.edit import make_invoice, mirror_catalogue
from tests.factories import make_user
from portal import events

pytestmark = pytest.mark.django_db
State = ChangeRequest.State


@pytest.fixture
def invoice(company):
    mirror_catalogue(company)
    return make_invoice(company)


@pytest.fixture
def approver2(company):
    return make_user("lucia", company, "approver")


@pytest.fixture
def no_tasks(django_capture_on_commit_callbacks):
    """Run what commits would run, except the push task (the push has its own tests)."""

    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            result = fn(*args, **kwargs)
        for callback in callbacks:
            if not getattr(callback, "__qualname__", "").startswith("enqueue."):
                callback()
        return result

    return run


def submitted(invoice, user, *, reason="El cliente pidió corregir", **changes) -> ChangeRequest:
    proposed = copy.deepcopy(invoice.document)
    lines = changes.pop("lines", None)
    for index, values in (lines or {}).items():
        proposed["items"][index].update(values)
    proposed.update(changes)
    change_request = request_services.request_save_and_submit(invoice=invoice, user=user, proposed=proposed,
                                                              reason=reason, kind="update")
    request_submitted(change_request=change_request)
    change_request.refresh_from_db()
    return change_request


def decide(change_request, user, outcome="approve", comment=""):
    decision = request_decide(change_request=change_request, user=user, outcome=outcome, comment=comment)
    change_request.refresh_from_db()
    return decision


# --- the basic decision ------------------------------------------------------------------


def test_one_approval_approves_and_writes_one_outbox_row(invoice, accountant, approver):
    change_request = submitted(invoice, accountant, observations="Nota")
    assert change_request.routed_by and change_request.approvals_required == 1
    decision = decide(change_request, approver, comment="Revisado")
    assert change_request.state == State.APPROVED
    assert decision.requester == accountant and decision.approver_role == "approver"
    push = Push.objects.get(change_request=change_request)
    assert push.state == Push.State.QUEUED and push.revision == revision_of(change_request)
    history = change_request.history.order_by("-history_id").first()
    assert history.history_user == approver and "Pedro" in history.history_change_reason


def test_nobody_decides_their_own_request_in_the_service(company, invoice, accountant):
    # An accountant who is also… nothing else here; a manager-requester is the realistic case.
    change_request = submitted(invoice, accountant, observations="Nota")
    with pytest.raises(ApprovalError) as refused:
        decide(change_request, accountant)
    assert refused.value.code in {"not_allowed", "own_request"}
    assert not Decision.objects.exists()


def test_a_requester_who_is_also_a_decider_elsewhere_cannot_decide_own_request(company, invoice, accountant, manager):
    change_request = submitted(invoice, accountant, observations="Nota")
    # Even if the requester later becomes a manager, their own request stays out of their hands.
    from portal.services import membership_set

    membership_set(user=accountant, company=company, role="manager")
    with pytest.raises(ApprovalError) as refused:
        decide(change_request, accountant)
    assert refused.value.code == "own_request"
    assert change_request.state == State.PENDING


def test_the_database_refuses_a_decision_by_the_requester(invoice, accountant):
    change_request = submitted(invoice, accountant, observations="Nota")
    with pytest.raises(IntegrityError), transaction.atomic():
        Decision.objects.create(change_request=change_request, revision="x", approver=accountant,
                                requester=accountant, outcome="approve")


def test_the_database_keeps_one_decision_per_approver_and_one_outbox_row_per_approval(invoice, accountant, approver):
    change_request = submitted(invoice, accountant, observations="Nota")
    decide(change_request, approver)
    revision = revision_of(change_request)
    with pytest.raises(IntegrityError), transaction.atomic():
        Decision.objects.create(change_request=change_request, revision=revision, approver=approver,
                                requester=accountant, outcome="approve")
    with pytest.raises(IntegrityError), transaction.atomic():
        Push.objects.create(change_request=change_request, revision=revision, company=change_request.company)


def test_a_rejection_needs_a_comment_and_nothing_changes_without_one(invoice, accountant, approver, no_tasks, mailoutbox):
    change_request = submitted(invoice, accountant, observations="Nota")
    with pytest.raises(ApprovalError) as refused:
        decide(change_request, approver, "reject", "   ")
    assert refused.value.code == "comment_required"
    assert change_request.state == State.PENDING and not Decision.objects.exists()

    no_tasks(decide, change_request, approver, "reject", "El precio es el de lista")
    assert change_request.state == State.REJECTED
    assert not Push.objects.exists()
    (mail,) = [m for m in mailoutbox if "rejected" in m.subject or "rechaz" in m.subject]
    assert mail.to == ["ana@example.com"] and "El precio es el de lista" in mail.body


def test_only_deciders_of_the_company_decide(invoice, accountant, outsider):
    change_request = submitted(invoice, accountant, observations="Nota")
    other_accountant = make_user("otto", invoice.company, "accountant")
    for user in (other_accountant, outsider):
        with pytest.raises(ApprovalError) as refused:
            decide(change_request, user)
        assert refused.value.code == "not_allowed"


def test_a_decided_request_takes_no_more_decisions(invoice, accountant, approver, approver2):
    change_request = submitted(invoice, accountant, observations="Nota")
    decide(change_request, approver)
    with pytest.raises(ApprovalError) as refused:
        decide(change_request, approver2, "reject", "tarde")
    assert refused.value.code == "not_pending"
    assert Decision.objects.count() == 1


def test_bad_outcome_and_long_comment_are_refused(invoice, accountant, approver):
    change_request = submitted(invoice, accountant, observations="Nota")
    with pytest.raises(ApprovalError):
        decide(change_request, approver, "maybe")
    with pytest.raises(ApprovalError):
        decide(change_request, approver, "approve", "x" * 2001)
    assert not Decision.objects.exists()


# --- several approvals -------------------------------------------------------------------------


def test_two_approvals_by_different_people(company, invoice, accountant, approver, approver2):
    policies_ensure_defaults(company=company)
    change_request = submitted(invoice, accountant, client={"id": "2", "name": "Cliente 2 S.A.S."})
    assert change_request.approvals_required == 2 and "client" in events.describe(change_request.routing_reason)
    decide(change_request, approver)
    assert change_request.state == State.PENDING and not Push.objects.exists()
    with pytest.raises(ApprovalError) as refused:
        decide(change_request, approver)
    assert refused.value.code == "already_decided"
    decide(change_request, approver2)
    assert change_request.state == State.APPROVED
    assert Push.objects.filter(change_request=change_request).count() == 1


def test_a_manager_must_be_among_the_approvers_when_the_policy_says_so(company, invoice, accountant, approver,
                                                                    approver2, manager):
    RoutingPolicy.objects.create(company=company, name="Gerencia", approvals_required=2, manager_required=True)
    change_request = submitted(invoice, accountant, observations="Nota")
    decide(change_request, approver)
    decide(change_request, approver2)
    assert change_request.state == State.PENDING  # two approvals, but no manager yet
    decide(change_request, manager)
    assert change_request.state == State.APPROVED


def test_routing_is_frozen_at_submission(company, invoice, accountant, approver):
    change_request = submitted(invoice, accountant, observations="Nota")
    RoutingPolicy.objects.create(company=company, name="Ahora tres", approvals_required=3)
    decide(change_request, approver)
    assert change_request.state == State.APPROVED


# --- auto-approval ---------------------------------------------------------------------------


def test_auto_approval_is_off_by_default(company, invoice, accountant):
    AutoApprovalRule.objects.create(company=company, name="Notas", kind="notes_only")
    change_request = submitted(invoice, accountant, observations="Nota")
    assert change_request.state == State.PENDING


def test_a_low_risk_change_is_approved_by_policy_and_audited(company, invoice, accountant, manager, no_tasks, mailoutbox):
    rule = auto_rule_save(company=company, user=manager, name="Solo notas", kind="notes_only", is_active=True)
    change_request = no_tasks(submitted, invoice, accountant, observations="Nota")
    assert change_request.state == State.APPROVED
    decision = change_request.decisions.get()
    assert decision.approver is None and decision.auto_rule == rule
    assert "Solo notas" in decision.comment
    assert change_request.routing.auto_rule == rule
    assert Push.objects.filter(change_request=change_request).count() == 1
    history = change_request.history.order_by("-history_id").first()
    assert events.describe(history.history_change_reason) == "approved by the policy “Solo notas”"
    assert any("approved" in m.subject or "aprobada" in m.subject for m in mailoutbox)
    # A change beyond the rule's reach still waits for people.
    invoice2 = make_invoice(company, number=2)
    other = submitted(invoice2, accountant, observations="Nota", dueDate="2026-12-01")
    assert other.state == State.PENDING


def test_submitting_twice_routes_once(invoice, accountant, no_tasks, mailoutbox):
    make_user("pedro", invoice.company, "approver")
    change_request = no_tasks(submitted, invoice, accountant, observations="Nota")
    sent = len(mailoutbox)
    no_tasks(request_submitted, change_request=change_request)
    assert len(mailoutbox) == sent


# --- notifications ---------------------------------------------------------------------------


def test_approvers_are_told_and_the_requester_is_not(company, invoice, accountant, approver, manager, no_tasks,
                                                     mailoutbox):
    change_request = no_tasks(submitted, invoice, accountant, observations="Nota")
    # One e-mail each (each in their own language), sent by the worker's task after the commit.
    assert sorted(tuple(mail.to) for mail in mailoutbox) == [("maria@example.com",), ("pedro@example.com",)]
    for mail in mailoutbox:
        assert f"#{change_request.pk}" in mail.subject
        assert f"/c/{company.pk}/requests/{change_request.pk}/" in mail.body
    with translation.override("es"):
        assert events.describe(change_request.routing_reason) in mailoutbox[0].body


def test_a_daily_reminder_names_requests_pending_past_the_managers_limit(company, invoice, accountant, approver,
                                                                         manager, mailoutbox, no_tasks):
    approval_settings_save(company=company, user=manager, remind_after_hours=24)
    RoutingPolicy.objects.create(company=company, name="Dos", approvals_required=2)
    change_request = submitted(invoice, accountant, observations="Nota")
    now = timezone.now()
    assert no_tasks(reminders_send, now=now + timedelta(hours=23)) == 0
    ChangeRequest.objects.filter(pk=change_request.pk).update(submitted_at=now - timedelta(hours=25))
    assert no_tasks(reminders_send, now=now) == 2
    assert {tuple(m.to) for m in mailoutbox} == {("pedro@example.com",), ("maria@example.com",)}
    assert all(f"#{change_request.pk}" in m.body for m in mailoutbox)
    # Who already decided is not reminded again; the requester never is.
    decide(change_request, approver)
    mailoutbox.clear()
    assert no_tasks(reminders_send, now=now) == 1
    assert mailoutbox[0].to == ["maria@example.com"]


# --- policies as a manager writes them -----------------------------------------------------


def test_only_managers_write_policies_and_bad_values_change_nothing(company, approver, manager):
    defaults = set(RoutingPolicy.objects.filter(company=company).values_list("pk", "name", "approvals_required"))
    with pytest.raises(ApprovalError):
        policy_save(company=company, user=approver, name="X", approvals_required=1)
    for bad in ({"approvals_required": 9}, {"approvals_required": "dos"}, {"name": " "},
                {"min_impact": "-5"}, {"min_impact": "abc"}, {"kind": "nope"}):
        values = {"name": "Nueva", "approvals_required": 1, **bad}
        with pytest.raises(ApprovalError):
            policy_save(company=company, user=manager, **values)
    assert set(RoutingPolicy.objects.filter(company=company).values_list("pk", "name", "approvals_required")) \
        == defaults
    saved = policy_save(company=company, user=manager, name="Nueva", approvals_required=2, min_impact="1000,50")
    assert saved.min_impact == Decimal("1000.50")
    assert saved.history.first().history_user == manager


def test_a_discount_rule_needs_its_limits(company, manager):
    with pytest.raises(ApprovalError) as refused:
        auto_rule_save(company=company, user=manager, name="Desc", kind="small_discount", max_discount_percent="5")
    assert refused.value.code == "limits_required"
    with pytest.raises(ApprovalError):
        auto_rule_save(company=company, user=manager, name="Desc", kind="small_discount",
                       max_discount_percent="150", max_impact="10")


# --- what a refusal says, and the state of the approvals -----------------------------------------


def test_each_refusal_names_its_reason_its_figures_and_its_field(invoice, accountant, approver, approver2, outsider):
    change_request = submitted(invoice, accountant, observations="Nota")
    with pytest.raises(ApprovalError) as refused:
        decide(change_request, outsider)
    assert (refused.value.code, refused.value.params) == ("not_allowed", {"variant": "decide"})
    with pytest.raises(ApprovalError) as refused:
        decide(change_request, approver, "reject", "")
    assert (refused.value.code, refused.value.field) == ("comment_required", "comment")
    with pytest.raises(ApprovalError) as refused:
        decide(change_request, approver, "approve", "x" * 2001)
    assert (refused.value.code, refused.value.params, refused.value.field) == (
        "comment_too_long", {"max": 2000, "length": 2001}, "comment")
    decide(change_request, approver, "approve", "x" * 2000)  # the longest comment there is
    with pytest.raises(ApprovalError) as refused:
        decide(change_request, approver2, "reject", "tarde")
    assert (refused.value.code, refused.value.params) == ("not_pending", {"state": state_label(State.APPROVED)})


def test_an_approver_whose_account_was_deactivated_decides_nothing(invoice, accountant, approver):
    change_request = submitted(invoice, accountant, observations="Nota")
    approver.is_active = False
    approver.save()
    with pytest.raises(ApprovalError) as refused:
        decide(change_request, approver)
    assert refused.value.code == "not_allowed" and not Decision.objects.exists()


def test_the_approval_status_reads_the_frozen_routing(company, invoice, accountant, approver, approver2):
    RoutingPolicy.objects.create(company=company, name="Gerencia", approvals_required=2, manager_required=True)
    change_request = submitted(invoice, accountant, observations="Nota")
    decide(change_request, approver)
    status = approval_status(change_request)
    assert (status.required, status.manager_required, status.count, status.missing) == (2, True, 1, 1)
    assert status.decided_by(approver) and not status.decided_by(approver2)
    decision = decide(change_request, approver2, "reject", "No")
    status = approval_status(change_request)
    assert status.rejection == decision and status.decided_by(approver2)


def test_a_draft_has_no_routing_yet_and_needs_one_approval(invoice, accountant):
    proposed = copy.deepcopy(invoice.document)
    proposed["observations"] = "Nota"
    draft = request_services.request_save_draft(invoice=invoice, user=accountant, proposed=proposed,
                                                reason="Borrador", kind="update")
    status = approval_status(draft)
    assert (status.required, status.manager_required, status.approvals, status.rejection) == (1, False, [], None)


def test_decisions_on_an_earlier_revision_do_not_count(invoice, accountant, approver, approver2):
    change_request = submitted(invoice, accountant, observations="Nota")
    old = Decision(change_request=change_request, revision="earlier", approver=approver2, outcome="approve")
    current = Decision(change_request=change_request, revision=revision_of(change_request), approver=approver,
                       outcome="approve")
    assert approval_status(change_request, decisions=[old, current]).approvals == [current]


def test_the_latest_push_is_the_newest_then_the_last_written(invoice, accountant):
    change_request = submitted(invoice, accountant, observations="Nota")
    first, second, third = (Push.objects.create(change_request=change_request, revision=f"r{n}",
                                                company=change_request.company) for n in range(3))
    now = timezone.now()
    Push.objects.filter(pk=first.pk).update(created_at=now)  # written first, dated last
    Push.objects.filter(pk__in=[second.pk, third.pk]).update(created_at=now - timedelta(minutes=1))
    assert latest_push(change_request) == first
    Push.objects.filter(pk=first.pk).update(created_at=now - timedelta(minutes=1))
    assert latest_push(change_request) == third  # the same moment: the last one written
