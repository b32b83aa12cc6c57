"""What the approvals screens show of the layers above them, without importing them.

Findings sits above approvals, so approvals cannot call it. A higher layer registers a function
here in its `AppConfig.ready()`; the inbox calls every registered function once per page.
Registration is explicit and idempotent (the same function twice is kept once).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

# (company_id, change requests of an inbox page) → {request id: [note, …]}; a note is a dict with
# "text" (short), "title" (the longer explanation) and "url". A constant number of queries per
# registered function, whatever the page size.
_inbox_notes: list[Callable] = []


def on_inbox_notes(function: Callable) -> None:
    if function not in _inbox_notes:
        _inbox_notes.append(function)


def inbox_notes(*, company_id: int, requests: Sequence) -> dict[int, list[dict]]:
    """What the layers above have to say about each request of an inbox page."""
    notes: dict[int, list[dict]] = {}
    if not requests:
        return notes
    for function in _inbox_notes:
        for request_id, found in function(company_id=company_id, requests=list(requests)).items():
            notes.setdefault(request_id, []).extend(found)
    return notes
