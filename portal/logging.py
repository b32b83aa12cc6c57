"""A logging filter that scrubs credentials from every record."""

import logging
import re

_BASIC = re.compile(r"(Basic\s+)[A-Za-z0-9+/=]+", re.IGNORECASE)
_TOKEN_KV = re.compile(r"((?:token|password|secret|authorization)\W{0,3}[:=]\s*)\S+", re.IGNORECASE)


def redact(text: str) -> str:
    text = _BASIC.sub(r"\1[redacted]", text)
    return _TOKEN_KV.sub(r"\1[redacted]", text)


class RedactSecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


# Alegra's webhooks reach /hooks/alegra/<company>/<secret>/: the secret is the credential.
_WEBHOOK_SECRET = re.compile(r"(/hooks/alegra/[^/\s]*/)[^/\s?#\"']+")


def redact_webhook_secrets(text: str) -> str:
    return _WEBHOOK_SECRET.sub(r"\1[redacted]", text)


class RedactWebhookSecretFilter(logging.Filter):
    """Keeps webhook secrets out of access lines and Django's 4xx warnings (which log the path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_webhook_secrets(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
