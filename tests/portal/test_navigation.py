"""The header's links, written once per company, role and language: the same bytes as the
template, and never another role's or another company's links."""

import pytest
from django.template import engines
from django.urls import reverse
from django.utils import translation

from portal.models import Membership

pytestmark = pytest.mark.django_db
TEMPLATE = '{% include "partials/nav.html" %}'
TAG = "{% load navigation %}{% main_nav %}"


def _render(source: str, membership) -> str:
    return engines["django"].from_string(source).render({"current_membership": membership})


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_links_are_the_templates_for_every_role(language, accountant, approver, manager, outsider):
    with translation.override(language):
        for user in (accountant, approver, manager, outsider):
            membership = Membership.objects.select_related("company").get(user=user)
            for _ in range(2):  # written, then remembered
                assert _render(TAG, membership) == _render(TEMPLATE, membership)


def test_a_role_or_a_company_never_gets_anothers_links(company, other_company, accountant, manager, outsider):
    by = {user: Membership.objects.get(user=user) for user in (manager, accountant, outsider)}
    policies = reverse("approvals:approval_policies", args=[company.pk])
    assert policies in _render(TAG, by[manager])
    accountants = _render(TAG, by[accountant])
    assert policies not in accountants and reverse("approvals:my_requests", args=[company.pk]) in accountants
    others = _render(TAG, by[outsider])
    assert f"/c/{company.pk}/" not in others
    assert reverse("approvals:approval_policies", args=[other_company.pk]) in others
    with translation.override("es"):
        assert "Facturas" in _render(TAG, by[manager])
    assert "Invoices" in _render(TAG, by[manager])


def test_every_page_shows_the_links_of_the_company_looked_at(client, company, other_company, manager):
    from portal.services import membership_set

    membership_set(user=manager, company=other_company, role="accountant")
    client.force_login(manager)
    mine = client.get(reverse("invoices:invoice_list", args=[company.pk])).content.decode()
    theirs = client.get(reverse("invoices:invoice_list", args=[other_company.pk])).content.decode()
    assert reverse("audit:audit_log", args=[company.pk]) in mine
    assert reverse("audit:audit_log", args=[other_company.pk]) not in theirs
    assert reverse("approvals:my_requests", args=[other_company.pk]) in theirs
