"""Sign-ins in the audit chain: each company a person works for records their logins, and the
refused attempts (wrong password, locked out) by the name that was tried."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils import timezone

from portal import addresses, events
from portal.models import Membership

from . import chain
from .models import Action, AuditEntry


def _client_facts(request) -> dict:
    return {"ip": addresses.client_ip(request)[:64],
            "user_agent": (request.META.get("HTTP_USER_AGENT") or "")[:200]}


def _companies_of(user) -> list[int | None]:
    # A person's login matters to every company they work for: one entry in each chain.
    ids = list(Membership.objects.filter(user=user).order_by("company_id").values_list("company_id", flat=True))
    return ids or [None]


def login_recorded(*, user, request) -> list[AuditEntry]:
    now = timezone.now()
    what = {"username": user.get_username(), **_client_facts(request)}
    return chain.append([
        AuditEntry(company_id=company_id, at=now, actor=user, action=Action.LOGIN, source="session",
                   why=events.reason("session.login"), what=what)
        for company_id in _companies_of(user)
    ])


def login_failed_recorded(*, username: str, request) -> list[AuditEntry]:
    """A failed login: in the chain of each company the named person belongs to, else the system's.

    Nobody is signed in, so the entry has no actor: the name typed is kept as what was tried.
    """
    return _refused_login(Action.LOGIN_FAILED, events.reason("session.login_failed"), username=username,
                          request=request)


def login_locked_out_recorded(*, username: str, request, failures: int | None = None) -> list[AuditEntry]:
    """An attempt refused because the name or the address is locked out after repeated failures."""
    return _refused_login(Action.LOGIN_LOCKED_OUT, events.reason("session.locked_out"), username=username,
                          request=request, failures=failures)


def _refused_login(action: str, why: str, *, username: str, request, **facts) -> list[AuditEntry]:
    username = (username or "")[:150]
    User = get_user_model()
    user = User.objects.filter(**{User.USERNAME_FIELD: username}).first() if username else None
    companies = _companies_of(user) if user is not None else [None]
    what = {"username": username, "known_user": user is not None, **_client_facts(request),
            **{key: value for key, value in facts.items() if value is not None}}
    now = timezone.now()
    return chain.append([
        AuditEntry(company_id=company_id, at=now, action=action, source="session", why=why, what=what)
        for company_id in companies
    ])
