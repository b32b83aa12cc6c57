"""Appending to a company's hash chain and recomputing it.

An entry's hash is an HMAC-SHA256, keyed with AUDIT_HMAC_KEY, of the canonical JSON of
its fields, of the digest of the version it describes (`audit.versions`) and of the
previous entry's hash. The database holds no key: whoever can write its tables can
remove entries or alter them, but cannot write a link the verification accepts. Entries
written before the key existed keep their plain SHA-256 (scheme 1); the chain head seals
the last of them with the key, so none can be added or rewritten that way afterwards.

Appends to one chain happen one at a time: the writer locks the chain's head row
(`select_for_update`; on SQLite the write transaction already excludes other writers)
and keeps it until its transaction commits, so two writers never give out the same
number or fork the chain, and numbers follow the order in which the events were committed.

The head is locked at a transaction's first audited write. Services lock the
rows they work on before writing anything, so the head is the last lock a
transaction asks for, which keeps the lock order the same everywhere.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.core.exceptions import FieldError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from portal.models import Company
from portal.signing import same, sign

from . import anchors, hooks, versions
from .problems import Problem
from .models import (
    GENESIS_HASH, KEYED_SCHEME, LEGACY_SCHEME, SYSTEM_CHAIN, AuditChain, AuditEntry, AuditVerification,
    AuditVersionLayout,
)

UTC = datetime.UTC
HASHED_FIELDS = ("company_id", "seq", "at", "actor_id", "on_behalf_of", "action", "invoice_id",
                 "change_request_id", "source", "source_id", "why", "what", "version_layout", "version_hash",
                 "scheme", "prev_hash", "hash")


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
               source, source_id, why, what, prev_hash, version_layout="", version_hash="",
               scheme=KEYED_SCHEME, key: bytes | None = None) -> str:
    payload = {
        "company": company_id, "seq": seq, "at": time_text(at), "actor": actor_id,
        "on_behalf_of": on_behalf_of, "action": action, "invoice": invoice_id,
        "change_request": change_request_id, "source": source, "source_id": source_id,
        "why": why, "what": what, "prev": prev_hash,
    }
    if scheme == LEGACY_SCHEME:
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()
    if scheme != KEYED_SCHEME:
        raise ValueError(f"unknown hash scheme {scheme!r}")
    return sign({**payload, "scheme": scheme, "version": [version_layout, version_hash]}, key=key)


def legacy_seal(chain: int, seq: int, last_hash: str, *, key: bytes | None = None) -> str:
    """The keyed seal of a chain's entries written before the key: the last one's number and hash."""
    return sign({"legacy_seal": chain, "seq": seq, "hash": last_hash}, key=key)


def _hash_of(values: dict, **extra) -> str:
    return entry_hash(**{name: values[name] for name in HASHED_FIELDS[:-2]}, prev_hash=values["prev_hash"],
                      **extra)


def _head(key: int) -> AuditChain:
    head = AuditChain.objects.select_for_update().filter(key=key).first()
    if head is None:
        # Two first writers race here: one insert wins, both then lock the same row.
        AuditChain.objects.bulk_create([AuditChain(key=key)], ignore_conflicts=True)
        head = AuditChain.objects.select_for_update().get(key=key)
    return head


def _cover_versions(entries: list[AuditEntry]) -> None:
    """Each entry that describes a version carries the digest of that version's row as stored."""
    wanted: dict[str, list[AuditEntry]] = {}
    for entry in entries:
        if entry.source in versions.AUDITED and entry.source_id is not None and not entry.version_hash:
            wanted.setdefault(entry.source, []).append(entry)
    models = versions.history_models()
    layouts = versions.layouts_store({models[source] for source in wanted})
    for source, group in wanted.items():
        layout = layouts[models[source]]
        found = versions.digests(source, {entry.source_id for entry in group})
        for entry in group:
            if entry.source_id not in found:
                raise ValueError(f"no {source} version #{entry.source_id} to describe")
            entry.version_layout, entry.version_hash = layout, found[entry.source_id]


