"""Login throttling: per user name and per address, audited, saying nothing about who exists."""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit import services
from audit.models import Action, AuditEntry
from tests.factories import PASSWORD, make_user
from portal import events

pytestmark = pytest.mark.django_db

LOCKED = 'data-testid="login-locked-out"'


def attempt(client, username, password, address="10.0.0.1", **headers):
    return client.post(reverse("login"), {"username": username, "password": password},
                       REMOTE_ADDR=address, **headers)


def lockout_message(response) -> str:
    html = response.content.decode()
    start = html.index(LOCKED)
    return html[start:html.index("</p>", start)]


def test_a_user_name_is_locked_out_after_the_limit_even_for_the_right_password(client, company, settings):
    make_user("ana", company, "accountant")
    limit = settings.AXES_FAILURE_LIMIT
    for n in range(limit - 1):  # a different address each time: only the name can be counted
        response = attempt(client, "ana", f"wrong-{n}", address=f"10.0.1.{n}")
        assert response.status_code == 200 and LOCKED not in response.content.decode()
    assert attempt(client, "ana", "wrong-last", address="10.0.1.99").status_code == 429
    response = attempt(client, "ana", PASSWORD, address="10.0.2.1")
    assert response.status_code == 429 and "Try again in 15 minutes" in lockout_message(response)
    assert "_auth_user_id" not in client.session
    # Another person is not affected.
    make_user("luis", company, "approver")
    assert attempt(client, "luis", PASSWORD, address="10.0.3.1").status_code == 302


def test_an_address_is_locked_out_whatever_names_it_tries(client, company, settings):
    make_user("ana", company, "accountant")
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, f"nombre{n}", "x", address="10.0.9.9")
    assert attempt(client, "ana", PASSWORD, address="10.0.9.9").status_code == 429
    # A forwarding header the client writes itself does not make it another address.
    assert attempt(client, "ana", PASSWORD, address="10.0.9.9", HTTP_X_FORWARDED_FOR="10.7.7.7").status_code == 429
    assert attempt(client, "ana", PASSWORD, address="10.0.9.10").status_code == 302


def test_behind_the_portal_s_proxy_each_client_is_its_own_address(client, company, settings):
    """Behind a proxy every REMOTE_ADDR is the proxy's: five failures by anyone locked everyone out."""
    settings.TRUSTED_PROXY_COUNT = 1
    make_user("ana", company, "accountant")
    proxy = "127.0.0.1"
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, f"nombre{n}", "x", address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert attempt(client, "luis", "x", address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 429
    # What the client writes into the header sits left of what the proxy appends: never read.
    assert attempt(client, "ana", PASSWORD, address=proxy,
                   HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.9").status_code == 429
    assert attempt(client, "ana", PASSWORD, address=proxy, HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7").status_code == 302
    entry = AuditEntry.objects.filter(action=Action.LOGIN).latest("seq")
    assert entry.what["ip"] == "198.51.100.7"
    # No header, or garbage in it: the proxy's own address, as without a proxy.
    client.logout()
    assert attempt(client, "ana", PASSWORD, address="10.0.5.5", HTTP_X_FORWARDED_FOR="no es una dirección").status_code == 302


def test_the_lockout_says_the_same_whether_the_user_exists_or_not(client, company, settings):
    make_user("ana", company, "accountant")
    answers = {}
    for name in ("ana", "nadie"):
        for n in range(settings.AXES_FAILURE_LIMIT):
            failed = attempt(client, name, "x", address=f"10.{len(answers)}.0.{n}")
        answers[name] = failed
    assert answers["ana"].status_code == answers["nadie"].status_code == 429
    assert lockout_message(answers["ana"]) == lockout_message(answers["nadie"])
    assert "ana" not in lockout_message(answers["ana"])


def test_each_lockout_is_in_the_audit_log_of_the_companies_of_the_name_or_the_system(client, company, settings):
    make_user("ana", company, "accountant")
    for n in range(settings.AXES_FAILURE_LIMIT + 1):
        attempt(client, "ana", "x", address="10.5.5.5", HTTP_USER_AGENT="Fuerza/1.0")
    failed = AuditEntry.objects.filter(company=company, action=Action.LOGIN_FAILED)
    locked = list(AuditEntry.objects.filter(company=company, action=Action.LOGIN_LOCKED_OUT).order_by("seq"))
    assert failed.count() == settings.AXES_FAILURE_LIMIT - 1 and len(locked) == 2
    assert (locked[0].actor_id, events.code_of(locked[0].why)) == (None, "session.locked_out")
    assert locked[0].what == {"username": "ana", "known_user": True, "ip": "10.5.5.5", "user_agent": "Fuerza/1.0",
                              "failures": settings.AXES_FAILURE_LIMIT}
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "nadie", "x", address=f"10.6.6.{n}")
    unknown = AuditEntry.objects.get(action=Action.LOGIN_LOCKED_OUT, company__isnull=True)
    assert unknown.what["username"] == "nadie" and unknown.what["known_user"] is False
    assert services.chain_verify(company_id=company.pk).ok and services.chain_verify(company_id=None).ok
