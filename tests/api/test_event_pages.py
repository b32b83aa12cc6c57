"""The managers' page of outbound event subscriptions and its delivery log."""

from __future__ import annotations

import pytest
from django.urls import reverse

from api.models import EventDelivery, EventSubscription

pytestmark = pytest.mark.django_db


def test_a_manager_subscribes_sees_the_secret_once_and_the_log(client, manager, company,
                                                             django_capture_on_commit_callbacks):
    client.force_login(manager)
    url = reverse("api:subscriptions", args=[company.pk])
    response = client.post(url, {"url": "https://erp.example.com/hooks", "events": ["finding.created",
                                                                                    "push.failed"]})
    assert response.status_code == 200
    subscription = EventSubscription.objects.get()
    assert subscription.secret.startswith("whsec_") and subscription.secret in response.content.decode()
    assert sorted(subscription.events) == ["finding.created", "push.failed"]
    assert subscription.secret not in client.get(url).content.decode()
    delivery = EventDelivery.objects.create(subscription=subscription, message_id="msg_1", event="push.failed",
                                            payload={}, state="failed", attempts=8)
    subscription.is_active = False
    subscription.save()
    assert "msg_1" not in client.get(url).content.decode() and "push.failed" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=False):
        redone = client.post(reverse("api:delivery_redeliver", args=[company.pk, delivery.pk]))
    assert redone.status_code == 302
    delivery.refresh_from_db()
    subscription.refresh_from_db()
    assert delivery.state == "pending" and delivery.attempts == 0 and subscription.is_active


def test_unknown_events_or_urls_are_refused_with_a_message(client, manager, company):
    client.force_login(manager)
    response = client.post(reverse("api:subscriptions", args=[company.pk]), {"url": "not a url",
                                                                              "events": ["invoice.eaten"]})
    assert response.status_code == 400 and not EventSubscription.objects.exists()
    assert 'class="error"' in response.content.decode()


@pytest.mark.parametrize("address", ["http://127.0.0.1:8000/hooks", "http://10.0.0.5/hooks", "http://[::1]/x",
                                     "http://169.254.169.254/latest/meta-data", "ftp://erp.example.com/x"])
def test_an_address_inside_the_portal_s_network_is_refused_with_a_message(client, manager, company, settings,
                                                                           address):
    settings.EVENT_DELIVERY_PRIVATE_HOSTS = []
    client.force_login(manager)
    response = client.post(reverse("api:subscriptions", args=[company.pk]), {"url": address,
                                                                              "events": ["push.failed"]})
    assert response.status_code == 400 and not EventSubscription.objects.exists()
    assert 'class="error"' in response.content.decode()


def test_only_managers_see_it_and_outsiders_get_404(client, accountant, approver, outsider, company):
    url = reverse("api:subscriptions", args=[company.pk])
    for person, status in ((accountant, 403), (approver, 403), (outsider, 404)):
        client.force_login(person)
        assert client.get(url).status_code == status
