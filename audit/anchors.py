"""Signed chain heads kept outside the database: what a rewrite of the tables cannot reach.

The chain's HMAC stops anyone without the key from forging links, but not from cutting
the newest entries off and moving the head back. So the head (company, number, hash,
time) is signed and appended, one JSON line per anchor, to a file per chain in
AUDIT_ANCHOR_DIR: a directory that should live where the database's users cannot write
(another disk or host; append-only with `chattr +a`, or a WORM mount). Files are only
ever opened with O_APPEND. The verification then requires the entry at the latest
anchored number to exist with the anchored hash.

An anchor is never written behind the latest one: a head that went back, or an entry at
the anchored number with another hash, is refused (and left for the verification to report).
"""

from __future__ import annotations

import datetime
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from portal.signing import same, sign

from .models import SYSTEM_CHAIN, AuditChain, AuditEntry
from .problems import Problem

FILE = re.compile(r"^(?:company-(\d{1,18})|system)\.jsonl$")
TAIL_BYTES = 64 * 1024


class AnchorError(Exception):
    """An anchor that cannot be read or trusted, or that may not be written."""

    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem


@dataclass(frozen=True)
class Anchor:
    chain: int
    seq: int
    hash: str
    at: str


def directory() -> Path:
    return Path(settings.AUDIT_ANCHOR_DIR)


def path_of(chain: int) -> Path:
    return directory() / ("system.jsonl" if chain == SYSTEM_CHAIN else f"company-{chain}.jsonl")


def anchored_keys() -> list[int]:
    if not directory().is_dir():
        return []
    keys = []
    for entry in directory().iterdir():
        match = FILE.match(entry.name)
        if match:
            keys.append(int(match.group(1)) if match.group(1) else SYSTEM_CHAIN)
    return sorted(keys)


def _last_line(path: Path) -> bytes:
    """The last complete line (an interrupted write leaves a fragment without its newline)."""
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - TAIL_BYTES))
        tail = handle.read()
    complete = tail[: tail.rfind(b"\n") + 1]
    lines = [line for line in complete.split(b"\n") if line.strip()]
    return lines[-1] if lines else b""


def _fields(chain: int, seq: int, digest: str, at: str) -> dict:
    return {"company": None if chain == SYSTEM_CHAIN else chain, "seq": seq, "hash": digest, "at": at}


def latest(chain: int) -> Anchor | None:
    path = path_of(chain)
    if not path.exists():
        return None
    line = _last_line(path)
    if not line:
        return None
    named = None if chain == SYSTEM_CHAIN else chain
    try:
        record = json.loads(line)
        anchor = Anchor(chain, int(record["seq"]), str(record["hash"]), str(record["at"]))
        signature = str(record["mac"])
    except (ValueError, KeyError, TypeError) as error:
        raise AnchorError(Problem("anchor_unreadable", chain=named, path=str(path), error=str(error))) from None
    # The signature covers the company too: a line copied from another chain's file fails.
    if not same(signature, sign(_fields(chain, anchor.seq, anchor.hash, anchor.at))):
        raise AnchorError(Problem("anchor_unsigned", chain=named, path=str(path)))
    return anchor


def _anchored_hash_holds(chain: int, anchor: Anchor) -> bool:
    rows = AuditEntry.objects.filter(seq=anchor.seq)
    rows = rows.filter(company__isnull=True) if chain == SYSTEM_CHAIN else rows.filter(company_id=chain)
    return rows.filter(hash=anchor.hash).exists()


def write(chain: int) -> Anchor | None:
    """Append the chain's current head, signed; None when there is nothing to anchor yet."""
    head = AuditChain.objects.filter(key=chain).first()
    previous = latest(chain)
    last_seq = head.last_seq if head else 0
    if previous is not None:
        if previous.seq > last_seq or not _anchored_hash_holds(chain, previous):
            raise AnchorError(f"chain {chain} no longer holds entry #{previous.seq} as anchored at "
                              f"{previous.at}: not anchoring it again")
        if previous.seq == last_seq:
            return previous
    if head is None or last_seq == 0:
        return None
    at = timezone.now().astimezone(datetime.UTC).isoformat(timespec="seconds")
    fields = _fields(chain, head.last_seq, head.last_hash, at)
    line = json.dumps({**fields, "mac": sign(fields)}, sort_keys=True, separators=(",", ":")) + "\n"
    directory().mkdir(parents=True, exist_ok=True)
    handle = os.open(path_of(chain), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
    try:
        os.write(handle, line.encode())
        os.fsync(handle)
    finally:
        os.close(handle)
    return Anchor(chain, head.last_seq, head.last_hash, at)
