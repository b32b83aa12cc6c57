"""The webhook secret in the URL never reaches a log line."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from portal.logging import RedactSecretsFilter, redact

SECRET = "Zq3-secret_value-x9"


class Collected(logging.Handler):
    """A plain handler, like any other a deployment might add: no filters of its own."""

    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@pytest.fixture
def collected():
    handler = Collected()
    loggers = [logging.getLogger("django")]  # django.request's and django.server's records reach it
    for logger in loggers:
        logger.addHandler(handler)
    yield handler.lines
    for logger in loggers:
        logger.removeHandler(handler)


@pytest.mark.parametrize("line, expected", [
    ('"POST /hooks/alegra/3/Zq3-secret_value-x9/ HTTP/1.1" 200 11', '"POST /hooks/alegra/3/[redacted]/ HTTP/1.1" 200 11'),
    ("Not Found: /hooks/alegra/3/Zq3-secret_value-x9/", "Not Found: /hooks/alegra/3/[redacted]/"),
    ("http://127.0.0.1:8000/hooks/alegra/12/Zq3-secret_value-x9?x=1", "http://127.0.0.1:8000/hooks/alegra/12/[redacted]?x=1"),
    ("GET /invoices/3/ HTTP/1.1", "GET /invoices/3/ HTTP/1.1"),
])
def test_the_secret_segment_is_redacted(line, expected):
    assert redact(line) == expected
    record = logging.LogRecord("django.server", logging.INFO, __file__, 1, "%s", (line,), None)
    RedactSecretsFilter().filter(record)
    assert record.getMessage() == expected


def test_djangos_4xx_warnings_for_webhook_urls_carry_no_secret(client, company, collected):
    wrong = reverse("invoices:alegra_webhook", args=[company.pk, SECRET])
    right = reverse("invoices:alegra_webhook", args=[company.pk, company.webhook_secret])
    assert client.post(wrong, data=b"", content_type="application/json").status_code == 404
    assert client.get(right).status_code == 405
    assert any("Not Found" in line for line in collected) and any("Method Not Allowed" in line for line in collected)
    text = "\n".join(collected)
    assert SECRET not in text and company.webhook_secret not in text and "[redacted]" in text


def test_the_access_log_carries_no_secret(collected):
    # runserver's 4xx lines are warnings (its 2xx ones repeat portal.request's and are not kept).
    logging.getLogger("django.server").warning('"%s" %s %s', f"POST /hooks/alegra/1/{SECRET}/ HTTP/1.1", "404",
                                               "11", extra={"status_code": 404})
    assert collected == ['"POST /hooks/alegra/1/[redacted]/ HTTP/1.1" 404 11']


def test_the_console_handler_redacts_whatever_logger_writes():
    consoles = [handler for handler in logging.getLogger().handlers
                if any(isinstance(f, RedactSecretsFilter) for f in handler.filters)]
    assert len(consoles) == 1
    for name in ("django", "django.request", "django.server"):
        logger = logging.getLogger(name)
        assert logger.propagate and not logger.handlers  # to the redacting console, and nowhere else
