"""Counters shared by every process of the portal (web workers, Celery workers, commands).

Most figures an operator needs are read from the database when /metrics is scraped; an
event that leaves no row (Alegra answering 429) is counted here instead. The count lives
where METRICS_COUNTER_STORE says: a Redis server (`redis://…`, any number of hosts) or a
folder (one small file per counter under an exclusive `flock`, the processes of one
machine). Counting never fails the work being counted: a store that is down loses the
increment and says so in the log.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)

_redis_clients: dict = {}
_redis_lock = threading.Lock()
REDIS_PREFIX = "enmienda:counter:"


def _is_redis(location: str) -> bool:
    return location.startswith(("redis://", "rediss://", "unix://"))


def _redis(location: str):
    with _redis_lock:
        if location not in _redis_clients:
            import redis

            _redis_clients[location] = redis.Redis.from_url(location, socket_timeout=2, socket_connect_timeout=2)
        return _redis_clients[location]


def _file(location: str, name: str) -> Path:
    folder = Path(location)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.count"


class Counter:
    """A monotonic count that survives restarts and is shared across processes."""

    def __init__(self, name: str) -> None:
        if not name.replace("_", "").isalnum():
            raise ValueError(f"counter names are letters, digits and underscores: {name!r}")
        self.name = name

    def inc(self, amount: int = 1) -> None:
        location = settings.METRICS_COUNTER_STORE
        try:
            if _is_redis(location):
                _redis(location).incrby(REDIS_PREFIX + self.name, amount)
            else:
                self._add_in_file(_file(location, self.name), amount)
        except Exception as exc:  # the store is down: the work goes on, the count is short
            log.warning("counter %s not incremented: %s", self.name, type(exc).__name__)

    def value(self) -> int:
        location = settings.METRICS_COUNTER_STORE
        if _is_redis(location):
            return int(_redis(location).get(REDIS_PREFIX + self.name) or 0)
        path = _file(location, self.name)
        try:
            return _parse(path.read_bytes())
        except FileNotFoundError:
            return 0

    @staticmethod
    def _add_in_file(path: Path, amount: int) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            current = _parse(os.pread(fd, 64, 0))
            # Fixed width: a shorter number never leaves digits of a longer one behind.
            os.pwrite(fd, f"{current + amount:020d}\n".encode(), 0)
        finally:
            os.close(fd)


def _parse(raw: bytes) -> int:
    try:
        return int(raw.strip() or 0)
    except ValueError:  # a torn write: the count restarts rather than failing the caller
        return 0


# Alegra refused a request for exceeding the rate limit (incremented by invoices.alegra).
alegra_rate_limited = Counter("alegra_rate_limited")
