"""What exactly is approved, and its seal.

A revision names one base and one proposal. The push that carries an approved revision holds its
seal: the revision signed with a key from the environment (portal.signing). Before writing to
Alegra the push recomputes both, so a proposal changed in the database after its approval (by
whoever holds the database login but not the key) is never written.
"""

from __future__ import annotations

import hashlib

from invoices import mirror
from portal.signing import same, sign

from .models import ChangeRequest


def revision_of(change_request: ChangeRequest) -> str:
    """Names what exactly is being approved: this base and this proposal, nothing else."""
    proposal = mirror.content_hash(mirror.canonical(change_request.proposed_document or {}))
    return hashlib.sha256(f"{change_request.base_hash}:{proposal}".encode()).hexdigest()


def seal(change_request_id: int, revision: str) -> str:
    return sign({"approved": change_request_id, "revision": revision})


def as_approved(change_request: ChangeRequest, revision: str, stored_seal: str) -> bool:
    """The request still holds the revision that was approved, and the seal is the key's."""
    return revision_of(change_request) == revision and same(stored_seal, seal(change_request.pk, revision))
