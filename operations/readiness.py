"""Is this deployment able to do its work? Database, broker, scheduler and the mirror's freshness.

Each check answers `{"ok": bool, ...}` and never raises: a failure is a fact to report, with
the kind of error only (a message could carry a connection URL and its password).
"""

from __future__ import annotations

import os
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.utils import timezone

from portal.celery import app

from . import queries

BROKER_TIMEOUT_SECONDS = 2.0


def _failure(exc: Exception) -> dict:
    return {"ok": False, "error": type(exc).__name__}


def check_database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return _failure(exc)
    return {"ok": True}


def check_broker() -> dict:
    url = app.conf.broker_url or ""
    try:
        if url.startswith("filesystem"):
            # No server: the broker is the folder, and it must take new messages.
            folder = app.conf.broker_transport_options.get("data_folder_in", "")
            if not (os.path.isdir(folder) and os.access(folder, os.W_OK)):
                return {"ok": False, "error": "broker folder missing or read-only"}
            return {"ok": True}
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0,
                                   timeout=BROKER_TIMEOUT_SECONDS)
            client = getattr(conn.default_channel, "client", None)
            if client is not None and hasattr(client, "ping"):
                client.ping()  # a Redis connection pool connects lazily: ask the server itself
    except Exception as exc:
        return _failure(exc)
    return {"ok": True}


def check_scheduler() -> dict:
    try:
        age = queries.heartbeat_age()
    except Exception as exc:
        return _failure(exc)
    limit = settings.READY_HEARTBEAT_MAX_AGE_SECONDS
    if age is None:
        return {"ok": False, "error": "no heartbeat recorded yet", "max_age_seconds": limit}
    return {"ok": age <= limit, "age_seconds": round(age, 1), "max_age_seconds": limit}


def check_sync() -> dict:
    try:
        ages = queries.sync_ages()
    except Exception as exc:
        return _failure(exc)
    limit = settings.READY_SYNC_MAX_AGE_MINUTES * 60
    companies = [{
        "company_id": age.company_id,
        "last_success": age.last_success.isoformat() if age.last_success else None,
        "age_seconds": round(age.age_seconds, 1),
        "stale": bool(limit) and age.age_seconds > limit,
    } for age in ages]
    return {"ok": not any(c["stale"] for c in companies), "max_age_seconds": limit or None,
            "companies": companies}


CHECKS: dict[str, Callable[[], dict]] = {
    "database": check_database,
    "broker": check_broker,
    "scheduler": check_scheduler,
    "sync": check_sync,
}


def readiness() -> dict:
    database = check_database()
    results = {"database": database}
    for name, check in CHECKS.items():
        if name == "database":
            continue
        # Without a database the checks that read it would only repeat its error.
        results[name] = check() if database["ok"] or name == "broker" else {"ok": False, "error": "database"}
    return {"ready": all(r["ok"] for r in results.values()), "at": timezone.now().isoformat(), "checks": results}
