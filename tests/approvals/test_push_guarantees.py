"""The push's two promises held in place: a change reaches Alegra once, and never over another.

Each test here was written against a planted mistake that the rest of the suite let through:
the fence before a write always passing, a contact push without its conflict check, and a
contact push without its already-applied check.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from alegra_sandbox import services as sandbox
from alegra_sandbox.testing import SandboxTransport
from approvals import revisions
from approvals.models import ChangeRequest, Push
from approvals.services import push as push_module
from approvals.services.requests import request_save_and_submit
from invoices.documents import contacts
from invoices.models import Contact
from tests.approvals.pushkit import (  # noqa: F401 (fixtures)
    alegra_client,
    approve,
    invoice_puts,
    submit,
    world,
    writes_to,
)

CRState = ChangeRequest.State


class AfterTransport(httpx.BaseTransport):
    """The in-process sandbox, with something happening right after a given request was answered
    (another worker, a person in Alegra, a connection that drops the answer)."""

    def __init__(self, method: str, path_suffix: str, then: Callable[[httpx.Response], httpx.Response | None]):
        self.inner = SandboxTransport()
        self.method, self.path_suffix, self.then = method, path_suffix, then
        self.fired = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if not self.fired and request.method == self.method and request.url.path.rstrip("/").endswith(self.path_suffix):
            self.fired += 1
            response.read()
            return self.then(response) or response
        return response


def client_through(world, transport: httpx.BaseTransport):
    return alegra_client(world.company, http=httpx.Client(transport=transport))




# --- the fence: a worker the sweeper gave up on writes nothing --------------------------------


def test_a_slow_worker_whose_push_was_handed_on_does_not_write_a_second_time(world, approve):
    push = approve(submit(world.invoice, world.accountant, observations="Una sola vez"), world.approver)
    taken_over = []

    def meanwhile(response):
        # The first worker has read Alegra and stalls past the heartbeat; the sweeper hands
        # the row on and a second worker pushes it to the end.
        assert push_module.push_sweep(now=timezone.now() + timedelta(hours=1)) == 1
        taken_over.append(push_module.push_run(push_id=push.pk, client=alegra_client(world.company)))

    slow = client_through(world, AfterTransport("GET", f"/invoices/{world.invoice.alegra_id}", meanwhile))
    outcome = push_module.push_run(push_id=push.pk, client=slow)

    assert [o.state for o in taken_over] == [Push.State.APPLIED]
    assert outcome.state == "superseded"
    assert invoice_puts(world.account, world.invoice.alegra_id) == 1
    push.refresh_from_db()
    assert (push.state, push.attempts, push.writes) == (Push.State.APPLIED, 2, 1)
    assert sandbox.invoice_get(world.account, world.invoice.alegra_id)["observations"] == "Una sola vez"


def test_a_worker_whose_push_was_requeued_while_it_read_writes_nothing(world, approve):
    push = approve(submit(world.invoice, world.accountant, observations="Después"), world.approver)

    def meanwhile(response):
        assert push_module.push_sweep(now=timezone.now() + timedelta(hours=1)) == 1

    slow = client_through(world, AfterTransport("GET", f"/invoices/{world.invoice.alegra_id}", meanwhile))
    assert push_module.push_run(push_id=push.pk, client=slow).state == "superseded"

    assert invoice_puts(world.account, world.invoice.alegra_id) == 0
    push.refresh_from_db()
    assert (push.state, push.writes) == (Push.State.QUEUED, 0)
    # The next worker does the write, once.
    assert push_module.push_run(push_id=push.pk, client=alegra_client(world.company)).state == Push.State.APPLIED
    assert invoice_puts(world.account, world.invoice.alegra_id) == 1


# --- contacts: never over a change made in Alegra, and once after a lost answer ---------------


def contact_request(world, **changes):
    contact = Contact.objects.get(company=world.company, alegra_id=world.invoice.client_alegra_id)
    proposed = json.loads(json.dumps(contact.document))
    for path, value in changes.items():
        contacts.set_path(proposed, path, value)
    change_request = request_save_and_submit(invoice=world.invoice, user=world.accountant, proposed=proposed,
                                             reason="Datos del cliente al día", kind="contact")
    return contact, change_request


def change_contact_in_alegra(world, contact_id: str, **changes) -> dict:
    """Somebody edits the contact in Alegra itself (a whole-state PUT, as Alegra's own screen does)."""
    with alegra_client(world.company) as client:
        current = client.get_contact(contact_id)
        edited = json.loads(json.dumps(current, default=str))
        for path, value in changes.items():
            contacts.set_path(edited, path, value)
        return client.put_contact(contact_id, contacts.put_body(current, edited))


def contact_puts(world, contact_id: str) -> int:
    return writes_to(world.account, f"/contacts/{contact_id}")


@pytest.mark.parametrize("path", ["address.address", "phonePrimary"])
def test_a_contact_changed_in_alegra_after_the_request_is_a_conflict_and_nothing_is_written(world, approve, path):
    """Whether Alegra changed the field the request edits or another editable one, the request's
    whole-state PUT would undo it: the push stops and says which field moved."""
    contact, change_request = contact_request(world, **{"address.address": "Calle 100 # 7-33"})
    push = approve(change_request, world.approver)
    change_contact_in_alegra(world, contact.alegra_id, **{path: "Cambiado en Alegra 1"})
    puts_before = contact_puts(world, contact.alegra_id)

    outcome = push_module.push_run(push_id=push.pk, client=alegra_client(world.company))

    assert outcome.state == Push.State.CONFLICT
    assert contact_puts(world, contact.alegra_id) == puts_before
    now = sandbox.catalogue_document(world.account, "contact", contact.alegra_id)
    assert contacts.text_at(now, path) == "Cambiado en Alegra 1"
    push.refresh_from_db()
    change_request.refresh_from_db()
    assert (push.state, push.writes, push.conflict_fields) == (Push.State.CONFLICT, 0, [path])
    assert change_request.state == CRState.CONFLICT
    contact.refresh_from_db()  # the mirror learned Alegra's version, for the re-base
    assert contacts.text_at(contact.document, path) == "Cambiado en Alegra 1"


def test_a_contact_push_whose_answer_was_lost_is_found_applied_and_not_written_again(world, approve):
    contact, change_request = contact_request(world, **{"address.address": "Calle 100 # 7-33", "mobile": "3001234567"})
    push = approve(change_request, world.approver)

    def lost(response):
        raise httpx.ReadTimeout("the answer never came")

    first = push_module.push_run(push_id=push.pk, client=client_through(
        world, AfterTransport("PUT", f"/contacts/{contact.alegra_id}", lost)))
    assert first.state == Push.State.RETRYING
    assert contact_puts(world, contact.alegra_id) == 1  # the write did reach Alegra

    second = push_module.push_run(push_id=push.pk, after_attempt=first.attempt, client=alegra_client(world.company))

    assert second.state == Push.State.APPLIED
    assert contact_puts(world, contact.alegra_id) == 1
    push.refresh_from_db()
    change_request.refresh_from_db()
    assert (push.state, push.attempts, push.writes) == (Push.State.APPLIED, 2, 1)
    assert change_request.state == CRState.APPLIED
    contact.refresh_from_db()
    assert contacts.text_at(contact.document, "address.address") == "Calle 100 # 7-33"
    assert contacts.text_at(contact.document, "mobile") == "3001234567"


def test_a_contact_request_writes_its_contact_even_after_the_invoice_changed_client(world, approve):
    from invoices.sync import invoice_store
    from tests.approvals.pushkit import _as_read

    contact, change_request = contact_request(world, mobile="3007778899")
    push = approve(change_request, world.approver)
    # Meanwhile the invoice is given to another client in Alegra, and the mirror learns it.
    other = next(c for c in Contact.objects.filter(company=world.company) if c.alegra_id != contact.alegra_id)
    sandbox.invoice_update(world.account, world.invoice.alegra_id, {"client": other.alegra_id})
    invoice_store(company=world.company, source="sync", document=_as_read(
        sandbox.invoice_get(world.account, world.invoice.alegra_id)))
    other_before = sandbox.catalogue_document(world.account, "contact", other.alegra_id)

    assert push_module.push_run(push_id=push.pk, client=alegra_client(world.company)).state == Push.State.APPLIED

    assert contacts.text_at(sandbox.catalogue_document(world.account, "contact", contact.alegra_id),
                            "mobile") == "3007778899"
    assert sandbox.catalogue_document(world.account, "contact", other.alegra_id) == other_before
    push.refresh_from_db()
    assert push.result_alegra_id == str(contact.alegra_id)


def test_a_contact_already_as_approved_in_alegra_is_recorded_without_a_write(world, approve):
    contact, change_request = contact_request(world, mobile="3009876543")
    push = approve(change_request, world.approver)
    change_contact_in_alegra(world, contact.alegra_id, mobile="3009876543")
    puts_before = contact_puts(world, contact.alegra_id)

    assert push_module.push_run(push_id=push.pk, client=alegra_client(world.company)).state == Push.State.APPLIED

    assert contact_puts(world, contact.alegra_id) == puts_before
    push.refresh_from_db()
    assert (push.state, push.writes) == (Push.State.APPLIED, 0)
    latest = contact.history.order_by("-history_id").first()
    assert latest.history_user is None  # an outside change read back, not the requester's push


# --- credit notes: never over a change, found again after a crash, never someone else's ------


def credit_note_request(world, *, observations: str | None = None):
    from approvals.services.submission import request_submitted
    from invoices import editable

    note = editable.credit_note_body(world.invoice.document, [editable.ReturnedLine(0, "1")], "OTHER",
                                     "Devolución de una unidad", "2025-03-20")
    if observations is not None:
        note["observations"] = observations
    change_request = request_save_and_submit(invoice=world.invoice, user=world.accountant, proposed=note,
                                             reason="El cliente devolvió un bulto", kind="credit_note")
    request_submitted(change_request=change_request)
    change_request.refresh_from_db()
    return change_request


def outside_credit_note(world, invoice_id: str, observations: str = "") -> dict:
    """A credit note somebody made in Alegra itself."""
    from invoices import editable

    invoice = sandbox.invoice_get(world.account, invoice_id)
    body = editable.credit_note_body(invoice, [editable.ReturnedLine(0, "1")], "OTHER", "Hecha en Alegra",
                                     "2025-03-21")
    body["client"] = invoice["client"]["id"]
    body["observations"] = observations
    return sandbox.credit_note_create(world.account, body)


def credit_note_posts(world) -> int:
    return writes_to(world.account, "/credit-notes", "POST")


def codes(rows) -> list[str]:
    from portal import events

    return [events.code_of(row.history_change_reason) for row in rows.order_by("history_id")]


def test_an_invoice_changed_in_alegra_before_its_credit_note_is_a_conflict_and_no_note_is_made(world, approve):
    change_request = credit_note_request(world)
    push = approve(change_request, world.approver, world.approver2)
    sandbox.invoice_update(world.account, world.invoice.alegra_id, {"observations": "Cambiada en Alegra"})

    outcome = push_module.push_run(push_id=push.pk, client=alegra_client(world.company))

    assert outcome.state == Push.State.CONFLICT
    assert credit_note_posts(world) == 0
    push.refresh_from_db()
    assert (push.state, push.conflict_fields) == (Push.State.CONFLICT, ["observations"])
    assert push.remote_document["observations"] == "Cambiada en Alegra"


def test_a_credit_note_made_in_alegra_before_the_push_is_a_conflict_and_no_second_note_is_made(world, approve):
    change_request = credit_note_request(world)
    push = approve(change_request, world.approver, world.approver2)
    before = sandbox.invoice_get(world.account, world.invoice.alegra_id)["balance"]
    # Someone in Alegra credits the same unit: only what Alegra computes moves (balance).
    outside_credit_note(world, world.invoice.alegra_id, observations="Devolución registrada en Alegra")
    moved = sandbox.invoice_get(world.account, world.invoice.alegra_id)["balance"]
    assert moved != before

    outcome = push_module.push_run(push_id=push.pk, client=alegra_client(world.company))

    assert outcome.state == Push.State.CONFLICT
    assert credit_note_posts(world) == 0  # the portal posted none
    push.refresh_from_db()
    assert push.conflict_fields == ["balance"]
    assert sandbox.invoice_get(world.account, world.invoice.alegra_id)["balance"] == moved


def test_a_credit_note_made_in_alegra_before_an_update_is_a_conflict(world, approve):
    from tests.approvals.pushkit import submit

    push = approve(submit(world.invoice, world.accountant, observations="Nota"), world.approver)
    outside_credit_note(world, world.invoice.alegra_id, observations="hecha en Alegra")

    assert push_module.push_run(push_id=push.pk, client=alegra_client(world.company)).state == Push.State.CONFLICT
    push.refresh_from_db()
    assert push.conflict_fields == ["balance"]


@pytest.mark.parametrize("observations, expected", [
    ("Devolución parcial", "Devolución parcial [enmienda #{pk}]"), (None, "[enmienda #{pk}]"),
])
def test_the_note_carries_its_observations_then_the_request_s_marker(world, approve, observations, expected):
    change_request = credit_note_request(world, observations=observations)
    push = approve(change_request, world.approver, world.approver2)

    assert push_module.push_run(push_id=push.pk, client=alegra_client(world.company)).state == Push.State.APPLIED

    push.refresh_from_db()
    note = sandbox.credit_note_get(world.account, push.result_alegra_id)
    assert note["observations"] == expected.format(pk=change_request.pk)
    # The row keeps Alegra's answer: the note it created.
    assert push.response["id"] == note["id"] and push.response["observations"] == note["observations"]
    # The note's own total, as the approvers saw it; Alegra's answer agrees.
    assert push.expected_total == change_request.old_total - change_request.new_total
    assert push.received_total == push.expected_total and push.totals_mismatch is False
    assert codes(push.history.all())[-1] == "push.applied"


def test_a_retry_after_a_crash_finds_its_note_behind_other_notes_and_does_not_post_again(world, approve):
    change_request = credit_note_request(world)
    push = approve(change_request, world.approver, world.approver2)
    assert push_module.push_run(push_id=push.pk, client=alegra_client(world.company)).state == Push.State.APPLIED
    push.refresh_from_db()
    ours = push.result_alegra_id
    # Since then, newer notes are listed before ours: one on the same invoice made in Alegra,
    # and one that names our request but credits another invoice.
    other_invoice = sandbox.invoice_create(world.account, {
        "date": "2025-03-10", "dueDate": "2025-04-09", "client": world.invoice.client_alegra_id,
        "items": [{"id": 1, "price": "1000", "quantity": "2", "tax": []}]})
    outside_credit_note(world, world.invoice.alegra_id)
    outside_credit_note(world, other_invoice["id"], observations=f"[enmienda #{change_request.pk}]")
    posts = credit_note_posts(world)
    # The worker died after the POST and before recording it: the sweeper hands the row on.
    Push.objects.filter(pk=push.pk).update(state=Push.State.PUSHING, finished_at=None,
                                           heartbeat_at=timezone.now() - timedelta(hours=1))
    ChangeRequest.objects.filter(pk=change_request.pk).update(state=CRState.PUSHING)
    assert push_module.push_sweep() == 1

    assert push_module.push_run(push_id=push.pk, client=alegra_client(world.company)).state == Push.State.APPLIED

    assert credit_note_posts(world) == posts
    push.refresh_from_db()
    assert push.result_alegra_id == ours
    assert codes(push.history.all())[-1] == "push.found_applied"
    assert codes(change_request.history.all())[-1] == "request.found_applied"


def test_a_note_on_the_invoice_made_in_alegra_is_not_taken_for_the_request_s(world, approve):
    change_request = credit_note_request(world)
    push = approve(change_request, world.approver, world.approver2)
    theirs = outside_credit_note(world, world.invoice.alegra_id, observations="Devolución registrada en Alegra")
    # Its own base is the invoice after that note: the request was made after it.
    world.invoice.refresh_from_db()
    ChangeRequest.objects.filter(pk=change_request.pk).update(
        base_document=_as_read_invoice(world), base_hash=_hash(_as_read_invoice(world)))
    revision = revisions.revision_of(ChangeRequest.objects.get(pk=change_request.pk))  # approved as such
    Push.objects.filter(pk=push.pk).update(revision=revision, seal=revisions.seal(change_request.pk, revision))

    assert push_module.push_run(push_id=push.pk, client=alegra_client(world.company)).state == Push.State.APPLIED

    push.refresh_from_db()
    assert push.result_alegra_id != theirs["id"] and push.writes == 1
    assert f"[enmienda #{change_request.pk}]" in sandbox.credit_note_get(world.account, push.result_alegra_id)["observations"]


def _as_read_invoice(world) -> dict:
    from invoices.alegra import loads

    return loads(json.dumps(sandbox.invoice_get(world.account, world.invoice.alegra_id)))


def _hash(document: dict) -> str:
    from invoices import mirror

    return mirror.content_hash(mirror.canonical(document))


class FailingAfter(httpx.BaseTransport):
    """The sandbox, until a given request was answered; from then on, reads of one path fail."""

    def __init__(self, method: str, path_suffix: str, failing: str):
        self.inner = SandboxTransport()
        self.method, self.path_suffix, self.failing = method, path_suffix, failing
        self.tripped = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.rstrip("/")
        if self.tripped and request.method == "GET" and path.endswith(self.failing):
            return httpx.Response(503, json={"message": "no disponible"}, request=request)
        response = self.inner.handle_request(request)
        if request.method == self.method and path.endswith(self.path_suffix):
            self.tripped = True
        return response


def test_a_note_whose_invoice_cannot_be_read_back_is_still_applied(world, approve, caplog):
    change_request = credit_note_request(world)
    push = approve(change_request, world.approver, world.approver2)
    balance_before = world.invoice.balance
    client = client_through(world, FailingAfter("POST", "/credit-notes", f"/invoices/{world.invoice.alegra_id}"))

    assert push_module.push_run(push_id=push.pk, client=client).state == Push.State.APPLIED

    assert credit_note_posts(world) == 1
    world.invoice.refresh_from_db()
    assert world.invoice.balance == balance_before  # the mirror catches up at the next sync
    said = [r.getMessage() for r in caplog.records if r.name == "approvals.services.push_writes"]
    assert len(said) == 1 and said[0].startswith(
        f"invoice {world.invoice.alegra_id} not re-read after its credit note: ")
    assert "503" in said[0]


# --- what a finished push records -------------------------------------------------------------


def test_a_push_records_alegra_s_answer_and_whether_it_wrote_or_found_its_change(world, approve):
    from decimal import Decimal

    from invoices.alegra import loads

    written = approve(submit(world.invoice, world.accountant, observations="Escrita"), world.approver)
    assert push_module.push_run(push_id=written.pk, client=alegra_client(world.company)).state == Push.State.APPLIED
    written.refresh_from_db()
    now = loads(json.dumps(sandbox.invoice_get(world.account, world.invoice.alegra_id)))
    assert written.response["observations"] == "Escrita" and written.response["id"] == now["id"]
    assert written.received_total == Decimal(str(now["total"])) == written.expected_total
    assert codes(written.history.all())[-1] == "push.applied"

    contact, change_request = contact_request(world, mobile="3005550000")
    found = approve(change_request, world.approver)
    change_contact_in_alegra(world, contact.alegra_id, mobile="3005550000")
    assert push_module.push_run(push_id=found.pk, client=alegra_client(world.company)).state == Push.State.APPLIED
    found.refresh_from_db()
    assert found.response["mobile"] == "3005550000" and found.result_alegra_id == str(contact.alegra_id)
    assert codes(found.history.all())[-1] == "push.found_applied"
    assert codes(change_request.history.all())[-1] == "request.found_applied"

    contact2, edited = contact_request(world, mobile="3001110000")
    pushed = approve(edited, world.approver)
    assert push_module.push_run(push_id=pushed.pk, client=alegra_client(world.company)).state == Push.State.APPLIED
    pushed.refresh_from_db()
    assert pushed.response["mobile"] == "3001110000" and pushed.result_alegra_id == str(contact2.alegra_id)
    assert codes(pushed.history.all())[-1] == "push.applied"
    assert codes(edited.history.all())[-1] == "request.applied"


def test_an_invoice_change_found_in_alegra_records_alegra_s_version_without_a_write(world, approve):
    from decimal import Decimal

    change_request = submit(world.invoice, world.accountant, observations="Ya estaba")
    push = approve(change_request, world.approver)
    sandbox.invoice_update(world.account, world.invoice.alegra_id, {"observations": "Ya estaba"})

    assert push_module.push_run(push_id=push.pk, client=alegra_client(world.company)).state == Push.State.APPLIED

    push.refresh_from_db()
    now = sandbox.invoice_get(world.account, world.invoice.alegra_id)
    assert push.response["observations"] == "Ya estaba" and push.writes == 0
    assert push.received_total == Decimal(str(now["total"])) == push.expected_total
    assert codes(push.history.all())[-1] == "push.found_applied"
    world.invoice.refresh_from_db()
    assert world.invoice.document["observations"] == "Ya estaba"
    assert world.invoice.history.order_by("-history_id").first().history_user is None


def test_lines_changed_in_alegra_are_named_as_items_in_the_conflict(world, approve):
    push = approve(submit(world.invoice, world.accountant, observations="Otra nota"), world.approver)
    lines = [dict(line) for line in sandbox.invoice_get(world.account, world.invoice.alegra_id)["items"]]
    lines[0]["quantity"] = "7"
    sandbox.invoice_update(world.account, world.invoice.alegra_id, {"items": lines})

    assert push_module.push_run(push_id=push.pk, client=alegra_client(world.company)).state == Push.State.CONFLICT

    push.refresh_from_db()
    assert "items" in push.conflict_fields and "observations" not in push.conflict_fields
    assert invoice_puts(world.account, world.invoice.alegra_id) == 0  # the push wrote nothing


def test_a_write_whose_rate_limit_slot_is_far_off_is_retried_later_and_made_once(world, approve):
    """The write's check that the push is still its own ran before the rate limit's wait, which had
    no bound: asleep past the stale limit, the worker's push was handed on, the next worker posted
    the note, and the first one posted it again when it woke."""
    from invoices.alegra import AlegraClient
    from invoices.ratelimit import MemoryStore, RateLimiter
    from tests.approvals.pushkit import later
    from tests.clock import FakeClock

    change_request = credit_note_request(world)
    push = approve(change_request, world.approver, world.approver2)
    clock = FakeClock()
    limiter = RateLimiter(MemoryStore(), 150, clock=clock, sleep=clock.sleep)

    class PausedAfterTheRead(SandboxTransport):
        """Another process sharing the credential was told to wait 400 s, just after our read."""

        def handle_request(self, request):
            response = super().handle_request(request)
            if request.method == "GET" and request.url.path.endswith(f"/invoices/{world.invoice.alegra_id}"):
                limiter.pause(AlegraClient.for_company(world.company, limiter=limiter).key, 400)
            return response

    client = AlegraClient.for_company(world.company, http=httpx.Client(transport=PausedAfterTheRead()),
                                      max_attempts=1, max_wait=10.0, limiter=limiter, sleep=lambda s: None)
    outcome = push_module.push_run(push_id=push.pk, client=client)
    assert (outcome.state, credit_note_posts(world), clock.sleeps) == ("retrying", 0, [])
    push.refresh_from_db()
    assert "rate limited" in push.last_message
    later(client, 400)
    plain = AlegraClient.for_company(world.company, max_attempts=1, max_wait=10.0, limiter=limiter,
                                     http=httpx.Client(transport=SandboxTransport()), sleep=lambda s: None)
    assert push_module.push_run(push_id=push.pk, after_attempt=outcome.attempt, client=plain).state == "applied"
    assert credit_note_posts(world) == 1


@pytest.mark.parametrize("forged", ["proposal", "proposal and revision"])
def test_a_proposal_changed_in_the_database_after_its_approval_is_never_written(world, approve, forged):
    """The worker wrote whatever the request held when it ran: with the database login alone, one
    could have an approved push write anything to Alegra with the company's token."""
    push = approve(credit_note_request(world), world.approver, world.approver2)
    change_request = ChangeRequest.objects.get(pk=push.change_request_id)
    forged_note = dict(change_request.proposed_document, observations="PAGAR A LA CUENTA 999")
    ChangeRequest.objects.filter(pk=change_request.pk).update(proposed_document=forged_note)
    if forged == "proposal and revision":  # the revision is a plain hash: anyone can recompute it
        Push.objects.filter(pk=push.pk).update(revision=revisions.revision_of(ChangeRequest.objects.get(pk=change_request.pk)))

    outcome = push_module.push_run(push_id=push.pk, client=alegra_client(world.company))

    assert outcome.state == Push.State.FAILED
    assert credit_note_posts(world) == 0
    push.refresh_from_db()
    assert (push.last_code, push.last_message) == (
        "altered_after_approval", "the change differs from the one approved: nothing was written")
    assert ChangeRequest.objects.get(pk=change_request.pk).state == ChangeRequest.State.FAILED


def test_what_stopped_a_push_on_the_portal_s_side_is_not_said_to_be_alegra_s_answer(client, world, approve):
    """The panel said "Alegra answered" before the portal's own words, in English on a Spanish page."""
    from django.urls import reverse

    push = approve(credit_note_request(world), world.approver, world.approver2)
    change_request = ChangeRequest.objects.get(pk=push.change_request_id)
    ChangeRequest.objects.filter(pk=change_request.pk).update(
        proposed_document=dict(change_request.proposed_document, observations="otra"))
    push_module.push_run(push_id=push.pk, client=alegra_client(world.company))
    client.force_login(world.accountant)
    page = client.get(reverse("approvals:request_detail", args=[world.company.pk, change_request.pk]),
                      HTTP_ACCEPT_LANGUAGE="es").content.decode()
    said = page.split('data-testid="push-error">')[1].split("</p>")[0]
    assert "El cambio difiere del aprobado: no se escribió nada en Alegra." in said
    assert "Alegra respondió" not in said and "nothing was written" not in said


def test_the_approver_reads_a_credit_note_by_its_own_amount(client, world):
    """The inbox showed the invoice's total before and after the note, the request page only the
    balance, which on a paid invoice does not move: two figures that seemed to disagree."""
    from django.urls import reverse

    change_request = credit_note_request(world)
    amount = change_request.old_total - change_request.new_total
    assert amount > 0 and change_request.note_amount == amount
    client.force_login(world.approver)
    inbox = client.get(reverse("approvals:approval_inbox", args=[world.company.pk])).content.decode()
    row = inbox.split(f'id="request-{change_request.pk}"')[1].split("</article>")[0]
    assert "Credit note for" in row and "→" not in row
    page = client.get(reverse("approvals:request_detail", args=[world.company.pk, change_request.pk])).content.decode()
    shown = page.split('data-testid="note-amount-head">')[1].split("<")[0]
    assert shown == row.split('data-testid="note-amount">')[1].split("<")[0]
