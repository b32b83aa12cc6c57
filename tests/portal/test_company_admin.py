"""A company's API host changes only with its token given again: the stored one never follows."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from portal.models import Company
from portal.services import TenancyError, company_update
from tests.factories import PASSWORD, make_company

pytestmark = pytest.mark.django_db

NEW_HOST = "https://api.otro-host.example/api/v1"


def test_the_service_refuses_a_new_base_url_without_the_token_and_changes_nothing(company):
    with pytest.raises(TenancyError, match="requires the API token again"):
        company_update(company=company, base_url=NEW_HOST, name="Renombrada")
    company.refresh_from_db()
    assert (company.base_url, company.name, company.token) == (
        "http://testserver/sandbox/api/v1", "Ferretería Andina S.A.S.", "tok-secret-123456")
    updated = company_update(company=company, base_url=NEW_HOST + "/", token="nuevo-token-789")
    assert (updated.base_url, updated.token) == (NEW_HOST, "nuevo-token-789")
    # Anything else changes without the token, which stays as it was.
    assert company_update(company=updated, name="Otra", closed_until="2026-01-31").token == "nuevo-token-789"


def test_a_company_reading_its_token_from_the_environment_needs_one_too(settings):
    settings.ALEGRA_TOKEN = "token-del-entorno"
    company = make_company(token="", token_from_env=True)
    with pytest.raises(TenancyError):
        company_update(company=company, base_url=NEW_HOST)
    moved = company_update(company=company, base_url=NEW_HOST, token="propio-456")
    assert (moved.token_from_env, moved.token) == (False, "propio-456")


def test_an_address_changed_in_the_database_is_never_sent_the_token(company, settings):
    """Whoever can write the database but holds no key pointed the company at their own host, and
    the next call to Alegra sent it the stored token (or ALEGRA_TOKEN)."""
    from invoices.alegra import AlegraClient
    from portal import crypto

    Company.objects.filter(pk=company.pk).update(base_url="https://attacker.example/api/v1")
    moved = Company.objects.get(pk=company.pk)
    with pytest.raises(crypto.SecretUnreadable, match="another address"):
        AlegraClient.for_company(moved)
    settings.ALEGRA_TOKEN = "token-del-entorno"
    Company.objects.filter(pk=company.pk).update(token_from_env=True)
    with pytest.raises(crypto.SecretUnreadable, match="ALEGRA_BASE_URL"):
        AlegraClient.for_company(Company.objects.get(pk=company.pk))
    # Back at its own address, the token reads again; an unbound one (as stored before) does not.
    Company.objects.filter(pk=company.pk).update(base_url="http://testserver/sandbox/api/v1", token_from_env=False)
    assert Company.objects.get(pk=company.pk).token == "tok-secret-123456"
    Company.objects.filter(pk=company.pk).update(token_cipher=crypto.encrypt("tok-secret-123456"))
    with pytest.raises(crypto.SecretUnreadable, match="not bound"):
        Company.objects.get(pk=company.pk).token


def test_the_upgrade_binds_each_stored_token_to_its_company_s_address(company):
    import importlib

    from django.apps import apps

    from portal import crypto

    Company.objects.filter(pk=company.pk).update(token_cipher=crypto.encrypt("tok-secret-123456"))
    importlib.import_module("portal.migrations.0003_bind_tokens_to_their_address").bind(apps, None)
    importlib.import_module("portal.migrations.0003_bind_tokens_to_their_address").bind(apps, None)  # once
    assert Company.objects.get(pk=company.pk).token == "tok-secret-123456"


@pytest.fixture
def admin_client(client):
    admin = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    client.force_login(admin)
    return client


def form(company, **changes) -> dict:
    data = {"name": company.name, "country": company.country, "base_url": company.base_url,
            "api_email": company.api_email, "currency": company.currency,
            "decimal_precision": str(company.decimal_precision), "time_zone": company.time_zone,
            "closed_until": "", "token": ""}
    data.update(changes)
    return data


def test_the_admin_asks_for_the_token_again_when_the_base_url_changes(admin_client, company):
    url = reverse("admin:portal_company_change", args=[company.pk])
    page = admin_client.get(url).content.decode()
    assert "tok-secret-123456" not in page and company.token_cipher not in page
    refused = admin_client.post(url, form(company, base_url=NEW_HOST))
    assert refused.status_code == 200 and "requires the API token again" in refused.content.decode()
    company.refresh_from_db()
    assert company.base_url == "http://testserver/sandbox/api/v1" and company.token == "tok-secret-123456"

    assert admin_client.post(url, form(company, base_url=NEW_HOST, token="otro-token-321")).status_code == 302
    company.refresh_from_db()
    assert (company.base_url, company.token) == (NEW_HOST, "otro-token-321")
    assert admin_client.post(url, form(company, name="Solo el nombre")).status_code == 302
    company.refresh_from_db()
    assert (company.name, company.token) == ("Solo el nombre", "otro-token-321")


def test_the_admin_creates_a_company_only_with_a_token(admin_client):
    data = {"name": "Sin token", "country": "CO", "base_url": NEW_HOST, "api_email": "a@b.test",
            "currency": "COP", "decimal_precision": "2", "token": ""}
    response = admin_client.post(reverse("admin:portal_company_add"), data)
    assert response.status_code == 200 and not Company.objects.filter(name="Sin token").exists()
