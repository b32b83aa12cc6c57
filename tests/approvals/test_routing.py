"""Routing policies and auto-approval rules: which policy routes a request, and why."""

import copy
from decimal import Decimal

import pytest
from django.utils import translation

from approvals import routing
from approvals.models import AutoApprovalRule, ChangeRequest, RoutingPolicy
from approvals.services import proposals
from approvals.services.policies import policies_ensure_defaults
from tests.factories.edit import make_invoice, mirror_catalogue
from tests.factories import make_user
from portal import events

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """The reasons are read in English here; the Spanish catalogue has its own checks."""
    with translation.override("en"):
        yield


@pytest.fixture
def invoice(company):
    mirror_catalogue(company)
    return make_invoice(company)


def request_for(invoice, user, kind="update", **changes) -> ChangeRequest:
    """A request as a draft would hold it (unsaved: routing only reads it)."""
    base = proposals.current_base(invoice, kind)
    proposed = copy.deepcopy(base.document)
    lines = changes.pop("lines", None)
    if lines:
        for index, values in lines.items():
            proposed["items"][index].update(values)
    proposed.update(changes)
    old, new = proposals.money_impact(kind, base.document, proposed,
                                             proposals.catalogue_taxes(invoice.company))
    return ChangeRequest(company=invoice.company, invoice=invoice, kind=kind, requester=user,
                         base_document=base.document, base_hash=base.hash, proposed_document=proposed,
                         old_total=old, new_total=new, reason="Corrección")


def policy(company, name, **values) -> RoutingPolicy:
    return RoutingPolicy.objects.create(company=company, name=name, **values)


def test_no_policy_means_one_approval(invoice, accountant):
    route = routing.route(request_for(invoice, accountant, observations="x"), policies=[])
    assert (route.policy, route.approvals_required, route.manager_required) == (None, 1, False)
    assert "one approval" in events.describe(route.reason)


def test_the_defaults_a_finance_team_accepts(company, invoice, accountant):
    assert policies_ensure_defaults(company=company) is False  # created with the company, once
    names = set(RoutingPolicy.objects.filter(company=company).values_list("name", flat=True))
    assert len(names) == 6
    notes = routing.route(request_for(invoice, accountant, observations="x"))
    assert (notes.approvals_required, notes.manager_required) == (1, False)
    client = routing.route(request_for(invoice, accountant, client={"id": "2"}))
    assert client.approvals_required == 2 and "client" in events.describe(client.reason)
    date = routing.route(request_for(invoice, accountant, dueDate="2026-12-31"))
    assert date.manager_required is True


def test_a_manager_who_deleted_every_policy_does_not_get_them_back(company):
    policies_ensure_defaults(company=company)
    RoutingPolicy.objects.filter(company=company).delete()
    assert policies_ensure_defaults(company=company) is False
    assert not RoutingPolicy.objects.filter(company=company).exists()


def test_by_money_impact_up_to_x_one_above_x_two_above_y_a_manager(company, invoice, accountant):
    policies = [
        policy(company, "Todo", approvals_required=1, position=100),
        policy(company, "Más de 100", min_impact=Decimal("100"), approvals_required=2, position=20),
        policy(company, "Más de 1000", min_impact=Decimal("1000"), approvals_required=2,
               manager_required=True, position=10),
    ]
    # Item 1 costs 40 + 19 % IVA: quantity 1 → 3 adds 95.20; → 30 adds 1380.40.
    small = routing.route(request_for(invoice, accountant, lines={0: {"quantity": "3"}}), policies)
    assert small.policy.name == "Todo" and small.impact == Decimal("95.20")
    middle = routing.route(request_for(invoice, accountant, lines={0: {"quantity": "5"}}), policies)
    assert middle.policy.name == "Más de 100" and middle.approvals_required == 2
    assert "above" in events.describe(middle.reason)
    large = routing.route(request_for(invoice, accountant, lines={0: {"quantity": "30"}}), policies)
    assert large.policy.name == "Más de 1000" and large.manager_required


def test_the_strictest_matching_policy_wins_whatever_its_position(company, invoice, accountant):
    policies = [
        policy(company, "Fechas", changes="date", approvals_required=1, manager_required=True, position=1),
        policy(company, "Líneas", changes="lines", approvals_required=2, position=50),
    ]
    both = routing.route(request_for(invoice, accountant, dueDate="2026-12-31",
                                     lines={0: {"quantity": "2"}}), policies)
    assert both.policy.name == "Líneas"
    only_date = routing.route(request_for(invoice, accountant, dueDate="2026-12-31"), policies)
    assert only_date.policy.name == "Fechas" and only_date.manager_required


def test_by_kind_and_by_who_asked(company, invoice, accountant):
    other = make_user("otto", company, "accountant")
    policies = [
        policy(company, "Notas crédito", kind="credit_note", approvals_required=3),
        policy(company, "Otto", requested_by=other, approvals_required=2),
    ]
    mine = routing.route(request_for(invoice, accountant, observations="a"), policies)
    assert mine.policy is None
    ottos = routing.route(request_for(invoice, other, observations="a"), policies)
    assert ottos.policy.name == "Otto" and "otto" in events.describe(ottos.reason).lower()


