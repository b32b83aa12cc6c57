"""The one keyed signature of the portal's evidence (the audit trail, an approved revision):
HMAC-SHA256 with AUDIT_HMAC_KEY.

The key lives in the application's environment, never in the database, so someone who
can only write the database cannot produce a signature the verification accepts.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from django.conf import settings


def sign(payload: dict, *, key: bytes | None = None) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    secret = key if key is not None else settings.AUDIT_HMAC_KEY.encode()
    return hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(str(a), str(b))
