"""Operations: the sandbox only where asked for, its webhooks only to allowed hosts, the default
company from the environment seen by every command, and a clear word when nothing is configured."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.urls import clear_url_caches

from alegra_sandbox import delivery
from alegra_sandbox.models import SandboxWebhookSubscription
from alegra_sandbox.testing import make_account, make_client
from portal.models import Company

ROOT = django_settings.BASE_DIR


def _python(code: str, env_overrides: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env.update(env_overrides)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


PRODUCTION = {"DEBUG": "false", "SECRET_KEY": "s" * 50, "AUDIT_HMAC_KEY": "a" * 40,
              "ALLOWED_HOSTS": "enmienda.example.co", "CSRF_TRUSTED_ORIGINS": "https://enmienda.example.co"}
SANDBOX_MOUNTED = """
import django, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()
from django.conf import settings
from django.urls import Resolver404, resolve
try:
    resolve("/sandbox/api/v1/invoices")
    mounted = True
except Resolver404:
    mounted = False
print(f"enabled={settings.SANDBOX_ENABLED} mounted={mounted} hosts={settings.SANDBOX_WEBHOOK_ALLOWED_HOSTS}")
"""


@pytest.mark.parametrize("env, expected", [
    ({**PRODUCTION, "ENMIENDA_TESTING": ""},
     "enabled=False mounted=False hosts=['127.0.0.1:8000']"),
    ({**PRODUCTION, "ENMIENDA_TESTING": "",
      "SANDBOX_ENABLED": "true", "PORTAL_BASE_URL": "https://enmienda.example.co"},
     "enabled=True mounted=True hosts=['enmienda.example.co']"),
    ({"ENMIENDA_TESTING": ""}, "enabled=True mounted=True"),  # DEBUG defaults to true: `make run`
    ({"DEBUG": "true", "SANDBOX_ENABLED": "false"}, "enabled=False mounted=False"),
])
def test_the_sandbox_is_mounted_only_when_enabled(env, expected):
    result = _python(SANDBOX_MOUNTED, env)
    assert result.returncode == 0, result.stderr
    assert expected in result.stdout


@pytest.mark.parametrize("name, value", [("SANDBOX_ENABLED", "maybe"),
                                         ("SANDBOX_WEBHOOK_ALLOWED_HOSTS", "https://hooks.example/x")])
def test_sandbox_settings_are_parsed_strictly(name, value):
    from tests.portal.test_settings import _check

    result = _check({name: value})
    assert result.returncode != 0 and name in result.stderr


def test_a_portal_without_the_sandbox_answers_404_there(client, settings):
    import portal.urls

    settings.SANDBOX_ENABLED = False
    try:
        clear_url_caches()
        importlib.reload(portal.urls)
        assert client.get("/sandbox/api/v1/invoices").status_code == 404
    finally:
        settings.SANDBOX_ENABLED = True
        importlib.reload(portal.urls)
        clear_url_caches()
    assert client.get("/sandbox/api/v1/invoices").status_code == 401  # mounted again: asks for credentials


def test_the_demo_is_refused_without_the_sandbox(db, settings):
    from django.contrib.auth import get_user_model

    settings.SANDBOX_ENABLED = False
    with pytest.raises(CommandError, match="SANDBOX_ENABLED"):
        call_command("setup_demo")
    assert not get_user_model().objects.exists() and not Company.objects.exists()


# --- the simulator's webhooks call only allowed hosts -------------------------------------------


class Recorder:
    def __init__(self):
        self.calls = []

    def __call__(self):
        import httpx

        def handler(request):
            self.calls.append(str(request.url))
            return httpx.Response(200)

        return httpx.Client(transport=httpx.MockTransport(handler))


@pytest.fixture
def calls(settings):
    settings.SANDBOX_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1:8000"]  # the default: the portal's own address
    recorder = Recorder()
    delivery.set_client_factory(recorder)
    yield recorder.calls
    delivery.reset_client_factory()


@pytest.mark.parametrize("url", [
    "https://attacker.example/collect",
    "http://127.0.0.1:6379/",  # another port of the portal's machine
    "http://127.0.0.1/hooks/x",
    "https://127.0.0.1:8000.attacker.example/x",
    "http://user@127.0.0.1:8000@attacker.example/x",
])
def test_a_subscription_to_a_host_outside_the_allow_list_is_refused_and_nothing_is_called(db, calls, url):
    account = make_account(seed=None)
    with make_client(account) as api:
        response = api.post("/webhooks/subscriptions", json={"event": "edit-invoice", "url": url})
    assert response.status_code == 400
    assert response.json()["code"] in (3083, 1005, 3081)
    assert calls == [] and not SandboxWebhookSubscription.objects.exists()


def test_the_portal_s_own_address_is_allowed_and_deliveries_stop_when_it_leaves_the_list(
        db, calls, settings, django_capture_on_commit_callbacks):
    account = make_account(seed=None)
    own = "http://127.0.0.1:8000/hooks/alegra/1/secreto/"
    with make_client(account) as api:
        assert api.post("/webhooks/subscriptions", json={"event": "edit-invoice", "url": own}).status_code == 201
    assert calls == [own]  # the probe
    settings.SANDBOX_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1:9000"]
    assert delivery.deliver_event(account.pk, "edit-invoice", {"invoice": {"id": "1"}}) == 0
    assert calls == [own]
    assert SandboxWebhookSubscription.objects.get().consecutive_failures == 1


# --- the default company, for every command -----------------------------------------------------


def test_sync_with_no_company_says_what_to_do_and_fails(db, settings):
    settings.ALEGRA_EMAIL = settings.ALEGRA_TOKEN = ""
    with pytest.raises(CommandError) as refused:
        call_command("sync_invoices")
    message = str(refused.value)
    assert "no company is configured" in message
    assert "add_company" in message and "ALEGRA_TOKEN" in message and "setup_demo" in message


def test_every_command_sees_the_company_the_environment_describes(db, settings, in_process_http, capsys):
    account = make_account(email="env@propia.test", token="env-token-123", invoices=3)
    settings.ALEGRA_BASE_URL = "http://testserver/sandbox/api/v1"
    settings.ALEGRA_EMAIL, settings.ALEGRA_TOKEN = "env@propia.test", "env-token-123"
    call_command("sync_invoices", "--full")
    company = Company.objects.get(api_email="env@propia.test")
    from invoices.models import Invoice

    assert company.token_from_env and Invoice.objects.filter(company=company).count() == 3
    assert f"{company.name}: succeeded" in capsys.readouterr().out
    call_command("verify_audit", "--company", company.name)  # found by name, its chain holds
    assert account.email == company.api_email


def test_periodic_tasks_see_the_company_the_environment_describes(db, settings, in_process_http):
    from invoices.tasks import sync_recent_all

    make_account(email="env@propia.test", token="env-token-123")
    settings.ALEGRA_BASE_URL = "http://testserver/sandbox/api/v1"
    settings.ALEGRA_EMAIL, settings.ALEGRA_TOKEN = "env@propia.test", "env-token-123"
    assert sync_recent_all() == 1
    company = Company.objects.get(api_email="env@propia.test")
    assert company.sync_runs.filter(kind="recent").exists()
