"""Every write of the API app's own rows: tokens (create, revoke, use) and idempotent answers.

A token never has more than its user's role: it is refused at creation if it asks for a scope
the role lacks, and at each use its scopes are cut down to what the role allows now (a person
moved from approver to accountant loses `decisions:write` on every token they hold).
"""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.events import Via
from portal.models import Company, Membership, Role

from .models import ApiToken, IdempotentResponse, Scope

PREFIX = "enm_"
MAX_NAME = 100
MAX_EXPIRY_DAYS = 3650
# What each role may give its tokens: exactly what the same person may do on the screens.
ROLE_SCOPES: dict[str, frozenset[str]] = {
    Role.ACCOUNTANT: frozenset({Scope.INVOICES_READ, Scope.FINDINGS_READ, Scope.REQUESTS_WRITE}),
    Role.APPROVER: frozenset({Scope.INVOICES_READ, Scope.FINDINGS_READ, Scope.DECISIONS_WRITE}),
    Role.MANAGER: frozenset({Scope.INVOICES_READ, Scope.FINDINGS_READ, Scope.REQUESTS_WRITE,
                             Scope.DECISIONS_WRITE, Scope.AUDIT_READ}),
}


class TokenRefused(Exception):
    """A token request refused by a rule; the message is in the user's language."""

    def __init__(self, message: str, *, code: str = "invalid", field: str = ""):
        self.code, self.field = code, field
        super().__init__(message)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def role_of(user, company_id: int) -> str | None:
    if user is None or not user.is_active:
        return None
    return Membership.objects.filter(user=user, company_id=company_id).values_list("role", flat=True).first()


def parse_scopes(value) -> list[str]:
    """Scopes from "a,b" text or a list; refused when one is unknown or none is given."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    wanted = sorted({str(item).strip() for item in items if str(item).strip()})
    unknown = [scope for scope in wanted if scope not in Scope.values]
    if unknown:
        raise TokenRefused(_("Unknown scope: %(scopes)s. Known scopes: %(known)s.")
                           % {"scopes": ", ".join(unknown), "known": ", ".join(Scope.values)},
                           code="unknown_scope", field="scopes")
    if not wanted:
        raise TokenRefused(_("Choose at least one scope."), code="scopes_required", field="scopes")
    return wanted


@transaction.atomic
def token_create(*, user, company: Company, name: str, scopes, expires_days: int | None = None,
                 for_agent: bool = False) -> tuple[ApiToken, str]:
    """A new token and its secret; the secret is returned once and never stored."""
    role = role_of(user, company.pk)
    if role is None:
        raise TokenRefused(_("%(user)s is not a member of %(company)s.")
                           % {"user": getattr(user, "username", "?"), "company": company.name},
                           code="not_member")
    wanted = parse_scopes(scopes)
    beyond = [scope for scope in wanted if scope not in ROLE_SCOPES[role]]
    if beyond:
        raise TokenRefused(_("A token cannot do more than its user: the role %(role)s does not allow %(scopes)s.")
                           % {"role": Role(role).label, "scopes": ", ".join(beyond)},
                           code="beyond_role", field="scopes")
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        raise TokenRefused(_("Give the token a name of at most %(max)s characters.") % {"max": MAX_NAME},
                           code="name_required", field="name")
    expires_at = None
    if expires_days is not None:
        if not 1 <= int(expires_days) <= MAX_EXPIRY_DAYS:
            raise TokenRefused(_("The expiry is between 1 and %(max)s days.") % {"max": MAX_EXPIRY_DAYS},
                               code="invalid_expiry", field="expires_days")
        expires_at = timezone.now() + datetime.timedelta(days=int(expires_days))
    prefix = secrets.token_hex(4)
    secret = f"{PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(user=user, company=company, name=name, scopes=wanted, prefix=prefix,
                                    secret_hash=hash_secret(secret), expires_at=expires_at, for_agent=bool(for_agent))
    return token, secret


@transaction.atomic
def token_revoke(*, token: ApiToken, user) -> ApiToken:
    """Revoked by its owner (or a manager of the company); using it afterwards is refused."""
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.user_id != user.pk and role_of(user, token.company_id) != Role.MANAGER:
        raise TokenRefused(_("Only the token's owner or a manager can revoke it."), code="not_allowed")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_for_secret(secret: str) -> ApiToken | None:
    """The usable token with this secret (its user and company loaded), else None."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    token = (ApiToken.objects.select_related("user", "company")
             .filter(secret_hash=hash_secret(secret)).first())
    if token is None or not token.is_usable or not token.user.is_active:
        return None
    return token


def effective_scopes(token: ApiToken, role: str | None) -> frozenset[str]:
    """The token's scopes, cut down to what its user's role allows now."""
    if role is None:
        return frozenset()
    return frozenset(token.scopes) & ROLE_SCOPES.get(role, frozenset())


def token_use(*, token: ApiToken, limit: int) -> int | None:
    """Count one request in the token's current minute; the seconds to wait when over the limit."""
    now = timezone.now()
    minute = now.replace(second=0, microsecond=0)
    if token.window_start == minute and token.window_count >= limit:
        return max(1, 60 - now.second)
    ApiToken.objects.filter(pk=token.pk).update(
        window_count=Case(When(window_start=minute, then=F("window_count") + 1), default=Value(1)),
        window_start=minute, last_used_at=now)
    return None


def via(token: ApiToken, *, agent: bool = False) -> Via:
    return Via(token_id=token.pk, name=token.name, agent=agent)


def remembered(token: ApiToken, key: str) -> IdempotentResponse | None:
    return IdempotentResponse.objects.filter(token=token, key=key).first()


def remember(*, token: ApiToken, key: str, target: str, status: int, body) -> None:
    try:
        with transaction.atomic():
            IdempotentResponse.objects.create(token=token, key=key, target=target[:300], status=status, body=body)
    except IntegrityError:
        pass  # a concurrent retry stored it first; both answers describe the same first result