def append(entries: Iterable[AuditEntry]) -> list[AuditEntry]:
    """Number, chain and insert the entries (of any chains), in the order given."""
    by_chain: dict[int, list[AuditEntry]] = {}
    for entry in entries:
        entry.why = _clean(entry.why or "")
        entry.on_behalf_of = _clean(entry.on_behalf_of or "")[:200]
        entry.what = storable_what(entry.what)
        entry.scheme = KEYED_SCHEME
        if entry.at.tzinfo is None:
            raise ValueError("audit times must be aware")
        by_chain.setdefault(entry.chain, []).append(entry)
    written: list[AuditEntry] = []
    with transaction.atomic():
        _cover_versions([entry for group in by_chain.values() for entry in group])
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
        hooks.entries_appended(written)
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


BATCH = 2000


def _entries(key: int, up_to: int) -> Iterator[list[dict]]:
    rows = AuditEntry.objects.filter(seq__lte=up_to)
    rows = rows.filter(company__isnull=True) if key == SYSTEM_CHAIN else rows.filter(company_id=key)
    batch: list[dict] = []
    for row in rows.order_by("seq").values_list(*HASHED_FIELDS).iterator(chunk_size=BATCH):
        batch.append(dict(zip(HASHED_FIELDS, row, strict=True)))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


class _Versions:
    """The digests of the versions a batch of entries describes, recomputed from their rows."""

    def __init__(self):
        self.layouts = {row.digest: row.fields for row in AuditVersionLayout.objects.all()}

    def problems(self, batch: list[dict]) -> dict[int, str]:
        """seq → what is wrong with the version that entry describes (only the entries with a problem)."""
        groups: dict[tuple[str, str], list[dict]] = {}
        problems: dict[int, str] = {}
        for values in batch:
            if values["scheme"] != KEYED_SCHEME or values["source"] not in versions.AUDITED \
                    or values["source_id"] is None:
                continue
            if not values["version_hash"]:
                problems[values["seq"]] = Problem("entry_uncovered", seq=values["seq"])
                continue
            groups.setdefault((values["source"], values["version_layout"]), []).append(values)
        for (source, layout), group in groups.items():
            names = self.layouts.get(layout)
            found: dict[int, str] = {}
            if names is not None and versions.layout_digest(names) == layout:
                try:
                    found = versions.digests(source, {values["source_id"] for values in group}, names)
                except FieldError:
                    names = None
            for values in group:
                seq, history_id = values["seq"], values["source_id"]
                if names is None:
                    problems[seq] = Problem("version_columns_unknown", seq=seq, source=source)
                elif history_id not in found:
                    problems[seq] = Problem("version_missing", seq=seq, source=source, version=history_id)
                elif found[history_id] != values["version_hash"]:
                    problems[seq] = Problem("version_altered", seq=seq, source=source, version=history_id)
        return problems


def _link_problem(values: dict, head: AuditChain | None) -> str:
    """Why the entry's own hash does not hold, or ''."""
    seq, scheme = values["seq"], values["scheme"]
    if scheme == LEGACY_SCHEME:
        legacy_seq = head.legacy_seq if head else 0
        if seq > legacy_seq:
            return Problem("entry_unkeyed", seq=seq, legacy=legacy_seq)
        if _hash_of(values) != values["hash"]:
            return Problem("entry_altered", seq=seq)
        if seq == legacy_seq and not same(head.legacy_mac, legacy_seal(head.key, seq, values["hash"])):
            return Problem("entry_not_sealed", seq=seq)
        return ""
    if scheme != KEYED_SCHEME or not same(_hash_of(values), values["hash"]):
        return Problem("entry_altered", seq=seq)
    if head is not None and seq == head.legacy_seq:
        # The seal is over the last unkeyed entry: a keyed one there would leave it unchecked.
        return Problem("entry_not_sealed", seq=seq)
    return ""


