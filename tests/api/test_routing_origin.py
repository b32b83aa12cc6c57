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


def test_a_token_for_an_agent_is_an_agent_s_through_rest_too(client, company, accountant, manager):
    """An agent given a token could call the REST API instead of MCP, and a manager's rule then
    approved its proposal by itself. A token made for an agent is an agent's whichever way."""
    import io

    from django.core.management import call_command
    from django.urls import reverse

    from api.models import ApiToken
    from tests.api.kit import Api, token_for

    mirror_catalogue(company)
    first, second = make_invoice(company, number=1), make_invoice(company, number=2)
    AutoApprovalRule.objects.create(company=company, name="Notas", kind="notes_only", is_active=True)
    body = {"patch": {"fields": {"observations": "Entregar en bodega 2"}}, "reason": "Nota", "submit": True}
    agent = Api(token_for(accountant, company, "invoices:read,requests:write", name="Claude", for_agent=True))
    system = Api(token_for(accountant, company, "invoices:read,requests:write"))
    by_agent = agent.post("/requests", {**body, "invoice_id": first.pk}).json()
    by_system = system.post("/requests", {**body, "invoice_id": second.pk}).json()
    assert (by_agent["state"], ChangeRequest.objects.get(pk=by_agent["id"]).origin) == ("pending", "agent")
    assert by_system["state"] != "pending" and ChangeRequest.objects.get(pk=by_system["id"]).origin == "api"
    # Made on the page or by the command, and said so in the list.
    client.force_login(accountant)
    page = client.post(reverse("api:tokens", args=[company.pk]),
                       {"name": "Asistente", "scopes": ["invoices:read"], "for_agent": "on"}).content.decode()
    assert ApiToken.objects.get(name="Asistente").for_agent and 'data-testid="agent-token"' in page
    call_command("create_api_token", "--user", accountant.username, "--company", str(company.pk),
                 "--scopes", "invoices:read", "--name", "Otro agente", "--agent", stdout=io.StringIO())
    assert ApiToken.objects.get(name="Otro agente").for_agent


def test_a_token_for_an_agent_never_decides(company, accountant, approver):
    """Decisions through the REST API are a person's own token's; an agent's is refused, and nothing
    is decided."""
    from tests.api.kit import Api, token_for

    mirror_catalogue(company)
    pending = _notes(make_invoice(company, number=1), accountant)
    agent = Api(token_for(approver, company, "invoices:read,decisions:write", name="Asistente", for_agent=True),
                language="es")
    refused = agent.post(f"/requests/{pending.pk}/decisions", {"outcome": "approve", "comment": "ok"})
    assert refused.status_code == 403 and refused.json()["code"] == "agent_cannot_decide"
    assert "solo las personas deciden" in refused.json()["detail"]
    pending.refresh_from_db()
    assert pending.state == ChangeRequest.State.PENDING and not pending.decisions.exists()
    person = Api(token_for(approver, company, "invoices:read,decisions:write", name="Mi script"))
    assert person.post(f"/requests/{pending.pk}/decisions", {"outcome": "approve"}).status_code == 201



def test_a_token_for_an_agent_cancels_only_its_own_requests_and_never_dismisses(company, accountant, manager):
    """Cancelling someone else's request and dismissing a finding (which teaches the portal an
    exception) are decisions too: an agent's token got 200 for both."""
    from findings.models import Finding, LearnedException
    from tests.api.kit import Api, token_for

    mirror_catalogue(company)
    invoice = make_invoice(company, number=1)
    theirs = _notes(invoice, accountant)  # on a screen, by the person the agent works for
    agent = Api(token_for(accountant, company, "invoices:read,requests:write", name="Asistente", for_agent=True),
                language="es")
    refused = agent.post(f"/requests/{theirs.pk}/cancel", {"comment": "no hace falta"})
    assert refused.status_code == 403 and refused.json()["code"] == "agent_cannot_decide"
    assert "solo las personas deciden" in refused.json()["detail"]
    theirs.refresh_from_db()
    assert theirs.state == ChangeRequest.State.PENDING
    other = make_invoice(company, number=2)
    proposed = copy.deepcopy(other.document)
    proposed["observations"] = "Entregar en bodega 3"
    own = agent.post("/requests", {"invoice_id": other.pk, "kind": "update", "proposed": proposed,
                                   "reason": "Nota de entrega", "submit": False})
    assert own.status_code == 201, own.json()
    assert agent.post(f"/requests/{own.json()['id']}/cancel", {"comment": "me equivoqué"}).status_code == 200

    finding = Finding.objects.create(
        company=company, invoice=invoice, line=0, kind="price", cause="slip", fingerprint="f", client_alegra_id="1",
        item_alegra_id="1", invoice_date=invoice.date, severity="high", rank=3, confidence="0.95",
        evidence={"price": "400", "reference": "40", "basis": "client", "n": 4, "ratio": "10"}, suggestion={})
    refused = agent.post(f"/findings/{finding.pk}/dismiss", {"reason": "no es un error"})
    assert refused.status_code == 403 and refused.json()["code"] == "agent_cannot_decide"
    finding.refresh_from_db()
    assert finding.state == Finding.State.OPEN and not LearnedException.objects.exists()
    person = Api(token_for(accountant, company, "invoices:read,requests:write", name="Mi script"))
    assert person.post(f"/findings/{finding.pk}/dismiss", {"reason": "no es un error"}).status_code == 200
