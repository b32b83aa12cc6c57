"""What state an invoice is in, as far as changing it goes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def is_stamped(doc: Mapping[str, Any]) -> bool:
    """Sent to the tax authority (CO CUFE, MX CFDI uuid, a STAMPED_* legal status).

    A stamped document is legally immutable: it is corrected with a credit note.
    """
    stamp = doc.get("stamp")
    if not isinstance(stamp, Mapping):
        return False
    if stamp.get("cufe") or stamp.get("uuid"):
        return True
    return str(stamp.get("legalStatus") or "").upper().startswith("STAMPED")


def is_void(doc: Mapping[str, Any]) -> bool:
    return str(doc.get("status") or "").lower() == "void"
