"""A request budget shared by every process that uses one Alegra credential.

Alegra allows 150 requests per minute per user, and every worker, web process
and command using that user draws on the same budget. The limiter keeps a
sliding window: a request is allowed when fewer than `per_minute` requests were
granted in the last `window_seconds`. The window lives outside the process:

- `redis://…` → a sorted set per credential, updated by one Lua script (atomic
  on the server, so any number of hosts can share it);
- anything else is a folder → one JSON file per credential, guarded by
  `fcntl.flock` (no server needed; shared by the processes of one machine).

When Alegra itself says the budget is spent (Remaining 0, or a 429) the caller
calls `pause(key, seconds)`: the pause is stored beside the window, so every
process waits, not only the one that saw the answer.

Keys are hashes of base URL + e-mail; the token never reaches the store.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from django.conf import settings

log = logging.getLogger(__name__)

Clock = Callable[[], float]
Sleep = Callable[[float], None]


def credential_key(base_url: str, email: str) -> str:
    """A stable, non-secret name for one credential's budget."""
    normal = f"{base_url.strip().rstrip('/').lower()}\n{email.strip().lower()}"
    return hashlib.sha256(normal.encode()).hexdigest()[:32]


class Store(Protocol):
    def reserve(self, key: str, limit: int, window: float, now: float | None) -> tuple[float, float]:
        """Take a slot if one is free: (0, granted_at), else (seconds to wait, now)."""

    def pause(self, key: str, seconds: float, now: float | None) -> None:
        """Let nobody take a slot for `seconds` (extends, never shortens, a pause)."""


