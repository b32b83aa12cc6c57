"""What the audit chain tells the layer above it (the API's outbound events), without importing it.

Every recorded event passes through `chain.append`; a higher layer registers a function here in
its `AppConfig.ready()` and receives the entries just written, inside the transaction that wrote
them (so what it writes commits or rolls back with the event). Registration is idempotent.
"""

from __future__ import annotations

from collections.abc import Callable

# (entries) just after they were numbered and inserted, in the transaction of the event.
_entries_appended: list[Callable] = []


def on_entries_appended(function: Callable) -> None:
    if function not in _entries_appended:
        _entries_appended.append(function)


def entries_appended(entries: list) -> None:
    if not entries:
        return
    for function in _entries_appended:
        function(entries)
