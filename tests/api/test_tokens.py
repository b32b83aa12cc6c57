"""Personal API tokens: shown once, stored hashed, never more than the user's role; the page and the command."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from api import services
from api.models import ApiToken
from portal.services import membership_set
from tests.api.kit import Api, token_for

pytestmark = pytest.mark.django_db


def test_a_token_is_stored_only_as_a_hash(accountant, company):
    secret = token_for(accountant, company, "invoices:read")
    token = ApiToken.objects.get()
    assert secret.startswith("enm_") and len(secret) > 40
    assert token.secret_hash == services.hash_secret(secret)
    stored = " ".join(str(value) for value in ApiToken.objects.values_list().get())
    # The random part follows the second "_" (it may hold "_" itself): neither it nor the whole is kept.
    assert secret not in stored and secret.split("_", 2)[2] not in stored


@pytest.mark.parametrize("role, scope", [("accountant", "decisions:write"), ("accountant", "audit:read"),
                                         ("approver", "requests:write"), ("approver", "audit:read")])
def test_a_token_never_has_more_than_its_users_role(company, role, scope):
    from tests.factories import make_user

    user = make_user("rita", company, role)
    with pytest.raises(services.TokenRefused) as refused:
        services.token_create(user=user, company=company, name="x", scopes=f"invoices:read,{scope}")
    assert refused.value.code == "beyond_role" and scope in str(refused.value)
    assert not ApiToken.objects.exists()


def test_a_lowered_role_cuts_the_scopes_of_existing_tokens(company, approver, accountant):
    secret = token_for(approver, company, "invoices:read,decisions:write")
    membership_set(user=approver, company=company, role="accountant")
    response = Api(secret).post("/requests/1/decisions", {"outcome": "approve"})
    assert response.status_code == 403 and response.json()["code"] == "scope_missing"


def test_the_command_prints_the_token_alone_on_standard_output(accountant, company):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", "--user", "ana", "--company", company.name, "--scopes",
                 "invoices:read,requests:write", "--name", "ERP nightly", "--expires-days", "30",
                 stdout=out, stderr=err)
    printed = out.getvalue()
    assert printed.count("\n") == 1 and printed.endswith("\n")
    secret = printed.strip()
    token = ApiToken.objects.get()
    assert token.secret_hash == services.hash_secret(secret) and token.name == "ERP nightly"
    assert sorted(token.scopes) == ["invoices:read", "requests:write"] and token.expires_at is not None
    assert Api(secret).get("/invoices").status_code == 200
    call_command("create_api_token", "--user", "ana", "--company", str(company.pk), "--scopes", "invoices:read",
                 stdout=(out := io.StringIO()))
    assert out.getvalue().startswith("enm_") and ApiToken.objects.get(secret_hash=services.hash_secret(
        out.getvalue().strip())).name == "command line token"


@pytest.mark.parametrize("args, message", [
    (["--user", "nadie", "--company", "1", "--scopes", "invoices:read"], "no active user"),
    (["--user", "ana", "--company", "Nope S.A.", "--scopes", "invoices:read"], "no company"),
    (["--user", "ana", "--company", "COMPANY", "--scopes", "invoices:read,decisions:write"], "cannot do more"),
    (["--user", "ana", "--company", "COMPANY", "--scopes", "invoices:write"], "Unknown scope"),
    (["--user", "ana", "--company", "COMPANY", "--scopes", "invoices:read", "--expires-days", "0"], "expiry"),
])
def test_the_command_refuses_with_a_message_and_prints_no_token(accountant, company, args, message):
    args = [str(company.pk) if a == "COMPANY" else a for a in args]
    out = io.StringIO()
    with pytest.raises(CommandError, match=message):
        call_command("create_api_token", *args, stdout=out)
    assert out.getvalue() == "" and not ApiToken.objects.exists()


def test_revoked_and_expired_tokens_are_refused(accountant, company):
    secret = token_for(accountant, company, "invoices:read")
    api = Api(secret)
    assert api.get("/invoices").status_code == 200
    services.token_revoke(token=ApiToken.objects.get(), user=accountant)
    response = api.get("/invoices")
    assert response.status_code == 401 and response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_token" and response["WWW-Authenticate"] == "Bearer"
    expired = token_for(accountant, company, "invoices:read", name="old", expires_days=1)
    ApiToken.objects.filter(name="old").update(expires_at="2020-01-01T00:00:00Z")
    assert Api(expired).get("/invoices").status_code == 401
    assert Api("enm_nothing_like_a_token").get("/invoices").status_code == 401
    assert Api("").client.get("/api/v1/invoices", HTTP_AUTHORIZATION="").status_code == 401


def test_a_deactivated_or_removed_member_token_stops_working(accountant, company):
    from portal.models import Membership

    secret = token_for(accountant, company, "invoices:read")
    Membership.objects.filter(user=accountant).delete()
    assert Api(secret).get("/invoices").status_code == 401


# --- the page --------------------------------------------------------------------------------


def test_the_page_creates_a_token_shown_once_and_revokes_it(client, accountant, company):
    client.force_login(accountant)
    url = reverse("api:tokens", args=[company.pk])
    page = client.get(url).content.decode()
    assert "decisions:write" not in page and "requests:write" in page  # only what the role allows
    response = client.post(url, {"name": "Power BI", "scopes": ["invoices:read"], "expires_days": "90"})
    assert response.status_code == 200
    token = ApiToken.objects.get()
    shown = response.content.decode()
    secret = shown.split("<pre><code>")[1].split("</code></pre>")[0]
    assert token.secret_hash == services.hash_secret(secret)
    again = client.get(url).content.decode()
    assert secret not in again and f"enm_{token.prefix}" in again and "Power BI" in again
    client.post(reverse("api:token_revoke", args=[company.pk, token.pk]))
    token.refresh_from_db()
    assert token.revoked_at is not None and Api(secret).get("/invoices").status_code == 401


def test_the_page_refuses_a_scope_beyond_the_role_and_writes_nothing(client, accountant, company):
    client.force_login(accountant)
    response = client.post(reverse("api:tokens", args=[company.pk]),
                           {"name": "x", "scopes": ["invoices:read", "decisions:write"]})
    assert response.status_code == 400 and not ApiToken.objects.exists()


def test_outsiders_get_404_on_the_page_and_on_others_tokens(client, accountant, outsider, company):
    token_for(accountant, company, "invoices:read")
    token = ApiToken.objects.get()
    client.force_login(outsider)
    assert client.get(reverse("api:tokens", args=[company.pk])).status_code == 404
    assert client.post(reverse("api:token_revoke", args=[company.pk, token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_the_page_speaks_spanish(client, accountant, company):
    client.force_login(accountant)
    with translation.override("es"):
        page = client.get(reverse("api:tokens", args=[company.pk]), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Tokens de API" in page and "Crear token" in page
