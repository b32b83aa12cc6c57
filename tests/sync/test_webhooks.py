"""Incremental sync by webhook: the sandbox really POSTs to the portal, which re-reads by id."""

import json

import pytest
from django.urls import reverse

from alegra_sandbox import testing
from alegra_sandbox.models import SandboxWebhookSubscription
from alegra_sandbox.services.invoices import invoice_delete, invoice_get, invoice_update
from invoices import subscriptions, sync
from invoices.models import Invoice, WebhookEvent
from tests.sync.conftest import connect
from portal import events

pytestmark = pytest.mark.django_db


@pytest.fixture
def subscribed(db, clock, in_process_http, django_capture_on_commit_callbacks):
    """A mirrored company subscribed to the sandbox's invoice webhooks, deliveries in-process."""
    link = connect(clock, invoices=40)
    with testing.deliveries_through():
        sync.sync_full(company=link.company, client=link.client())
        with django_capture_on_commit_callbacks(execute=True):
            created = subscriptions.webhooks_ensure(company=link.company, client=link.client())
        assert sorted(created) == ["delete-invoice", "edit-invoice", "new-invoice"]
        yield link


def _remote_edit(link, capture, alegra_id, changes):
    with capture(execute=True):
        invoice_update(link.account, alegra_id, changes)


def test_edit_in_alegra_reaches_the_mirror_by_webhook(subscribed, django_capture_on_commit_callbacks):
    invoice = Invoice.objects.filter(company=subscribed.company, is_stamped=False, status="open").first()
    _remote_edit(subscribed, django_capture_on_commit_callbacks, invoice.alegra_id, {"observations": "por webhook"})
    invoice.refresh_from_db()
    assert invoice.document["observations"] == "por webhook"
    latest = invoice.history.first()
    assert events.code_of(latest.history_change_reason) == "mirror.webhook" and latest.history_user is None
    assert WebhookEvent.objects.filter(company=subscribed.company, alegra_id=invoice.alegra_id,
                                       subject="edit-invoice").exists()


def test_deletion_in_alegra_marks_the_invoice_deleted(subscribed, django_capture_on_commit_callbacks):
    invoice = Invoice.objects.filter(company=subscribed.company, is_stamped=False, total_paid=0).first()
    with django_capture_on_commit_callbacks(execute=True):
        invoice_delete(subscribed.account, invoice.alegra_id)
    invoice.refresh_from_db()
    assert invoice.is_deleted
    assert events.code_of(invoice.history.first().history_change_reason) == "mirror.deleted"


def test_own_push_echo_is_recognised_by_hash_and_adds_nothing(subscribed, django_capture_on_commit_callbacks):
    invoice = Invoice.objects.filter(company=subscribed.company, is_stamped=False, status="open").first()
    client = subscribed.client()
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.put_invoice(invoice.alegra_id, {"observations": "empujado desde el portal"})
        # The push stores Alegra's answer itself; the echo that follows must add nothing.
        assert sync.invoice_store(company=subscribed.company, document=answer, source="push") == "changed"
        versions = invoice.history.count()
    assert invoice.history.count() == versions
    assert WebhookEvent.objects.filter(alegra_id=invoice.alegra_id, subject="edit-invoice").exists()


def test_dropped_subscriptions_are_recreated(subscribed, django_capture_on_commit_callbacks):
    SandboxWebhookSubscription.objects.filter(account=subscribed.account, event="edit-invoice").delete()
    with django_capture_on_commit_callbacks(execute=True):
        assert subscriptions.webhooks_ensure(company=subscribed.company, client=subscribed.client()) == ["edit-invoice"]
        assert subscriptions.webhooks_ensure(company=subscribed.company, client=subscribed.client()) == []


def _post(client, company, body, secret=None, **extra):
    url = reverse("invoices:alegra_webhook", args=[company.pk, secret or company.webhook_secret])
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(url, data=data, content_type="application/json", **extra)


def test_webhook_refuses_wrong_or_foreign_secrets(client, company, other_company):
    assert _post(client, company, {"subject": "edit-invoice", "message": {"invoice": {"id": "1"}}},
                 secret="wrong").status_code == 404
    assert _post(client, company, {"subject": "edit-invoice", "message": {"invoice": {"id": "1"}}},
                 secret=other_company.webhook_secret).status_code == 404
    url = reverse("invoices:alegra_webhook", args=[99999, company.webhook_secret])
    assert client.post(url, data="{}", content_type="application/json").status_code == 404
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize("body,status", [
    (b"", 200),                                   # Alegra's check of a new subscription
    (b"not json", 400),
    ({"subject": "edit-invoice"}, 400),
    ({"subject": "edit-invoice", "message": {"invoice": {"id": ["x"]}}}, 400),
    ({"subject": "edit-invoice", "message": {"invoice": {"id": "1; DROP TABLE"}}}, 400),
    ({"subject": "edit-invoice", "message": "x"}, 400),
    ({"subject": "new-client", "message": {"client": {"id": "1"}}}, 200),
    ([1, 2, 3], 200),
    ({"subject": "edit-invoice", "message": {"invoice": {"id": True}}}, 400),
    (b"[" * 100_000, 400),  # nested past the parser's recursion limit, well under the size limit: a 500
])
def test_webhook_bad_bodies_get_a_clear_answer_and_change_nothing(client, company, body, status):
    response = _post(client, company, body)
    assert response.status_code == status
    assert not WebhookEvent.objects.exists()


def test_webhook_refuses_huge_payloads(client, company):
    huge = {"subject": "edit-invoice", "message": {"invoice": {"id": "1", "x": "a" * 400_000}}}
    assert _post(client, company, huge).status_code == 413
    assert not WebhookEvent.objects.exists()


def test_webhook_for_an_unknown_invoice_does_not_crash(subscribed, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client, subscribed.company, {"subject": "edit-invoice", "message": {"invoice": {"id": "987654"}}})
    assert response.status_code == 200
    assert not Invoice.objects.filter(company=subscribed.company, alegra_id="987654").exists()


def test_webhook_only_trusts_the_id(subscribed, client, django_capture_on_commit_callbacks):
    invoice = Invoice.objects.filter(company=subscribed.company).first()
    forged = {"subject": "edit-invoice", "message": {"invoice": {"id": invoice.alegra_id, "total": "1.00"}}}
    before = invoice.content_hash
    with django_capture_on_commit_callbacks(execute=True):
        assert _post(client, subscribed.company, forged).status_code == 200
    invoice.refresh_from_db()
    assert invoice.content_hash == before
    assert str(invoice.total) != "1.00"
    assert invoice_get(subscribed.account, invoice.alegra_id)["total"] != "1.00"
