"""Notifications: one row per person, e-mails from the worker in each recipient's language, as chosen."""

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from portal import notifications
from portal.models import Notification, Preference
from tests.factories.edit import make_invoice, mirror_catalogue
from tests.approvals.pushkit import submit
from tests.factories import make_company, make_user


@pytest.fixture
def team(db):
    company = make_company()
    mirror_catalogue(company)
    return (company, make_user("ana", company, "accountant"), make_user("pedro", company, "approver"),
            make_user("john", company, "manager"))


def test_each_person_is_told_once_in_their_language_as_they_chose(team, django_capture_on_commit_callbacks):
    company, accountant, approver, manager = team
    notifications.preference_save(user=manager, language="en")
    with django_capture_on_commit_callbacks(execute=True):
        change_request = submit(make_invoice(company), accountant, observations="Nota")
    subjects = {m.to[0]: m.subject for m in mail.outbox}
    assert subjects == {"pedro@example.com": f"[Enmienda] La solicitud #{change_request.pk} espera su decisión",
                        "john@example.com": f"[Enmienda] Request #{change_request.pk} awaits your decision"}
    assert Notification.objects.filter(kind="request.awaiting").count() == 2
    assert not Notification.objects.filter(user=accountant).exists()  # never the requester
    # The task runs again (a redelivery): nothing is sent twice.
    assert notifications.send_immediately(Notification.objects.values_list("pk", flat=True)) == 0
    assert len(mail.outbox) == 2


def test_once_the_request_is_decided_nobody_s_awaits_your_decision_stays_new(team):
    """The approver's "awaits your decision" stayed marked new after they decided."""
    from approvals.services.decisions import request_decide

    company, accountant, approver, manager = team
    change_request = submit(make_invoice(company), accountant, observations="Nota")
    other = submit(make_invoice(company, number=2), accountant, observations="Otra")
    assert Notification.objects.filter(kind="request.awaiting", read_at__isnull=True).count() == 4
    request_decide(change_request=change_request, user=approver, outcome="reject", comment="No")
    unread = Notification.objects.filter(kind="request.awaiting", read_at__isnull=True)
    assert sorted(n.params["number"] for n in unread) == [other.pk, other.pk]
    assert notifications.unread_count(approver) == 1


def test_a_daily_digest_gathers_the_days_news_and_none_means_the_bell_only(team, django_capture_on_commit_callbacks):
    company, accountant, approver, manager = team
    notifications.preference_save(user=approver, mail=Preference.Mail.DIGEST)
    notifications.preference_save(user=manager, mail=Preference.Mail.NONE)
    invoices = make_invoice(company, number=1), make_invoice(company, number=2)
    with django_capture_on_commit_callbacks(execute=True):
        first = submit(invoices[0], accountant, observations="Uno")
        second = submit(invoices[1], accountant, observations="Dos")
    assert mail.outbox == []
    assert notifications.send_digests(now=timezone.now() + timedelta(seconds=1)) == 1
    (digest,) = mail.outbox
    assert digest.to == ["pedro@example.com"] and "2 notificaciones del día" in digest.subject
    assert f"#{first.pk}" in digest.body and f"#{second.pk}" in digest.body
    assert notifications.send_digests(now=timezone.now() + timedelta(seconds=2)) == 0  # nothing new
    assert notifications.unread_count(manager) == 2 and len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_the_mail_leaves_from_a_real_worker_not_the_web_request():
    from celery.contrib.testing.worker import start_worker

    from portal.celery import app

    app.conf.task_always_eager = False  # the configured broker, and a worker consuming it
    company = make_company()
    mirror_catalogue(company)
    accountant, approver = make_user("ana", company, "accountant"), make_user("pedro", company, "approver")
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, loglevel="WARNING"):
        change_request = submit(make_invoice(company), accountant, observations="Nota")
        # Submitting returned before any mail: the worker sends it.
        for _ in range(400):
            if mail.outbox:
                break
            time.sleep(0.05)
    (message,) = mail.outbox
    assert message.to == [approver.email] and f"#{change_request.pk}" in message.subject
    assert Notification.objects.get(user=approver).mailed_at is not None


def test_the_bell_reads_the_session_the_user_and_the_count_only(client, team, django_assert_num_queries):
    from django.urls import reverse

    company, accountant, approver, manager = team
    client.force_login(approver)
    with django_assert_num_queries(3):  # no memberships: the fragment shows no header
        html = client.get(reverse("portal:notification_bell")).content.decode()
    assert 'data-count="0"' in html
    page = client.get(reverse("invoices:invoice_list", args=[company.pk])).content.decode()
    assert company.name in page and reverse("approvals:approval_inbox", args=[company.pk]) in page


def test_preferences_say_what_is_wrong_and_the_default_language_drops_an_earlier_choice(client, team):
    from django.conf import settings
    from django.urls import reverse

    _company, accountant, _approver, _manager = team
    client.force_login(accountant)
    url = reverse("portal:preferences")
    for data in ({"language": "xx", "mail": "digest"}, {"language": "", "mail": "bogus"}, {"language": ""}):
        refused = client.post(url, data, HTTP_ACCEPT_LANGUAGE="es")
        assert refused.status_code == 400 and 'data-testid="field-error"' in refused.content.decode(), data
    assert list(Preference.objects.filter(user=accountant).values_list("language", "mail")) in (
        [], [("", "immediately")])  # nothing chosen: the defaults
    client.post(url, {"language": "en", "mail": "digest"})
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    client.post(url, {"language": "", "mail": "digest"})  # the portal's default again
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == ""  # deleted: expired and emptied
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Mis preferencias" in page and "My preferences" not in page