def _has_history(key: int) -> bool:
    if key == SYSTEM_CHAIN:
        return False
    for model in versions.history_models().values():
        if any(field.attname == "company_id" for field in model._meta.concrete_fields) \
                and model.objects.filter(company_id=key).exists():
            return True
    return False


def _entries_exist(key: int) -> bool:
    rows = AuditEntry.objects.filter(company__isnull=True) if key == SYSTEM_CHAIN else \
        AuditEntry.objects.filter(company_id=key)
    return rows.exists()


def verify(key: int) -> ChainReport:
    """Recompute one chain from its first entry; the report names the first link that fails.

    Each entry's hash and the version it describes are recomputed; the chain must end at its
    head, and reach the latest anchor written outside the database with the hash anchored.
    """
    started = time.perf_counter()
    head = AuditChain.objects.filter(key=key).first()
    # Entries appended while this runs are left for the next run.
    last_seq, last_hash = (head.last_seq, head.last_hash) if head else (0, GENESIS_HASH)

    def report(ok: bool, checked: int, broken: int | None = None, problem: str = "") -> ChainReport:
        return ChainReport(key, ok, checked, broken, problem, time.perf_counter() - started)

    try:
        anchor = anchors.latest(key)
    except anchors.AnchorError as error:
        return report(False, 0, None, error.problem)
    if head is None and _entries_exist(key):
        return report(False, 0, 1, Problem("head_missing"))
    if head is not None and head.legacy_seq > last_seq:
        # The seal is checked at the entry it names: named past the end, it would never be, and
        # every entry could be rewritten with the unkeyed hash.
        return report(False, 0, last_seq + 1, Problem("legacy_past_end", seq=last_seq, legacy=head.legacy_seq))
    checker = _Versions()
    expected, previous = 1, GENESIS_HASH
    for batch in _entries(key, last_seq):
        version_problems = checker.problems(batch)
        for values in batch:
            seq = values["seq"]
            if seq != expected:
                return report(False, expected - 1, expected,
                              Problem("entry_missing", seq=expected) if seq > expected
                              else Problem("entry_twice", seq=seq))
            if values["prev_hash"] != previous:
                return report(False, expected - 1, seq, Problem("entry_not_following", seq=seq, previous=seq - 1))
            problem = _link_problem(values, head) or version_problems.get(seq, "")
            if problem:
                return report(False, expected - 1, seq, problem)
            if anchor is not None and seq == anchor.seq and values["hash"] != anchor.hash:
                return report(False, expected - 1, seq, Problem("entry_not_anchored", seq=seq, at=anchor.at))
            previous = values["hash"]
            expected += 1
    if expected - 1 != last_seq:
        return report(False, expected - 1, expected, Problem("entry_missing", seq=expected))
    if previous != last_hash:
        return report(False, expected - 1, last_seq, Problem("entry_not_last", seq=last_seq))
    if anchor is not None and anchor.seq > last_seq:
        return report(False, last_seq, last_seq + 1, Problem("chain_short_of_anchor", seq=last_seq,
                                                             anchored=anchor.seq, at=anchor.at))
    if last_seq == 0 and _has_history(key):
        return report(False, 0, 1, Problem("history_without_chain"))
    return report(True, last_seq)


def verify_and_record(key: int) -> ChainReport:
    result = verify(key)
    AuditVerification.objects.create(chain=key, ok=result.ok, checked=result.checked,
                                     broken_seq=result.broken_seq, problem=result.problem,
                                     problem_code=getattr(result.problem, "code", ""),
                                     problem_params=getattr(result.problem, "params", {}),
                                     seconds=result.seconds)
    return result


def chain_keys() -> list[int]:
    """Every chain there is or should be: heads, companies, entries without a head, anchors."""
    keys = set(AuditChain.objects.values_list("key", flat=True))
    keys.update(Company.objects.values_list("pk", flat=True))
    keys.update(company_id or SYSTEM_CHAIN
                for company_id in AuditEntry.objects.order_by().values_list("company_id", flat=True).distinct())
    keys.update(anchors.anchored_keys())
    return sorted(keys)
