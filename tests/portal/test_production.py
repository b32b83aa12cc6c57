"""The production profile comes from the environment alone; `check --deploy` is clean with the
documented variables (deploy/enmienda.env.example), and a missing one stops start-up by name."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

ROOT = settings.BASE_DIR
EXAMPLE = ROOT / "deploy" / "enmienda.env.example"
# What a developer's shell or this test run may hold that a production machine would not.
# What the test run itself sets (the browser tests allow async-unsafe calls in their process).
_NOT_PRODUCTION = {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "ENMIENDA_TESTING", "DEBUG",
                   "ALEGRA_RATE_LIMIT_STORE", "METRICS_COUNTER_STORE", "LOG_FORMAT", "DJANGO_ALLOW_ASYNC_UNSAFE"}


def documented_environment() -> dict[str, str]:
    env = {}
    for line in EXAMPLE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            env[name] = value
    return env


def production_env(tmp_path, **overrides) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _NOT_PRODUCTION}
    env.update(documented_environment())
    # The placeholders filled as an operator would (a Fernet key and tokens of the right shape).
    env.update({"TOKEN_ENCRYPTION_KEY": "mQ3p2Zr0cM8j5kYbW0m8qB3nYy3XzS7mK1m1aT4hU2E=",
                "METRICS_TOKEN": "a-metrics-token-for-prometheus", "AUDIT_HMAC_KEY": "an-audit-key-of-at-least-32-characters-0123",
                "ENMIENDA_VAR_DIR": str(tmp_path), "STATIC_ROOT": str(tmp_path / "static")})
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_the_documented_variables(tmp_path):
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_without_the_https_variables_check_deploy_warns(tmp_path):
    """The same check does catch what the variables fix: the test above is not vacuous."""
    env = production_env(tmp_path, SECURE_HSTS_SECONDS="0", SECURE_SSL_REDIRECT="false")
    result = run(["manage.py", "check", "--deploy"], env)
    assert "security.W004" in result.stderr and "security.W008" in result.stderr


@pytest.mark.parametrize("name", ["SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS"])
def test_production_stops_naming_each_required_variable(tmp_path, name):
    result = run(["manage.py", "check"], production_env(tmp_path, **{name: None}))
    assert result.returncode != 0
    assert f"{name} must be set when DEBUG is false" in result.stderr


@pytest.mark.parametrize("name,value", [
    ("CSRF_TRUSTED_ORIGINS", "portal.example.com"),
    ("CSRF_TRUSTED_ORIGINS", "https://portal.example.com/login/"),
    ("TRUST_X_FORWARDED_PROTO", "sometimes"),
    ("SECURE_HSTS_SECONDS", "a year"),
    ("LOG_FORMAT", "xml"),
    ("LOG_LEVEL", "LOUD"),
    ("READY_HEARTBEAT_MAX_AGE_SECONDS", "5"),
])
def test_malformed_production_values_stop_startup_by_name(tmp_path, name, value):
    result = run(["manage.py", "check"], production_env(tmp_path, **{name: value}))
    assert result.returncode != 0
    assert name in result.stderr


PROFILE = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "debug": s.DEBUG, "proxy": s.SECURE_PROXY_SSL_HEADER, "redirect": s.SECURE_SSL_REDIRECT,
    "hsts": s.SECURE_HSTS_SECONDS, "session_secure": s.SESSION_COOKIE_SECURE, "csrf_secure": s.CSRF_COOKIE_SECURE,
    "static": s.STORAGES["staticfiles"]["BACKEND"], "log_format": s.LOG_FORMAT,
    "formatter": s.LOGGING["handlers"]["console"]["formatter"], "csp": bool(getattr(s, "CONTENT_SECURITY_POLICY", None)),
}))
"""


def profile(env: dict) -> dict:
    env = {**env, "DJANGO_SETTINGS_MODULE": "portal.settings"}
    result = run(["-c", PROFILE], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_production_profile(tmp_path):
    values = profile(production_env(tmp_path))
    assert values == {
        "debug": False, "proxy": ["HTTP_X_FORWARDED_PROTO", "https"], "redirect": True, "hsts": 31_536_000,
        "session_secure": True, "csrf_secure": True,
        "static": "whitenoise.storage.CompressedManifestStaticFilesStorage",
        "log_format": "json", "formatter": "json", "csp": True,
    }


def test_the_forwarded_proto_header_is_trusted_only_when_a_variable_says_so(tmp_path):
    assert profile(production_env(tmp_path, TRUST_X_FORWARDED_PROTO=None))["proxy"] is None


def test_the_demo_profile_reads_static_sources_and_logs_text(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in _NOT_PRODUCTION}
    values = profile({**env, "ENMIENDA_VAR_DIR": str(tmp_path)})
    assert values["static"] == "django.contrib.staticfiles.storage.StaticFilesStorage"
    assert (values["debug"], values["log_format"], values["redirect"], values["hsts"]) == (True, "text", False, 0)


def test_this_test_run_uses_plain_static_storage():
    """Tests never need collectstatic: hashed names are for production only."""
    assert settings.STORAGES["staticfiles"]["BACKEND"] == "django.contrib.staticfiles.storage.StaticFilesStorage"


def test_the_web_application_settles_the_garbage_collector_once_loaded(tmp_path):
    """What the WSGI module loaded is frozen out of collections, which start later than Python's 700."""
    script = ("import gc; import portal.wsgi; import json; "
              "print(json.dumps({'threshold': gc.get_threshold()[0], 'frozen': gc.get_freeze_count()}))")
    result = run(["-c", script], production_env(tmp_path))
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["threshold"] == 50_000
    assert values["frozen"] > 10_000  # Django and the apps, not a handful of objects
