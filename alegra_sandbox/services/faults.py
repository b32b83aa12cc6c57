"""Injected faults: errors, latency and dropped connections, drawn from a seed.

Each request of an account with faults takes the next number of its draw
sequence (an atomic counter), and `random.Random(f"{seed}:{n}")` decides. The
same seed and the same request order therefore fail the same way in every run.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F

from ..errors import Code, bad_request
from ..models import SandboxAccount


@dataclass(frozen=True)
class Fault:
    status: int | None = None     # 500 or 503 answered instead of running the request
    drop_before: bool = False     # connection cut before anything happened
    drop_after: bool = False      # the request ran (a write is applied) but the answer is lost


NO_FAULT = Fault()


def faults_set(account: SandboxAccount, *, error_rate=0, latency_ms: int = 0, drop_rate=0,
               seed: int = 0) -> SandboxAccount:
    error_rate, drop_rate = _rate(error_rate, "error_rate"), _rate(drop_rate, "drop_rate")
    if error_rate + drop_rate > 1:
        raise bad_request(Code.INVALID_VALUE, "error_rate + drop_rate no puede superar 1.")
    if not isinstance(latency_ms, int) or latency_ms < 0 or latency_ms > 60_000:
        raise bad_request(Code.INVALID_VALUE, "latency_ms debe estar entre 0 y 60000.")
    account.fault_error_rate = error_rate
    account.fault_drop_rate = drop_rate
    account.fault_latency_ms = latency_ms
    account.fault_seed = int(seed)
    account.fault_draws = 0
    account.save(update_fields=["fault_error_rate", "fault_drop_rate", "fault_latency_ms",
                                "fault_seed", "fault_draws"])
    return account


def faults_clear(account: SandboxAccount) -> SandboxAccount:
    return faults_set(account)


def _rate(value, label: str) -> Decimal:
    try:
        rate = Decimal(str(value))
    except ArithmeticError:
        rate = Decimal(-1)
    if not rate.is_finite() or rate < 0 or rate > 1:
        raise bad_request(Code.INVALID_VALUE, f"{label} debe estar entre 0 y 1.")
    return rate.quantize(Decimal("0.0001"))


def fault_draw(account: SandboxAccount, *, sleep=time.sleep) -> Fault:
    if not account.faults_enabled:
        return NO_FAULT
    if account.fault_latency_ms:
        sleep(account.fault_latency_ms / 1000)
    if not (account.fault_error_rate or account.fault_drop_rate):
        return NO_FAULT
    rng = random.Random(f"{account.fault_seed}:{_next_draw(account)}")
    roll = Decimal(str(rng.random()))
    if roll < account.fault_drop_rate:
        return Fault(drop_before=True) if rng.random() < 0.5 else Fault(drop_after=True)
    if roll < account.fault_drop_rate + account.fault_error_rate:
        return Fault(status=500 if rng.random() < 0.5 else 503)
    return NO_FAULT


def _next_draw(account: SandboxAccount) -> int:
    rows = SandboxAccount.objects.filter(pk=account.pk)
    with transaction.atomic():
        rows.update(fault_draws=F("fault_draws") + 1)
        return rows.values_list("fault_draws", flat=True).get()
