"""A manager edits a finding-fix rule on the learning page: its money limit and whether it is on,
through the service, audited with a coded reason; a bad value is told on its field and changes
nothing; only the company's managers may (the authorization matrix has the URL too)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from approvals.models import AutoApprovalRule
from audit.models import Action, AuditEntry
from findings.errors import FindingRefused
from findings.learning import services as learning
from portal import events
from tests.factories import make_company, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def rule(company, manager):
    return learning.fix_rule_create(company=company, user=manager, finding_kind="tax", max_impact="50000")


def _edit(rule) -> str:
    return reverse("findings:fix_rule_edit", args=[rule.company_id, rule.pk])


def _audited(manager) -> str:
    """The newest policy change the manager made, in words, as the audit trail tells it."""
    return events.describe(AuditEntry.objects.filter(action=Action.POLICY_CHANGED, actor=manager).latest("id").why)


def test_a_manager_raises_the_limit_on_the_page_and_the_audit_says_what_changed(client, rule, manager):
    client.force_login(manager)
    page = client.get(reverse("findings:learning", args=[rule.company_id])).content.decode()
    assert f'action="{_edit(rule)}"' in page and 'value="50.000"' in page
    response = client.post(_edit(rule), {"max_impact": "80.000", "is_active": "on"}, follow=True)
    assert "saved: on, for fixes up to 80.000" in response.content.decode()
    rule.refresh_from_db()
    assert (rule.max_impact, rule.is_active) == (Decimal(80000), True)
    assert _audited(manager) == "finding-fix rule's limit changed by a manager from 50.000 to 80.000"
    assert rule.history.first().history_user == manager


def test_switching_off_and_on_again_is_audited_and_the_rule_stays_listed(client, rule, manager):
    client.force_login(manager)
    client.post(_edit(rule), {"max_impact": "50.000"})  # the box unticked: off
    rule.refresh_from_db()
    assert not rule.is_active
    page = client.get(reverse("findings:learning", args=[rule.company_id])).content.decode()
    assert f'id="fix-rule-{rule.pk}"' in page  # an off rule is listed, to be switched on again
    assert _audited(manager) == "finding-fix rule switched off by a manager"
    client.post(_edit(rule), {"max_impact": "20.000,50", "is_active": "on"})
    rule.refresh_from_db()
    assert (rule.max_impact, rule.is_active) == (Decimal("20000.50"), True)
    assert _audited(manager) == ("finding-fix rule switched on by a manager, for fixes up to 20.000,50 "
                                          "(it was 50.000)")


@pytest.mark.parametrize("value, message", [
    ("mucho", "Write the limit as an amount of money"), ("-5", "cannot be negative"),
    ("", "This field is required"), ("9" * 20, "too large to be meant"),
    ("1e5", "Write the limit as an amount of money")])
def test_a_bad_limit_is_told_on_its_field_and_nothing_changes(client, rule, manager, value, message):
    client.force_login(manager)
    versions = rule.history.count()
    response = client.post(_edit(rule), {"max_impact": value})
    assert response.status_code == 400
    html = response.content.decode()
    form = html[html.index(f'id="fix-rule-{rule.pk}"'):]
    form = form[:form.index("</tr>")]
    assert 'data-testid="field-error"' in form and message in form
    rule.refresh_from_db()
    assert (rule.max_impact, rule.is_active, rule.history.count()) == (Decimal(50000), True, versions)


@pytest.mark.parametrize("value, stored", [("50.000", Decimal(50000)), ("1.500", Decimal(1500)),
                                           ("20.000,50", Decimal("20000.50"))])
def test_a_new_rule_reads_its_limit_as_the_country_writes_it(client, company, manager, value, stored):
    """As the edit form reads it: "50.000" was refused as having too many decimals."""
    client.force_login(manager)
    response = client.post(reverse("findings:fix_rule_create", args=[company.pk]),
                           {"finding_kind": "tax", "max_impact": value}, follow=True)
    assert "switched on" in response.content.decode()
    assert AutoApprovalRule.objects.get(company=company).max_impact == stored


@pytest.mark.parametrize("value, message", [("9999999999999999,99", "too large to be meant"),
                                            ("1e3", "Write the limit as an amount of money"),
                                            ("-5", "cannot be negative")])
def test_a_new_rule_refuses_the_limits_its_edit_refuses(client, company, manager, value, message):
    """A limit the edit form refuses was stored by the create form, and the rule could then not be
    switched off with its own value."""
    client.force_login(manager)
    response = client.post(reverse("findings:fix_rule_create", args=[company.pk]),
                           {"finding_kind": "tax", "max_impact": value, "name": "Impuestos pequeños"})
    assert response.status_code == 400 and message in response.content.decode()
    assert not AutoApprovalRule.objects.filter(company=company).exists()
    # Said on the limit's field, the form as it was filled in (a redirect lost the name and the kind).
    form = response.context["fix_form"]
    assert message in " ".join(form.errors["max_impact"])
    assert (form["name"].value(), form["finding_kind"].value(), form["max_impact"].value()) == (
        "Impuestos pequeños", "tax", value)


def test_the_bad_limit_speaks_spanish(client, rule, manager):
    client.force_login(manager)
    with translation.override("es"):
        html = client.post(_edit(rule), {"max_impact": "mucho"}, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Escriba el límite como una cantidad de dinero" in html and "Activa" in html


def test_the_same_values_write_no_version(rule, manager, company):
    versions = rule.history.count()
    learning.fix_rule_edit(company=company, user=manager, rule=rule, max_impact="50000", is_active=True)
    assert rule.history.count() == versions


def test_only_the_company_s_managers_edit_and_only_finding_fix_rules(client, rule, company, accountant, manager):
    with pytest.raises(FindingRefused):
        learning.fix_rule_edit(company=company, user=accountant, rule=rule, max_impact="1", is_active=True)
    other = make_company(name="Otra")
    other_manager = make_user("otro", other, "manager")
    with pytest.raises(FindingRefused):
        learning.fix_rule_edit(company=other, user=other_manager, rule=rule, max_impact="1", is_active=True)
    plain = AutoApprovalRule.objects.create(company=company, name="Notas", kind="notes_only")
    with pytest.raises(FindingRefused):
        learning.fix_rule_edit(company=company, user=manager, rule=plain, max_impact="1", is_active=True)
    client.force_login(manager)
    assert client.post(_edit(plain), {"max_impact": "1"}).status_code == 404
    assert client.post(reverse("findings:fix_rule_edit", args=[company.pk, 999999]),
                       {"max_impact": "1"}).status_code == 404
    rule.refresh_from_db()
    assert rule.max_impact == Decimal(50000)


def test_switching_off_from_an_old_copy_of_the_rule_keeps_the_limit_another_manager_set(company, manager):
    """It saved the page's copy back: a limit raised meanwhile went back to the old one, and a rule
    already off got another version."""
    rule = learning.fix_rule_create(company=company, user=manager, finding_kind="due_terms", max_impact="50000")
    learning.fix_rule_edit(company=company, user=manager, rule=rule, max_impact="80000", is_active=True)

    learning.fix_rule_switch_off(company=company, user=manager, rule=rule)  # the copy says 50.000

    rule.refresh_from_db()
    assert (rule.is_active, rule.max_impact) == (False, Decimal("80000"))
    versions = rule.history.count()
    learning.fix_rule_switch_off(company=company, user=manager, rule=rule)
    assert rule.history.count() == versions
