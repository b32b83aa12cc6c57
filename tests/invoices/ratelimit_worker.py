"""Takes `count` slots from a shared limiter and prints when each was granted.

Run by tests/invoices/test_ratelimit.py as a separate process:
    python tests/invoices/ratelimit_worker.py STORE KEY LIMIT WINDOW COUNT
Prints "ready", waits for a line on standard input, then prints one JSON list of [granted_at, seen_at] pairs: the time the store recorded
and the wall-clock time just after acquire() returned.
"""

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from invoices.ratelimit import RateLimiter, store_from_url  # noqa: E402


def main() -> None:
    store, key, limit, window, count = sys.argv[1:6]
    limiter = RateLimiter(store_from_url(store), int(limit), window_seconds=float(window))
    # Both processes begin together, however long each took to start, so they
    # really compete for the same slots.
    print("ready", flush=True)
    sys.stdin.readline()
    stamps = []
    for _ in range(int(count)):
        granted = limiter.acquire(key)
        stamps.append([granted, time.time()])
    print(json.dumps(stamps))


if __name__ == "__main__":
    main()
