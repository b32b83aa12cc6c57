import logging

import pytest
from django.core.management import call_command
from django.urls import reverse

from portal.logging import RedactSecretsFilter
from portal.models import Company

pytestmark = pytest.mark.django_db


def test_token_is_encrypted_at_rest(company):
    row = Company.objects.values("token_cipher").get(pk=company.pk)
    assert "tok-secret-123456" not in row["token_cipher"]
    assert company.token == "tok-secret-123456"
    assert "tok-secret" not in repr(company) and "tok-secret" not in str(company)


def test_token_never_reaches_a_page(client, company, manager):
    client.force_login(manager)
    for url in [reverse("portal:company_home", args=[company.pk]), reverse("invoices:invoice_list", args=[company.pk]),
                reverse("invoices:sync_page", args=[company.pk])]:
        body = client.get(url).content.decode()
        assert "tok-secret-123456" not in body
        assert company.token_cipher not in body


def test_token_from_environment(settings):
    from portal.services import company_from_environment

    settings.ALEGRA_EMAIL = "env@empresa.test"
    settings.ALEGRA_TOKEN = "env-token-999"
    company = company_from_environment()
    assert company.token_from_env and company.token_cipher == ""
    assert company.token == "env-token-999"
    assert company_from_environment().pk == company.pk


def test_add_company_command(monkeypatch, capsys):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "cmd-token-abc")
    call_command("add_company", name="Nueva S.A.S.", base_url="https://api.alegra.com/api/v1",
                 email="api@nueva.test")
    out = capsys.readouterr().out
    company = Company.objects.get(name="Nueva S.A.S.")
    assert company.token == "cmd-token-abc"
    assert "cmd-token-abc" not in out


def test_add_company_refuses_bad_url(monkeypatch):
    from django.core.management.base import CommandError

    monkeypatch.setattr("getpass.getpass", lambda prompt="": "cmd-token-abc")
    with pytest.raises(CommandError) as info:
        call_command("add_company", name="Mala", base_url="not a url", email="api@mala.test")
    assert "cmd-token-abc" not in str(info.value)
    assert not Company.objects.filter(name="Mala").exists()


def test_log_lines_are_redacted():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "auth %s token=%s",
                               ("Basic YWxhZGRpbjpvcGVuc2VzYW1l", "abc123"), None)
    RedactSecretsFilter().filter(record)
    message = record.getMessage()
    assert "YWxhZGRpbjpvcGVuc2VzYW1l" not in message and "abc123" not in message


def test_setup_demo_configures_the_company_named_by_the_environment(settings, capsys):
    settings.ALEGRA_BASE_URL = "https://api.alegra.com/api/v1"
    settings.ALEGRA_EMAIL = "contabilidad@propia.test"
    settings.ALEGRA_TOKEN = "propio-token-321"
    call_command("setup_demo")
    company = Company.objects.get(api_email="contabilidad@propia.test")
    assert company.base_url == "https://api.alegra.com/api/v1" and company.token == "propio-token-321"
    assert "propio-token-321" not in capsys.readouterr().out
    call_command("setup_demo")
    assert Company.objects.filter(api_email="contabilidad@propia.test").count() == 1
