"""gunicorn's settings for the portal: `gunicorn -c deploy/gunicorn.conf.py portal.wsgi`.

Every value can be overridden on the command line or with GUNICORN_CMD_ARGS. Reading the
project's settings here validates the environment before any worker starts.
"""

import multiprocessing
import os

from portal.settings import LOG_FORMAT, LOG_LEVEL

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# WEB_CONCURRENCY is the conventional knob; by default two workers per core plus one.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
# The edit screen of a 2,000-line invoice and a large audit export take seconds, not minutes.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# A worker is replaced after this many requests, so slow growth of memory never builds up.
max_requests = 2000
max_requests_jitter = 200
# The portal writes one line per request itself (portal.request: request id, user, company,
# status, duration), redacted; gunicorn's own access line would only repeat it. Turned on with
# GUNICORN_ACCESS_LOG=true, it goes through the same redaction (webhook secrets included).
_ACCESS_LEVEL = "INFO" if os.environ.get("GUNICORN_ACCESS_LOG", "").lower() in {"1", "true", "yes", "on"} else "WARNING"
errorlog = "-"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "portal.logging.RedactSecretsFilter"}},
    "formatters": {LOG_FORMAT: {"()": f"portal.logging.{'Json' if LOG_FORMAT == 'json' else 'Text'}Formatter"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["redact"],
                    "stream": "ext://sys.stderr"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "gunicorn.error": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        "gunicorn.access": {"handlers": ["console"], "level": _ACCESS_LEVEL, "propagate": False},
    },
}
