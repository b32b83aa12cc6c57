"""Log lines: one JSON object each, with request context; no token, password or webhook secret.

The webhook URL (/hooks/alegra/<company>/<secret>/) is the sharpest case: Django's own 404
warning and every server's access line print the path. The output read here is what the
configured console handler writes (in process), or what a real runserver or gunicorn prints.
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import time

import httpx
import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.urls import reverse

from portal.logging import JsonFormatter, TextFormatter, redact
from tests.factories import make_company, make_user

SECRET_HINTS = ("Authorization: Bearer abc.def.ghi", "password=hunter2hunter2", "token: tok_live_123456",
                "GET /hooks/alegra/12/s3cr3t-W3bh00k-v4lue/ 404")


@pytest.mark.parametrize("line", SECRET_HINTS)
def test_redact_removes_the_secret_and_keeps_the_shape(line):
    secret = line.split()[-1] if "hooks" not in line else "s3cr3t-W3bh00k-v4lue"
    cleaned = redact(line)
    assert secret not in cleaned and "[redacted]" in cleaned


def test_redact_keeps_the_company_of_a_webhook_path():
    assert redact("/hooks/alegra/12/abc_DEF-123/") == "/hooks/alegra/12/[redacted]/"


@pytest.fixture
def console(request):
    """What the configured console handler writes, in the format a test asks for (JSON by default)."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream, formatter = io.StringIO(), handler.formatter
    previous = handler.setStream(stream)
    handler.setFormatter(getattr(request, "param", JsonFormatter)())
    yield stream
    handler.setStream(previous)
    handler.setFormatter(formatter)


def json_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def _webhook_calls(client, company) -> list[str]:
    good = reverse("invoices:alegra_webhook", args=[company.pk, company.webhook_secret])
    wrong = reverse("invoices:alegra_webhook", args=[company.pk, company.webhook_secret[::-1]])
    client.post(good, data=b"", content_type="application/json")
    client.post(wrong, data=b"{}", content_type="application/json")
    client.get(good)  # 405: Django warns "Method Not Allowed: <path>"
    return [company.webhook_secret, company.webhook_secret[::-1]]


@pytest.mark.django_db
def test_webhook_secrets_never_reach_the_log(client, console):
    company = make_company()
    secrets = _webhook_calls(client, company)
    output = console.getvalue()
    lines = json_lines(console)
    # Django's own warnings were written, and the request lines: the assertion below reads them.
    assert any(line["logger"] == "django.request" for line in lines)
    assert [line["status"] for line in lines if line["logger"] == "portal.request"] == [200, 404, 405]
    assert all(secret not in output for secret in secrets)
    assert f"/hooks/alegra/{company.pk}/[redacted]/" in output


@pytest.mark.django_db
@pytest.mark.parametrize("console", [TextFormatter], indirect=True)
def test_text_lines_are_redacted_too(client, console):
    company = make_company()
    secrets = _webhook_calls(client, company)
    assert "portal.request" in console.getvalue()
    assert all(secret not in console.getvalue() for secret in secrets)


@pytest.mark.django_db
def test_a_request_line_carries_request_id_user_company_path_status_and_duration(client, console, company):
    user = make_user("ana", company, "accountant")
    client.force_login(user)
    response = client.get(reverse("invoices:invoice_list", args=[company.pk]), HTTP_X_REQUEST_ID="edge-4f1c2a9b")
    assert response.status_code == 200
    assert response["X-Request-ID"] == "edge-4f1c2a9b"
    [line] = [line for line in json_lines(console) if line["logger"] == "portal.request"]
    assert line["request_id"] == "edge-4f1c2a9b"
    assert (line["user_id"], line["company_id"], line["method"], line["status"]) == (user.pk, company.pk, "GET", 200)
    assert line["path"] == f"/c/{company.pk}/invoices/"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["level"] == "INFO" and line["ts"].endswith("+00:00")


@pytest.mark.django_db
def test_an_unusable_request_id_is_replaced_by_a_generated_one(client, console):
    response = client.get("/accounts/login/", HTTP_X_REQUEST_ID="bad id\nwith newline")
    generated = response["X-Request-ID"]
    assert len(generated) == 32 and generated.isalnum()
    [line] = [line for line in json_lines(console) if line["logger"] == "portal.request"]
    assert line["request_id"] == generated and "user_id" not in line


def test_an_exception_stays_on_one_json_line(console):
    try:
        raise ValueError("Authorization: Basic dXNlcjpzZWNyZXQ= refused")
    except ValueError:
        logging.getLogger("enmienda.test").exception("failed with token=abc123")
    [line] = json_lines(console)
    assert "dXNlcjpzZWNyZXQ=" not in json.dumps(line) and "abc123" not in json.dumps(line)
    assert "ValueError" in line["exc"]


# --- real servers ------------------------------------------------------------------------------


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


SERVERS = {
    "runserver": lambda port: [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload",
                               "--skip-checks"],
    "gunicorn": lambda port: [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "--bind",
                              f"127.0.0.1:{port}", "--workers", "1", "portal.wsgi"],
}


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("server", sorted(SERVERS))
def test_servers_never_print_a_webhook_secret(server, tmp_path):
    company = make_company()
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.approvals.worker_settings",
           "ENMIENDA_WORKER_DB_NAME": str(connection.settings_dict["NAME"]), "LOG_FORMAT": "json",
           "GUNICORN_ACCESS_LOG": "true"}
    out = open(tmp_path / "server.log", "wb")
    process = subprocess.Popen(SERVERS[server](port), cwd=django_settings.BASE_DIR, env=env, stdout=out,
                               stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(base + "/health/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        good = f"{base}/hooks/alegra/{company.pk}/{company.webhook_secret}/"
        wrong = f"{base}/hooks/alegra/{company.pk}/{company.webhook_secret[::-1]}/"
        statuses = [httpx.post(good, content=b"").status_code, httpx.post(wrong, content=b"{}").status_code,
                    httpx.get(good).status_code]
    finally:
        process.terminate()
        process.wait(timeout=30)
        out.close()
    output = (tmp_path / "server.log").read_text(errors="replace")
    assert statuses == [200, 404, 405], output
    assert output.count(f"/hooks/alegra/{company.pk}/[redacted]/") >= 3, output
    assert company.webhook_secret not in output and company.webhook_secret[::-1] not in output
