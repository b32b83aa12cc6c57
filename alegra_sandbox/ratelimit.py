"""Alegra's per-user request budget, counted in the database.

A fixed window of `rate_limit_window_seconds` per account; one row per
(account, window) whose counter is raised with an atomic UPDATE, so every
thread and process serving the sandbox shares the same budget (SQLite and
PostgreSQL alike). The clock is injectable so tests can cross windows
without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F

from .models import SandboxAccount, SandboxRateWindow

_clock: Callable[[], float] = time.time


def set_clock(clock: Callable[[], float]) -> None:
    global _clock
    _clock = clock


def reset_clock() -> None:
    set_clock(time.time)


@dataclass(frozen=True)
class Budget:
    limit: int
    used: int
    reset: int  # seconds left in the window; -2 on the first call of a window, as recorded

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit

    def headers(self) -> dict[str, str]:
        return {
            "X-Rate-Limit-Limit": str(self.limit),
            "X-Rate-Limit-Remaining": str(max(self.limit - self.used, 0)),
            "X-Rate-Limit-Reset": str(self.reset),
        }


def count_request(account: SandboxAccount) -> Budget:
    """Count one request against the account's current window."""
    seconds = max(account.rate_limit_window_seconds, 1)
    now = _clock()
    window = int(now // seconds)
    used = _increment(account, window)
    reset = -2 if used == 1 else max(int(seconds - (now - window * seconds)), 1)
    return Budget(limit=account.rate_limit_per_minute, used=used, reset=reset)


def _increment(account: SandboxAccount, window: int) -> int:
    rows = SandboxRateWindow.objects.filter(account=account, window=window)
    with transaction.atomic():
        if rows.update(count=F("count") + 1) == 0:
            try:
                with transaction.atomic():
                    SandboxRateWindow.objects.create(account=account, window=window, count=1)
                # Old windows are no longer needed; dropping them here keeps the table tiny.
                SandboxRateWindow.objects.filter(account=account, window__lt=window - 1).delete()
                return 1
            except IntegrityError:  # another process opened the window first
                rows.update(count=F("count") + 1)
        return rows.values_list("count", flat=True).get()


def unauthenticated_headers() -> dict[str, str]:
    return {"X-Rate-Limit-Limit": "150", "X-Rate-Limit-Remaining": "150", "X-Rate-Limit-Reset": "60"}
