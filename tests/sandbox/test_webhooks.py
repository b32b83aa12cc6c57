"""Webhook subscriptions and deliveries (after commit, 5 s timeout, deleted after 10 failures)."""

import json

import httpx
import pytest

from alegra_sandbox import services
from alegra_sandbox.models import SandboxWebhookSubscription
from alegra_sandbox.testing import deliveries_through

from . import receiver_urls
from .conftest import simple_invoice

HOOK = "http://testserver/hooks/s3cr3t/"


@pytest.fixture
def receiver():
    receiver_urls.received.clear()
    receiver_urls.answer["status"] = 200
    with deliveries_through():
        yield receiver_urls
    receiver_urls.received.clear()


def payloads(receiver):
    return [json.loads(body) for _, body in receiver.received if body]


@pytest.mark.urls("tests.sandbox.receiver_urls")
def test_subscribe_probes_the_url_then_delivers_through_wsgi(api, account, receiver,
                                                              django_capture_on_commit_callbacks):
    response = api.post("/webhooks/subscriptions", json={"event": "edit-invoice", "url": HOOK})
    assert response.status_code == 201
    subscription = response.json()["subscription"]
    assert subscription["event"] == "edit-invoice" and subscription["url"] == HOOK
    assert isinstance(subscription["id"], str)
    assert receiver.received == [("s3cr3t", b"")]  # the probe: an empty POST

    invoice = simple_invoice(account)
    with django_capture_on_commit_callbacks(execute=True):
        api.put(f"/invoices/{invoice['id']}", json={"observations": "revisada"})
    [payload] = payloads(receiver)
    assert payload["subject"] == "edit-invoice"
    assert payload["message"]["invoice"]["id"] == invoice["id"]
    assert payload["message"]["invoice"]["observations"] == "revisada"


@pytest.mark.urls("tests.sandbox.receiver_urls")
def test_probe_must_answer_2xx(api, account, receiver):
    receiver.answer["status"] = 500
    response = api.post("/webhooks/subscriptions", json={"event": "new-invoice", "url": HOOK})
    assert response.status_code == 400 and response.json()["code"] == 3082
    assert not SandboxWebhookSubscription.objects.filter(account=account).exists()


@pytest.mark.parametrize(("body", "code"), [
    ({"event": "edit-invoice", "url": "http://hooks.example.com/x"}, 3081),
    ({"event": "edit-invoice", "url": "ftp://localhost/x"}, 1005),
    ({"event": "paid-invoice", "url": "https://hooks.example.com/x"}, 1005),
    ({"event": "edit-invoice"}, 1005),
])
def test_bad_subscriptions_are_refused(api, body, code):
    response = api.post("/webhooks/subscriptions", json=body)
    assert response.status_code == 400 and response.json()["code"] == code


@pytest.fixture
def mock_hooks():
    """Deliveries answered by a test transport: records requests, answers `status`."""
    state = {"status": 200, "requests": [], "error": None}

    def handle(request):
        state["requests"].append(request)
        if state["error"]:
            raise state["error"]
        return httpx.Response(state["status"])

    with deliveries_through(httpx.MockTransport(handle)):
        yield state


def test_subscription_crud_and_duplicates(api, mock_hooks):
    url = "https://hooks.example.com/alegra/abc"
    created = api.post("/webhooks/subscriptions", json={"event": "new-invoice", "url": url}).json()["subscription"]
    again = api.post("/webhooks/subscriptions", json={"event": "new-invoice", "url": url})
    assert again.status_code == 400 and again.json()["code"] == 3080
    other = api.post("/webhooks/subscriptions", json={"event": "edit-invoice", "url": url})
    assert other.status_code == 201
    listing = api.get("/webhooks/subscriptions").json()
    assert set(listing) == {"subscriptions"} and len(listing["subscriptions"]) == 2
    assert api.get(f"/webhooks/subscriptions/{created['id']}").json() == {"subscription": created}
    changed = api.put(f"/webhooks/subscriptions/{created['id']}",
                      json={"event": "delete-invoice", "url": url}).json()["subscription"]
    assert changed["event"] == "delete-invoice"
    clash = api.put(f"/webhooks/subscriptions/{created['id']}", json={"event": "edit-invoice", "url": url})
    assert clash.json()["code"] == 3080
    assert api.delete(f"/webhooks/subscriptions/{created['id']}").status_code == 200
    assert api.get(f"/webhooks/subscriptions/{created['id']}").status_code == 404
    assert len(api.get("/webhooks/subscriptions").json()["subscriptions"]) == 1