def test_inactive_policies_do_not_route(company, invoice, accountant):
    policies = [policy(company, "Apagada", approvals_required=3, is_active=False)]
    assert routing.route(request_for(invoice, accountant, observations="a"), policies).policy is None


def rule(company, kind, **values) -> AutoApprovalRule:
    return AutoApprovalRule.objects.create(company=company, name=kind, kind=kind, is_active=True, **values)


def test_notes_only_rule(company, invoice, accountant):
    notes = rule(company, "notes_only")
    assert routing.rule_matches(notes, request_for(invoice, accountant, observations="a", anotation="b"))
    assert not routing.rule_matches(notes, request_for(invoice, accountant, observations="a",
                                                       dueDate="2026-12-31"))
    notes.is_active = False
    assert not routing.rule_matches(notes, request_for(invoice, accountant, observations="a"))


def test_small_discount_rule_needs_both_limits_met(company, invoice, accountant):
    discount = rule(company, "small_discount", max_discount_percent=Decimal("5"), max_impact=Decimal("10"))
    assert routing.rule_matches(discount, request_for(invoice, accountant, lines={0: {"discount": "5"}}))
    assert not routing.rule_matches(discount, request_for(invoice, accountant, lines={0: {"discount": "6"}}))
    # 5 % off line 1 (40 + 19 % IVA) lowers the total by 2.38: within 10, not within 2.
    tight = AutoApprovalRule.objects.create(company=company, name="tight", kind="small_discount", is_active=True,
                                            max_discount_percent=Decimal("5"), max_impact=Decimal("2"))
    assert not routing.rule_matches(tight, request_for(invoice, accountant, lines={0: {"discount": "5"}}))
    assert not routing.rule_matches(discount, request_for(invoice, accountant, lines={0: {"discount": "5"}},
                                                          observations="y"))


def test_contact_address_rule(company, invoice, accountant):
    address = rule(company, "contact_address")
    change_request = request_for(invoice, accountant, kind="contact")
    change_request.proposed_document["address"]["address"] = "Calle 1 # 2-3"
    assert routing.rule_matches(address, change_request)
    also_mail = copy.deepcopy(change_request.proposed_document)
    also_mail["email"] = "otro@example.test"
    change_request.proposed_document = also_mail
    assert not routing.rule_matches(address, change_request)


def test_a_routing_reason_is_stored_as_data_and_told_in_each_readers_language(company, invoice, accountant):
    policies = [policy(company, "Más de 100", min_impact=Decimal("100"), approvals_required=2, position=20)]
    route = routing.route(request_for(invoice, accountant, lines={0: {"quantity": "5"}}), policies)
    assert events.code_of(route.reason) == "route.policy"
    with translation.override("en"):
        english = events.describe(route.reason)
    with translation.override("es"):
        spanish = events.describe(route.reason)
    assert english.startswith("Policy “Más de 100” applies because the impact of $ 190,40 COP is above $ 100,00 COP")
    assert spanish.startswith("La política") and "190,40" in spanish and "aprobaciones" in spanish


def test_each_condition_a_policy_meets_is_named_as_data_and_the_limit_itself_is_not_above(
        company, invoice, accountant):
    accountant.first_name, accountant.last_name = "Ana", "Ruiz"
    accountant.save()
    both = request_for(invoice, accountant, dueDate="2026-12-31", lines={0: {"quantity": "3"}})
    impact, changed = routing.money_impact(both), routing.changed_fields(both)
    assert impact == Decimal("95.20")
    dated = policy(company, "Fechas", kind="update", changes="date", min_impact=Decimal("95.19"),
                   requested_by=accountant)
    assert routing.policy_reasons(dated, both, impact, changed) == [
        {"is": "kind", "kind": "update"}, {"is": "date"},
        {"is": "impact", "impact": "95.20", "limit": "95.19", "currency": company.currency,
         "precision": company.decimal_precision, "country": company.country},
        {"is": "requester", "name": "Ana Ruiz"},
    ]
    assert routing.policy_reasons(policy(company, "Líneas", changes="lines"), both, impact, changed) == [
        {"is": "lines"}]
    assert routing.policy_reasons(policy(company, "Límite", min_impact=Decimal("95.20")), both, impact, changed) is None
    client = policy(company, "Cliente", changes="client")
    assert routing.policy_reasons(client, both, impact, changed) is None
    assert routing.policy_reasons(client, both, impact, changed | {"client"}) == [{"is": "client"}]


def test_routing_reads_only_the_company_s_active_policies_and_says_what_it_asks_for(
        company, other_company, invoice, accountant):
    RoutingPolicy.objects.filter(company=company).delete()
    policy(other_company, "Ajena", approvals_required=3)
    policy(company, "Apagada", approvals_required=3, is_active=False)
    request = request_for(invoice, accountant, lines={0: {"quantity": "3"}})
    none = routing.route(request)
    assert (none.policy, none.approvals_required, none.impact) == (None, 1, Decimal("95.20"))
    policy(company, "Gerencia", approvals_required=2, manager_required=True)
    chosen = routing.route(request)
    assert chosen.policy.name == "Gerencia"
    assert events.parse(chosen.reason).params["manager"] is True
    # An inactive policy in the list is passed over, not the end of it.
    listed = [policy(company, "Otra apagada", is_active=False), policy(company, "Activa", approvals_required=2)]
    assert routing.route(request, listed).policy.name == "Activa"