class TooLong(Exception):
    """The next free slot is further away than the caller will wait."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"next slot in {wait:.0f} s")
        self.wait = wait


class RateLimiter:
    """Blocks callers so that no window of `window_seconds` grants more than `per_minute`."""

    def __init__(
        self,
        store: Store,
        per_minute: int,
        *,
        window_seconds: float = 60.0,
        clock: Clock | None = None,
        sleep: Sleep = time.sleep,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        if window_seconds <= 0:
            raise ValueError("window_seconds must be positive")
        self.store = store
        self.per_minute = per_minute
        self.window_seconds = float(window_seconds)
        # None lets the Redis store use the server's clock, the one clock all
        # hosts agree on; the file store falls back to time.time().
        self.clock = clock
        self.sleep = sleep

    def _now(self) -> float | None:
        return self.clock() if self.clock is not None else None

    def acquire(self, key: str, max_wait: float | None = None) -> float:
        """Wait until a slot is free, take it, and return the time it was granted; TooLong when
        that would mean waiting more than `max_wait` seconds in all (a pause after a 429 can be an
        hour: a worker asleep that long holds a push another worker may take over)."""
        waited = 0.0
        while True:
            wait, at = self.store.reserve(key, self.per_minute, self.window_seconds, self._now())
            if wait <= 0:
                return at
            if max_wait is not None and waited + wait > max_wait:
                raise TooLong(wait)
            # A small floor keeps a loop that lost a race from spinning.
            wait = max(wait, 0.001)
            self.sleep(wait)
            waited += wait

    def pause(self, key: str, seconds: float) -> None:
        if seconds > 0:
            self.store.pause(key, seconds, self._now())


# --- file store ----------------------------------------------------------------


class FileStore:
    """One small JSON file per credential, read and rewritten under an exclusive flock."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def _update(self, key: str, change: Callable[[dict], tuple[float, float]]) -> tuple[float, float]:
        fd = os.open(self._path(key), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            raw = os.pread(fd, os.fstat(fd).st_size, 0)
            try:
                state = json.loads(raw) if raw.strip() else {}
                if not isinstance(state, dict):
                    raise ValueError
            except ValueError:
                # A half-written file (a process killed mid-write) only loses
                # the window's history; start a fresh one rather than fail.
                log.warning("rate limit file %s was unreadable; starting a new window", key)
                state = {}
            result = change(state)
            data = json.dumps(state).encode()
            # Padding with spaces (valid trailing JSON whitespace) instead of
            # truncating: truncate() costs milliseconds on some filesystems,
            # and the file never grows past one full window of timestamps.
            os.pwrite(fd, data.ljust(len(raw)), 0)
            return result
        finally:
            os.close(fd)  # also releases the lock

    def reserve(self, key: str, limit: int, window: float, now: float | None) -> tuple[float, float]:
        def change(state: dict) -> tuple[float, float]:
            t = time.time() if now is None else now
            granted = [x for x in state.get("t", []) if x > t - window]
            state["t"] = granted
            paused_until = float(state.get("pause", 0))
            if paused_until > t:
                return paused_until - t, t
            if len(granted) < limit:
                granted.append(t)
                return 0.0, t
            return min(granted) + window - t, t

        return self._update(key, change)

    def pause(self, key: str, seconds: float, now: float | None) -> None:
        def change(state: dict) -> tuple[float, float]:
            t = time.time() if now is None else now
            state["pause"] = max(float(state.get("pause", 0)), t + seconds)
            return 0.0, t

        self._update(key, change)


# --- Redis store ---------------------------------------------------------------

# KEYS[1] window (sorted set, score = grant time), KEYS[2] pause-until.
# ARGV: limit, window, now ('' = server clock), unique member.
# Times are returned as strings because Redis truncates Lua numbers to integers
# (and tostring() keeps only 14 digits: 0.1 ms at today's epoch).
_RESERVE = """
local now
if ARGV[3] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
else
  now = tonumber(ARGV[3])
end
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local ttl = math.ceil(window * 1000) + 1000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then
  return {string.format('%.6f', paused - now), string.format('%.6f', now)}
end
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ttl)
  return {'0', string.format('%.6f', now)}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {string.format('%.6f', tonumber(oldest[2]) + window - now), string.format('%.6f', now)}
"""

_PAUSE = """
local now
if ARGV[2] == '' then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
else
  now = tonumber(ARGV[2])
end
local untilt = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilt > current then
  redis.call('SET', KEYS[1], string.format('%.6f', untilt), 'PX', math.ceil(tonumber(ARGV[1]) * 1000) + 1000)
end
return 1
"""


class RedisStore:
    def __init__(self, url: str, *, prefix: str = "enmienda:alegra-rate:") -> None:
        import redis

        self.redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.prefix = prefix
        self._reserve = self.redis.register_script(_RESERVE)
        self._pause = self.redis.register_script(_PAUSE)

    def reserve(self, key: str, limit: int, window: float, now: float | None) -> tuple[float, float]:
        wait, at = self._reserve(
            keys=[self.prefix + key, self.prefix + key + ":pause"],
            args=[limit, repr(float(window)), "" if now is None else repr(now), uuid.uuid4().hex],
        )
        return float(wait), float(at)

    def pause(self, key: str, seconds: float, now: float | None) -> None:
        self._pause(
            keys=[self.prefix + key + ":pause"],
            args=[repr(float(seconds)), "" if now is None else repr(now)],
        )


# --- in-process store ----------------------------------------------------------


class MemoryStore:
    """The same rules inside one process (tests, benchmarks); shares nothing with others."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._granted: dict[str, list[float]] = {}
        self._paused: dict[str, float] = {}

    def reserve(self, key: str, limit: int, window: float, now: float | None) -> tuple[float, float]:
        with self._lock:
            t = time.time() if now is None else now
            granted = [x for x in self._granted.get(key, []) if x > t - window]
            self._granted[key] = granted
            paused_until = self._paused.get(key, 0.0)
            if paused_until > t:
                return paused_until - t, t
            if len(granted) < limit:
                granted.append(t)
                return 0.0, t
            return min(granted) + window - t, t

    def pause(self, key: str, seconds: float, now: float | None) -> None:
        with self._lock:
            t = time.time() if now is None else now
            self._paused[key] = max(self._paused.get(key, 0.0), t + seconds)


_redis_stores: dict[str, RedisStore] = {}
_redis_stores_lock = threading.Lock()


def store_from_url(location: str) -> Store:
    if location.startswith(("redis://", "rediss://", "unix://")):
        # One connection pool per URL and process, however many clients are made.
        with _redis_stores_lock:
            if location not in _redis_stores:
                _redis_stores[location] = RedisStore(location)
            return _redis_stores[location]
    if location.startswith("memory://"):
        return MemoryStore()
    return FileStore(location)


def limiter_from_settings(
    *,
    per_minute: int | None = None,
    window_seconds: float = 60.0,
    clock: Clock | None = None,
    sleep: Sleep = time.sleep,
) -> RateLimiter:
    """The limiter described by ALEGRA_RATE_LIMIT_STORE and ALEGRA_RATE_LIMIT_PER_MINUTE."""
    return RateLimiter(
        store_from_url(settings.ALEGRA_RATE_LIMIT_STORE),
        per_minute or settings.ALEGRA_RATE_LIMIT_PER_MINUTE,
        window_seconds=window_seconds,
        clock=clock,
        sleep=sleep,
    )
