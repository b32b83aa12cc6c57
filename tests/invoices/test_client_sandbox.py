"""The Alegra client against the bundled sandbox, over the in-process WSGI transport.

Everything is real (sandbox views, database, limiter) except the clock: the
client's sleeps move both the test clock and the sandbox's rate-limit clock.
"""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from alegra_sandbox import testing
from alegra_sandbox.services import faults_set
from invoices.alegra import AlegraClient, AlegraError
from invoices.documents.numbers import parse_decimal as money
from invoices.documents.references import alegra_id, full_number
from invoices.ratelimit import MemoryStore, RateLimiter
from tests.clock import FakeClock

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def clock():
    """One fake clock for the client, its limiter and the sandbox's budget."""
    with testing.frozen_clock() as advance:
        fake = FakeClock()
        plain_sleep = fake.sleep

        def sleep(seconds: float) -> None:
            plain_sleep(seconds)
            advance(seconds)

        fake.sleep = sleep
        yield fake


def client_for(account, clock: FakeClock, *, token: str | None = None, store=None, **kw) -> AlegraClient:
    limiter = RateLimiter(store or MemoryStore(), 150, clock=clock, sleep=clock.sleep)
    return AlegraClient(testing.BASE_URL, account.email, token or account.token,
                        http=httpx.Client(transport=testing.SandboxTransport()),
                        limiter=limiter, sleep=clock.sleep, **kw)


def test_pages_through_every_invoice(clock):
    account = testing.make_account(invoices=65)
    client = client_for(account, clock)
    pages = list(client.iter_invoice_pages())
    assert [(p.start, p.total, len(p.items)) for p in pages] == [(0, 65, 30), (30, 65, 30), (60, 65, 5)]
    ids = [d["id"] for p in pages for d in p.items]
    assert len(set(ids)) == 65 and all(isinstance(i, str) for i in ids)
    assert client.requests_made == 3
    resumed = list(client.iter_invoice_pages(start=60))
    assert [d["id"] for p in resumed for d in p.items] == ids[60:]


def test_reads_an_invoice_with_exact_amounts(clock):
    account = testing.make_account(invoices=3)
    client = client_for(account, clock)
    listed = client.list_invoices()
    invoice = client.get_invoice(listed[0]["id"])
    assert alegra_id(invoice["id"]) == listed[0]["id"]
    assert isinstance(money(invoice["total"]), Decimal)
    assert money(invoice["total"]) == money(invoice["balance"]) + money(invoice.get("totalPaid"))
    assert full_number(invoice)
    for line in invoice["items"]:
        money(line["price"]), money(line["quantity"]), money(line["discount"])


def test_catalogues_and_company(clock):
    account = testing.make_account(invoices=0)
    client = client_for(account, clock)
    taxes = client.list_taxes()
    assert taxes and all(isinstance(money(t["percentage"]), Decimal) for t in taxes)
    contacts = list(client.iter_contacts())
    items = list(client.iter_items())
    assert contacts and items
    assert client.get_contact(contacts[0]["id"])["id"] == contacts[0]["id"]
    assert client.get_item(items[0]["id"])["name"] == items[0]["name"]
    assert client.get_company()


def test_partial_put_changes_only_what_was_sent(clock):
    account = testing.make_account(invoices=12)
    client = client_for(account, clock)
    # A stamped invoice is immutable; pick one the seed left editable.
    editable = [d for d in client.list_invoices() if not d.get("stamp") and d["status"] in ("draft", "open")]
    before = client.get_invoice(editable[0]["id"])
    after = client.put_invoice(before["id"], {"observations": "Corregido por la gerencia"})
    assert after["observations"] == "Corregido por la gerencia"
    assert money(after["total"]) == money(before["total"])
    assert client.get_invoice(before["id"]) == after


def test_wrong_token_is_a_permanent_401_without_the_token_in_it(clock):
    account = testing.make_account()
    wrong = "definitely-wrong-token-123"
    with pytest.raises(AlegraError) as info:
        client_for(account, clock, token=wrong).get_company()
    assert (info.value.status, info.value.permanent) == (401, True)
    assert info.value.message  # the sandbox's Spanish explanation
    assert wrong not in str(info.value) and account.token not in str(info.value)


