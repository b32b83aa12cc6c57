"""Notifications: the bell in the header and the e-mail, in each recipient's own language.

A service that has news for people calls `notify(users=..., company=..., kind=..., params=...,
url=...)` inside its transaction: one row per person (the bell counts them). After the commit a
worker task sends the e-mail of those who want each one at once; those who chose a daily digest
get one e-mail a day (`send_digests`, on the scheduler); those who chose none only see the bell.
Words are never stored: each app registers, for its kinds, a subject and a body as functions of
the parameters (`register`), told under the recipient's language when mailed, the reader's on
screen.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import formats
from .celery import app as celery_app
from .models import Company, Notification, Preference

log = logging.getLogger(__name__)
# Sent by name: the task module imports this one, so this one does not import it.
SEND_TASK = "portal.tasks.send_notifications"


@dataclass(frozen=True)
class Kind:
    subject: Callable[[Mapping[str, Any]], str]  # one line: the bell's entry and the e-mail's subject
    body: Callable[[Mapping[str, Any]], str] | None = None  # the e-mail's paragraphs (subject alone if None)


_kinds: dict[str, Kind] = {}


def register(kinds: Mapping[str, Kind]) -> None:
    _kinds.update(kinds)


# --- who wants what ------------------------------------------------------------------------


def preference_for(user) -> Preference:
    cached = getattr(user, "_enmienda_preference", None)
    if cached is None:
        cached, _created = Preference.objects.get_or_create(user=user)
        user._enmienda_preference = cached
    return cached


def language_for(user, preference: Preference | None = None, company: Company | None = None) -> str:
    """Their own choice; else the language of the company's country (Colombia: Spanish); else the portal's."""
    available = dict(settings.LANGUAGES)
    language = (preference or preference_for(user)).language
    if language in available:
        return language
    if company is not None:
        spoken = formats.language_of(company.country)
        if spoken in available:
            return spoken
    return settings.LANGUAGE_CODE


@transaction.atomic
def preference_save(*, user, language: str | None = None, mail: str | None = None) -> Preference:
    preference = preference_for(user)
    if language is not None:
        if language not in ("", *dict(settings.LANGUAGES)):
            raise ValueError(language)
        preference.language = language
    if mail is not None:
        if mail not in Preference.Mail.values:
            raise ValueError(mail)
        preference.mail = mail
    preference.save()
    return preference


def remember_last_company(user, company_id: int) -> None:
    Preference.objects.update_or_create(user=user, defaults={"last_company_id": company_id})


def last_company_id(user) -> int | None:
    return Preference.objects.filter(user=user).values_list("last_company_id", flat=True).first()


# --- telling ------------------------------------------------------------------------------


def subject_of(notification: Notification) -> str:
    kind = _kinds.get(notification.kind)
    if kind is None:
        return notification.kind
    try:
        return str(kind.subject(notification.params or {}))
    except (KeyError, TypeError, ValueError):
        return notification.kind


def body_of(notification: Notification) -> str:
    kind = _kinds.get(notification.kind)
    try:
        body = str(kind.body(notification.params or {})) if kind and kind.body else ""
    except (KeyError, TypeError, ValueError):
        body = ""
    url = _absolute(notification.url) if notification.url else ""
    return "\n\n".join(part for part in (subject_of(notification), body, url) if part)


def _absolute(path: str) -> str:
    return path if path.startswith("http") else settings.PORTAL_BASE_URL.rstrip("/") + path


# --- writing ------------------------------------------------------------------------------


def notify(*, users: Iterable, company: Company | int, kind: str, params: Mapping[str, Any] | None = None,
           url: str = "") -> list[Notification]:
    """One notification per person (each once, inactive people skipped); e-mails leave after the commit."""
    company_id = company if isinstance(company, int) else company.pk
    seen: set[int] = set()
    rows = []
    for user in users:
        if user is None or not user.is_active or user.pk in seen:
            continue
        seen.add(user.pk)
        rows.append(Notification(user=user, company_id=company_id, kind=kind, params=dict(params or {}),
                                 url=url[:300]))
    if not rows:
        return []
    Notification.objects.bulk_create(rows)  # no history on notifications: they are not the record
    ids = [row.pk for row in rows]

    def send_after_commit() -> None:
        try:
            celery_app.signature(SEND_TASK, args=(ids,)).apply_async()
        except Exception:  # a broker that is down must not undo the decision that caused the news
            log.exception("could not queue %d notification e-mail(s)", len(ids))

    transaction.on_commit(send_after_commit)
    return rows


def _deliver(subject: str, body: str, to: str) -> bool:
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])
        return True
    except Exception:  # a dead mail server leaves the row unmailed; the bell still shows it
        log.exception("could not send a notification e-mail")
        return False


def send_immediately(ids: Iterable[int]) -> int:
    """The e-mails of those who want each notification at once, each in their language. Idempotent."""
    sent = 0
    rows = (Notification.objects.filter(pk__in=list(ids), mailed_at__isnull=True)
            .select_related("user", "company").order_by("pk"))
    for row in rows:
        user = row.user
        preference = preference_for(user)
        if preference.mail != Preference.Mail.IMMEDIATELY or not user.email:
            continue
        with translation.override(language_for(user, preference, row.company)):
            subject = "[Enmienda] " + subject_of(row)
            body = body_of(row)
        # Claimed before sending: a second run of the task (a redelivery) sends nothing twice.
        if Notification.objects.filter(pk=row.pk, mailed_at__isnull=True).update(mailed_at=timezone.now()):
            if _deliver(subject, body, user.email):
                sent += 1
            else:
                Notification.objects.filter(pk=row.pk).update(mailed_at=None)
    return sent


def send_digests(*, now: datetime | None = None) -> int:
    """One e-mail per person who chose the daily digest, with what they have not been mailed yet."""
    now = now or timezone.now()
    sent = 0
    waiting = (Notification.objects.filter(mailed_at__isnull=True, user__preference__mail=Preference.Mail.DIGEST,
                                           user__is_active=True, created_at__lte=now)
               .exclude(user__email="").select_related("user", "company").order_by("user_id", "created_at", "pk"))
    by_user: dict[int, list[Notification]] = {}
    for row in waiting:
        by_user.setdefault(row.user_id, []).append(row)
    for rows in by_user.values():
        user = rows[0].user
        preference = preference_for(user)
        with translation.override(language_for(user, preference, rows[0].company)):
            subject = "[Enmienda] " + ngettext("%(count)s notification of the day", "%(count)s notifications of the day",
                                               len(rows)) % {"count": len(rows)}
            lines = [_("What happened in Enmienda since your last summary:")]
            for row in rows:
                lines.append(f"· {row.company.name}: {subject_of(row)}" + (f"\n  {_absolute(row.url)}" if row.url else ""))
        claimed = Notification.objects.filter(pk__in=[r.pk for r in rows], mailed_at__isnull=True).update(mailed_at=now)
        if claimed and _deliver(subject, "\n\n".join(lines), user.email):
            Preference.objects.filter(pk=preference.pk).update(last_digest_at=now)
            sent += 1
    return sent


# --- the bell -----------------------------------------------------------------------------


def unread_count(user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def recent(user, limit: int = 30) -> list[Notification]:
    return list(Notification.objects.filter(user=user).select_related("company")[:limit])


def mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    rows = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())


def settle(*, company_id: int, kind: str, number: int) -> int:
    """Everyone's unread notifications of `kind` about item `number` are read: what they asked for
    is done (a request that awaited a decision was decided)."""
    return (Notification.objects.filter(company_id=company_id, kind=kind, params__number=number, read_at__isnull=True)
            .update(read_at=timezone.now()))


def forget_older_than(days: int = 180) -> int:
    return Notification.objects.filter(created_at__lt=timezone.now() - timedelta(days=days)).delete()[0]
