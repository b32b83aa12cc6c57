"""Outbound events: signed per Standard Webhooks, received by a real local HTTP server, at least once."""

from __future__ import annotations

import copy
import json

import pytest
from standardwebhooks import Webhook

from api import outbound
from api.models import DeliveryAttempt, EventDelivery
from approvals.services.decisions import request_decide
from approvals.services.requests import request_save_and_submit
from tests.api.receivers import Receiver
from tests.factories.edit import make_invoice, mirror_catalogue

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def receiver():
    found = Receiver()
    yield found
    found.close()


def _submit(invoice, user, price):
    proposed = copy.deepcopy(invoice.document)
    proposed["items"][0]["price"] = price
    proposed["items"][0].pop("total", None)
    return request_save_and_submit(invoice=invoice, user=user, proposed=proposed, reason="Precio acordado",
                                   kind="update")


def test_events_are_signed_and_verified_with_the_library(company, accountant, manager, receiver):
    mirror_catalogue(company)
    invoice = make_invoice(company)
    subscription = outbound.subscription_create(company=company, user=manager, url=receiver.url,
                                                events=["change_request.submitted"])
    change_request = _submit(invoice, accountant, "95")  # commits: the eager task delivers at once
    assert len(receiver.received) == 1
    headers, body = receiver.received[0]
    payload = Webhook(subscription.secret).verify(body, headers)
    assert payload["type"] == "change_request.submitted"
    assert payload["data"]["change_request_id"] == change_request.pk and payload["data"]["invoice_id"] == invoice.pk
    with pytest.raises(Exception):
        Webhook(outbound.new_secret()).verify(body, headers)
    delivery = EventDelivery.objects.get()
    assert delivery.state == "delivered" and delivery.message_id == headers["webhook-id"]


def test_a_failing_receiver_loses_nothing_and_gets_each_invoice_s_events_in_order(company, accountant, approver,
                                                                                  manager, receiver):
    """A refused event holds back its own invoice's later events, not the other invoices'."""
    mirror_catalogue(company)
    first, second = make_invoice(company, number=1), make_invoice(company, number=2)
    subscription = outbound.subscription_create(company=company, user=manager, url=receiver.url,
                                                events=["change_request.submitted", "change_request.decided"])
    receiver.refuse = 1
    refused = _submit(first, accountant, "95")   # refused: stays pending, with a backoff
    request_decide(change_request=refused, user=approver, outcome="reject", comment="No")  # waits behind it
    _submit(second, accountant, "90")            # another invoice: not held back
    pending = list(EventDelivery.objects.filter(invoice_id=first.pk).order_by("id"))
    assert [(d.event, d.state, d.attempts) for d in pending] == [
        ("change_request.submitted", "pending", 1), ("change_request.decided", "pending", 0)]
    assert DeliveryAttempt.objects.filter(delivery=pending[0]).get().status == 503
    assert [json.loads(body)["data"]["invoice_id"] for _headers, body in receiver.received] == [second.pk]
    assert outbound.deliver_due(subscription_id=subscription.pk)["sent"] == 0  # still in its backoff
    EventDelivery.objects.filter(pk=pending[0].pk).update(next_attempt_at=pending[0].created_at)
    result = outbound.deliver_due(subscription_id=subscription.pk)
    assert result["sent"] == 2
    got = [(json.loads(body)["data"]["invoice_id"], json.loads(body)["type"]) for _headers, body in receiver.received]
    assert got == [(second.pk, "change_request.submitted"), (first.pk, "change_request.submitted"),
                   (first.pk, "change_request.decided")]
    assert set(EventDelivery.objects.values_list("state", flat=True)) == {"delivered"}


def test_a_delivery_interrupted_mid_send_is_sent_again(company, accountant, manager, receiver):
    """A worker that dies mid-delivery rolls back its transaction: the row stays pending."""
    mirror_catalogue(company)
    invoice = make_invoice(company)
    subscription = outbound.subscription_create(company=company, user=manager, url=receiver.url,
                                                events=["change_request.submitted"])
    subscription.is_active = False  # no delivery at commit: the "worker" below dies instead
    subscription.save()
    _submit(invoice, accountant, "95")
    assert not EventDelivery.objects.exists()  # a paused subscription gets nothing new
    subscription.is_active = True
    subscription.save()
    _submit(make_invoice(company, number=2), accountant, "90")
    EventDelivery.objects.all().update(state="pending", attempts=0)

    class Killed(BaseException):
        pass

    class DyingClient:
        def post(self, *args, **kwargs):
            raise Killed

        def close(self):
            pass

    with pytest.raises(Killed):
        outbound.deliver_due(subscription_id=subscription.pk, client=DyingClient())
    assert EventDelivery.objects.get().state == "pending"
    assert outbound.sweep() == 1  # queued again; eager here, so sent now
    assert EventDelivery.objects.get().state == "delivered"
    # At least once: sent again under the same webhook-id, so the receiver can tell it is the same event.
    ids = [headers["webhook-id"] for headers, _body in receiver.received]
    assert len(ids) == 2 and ids[0] == ids[1] == EventDelivery.objects.get().message_id


def test_a_subscription_that_keeps_failing_is_paused_and_its_managers_told(company, accountant, manager,
                                                                           receiver, mailoutbox):
    mirror_catalogue(company)
    invoice = make_invoice(company)
    subscription = outbound.subscription_create(company=company, user=manager, url=receiver.url,
                                                events=["change_request.submitted"])
    receiver.refuse = 100
    _submit(invoice, accountant, "95")
    for _ in range(outbound.MAX_ATTEMPTS):
        EventDelivery.objects.filter(state="pending").update(next_attempt_at="2000-01-01T00:00:00Z")
        outbound.deliver_due(subscription_id=subscription.pk)
    subscription.refresh_from_db()
    assert not subscription.is_active and EventDelivery.objects.get().state == "failed"
    assert DeliveryAttempt.objects.count() == outbound.MAX_ATTEMPTS
    assert any("paused" in m.subject for m in mailoutbox)
    receiver.refuse = 0
    outbound.delivery_redeliver(delivery=EventDelivery.objects.get())
    subscription.refresh_from_db()
    assert subscription.is_active and EventDelivery.objects.get().state == "delivered"


def test_a_subscription_whose_host_is_no_longer_allowed_gets_nothing(company, accountant, manager, receiver,
                                                                       settings):
    mirror_catalogue(company)
    invoice = make_invoice(company)
    outbound.subscription_create(company=company, user=manager, url=receiver.url,
                                 events=["change_request.submitted"])
    settings.EVENT_DELIVERY_PRIVATE_HOSTS = []  # the operator took the intranet host off the list
    _submit(invoice, accountant, "95")
    delivery = EventDelivery.objects.get()
    assert receiver.received == [] and delivery.state == "pending" and delivery.attempts == 1
    assert "inside the portal's own network" in DeliveryAttempt.objects.get().error
    with pytest.raises(outbound.AddressRefused):
        outbound.subscription_create(company=company, user=manager, url=receiver.url, events=["push.failed"])
