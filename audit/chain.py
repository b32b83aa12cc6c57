"""Appending to a company's hash chain and recomputing it.

An entry's hash is the SHA-256 of the canonical JSON of its fields and of the
previous entry's hash. Appends to one chain happen one at a time: the writer
locks the chain's head row (`select_for_update`; on SQLite the write
transaction already excludes other writers) and keeps it until its transaction
commits, so two writers never give out the same number or fork the chain, and
numbers follow the order in which the events were committed.

The head is locked at a transaction's first audited write. Services lock the
rows they work on before writing anything, so the head is the last lock a
transaction asks for, which keeps the lock order the same everywhere.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from .models import GENESIS_HASH, SYSTEM_CHAIN, AuditChain, AuditEntry, AuditVerification

UTC = datetime.UTC
HASHED_FIELDS = ("company_id", "seq", "at", "actor_id", "on_behalf_of", "action", "invoice_id",
                 "change_request_id", "source", "source_id", "why", "what", "prev_hash", "hash")


def _clean(value):
    """JSON-ready and storable in PostgreSQL's jsonb and text (no NUL characters)."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {str(k).replace("\x00", ""): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def storable_what(what: dict) -> dict:
    """What the database will give back: Decimals and dates as text, no floats' surprises."""
    return _clean(json.loads(json.dumps(what or {}, cls=DjangoJSONEncoder)))


def time_text(at: datetime.datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_hash(*, company_id, seq, at, actor_id, on_behalf_of, action, invoice_id, change_request_id,
               source, source_id, why, what, prev_hash) -> str:
    payload = {
        "company": company_id, "seq": seq, "at": time_text(at), "actor": actor_id,
        "on_behalf_of": on_behalf_of, "action": action, "invoice": invoice_id,
        "change_request": change_request_id, "source": source, "source_id": source_id,
        "why": why, "what": what, "prev": prev_hash,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _head(key: int) -> AuditChain:
    head = AuditChain.objects.select_for_update().filter(key=key).first()
    if head is None:
        # Two first writers race here: one insert wins, both then lock the same row.
        AuditChain.objects.bulk_create([AuditChain(key=key)], ignore_conflicts=True)
        head = AuditChain.objects.select_for_update().get(key=key)
    return head


def append(entries: Iterable[AuditEntry]) -> list[AuditEntry]:
    """Number, chain and insert the entries (of any chains), in the order given."""
    by_chain: dict[int, list[AuditEntry]] = {}
    for entry in entries:
        entry.why = _clean(entry.why or "")
        entry.on_behalf_of = _clean(entry.on_behalf_of or "")[:200]
        entry.what = storable_what(entry.what)
        if entry.at.tzinfo is None:
            raise ValueError("audit times must be aware")
        by_chain.setdefault(entry.chain, []).append(entry)
    written: list[AuditEntry] = []
    with transaction.atomic():
        for key in sorted(by_chain):  # one order for every writer: no lock cycle between chains
            head = _head(key)
            for entry in by_chain[key]:
                entry.seq = head.last_seq + 1
                entry.prev_hash = head.last_hash
                entry.hash = entry_hash(**{name: getattr(entry, name) for name in HASHED_FIELDS[:-2]},
                                        prev_hash=entry.prev_hash)
                head.last_seq, head.last_hash = entry.seq, entry.hash
            AuditEntry.objects.bulk_create(by_chain[key])
            AuditChain.objects.filter(key=key).update(last_seq=head.last_seq, last_hash=head.last_hash)
            written.extend(by_chain[key])
    return written


# --- verification -------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    chain: int
    ok: bool
    checked: int
    broken_seq: int | None = None
    problem: str = ""
    seconds: float = 0.0


def _entries(key: int, up_to: int):
    rows = AuditEntry.objects.filter(seq__lte=up_to)
    rows = rows.filter(company__isnull=True) if key == SYSTEM_CHAIN else rows.filter(company_id=key)
    return rows.order_by("seq").values_list(*HASHED_FIELDS).iterator(chunk_size=5000)


def verify(key: int) -> ChainReport:
    """Recompute one chain from its first entry; the report names the first link that fails."""
    started = time.perf_counter()
    head = AuditChain.objects.filter(key=key).first()
    # Entries appended while this runs are left for the next run.
    last_seq, last_hash = (head.last_seq, head.last_hash) if head else (0, GENESIS_HASH)

    def report(ok: bool, checked: int, broken: int | None = None, problem: str = "") -> ChainReport:
        return ChainReport(key, ok, checked, broken, problem, time.perf_counter() - started)

    expected, previous = 1, GENESIS_HASH
    for row in _entries(key, last_seq):
        values = dict(zip(HASHED_FIELDS, row, strict=True))
        seq = values["seq"]
        if seq != expected:
            return report(False, expected - 1, expected,
                          f"entry #{expected} is missing" if seq > expected else f"entry #{seq} appears twice")
        if values["prev_hash"] != previous:
            return report(False, expected - 1, seq, f"entry #{seq} does not follow entry #{seq - 1}")
        fields = {name: values[name] for name in HASHED_FIELDS[:-2]}
        if entry_hash(**fields, prev_hash=values["prev_hash"]) != values["hash"]:
            return report(False, expected - 1, seq, f"entry #{seq} was altered")
        previous = values["hash"]
        expected += 1
    if expected - 1 != last_seq:
        return report(False, expected - 1, expected, f"entry #{expected} is missing")
    if previous != last_hash:
        return report(False, expected - 1, last_seq, f"entry #{last_seq} is not the one the chain ended with")
    return report(True, last_seq)


def verify_and_record(key: int) -> ChainReport:
    result = verify(key)
    AuditVerification.objects.create(chain=key, ok=result.ok, checked=result.checked,
                                     broken_seq=result.broken_seq, problem=result.problem,
                                     seconds=result.seconds)
    return result


def chain_keys() -> list[int]:
    return list(AuditChain.objects.order_by("key").values_list("key", flat=True))
