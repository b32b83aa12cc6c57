"""Encryption of secrets at rest (Alegra API tokens)."""

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class SecretUnreadable(Exception):
    """The stored secret cannot be decrypted with the configured key."""


def _fernet() -> Fernet:
    key = settings.TOKEN_ENCRYPTION_KEY
    if not key:
        digest = hashlib.sha256(("enmienda-token:" + settings.SECRET_KEY).encode()).digest()
        key = base64.urlsafe_b64encode(digest).decode()
    return Fernet(key.encode() if isinstance(key, str) else key)


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(cipher: str) -> str:
    try:
        return _fernet().decrypt(cipher.encode()).decode()
    except (InvalidToken, ValueError):
        raise SecretUnreadable("the stored token cannot be decrypted with this key") from None


def encrypt_for(address: str, plain: str) -> str:
    """A secret bound to the address it may be sent to: both are inside the cipher text."""
    return encrypt(json.dumps({"url": address.rstrip("/"), "token": plain}))


def bound(plain: str) -> dict | None:
    """{"url": ..., "token": ...} when the decrypted text is a secret bound to an address, else None."""
    try:
        found = json.loads(plain)
    except ValueError:
        return None
    return found if isinstance(found, dict) and isinstance(found.get("token"), str) else None


def decrypt_for(address: str, cipher: str) -> str:
    """The secret, if it was bound to `address`; unreadable for any other (or unbound)."""
    bound_to = bound(decrypt(cipher))
    if bound_to is None:
        raise SecretUnreadable("the stored token is not bound to an address: give it again")
    if bound_to.get("url") != address.rstrip("/"):
        raise SecretUnreadable("the stored token was given for another address: give it again")
    return bound_to["token"]