def test_missing_invoice_is_a_permanent_404_with_code_and_message(clock):
    client = client_for(testing.make_account(), clock)
    with pytest.raises(AlegraError) as info:
        client.get_invoice("987654")
    assert (info.value.status, info.value.code, info.value.permanent) == (404, "404", True)
    assert info.value.message
    assert client.requests_made == 1


def test_a_refused_credit_note_carries_alegra_code(clock):
    account = testing.make_account(invoices=1)
    client = client_for(account, clock)
    invoice = client.list_invoices()[0]
    with pytest.raises(AlegraError) as info:
        client.create_credit_note({"client": invoice["client"]["id"],
                                   "items": [{"id": invoice["items"][0]["id"], "price": "1", "quantity": 1}]})
    assert (info.value.status, info.value.code) == (400, "9070")
    assert "nota crédito" in info.value.message


def test_a_lost_answer_to_a_post_is_raised_not_resent(clock):
    account = testing.make_account(invoices=1)
    client = client_for(account, clock)
    invoice = client.list_invoices()[0]
    body = {"client": invoice["client"]["id"], "type": "PRICE_ADJUSTMENT", "cause": "Descuento acordado",
            "items": [{"id": invoice["items"][0]["id"], "price": Decimal("1.50"), "quantity": 1}]}
    written_anyway = 0
    # Each seed drops the connection either before or after the sandbox writes the note.
    for seed in range(12):
        faults_set(account, drop_rate=1, seed=seed)
        sent_before, notes_before = client.requests_made, _count_notes(account)
        with pytest.raises(AlegraError) as info:
            client.create_credit_note(body)
        assert info.value.transient
        assert client.requests_made == sent_before + 1  # never sent twice
        faults_set(account)
        written = _count_notes(account) - notes_before
        assert written in (0, 1)
        written_anyway += written
    # Some notes exist although the client saw only failures: hence read before retrying.
    assert 0 < written_anyway < 12


def _count_notes(account) -> int:
    from alegra_sandbox.models import SandboxCreditNote

    return SandboxCreditNote.objects.filter(account=account).count()


def test_server_errors_are_retried_for_reads_then_reported_as_transient(clock):
    account = testing.make_account()
    client = client_for(account, clock, max_attempts=3)
    faults_set(account, error_rate=1)
    with pytest.raises(AlegraError) as info:
        client.get_company()
    assert info.value.transient and info.value.status in (500, 503)
    assert client.requests_made == 3
    assert len(clock.sleeps) == 2


def test_the_budget_is_respected_by_waiting_not_by_failing(clock):
    # The sandbox allows 3 a minute; the client sees Remaining reach 0 and waits for the reset.
    account = testing.make_account(rate_limit_per_minute=3)
    client = client_for(account, clock)
    for _ in range(7):
        client.get_company()
    assert client.requests_made == 7  # no 429 was needed
    assert clock.sleeps and all(s >= 1 for s in clock.sleeps)


def test_a_429_from_a_process_that_did_not_know_is_waited_out(clock):
    account = testing.make_account(rate_limit_per_minute=2)
    first, second = client_for(account, clock), client_for(account, clock)  # separate budgets
    first.get_company()
    first.get_company()  # the window is now spent
    assert second.get_company()  # 429, wait for Reset, then success
    assert second.requests_made == 2
    assert clock.sleeps


def test_webhook_subscriptions_round_trip(clock):
    client = client_for(testing.make_account(), clock)
    # Subscribing makes Alegra call the URL once; answer it like a healthy portal.
    portal = httpx.MockTransport(lambda request: httpx.Response(200))
    with testing.deliveries_through(portal):
        created = client.create_webhook_subscription("edit-invoice", "https://portal.example/hooks/s3cr3t")
    assert isinstance(alegra_id(created["id"]), str)
    assert [alegra_id(s["id"]) for s in client.list_webhook_subscriptions()] == [alegra_id(created["id"])]
    client.delete_webhook_subscription(created["id"])
    assert client.list_webhook_subscriptions() == []