def subscribe(account, event, url="https://hooks.example.com/a"):
    return services.subscription_create(account, {"event": event, "url": url})["subscription"]


def test_each_event_reaches_only_its_subscribers(api, account, mock_hooks, django_capture_on_commit_callbacks):
    for event in ("new-invoice", "edit-invoice", "delete-invoice"):
        subscribe(account, event, f"https://hooks.example.com/{event}")
    mock_hooks["requests"].clear()
    with django_capture_on_commit_callbacks(execute=True):
        invoice = simple_invoice(account)
    with django_capture_on_commit_callbacks(execute=True):
        services.invoice_update(account, invoice["id"], {"observations": "a mano"})
    with django_capture_on_commit_callbacks(execute=True):
        services.invoice_pay(account, invoice["id"], "1")  # Alegra sends nothing for payments
    with django_capture_on_commit_callbacks(execute=True):
        other = simple_invoice(account)
        api.delete(f"/invoices/{other['id']}")
    seen = [(r.url.path, json.loads(r.content)["subject"]) for r in mock_hooks["requests"]]
    assert seen == [("/new-invoice", "new-invoice"), ("/edit-invoice", "edit-invoice"),
                    ("/new-invoice", "new-invoice"), ("/delete-invoice", "delete-invoice")]
    assert all(r.headers["Content-Type"] == "application/json" for r in mock_hooks["requests"])


def test_nothing_is_sent_for_a_refused_write(api, account, mock_hooks, django_capture_on_commit_callbacks):
    invoice = simple_invoice(account)
    subscribe(account, "edit-invoice")
    mock_hooks["requests"].clear()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = api.put(f"/invoices/{invoice['id']}", json={"items": [{"id": 1, "quantity": 0}]})
    assert response.status_code == 400
    assert callbacks == [] and mock_hooks["requests"] == []


def test_delivery_waits_for_the_commit(account, mock_hooks, django_capture_on_commit_callbacks):
    invoice = simple_invoice(account)
    subscribe(account, "edit-invoice")
    mock_hooks["requests"].clear()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.invoice_update(account, invoice["id"], {"observations": "x"})
    assert len(callbacks) == 1 and mock_hooks["requests"] == []
    callbacks[0]()
    assert len(mock_hooks["requests"]) == 1


def test_subscription_is_deleted_after_ten_failures_in_a_row(account, mock_hooks,
                                                             django_capture_on_commit_callbacks):
    invoice = simple_invoice(account)
    subscription = subscribe(account, "edit-invoice")
    mock_hooks["status"] = 500

    def touch(n):
        for i in range(n):
            with django_capture_on_commit_callbacks(execute=True):
                services.invoice_update(account, invoice["id"], {"observations": f"{i}"})

    touch(5)
    row = SandboxWebhookSubscription.objects.get(pk=subscription["id"])
    assert row.consecutive_failures == 5
    mock_hooks["status"] = 204
    touch(1)
    row.refresh_from_db()
    assert row.consecutive_failures == 0 and row.deliveries == 1

    mock_hooks["status"], mock_hooks["error"] = 200, httpx.ConnectTimeout("timed out")
    touch(9)
    assert SandboxWebhookSubscription.objects.get(pk=subscription["id"]).consecutive_failures == 9
    touch(1)
    assert not SandboxWebhookSubscription.objects.filter(pk=subscription["id"]).exists()


def test_deliveries_use_a_five_second_timeout(account, mock_hooks, django_capture_on_commit_callbacks):
    subscribe(account, "new-invoice")
    with django_capture_on_commit_callbacks(execute=True):
        simple_invoice(account)
    timeout = mock_hooks["requests"][-1].extensions["timeout"]
    assert timeout == {"connect": 5.0, "read": 5.0, "write": 5.0, "pool": 5.0}


def test_contact_events(api, account, mock_hooks, django_capture_on_commit_callbacks):
    subscribe(account, "new-client")
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/contacts", json={"name": "Nuevo Cliente"})
    payload = json.loads(mock_hooks["requests"][-1].content)
    assert payload["subject"] == "new-client" and payload["message"]["client"]["name"] == "Nuevo Cliente"
