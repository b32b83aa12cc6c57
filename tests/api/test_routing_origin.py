"""Routing can treat requests made through a token or by an agent differently; nothing auto-approves an agent's."""

from __future__ import annotations

import copy

import pytest

from approvals.models import AutoApprovalRule, ChangeRequest
from approvals.services.policies import policy_save
from approvals.services.requests import request_save_and_submit
from portal import events
from portal.events import Via
from tests.factories.edit import make_invoice, mirror_catalogue

pytestmark = pytest.mark.django_db


def _notes(invoice, user, via=None):
    proposed = copy.deepcopy(invoice.document)
    proposed["observations"] = "Entregar en bodega 2"
    return request_save_and_submit(invoice=invoice, user=user, proposed=proposed, reason="Nota", kind="update",
                                   via=via)


def test_an_agent_policy_asks_agents_requests_for_two_approvals(company, accountant, manager):
    mirror_catalogue(company)
    first, second, third = (make_invoice(company, number=n) for n in (1, 2, 3))
    policy_save(company=company, user=manager, name="Agentes", approvals_required=2, origin="agent")
    by_agent = _notes(first, accountant, Via(token_id=1, name="Claude", agent=True))
    by_system = _notes(second, accountant, Via(token_id=2, name="ERP nightly"))
    on_screen = _notes(third, accountant)
    assert (by_agent.approvals_required, by_agent.origin) == (2, "agent")
    assert "an AI agent proposed it (token 'Claude')" in events.describe(by_agent.routing.reason)
    assert by_system.approvals_required == 1 and on_screen.approvals_required == 1


def test_no_rule_approves_an_agents_request_by_itself(company, accountant, manager):
    mirror_catalogue(company)
    first, second = make_invoice(company, number=1), make_invoice(company, number=2)
    AutoApprovalRule.objects.create(company=company, name="Notas", kind="notes_only", is_active=True)
    by_agent = _notes(first, accountant, Via(token_id=1, name="Claude", agent=True))
    on_screen = _notes(second, accountant)
    assert by_agent.state == ChangeRequest.State.PENDING and not by_agent.decisions.exists()
    assert on_screen.state in (ChangeRequest.State.APPROVED, ChangeRequest.State.APPLIED,
                               ChangeRequest.State.PUSHING, ChangeRequest.State.FAILED)
