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
