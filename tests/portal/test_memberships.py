"""The memberships every page reads: the same instances the ORM's join would build, in one statement."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.access import memberships_for
from portal.models import Company, Membership
from portal.services import membership_set
from tests.factories import make_company, make_user

pytestmark = pytest.mark.django_db


def _orm(user) -> list[Membership]:
    return list(Membership.objects.filter(user=user, user__is_active=True).select_related("company")
                .order_by("company__name", "company_id"))


def _fields(instance) -> dict:
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def test_the_memberships_are_what_the_orm_builds_by_company_name_with_their_companies_in_one_statement(company):
    user = make_user("lucia", company, "accountant")
    # Names out of id order, a tie broken by id, a closed period (a date) and a token from the
    # environment (a boolean): the values each backend converts.
    zeta = make_company(name="Zeta Comercial")
    Company.objects.filter(pk=zeta.pk).update(closed_until=datetime.date(2026, 6, 30), token_from_env=True)
    twins = [make_company(name="Alfa Ltda"), make_company(name="Alfa Ltda")]
    for other, role in ((zeta, "manager"), (twins[1], "approver"), (twins[0], "manager")):
        membership_set(user=user, company=other, role=role)
    make_user("someone_else", zeta, "approver")  # not theirs

    with CaptureQueriesContext(connection) as queries:
        found = memberships_for(user)
        companies = [membership.company for membership in found]
    assert len(queries) == 1

    expected = _orm(user)
    assert [m.company.name for m in found] == ["Alfa Ltda", "Alfa Ltda", "Ferretería Andina S.A.S.", "Zeta Comercial"]
    assert [m.company_id for m in found[:2]] == sorted(t.pk for t in twins)
    assert [_fields(m) for m in found] == [_fields(m) for m in expected]
    assert [_fields(c) for c in companies] == [_fields(m.company) for m in expected]
    assert companies[3].closed_until == datetime.date(2026, 6, 30) and companies[3].token_from_env is True
    assert companies[0].created_at.tzinfo is not None
    assert all(not m._state.adding and m._state.db == "default" for m in found)
    assert companies[0].token == "tok-secret-123456"  # a company as loaded: its token decrypts


def test_an_inactive_user_or_one_without_companies_has_no_memberships(company):
    alone = make_user("solo")
    assert memberships_for(alone) == []
    user = make_user("inactiva", company, "manager")
    user.is_active = False
    user.save()
    assert memberships_for(type(user).objects.get(pk=user.pk)) == []
