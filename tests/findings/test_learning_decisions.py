"""Learning from change-request decisions: the approver's hint and the rules history proposes
(on constructed histories), and fixes applied by themselves under a manager's rule, through the
normal push (the in-process sandbox), with the conflict when Alegra moved meanwhile."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from alegra_sandbox import services as sandbox
from approvals.models import AutoApprovalRule, ChangeRequest, Decision, Push
from approvals.services.requests import request_save_and_submit
from audit.models import Action, AuditEntry
from findings import services
from findings.learning import autofix, hints, proposals
from findings.learning import presenters as words
from findings.learning import services as learning
from findings.models import Feedback, Finding
from portal import events
from tests.approvals.pushkit import alegra_client, invoice_puts, world  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


# --- the approver's hint ---------------------------------------------------------------------


def _past(pk, approved, impact, requester=1, fields=("dueDate",)):
    return hints.Past(pk, approved, Decimal(impact), requester, frozenset(fields))


def test_the_hint_counts_similar_requests_and_says_what_set_the_rejected_one_apart():
    history = [_past(20 - n, True, 1000 + n) for n in range(9)] + [_past(5, False, 2500)]
    history += [_past(40, False, 1000, fields=("items.price",))]  # other fields: not similar
    target = _past(99, False, 1100)
    hint = hints.Hint(hints.similar_to(target, history), target.impact, 1)
    assert (len(hint.similar), hint.approved) == (10, 9) and hint.why_rejected() == ["larger"]
    assert words.hint_text(hint) == ("9 of the 10 similar requests were approved; the rejected one had a "
                                     "larger impact.")


def test_the_hint_names_another_requester_and_prefers_alike_impacts():
    history = [_past(30 - n, True, 100, requester=1) for n in range(4)] + [_past(3, False, 100, requester=2)]
    history += [_past(50, False, 900_000, requester=1)]  # far larger: left out while alike ones suffice
    hint = hints.Hint(hints.similar_to(_past(99, False, 120), history), Decimal(120), 1)
    assert len(hint.similar) == 5 and [p.pk for p in hint.rejected] == [3]
    assert "the rejected one was asked by someone else" in words.hint_text(hint)
    assert words.hint_text(hints.Hint([], Decimal(0), 1)).startswith("No similar request")


def _request(pk: int, *, days: int = 0, discount: str | None = None, notes: bool = False,
             kind: str = "update") -> ChangeRequest:
    base = {"dueDate": "2025-03-01", "observations": "", "items": [{"id": 1, "price": "100", "quantity": "1",
                                                                    "discount": "0"}]}
    proposed = {**base, "items": [dict(base["items"][0])]}
    if days:
        proposed["dueDate"] = (datetime.date(2025, 3, 1) + datetime.timedelta(days=days)).isoformat()
    if discount is not None:
        proposed["items"][0]["discount"] = discount
    if notes:
        proposed["observations"] = "nota"
    return ChangeRequest(pk=pk, kind=kind, base_document=base, proposed_document=proposed,
                         old_total=Decimal(100), new_total=Decimal(100) - Decimal(discount or 0))


def test_history_proposes_a_due_date_rule_below_the_smallest_rejected_move():
    decided = [(_request(100 - n, days=5 + n), True) for n in range(12)]
    decided += [(_request(50, days=45), False), (_request(49, days=60), True)]
    (found,) = proposals.mine(decided)
    assert (found.kind, found.count, found.max_days) == ("due_date", 12, 16)
    assert "The last 12 requests that only moved the due date, by at most 16 days" in words.proposal_evidence(found)


def test_history_proposes_nothing_with_too_few_or_a_rejected_note_change():
    assert proposals.mine([(_request(n, days=3), True) for n in range(9)]) == []
    notes = [(_request(100 - n, notes=True), True) for n in range(15)] + [(_request(1, notes=True), False)]
    assert proposals.mine(notes) == []
    discounts = [(_request(100 - n, discount="5"), True) for n in range(10)]
    (found,) = proposals.mine(discounts)
    assert (found.kind, found.max_discount, found.max_impact) == ("small_discount", Decimal(5), Decimal(5))


def _decided_due_date_requests(world, count: int) -> None:
    """Requests of the past, as stored rows (a constructed history), approved by people."""
    for n in range(count):
        request = _request(None, days=10)
        ChangeRequest.objects.create(company=world.company, invoice=world.invoice, kind="update",
                                     base_document=request.base_document, proposed_document=request.proposed_document,
                                     base_hash="x", requester=world.accountant, state="applied", reason="Plazo")


def test_a_manager_accepts_a_proposed_rule_and_the_audit_says_history_proposed_it(client, world):
    _decided_due_date_requests(world, 10)
    client.force_login(world.manager)
    page = client.get(reverse("findings:learning", args=[world.company.pk])).content.decode()
    assert "The last 10 requests that only moved the due date, by at most 10 days" in page
    with pytest.raises(services.FindingRefused):
        learning.proposal_accept(company=world.company, user=world.accountant, kind="due_date")
    response = client.post(reverse("findings:proposal_accept", args=[world.company.pk, "due_date"]), follow=True)
    assert "created and switched on" in response.content.decode()
    rule = AutoApprovalRule.objects.get(company=world.company, kind="due_date")
    assert rule.is_active and rule.max_days == 10
    entry = AuditEntry.objects.filter(action=Action.POLICY_CHANGED, actor=world.manager).latest("id")
    assert events.describe(entry.why).startswith("proposed by history (the last 10 such requests were all "
                                                  "approved) and approved by a manager")
    # The rule now approves a due date moved 7 days by itself, and not one moved 30 days.
    moved = request_save_and_submit(invoice=world.invoice, user=world.accountant, reason="Plazo acordado",
                                    kind="update", proposed={**world.invoice.document, "dueDate": _shift(world, 7)})
    assert moved.state in ("approved", "pushing", "applied")
    assert not proposals.proposals_for(world.company.pk)  # that kind has an active rule now


def _shift(world, days: int) -> str:
    due = datetime.date.fromisoformat(world.invoice.document["dueDate"][:10])
    return (due + datetime.timedelta(days=days)).isoformat()


def test_the_hint_view_on_a_pending_request(client, world):
    _decided_due_date_requests(world, 3)
    pending = request_save_and_submit(invoice=world.invoice, user=world.accountant, reason="Plazo", kind="update",
                                      proposed={**world.invoice.document, "dueDate": _shift(world, 10)})
    assert pending.state == "pending"
    client.force_login(world.approver)
    detail = client.get(reverse("approvals:request_detail", args=[world.company.pk, pending.pk])).content.decode()
    url = reverse("findings:request_hint", args=[world.company.pk, pending.pk])
    assert f'hx-get="{url}"' in detail
    fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and "3 of the 3 similar requests were approved." in fragment


# --- fixes applied by themselves -------------------------------------------------------------


def _due_finding(world, *, impact="0", kind="due_terms") -> Finding:
    invoice = world.invoice
    return Finding.objects.create(
        company=world.company, invoice=invoice, kind=kind, cause="contact", fingerprint=f"due-{kind}",
        client_alegra_id=invoice.client_alegra_id, invoice_date=invoice.date, severity="low", rank=1,
        confidence="0.8", impact=Decimal(impact), evidence={"days": 30, "expected": 45, "contact": 45},
        suggestion={"type": "update", "changes": [{"line": None, "field": "dueDate",
                                                   "from": invoice.document["dueDate"][:10], "to": _shift(world, 15)}]})


@pytest.fixture
def fix_rule(world):
    return learning.fix_rule_create(company=world.company, user=world.manager, finding_kind="due_terms",
                                    max_impact="50000")


def test_off_by_default_nothing_is_fixed(world):
    _due_finding(world)
    assert autofix.apply_rules(company_id=world.company.pk) == []
    assert not ChangeRequest.objects.filter(company=world.company).exists()


def test_a_covered_finding_becomes_a_request_approved_by_the_rule_and_pushed(world, fix_rule, in_process_http,
                                                                            django_capture_on_commit_callbacks,
                                                                            settings):
    # The scan after the push would judge the new due date against the sandbox client's terms (0
    # days) and fix it again: this test follows one fix.
    settings.FINDINGS_SCAN_ON_CHANGE = False
    finding = _due_finding(world)
    with django_capture_on_commit_callbacks(execute=True):
        (made,) = autofix.apply_rules(company_id=world.company.pk)
    made.refresh_from_db()
    assert made.origin_rule == fix_rule and made.requester == world.manager
    assert made.state == "applied" and made.reason.startswith(f"From finding #{finding.pk}:")
    decision = Decision.objects.get(change_request=made)
    assert decision.auto_rule == fix_rule and decision.approver is None
    assert sandbox.invoice_get(world.account, world.invoice.alegra_id)["dueDate"][:10] == _shift(world, 15)
    finding.refresh_from_db()
    assert (finding.state, finding.correction) == ("confirmed", made)
    assert events.describe(finding.history.first().history_change_reason) == (
        f"correction request #{made.pk} made and approved by the rule “{fix_rule.name}”")
    assert AuditEntry.objects.filter(action=Action.AUTO_APPROVED, change_request_id=made.pk).exists()
    assert AuditEntry.objects.filter(action=Action.FINDING_CORRECTION, change_request_id=made.pk).exists()
    assert not Feedback.objects.exists()  # no person said anything: the detector's confidence stays


def test_an_invoice_changed_in_alegra_meanwhile_is_a_conflict_and_nothing_is_written(
        world, fix_rule, django_capture_on_commit_callbacks):
    _due_finding(world)
    with django_capture_on_commit_callbacks(execute=False):
        (made,) = autofix.apply_rules(company_id=world.company.pk)
    sandbox.invoice_update(world.account, world.invoice.alegra_id, {"observations": "Cambiado en Alegra"})
    from approvals.services import push as push_module

    push = made.pushes.get()
    push_module.push_run(push_id=push.pk, client=alegra_client(world.company))
    push.refresh_from_db()
    assert push.state == Push.State.CONFLICT and push.writes == 0
    assert invoice_puts(world.account, world.invoice.alegra_id) == 0
    assert sandbox.invoice_get(world.account, world.invoice.alegra_id)["observations"] == "Cambiado en Alegra"


def test_above_the_limit_or_another_kind_nothing_is_fixed(world, fix_rule):
    _due_finding(world, impact="60000")
    _due_finding(world, kind="due_before_date")
    assert autofix.apply_rules(company_id=world.company.pk) == []


def test_four_eyes_stay_for_a_person_s_request_of_the_same_change(world, fix_rule):
    mine = request_save_and_submit(invoice=world.invoice, user=world.accountant, reason="Plazo", kind="update",
                                   proposed={**world.invoice.document, "dueDate": _shift(world, 15)})
    assert mine.state == "pending" and mine.origin_rule is None


def test_only_managers_pre_approve_fixes(world):
    with pytest.raises(services.FindingRefused):
        learning.fix_rule_create(company=world.company, user=world.accountant, finding_kind="due_terms",
                                 max_impact="1")
    with pytest.raises(services.FindingRefused):
        learning.fix_rule_create(company=world.company, user=world.manager, finding_kind="duplicate_number",
                                 max_impact="1")


@pytest.mark.parametrize("leaves", ["demoted", "deactivated"])
def test_a_fix_rule_stops_approving_once_the_manager_who_switched_it_on_is_no_longer_one(world, fix_rule, leaves):
    """It went on approving in their name."""
    from portal.services import membership_set

    if leaves == "demoted":
        membership_set(user=world.manager, company=world.company, role="accountant")
    else:
        world.manager.is_active = False
        world.manager.save()
    finding = _due_finding(world)

    assert autofix.apply_rules(company_id=world.company.pk) == []

    finding.refresh_from_db()
    assert (finding.state, finding.correction_id) == (Finding.State.OPEN, None)
    assert not ChangeRequest.objects.filter(company=world.company).exists()


@pytest.mark.parametrize("ends", ["rejected", "cancelled"])
def test_a_finding_whose_correction_is_rejected_or_cancelled_is_open_again_and_can_be_corrected_again(
        world, ends, django_capture_on_commit_callbacks):
    """It stayed "being corrected" for good: Create correction was refused and no rule took it."""
    from approvals.services.decisions import request_decide
    from approvals.services.requests import request_cancel, request_submit

    finding = _due_finding(world)
    with django_capture_on_commit_callbacks(execute=True):
        correction = services.correction_create(finding=finding, user=world.accountant)
        if ends == "rejected":
            request_submit(change_request=correction, user=world.accountant)
            request_decide(change_request=correction, user=world.approver, outcome="reject", comment="No aplica")
        else:
            request_cancel(change_request=correction, user=world.accountant)

    finding.refresh_from_db()
    assert (finding.state, finding.correction_id) == (Finding.State.OPEN, None)
    assert events.describe(finding.history.first().history_change_reason) == (
        f"open again: its correction request #{correction.pk} was {ends}")
    assert AuditEntry.objects.filter(company=world.company, action=Action.FINDING_REOPENED).exists()
    again = services.correction_create(finding=finding, user=world.accountant)
    assert again.pk != correction.pk


def test_a_finding_being_corrected_is_not_dismissed_until_its_request_ends(world):
    """Dismissed as "not a mistake", it taught an exception while its fix went on to Alegra."""
    from approvals.services.requests import request_cancel
    from findings.errors import FindingRefused
    from findings.models import LearnedException

    finding = _due_finding(world)
    correction = services.correction_create(finding=finding, user=world.accountant)
    with pytest.raises(FindingRefused, match=f"being corrected by request #{correction.pk}"):
        services.finding_dismiss(finding=finding, user=world.accountant, reason="No es un error")
    finding.refresh_from_db()
    assert finding.state == Finding.State.CONFIRMED and not LearnedException.objects.exists()
    request_cancel(change_request=correction, user=world.accountant)
    assert services.finding_dismiss(finding=finding, user=world.accountant, reason="No es un error").state == \
        Finding.State.DISMISSED
