"""What a push leaves behind when it stops: on the row, on the request, in the mirror, in Alegra,
and in the notifications; and how the sweeper hands on, or gives up, a push whose worker died.

A worker that dies mid-push is played by an exception that no code of the push catches (a
process killed between two lines), raised right after the push read Alegra.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from alegra_sandbox import services as sandbox
from approvals.models import ChangeRequest, Push
from approvals.services import push as push_module
from approvals.services.decisions import push_retry
from portal import events
from portal.models import Notification
from tests.approvals.pushkit import (  # noqa: F401 (fixtures)
    ScriptedTransport,
    alegra_client,
    approve,
    invoice_puts,
    mirrored_invoice,
    run_push,
    sandbox_pushes,
    submit,
    world,
)
from tests.approvals.test_push_guarantees import AfterTransport, client_through

CRState = ChangeRequest.State


class WorkerDied(BaseException):
    """The worker's process ends between two lines (killed, out of memory): nothing after runs."""


def dying_client(world, invoice=None):
    """A client whose worker dies right after it read the invoice from Alegra."""

    def die(response):
        raise WorkerDied

    invoice = invoice or world.invoice
    return client_through(world, AfterTransport("GET", f"/invoices/{invoice.alegra_id}", die))


def attempt_and_die(world, push, *, after_attempt=None, invoice=None):
    with pytest.raises(WorkerDied):
        push_module.push_run(push_id=push.pk, after_attempt=after_attempt, client=dying_client(world, invoice))


def without_date(response: httpx.Response) -> httpx.Response:
    """Alegra's answer with its date dropped: a version the mirror cannot keep."""
    body = response.json()
    body.pop("date")
    return httpx.Response(200, json=body, request=response.request)


def unavailable_client(world, invoice=None, status: int = 503, body: dict | None = None, *, verb: str = "GET",
                       headers: dict | None = None):
    """A client to which Alegra answers one request on the invoice with an error (then the sandbox answers)."""
    transport = ScriptedTransport()
    transport.answer(verb, f"/invoices/{(invoice or world.invoice).alegra_id}", status,
                     body if body is not None else {"message": "No disponible"}, headers=headers)
    return alegra_client(world.company, http=httpx.Client(transport=transport))




def last_reason(rows) -> events.Reason:
    return events.parse(rows.order_by("-history_id").first().history_change_reason)


def told(world, change_request, kind: str) -> dict[str, dict]:
    """The notifications of `kind` about the request, by the username of whom they went to."""
    return {n.user.username: n.params for n in Notification.objects.filter(
        kind=kind, params__number=change_request.pk).select_related("user")}


def sweep(hours: float, **kwargs) -> int:
    return push_module.push_sweep(now=timezone.now() + timedelta(hours=hours), **kwargs)


# --- giving up: a push whose worker keeps dying --------------------------------------------------


def test_a_push_whose_worker_died_on_its_last_attempt_is_given_up_and_everyone_is_told(
        world, approve, settings, django_capture_on_commit_callbacks):
    settings.PUSH_MAX_ATTEMPTS = 2
    change_request = submit(world.invoice, world.accountant, observations="Nunca termina")
    push = approve(change_request, world.approver)
    before = sandbox.invoice_get(world.account, world.invoice.alegra_id)["observations"]

    attempt_and_die(world, push)
    push.refresh_from_db()
    assert (push.state, push.attempts) == (Push.State.PUSHING, 1)
    # One attempt left: the sweeper hands the row on.
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert sweep(1) == 1
    assert len(queued) == 1
    push.refresh_from_db()
    assert push.state == Push.State.QUEUED
    assert last_reason(push.history) == events.Reason("push.resent", {"why": "worker_lost"})

    attempt_and_die(world, push)
    # No attempt left: the sweeper gives up instead of sending it again.
    assert sweep(2) == 0

    push.refresh_from_db()
    change_request.refresh_from_db()
    assert (push.state, push.attempts, push.writes) == (Push.State.FAILED, 2, 0)
    assert push.finished_at is not None
    assert push.last_message == "interrumpido demasiadas veces"
    assert last_reason(push.history) == events.Reason("push.gave_up", {"attempts": 2})
    assert change_request.state == CRState.FAILED
    assert last_reason(change_request.history) == events.Reason("request.interrupted")
    # The requester and the approver hear of it, with the reason.
    notes = told(world, change_request, "request.failed")
    assert set(notes) == {"ana", "pedro"}
    assert {params["message"] for params in notes.values()} == {"interrumpido demasiadas veces"}
    # Nothing reached Alegra, and a finished push stays finished.
    assert invoice_puts(world.account, world.invoice.alegra_id) == 0
    assert sandbox.invoice_get(world.account, world.invoice.alegra_id)["observations"] == before
    assert sweep(3) == 0
    assert push_module.push_run(push_id=push.pk, client=alegra_client(world.company)).state == Push.State.FAILED
    assert invoice_puts(world.account, world.invoice.alegra_id) == 0

    # The retry button gives it attempts again, and it goes through once.
    with django_capture_on_commit_callbacks(execute=False):
        push_retry(change_request=change_request, user=world.accountant)
    assert push_module.push_run(push_id=push.pk, client=alegra_client(world.company)).state == Push.State.APPLIED
    assert invoice_puts(world.account, world.invoice.alegra_id) == 1


def test_giving_up_keeps_the_last_answer_alegra_gave(world, approve, settings):
    settings.PUSH_MAX_ATTEMPTS = 2
    change_request = submit(world.invoice, world.accountant, observations="Tras un 503")
    push = approve(change_request, world.approver)
    first = push_module.push_run(push_id=push.pk, client=unavailable_client(world))
    assert first.state == Push.State.RETRYING
    attempt_and_die(world, push, after_attempt=first.attempt)
    assert sweep(1) == 0

    push.refresh_from_db()
    assert (push.state, push.last_status, push.last_message) == (Push.State.FAILED, 503, "No disponible")
    assert last_reason(push.history) == events.Reason("push.gave_up", {"attempts": 2})
    notes = told(world, change_request, "request.failed")
    assert set(notes) == {"ana", "pedro"} and notes["ana"]["message"] == "No disponible"


# --- the sweeper: what it hands on, what it leaves, and a row that changed after it was listed ---


def test_the_sweeper_hands_on_only_rows_still_lost_when_it_locks_them(world, approve, settings):
    """Between listing the rows and locking each one, workers go on: a row a worker took, a
    retry just scheduled, a row sent again or finished meanwhile is left alone, with the same
    cut-offs as the listing; the rows after it are still handed on."""
    settings.PUSH_STALE_AFTER_SECONDS, settings.PUSH_REQUEUE_AFTER_SECONDS = 300, 600
    stale, requeue = timedelta(seconds=300), timedelta(seconds=600)
    invoices = [world.invoice] + [mirrored_invoice(world.company, world.account) for _ in range(7)]
    pushes = [approve(submit(invoice, world.accountant, observations=f"Barrido {n}"), world.approver)
              for n, invoice in enumerate(invoices)]
    # The sweeper goes from the newest row to the oldest.
    lost_retry, finished, retried, resent, alive, never_stamped, no_heartbeat, last_try = pushes
    for push in (lost_retry, retried):
        invoice = invoices[pushes.index(push)]
        assert push_module.push_run(push_id=push.pk, client=unavailable_client(world, invoice)).state == "retrying"
    for push in (finished, alive, last_try):
        if push is last_try:
            Push.objects.filter(pk=push.pk).update(max_attempts=1)
        attempt_and_die(world, push, invoice=invoices[pushes.index(push)])
    Push.objects.filter(pk=never_stamped.pk).update(queued_at=None)
    Push.objects.filter(pk=no_heartbeat.pk).update(state=Push.State.PUSHING, heartbeat_at=None, attempts=1)
    ChangeRequest.objects.filter(pk=no_heartbeat.change_request_id).update(state=CRState.PUSHING)
    now = timezone.now() + timedelta(hours=1)

    def meanwhile(sender, instance, **kwargs):
        # Once the sweeper is at work (it listed every row above), other workers act.
        if meanwhile.done:
            return
        meanwhile.done = True
        Push.objects.filter(pk=finished.pk).update(state=Push.State.APPLIED, finished_at=now)
        Push.objects.filter(pk=retried.pk).update(next_attempt_at=now - requeue)
        Push.objects.filter(pk=resent.pk).update(queued_at=now - requeue)
        Push.objects.filter(pk=alive.pk).update(heartbeat_at=now - stale)

    meanwhile.done = False
    from django.db.models.signals import post_save

    post_save.connect(meanwhile, sender=Push)
    try:
        assert push_module.push_sweep(now=now) == 3
    finally:
        post_save.disconnect(meanwhile, sender=Push)

    assert meanwhile.done
    rows = {push.pk: Push.objects.get(pk=push.pk) for push in pushes}
    assert rows[last_try.pk].state == Push.State.FAILED
    assert last_reason(last_try.history) == events.Reason("push.gave_up", {"attempts": 1})
    for push, why in ((no_heartbeat, "worker_lost"), (never_stamped, "not_picked"), (lost_retry, "retry_lost")):
        assert (rows[push.pk].state, rows[push.pk].queued_at) == (Push.State.QUEUED, now)
        assert last_reason(push.history) == events.Reason("push.resent", {"why": why})
    assert (rows[alive.pk].state, rows[alive.pk].heartbeat_at) == (Push.State.PUSHING, now - stale)
    assert (rows[resent.pk].state, rows[resent.pk].queued_at) == (Push.State.QUEUED, now - requeue)
    assert (rows[retried.pk].state, rows[retried.pk].next_attempt_at) == (Push.State.RETRYING, now - requeue)
    assert rows[finished.pk].state == Push.State.APPLIED
    for push in (alive, resent, retried, finished):
        assert events.code_of(push.history.order_by("-history_id").first().history_change_reason) != "push.resent"


def test_the_sweeper_s_own_cut_offs_replace_the_settings(world, approve, settings):
    settings.PUSH_STALE_AFTER_SECONDS, settings.PUSH_REQUEUE_AFTER_SECONDS = 300, 600
    queued = approve(submit(world.invoice, world.accountant, observations="En cola"), world.approver)
    other = mirrored_invoice(world.company, world.account)
    pushing = approve(submit(other, world.accountant, observations="En curso"), world.approver)
    attempt_and_die(world, pushing, invoice=other)
    now = timezone.now() + timedelta(seconds=100)

    # By the settings, neither is lost yet (queued 100 s ago, a heartbeat 100 s old).
    assert push_module.push_sweep(now=now) == 0
    assert push_module.push_sweep(now=now, stale=timedelta(seconds=150), requeue=timedelta(seconds=150)) == 0
    assert push_module.push_sweep(now=now, stale=timedelta(seconds=50), requeue=timedelta(seconds=50)) == 2
    assert last_reason(queued.history) == events.Reason("push.resent", {"why": "not_picked"})
    assert last_reason(pushing.history) == events.Reason("push.resent", {"why": "worker_lost"})


# --- attempts: each one claimed, numbered and told ------------------------------------------------


def reasons(rows) -> list[events.Reason]:
    return [events.parse(row.history_change_reason) for row in rows.order_by("history_id")]


def test_each_attempt_is_numbered_in_the_history_and_a_retry_runs_only_when_due_or_asked(world, approve):
    change_request = submit(world.invoice, world.accountant, observations="Al segundo intento")
    push = approve(change_request, world.approver)
    assert push_module.push_run(push_id=push.pk + 1000).state == "missing"  # a row that is gone

    started = timezone.now()
    first = push_module.push_run(push_id=push.pk, client=unavailable_client(world))
    ended = timezone.now()
    assert (first.state, first.attempt) == (Push.State.RETRYING, 1)
    push.refresh_from_db()
    assert started + timedelta(seconds=first.retry_in) <= push.next_attempt_at <= ended + timedelta(
        seconds=first.retry_in)
    assert (push.attempts, push.last_status, push.last_code, push.last_message) == (1, 503, "", "No disponible")
    error = f"Alegra: HTTP 503: No disponible [GET /invoices/{world.invoice.alegra_id}]"
    assert reasons(push.history)[-2:] == [events.Reason("push.attempt", {"attempt": 1}),
                                          events.Reason("push.retrying", {"attempt": 1, "error": error})]
    # A second message for the row before its time does nothing; the retry it scheduled runs.
    assert push_module.push_run(push_id=push.pk, client=alegra_client(world.company)).state == "early"
    assert push_module.push_run(push_id=push.pk, after_attempt=2, client=alegra_client(world.company)).state \
        == "early"
    assert invoice_puts(world.account, world.invoice.alegra_id) == 0
    second = push_module.push_run(push_id=push.pk, after_attempt=first.attempt, client=alegra_client(world.company))

    assert (second.state, second.retry_in, second.attempt) == (Push.State.APPLIED, None, None)
    push.refresh_from_db()
    change_request.refresh_from_db()
    assert (push.attempts, push.writes, push.next_attempt_at) == (2, 1, None)
    # Applied, the last error is cleared.
    assert (push.last_status, push.last_code, push.last_message) == (None, "", "")
    assert push.finished_at is not None and push.finished_at >= ended
    assert [r.code for r in reasons(push.history)][1:] == [
        "push.attempt", "push.retrying", "push.attempt", "push.applied"]
    assert reasons(push.history)[3] == events.Reason("push.attempt", {"attempt": 2})
    # The request is sent once (it stays "sending" between attempts), then applied.
    told_request = reasons(change_request.history)
    assert [r for r in told_request if r.code == "request.sending"] == [
        events.Reason("request.sending", {"attempt": 1})]
    assert told_request[-1] == events.Reason("request.applied")
    assert change_request.state == CRState.APPLIED
    assert set(told(world, change_request, "request.applied")) == {"ana"}


def test_a_429_without_a_reset_waits_a_second_and_other_errors_only_the_backoff(world, approve, settings):
    settings.PUSH_RETRY_BASE_SECONDS, settings.PUSH_RETRY_MAX_SECONDS = "0.1", 300
    push = approve(submit(world.invoice, world.accountant, observations="Sin prisa"), world.approver)

    busy = push_module.push_run(push_id=push.pk, client=unavailable_client(world))
    assert busy.state == Push.State.RETRYING and 0.05 <= busy.retry_in <= 0.1  # no floor of its own
    limited = push_module.push_run(push_id=push.pk, after_attempt=busy.attempt, client=unavailable_client(
        world, status=429, body={"message": "Demasiadas peticiones"}))
    assert limited.state == Push.State.RETRYING and limited.retry_in == 1.0
    push.refresh_from_db()
    assert (push.attempts, push.last_status) == (2, 429)


def test_alegra_s_long_answers_are_cut_to_what_the_push_keeps(world, approve, run_push):
    change_request = submit(world.invoice, world.accountant, observations="Respuestas largas")
    push = approve(change_request, world.approver)
    long_message, long_code = "m" * 2500, "c" * 80
    transport = ScriptedTransport()
    transport.answer("GET", f"/invoices/{world.invoice.alegra_id}", 503, {"message": "n" * 2500})
    transport.answer("PUT", f"/invoices/{world.invoice.alegra_id}", 400, {"code": long_code, "message": long_message})

    outcomes = run_push(push, alegra_client(world.company, http=httpx.Client(transport=transport)))

    assert [o.state for o in outcomes] == [Push.State.RETRYING, Push.State.FAILED]
    push.refresh_from_db()
    change_request.refresh_from_db()
    assert (push.state, push.last_status) == (Push.State.FAILED, 400)
    assert push.finished_at is not None
    assert push.last_code == long_code[:60] and push.last_message == long_message[:2000]
    retrying, failed = [r for r in reasons(push.history) if r.code in ("push.retrying", "push.failed")]
    assert retrying.params["error"] == ("Alegra: HTTP 503: " + "n" * 2500)[:1000]
    assert failed == events.Reason("push.failed", {"error": (f"Alegra: HTTP 400, code {long_code}: "
                                                             + long_message)[:1000]})
    assert reasons(change_request.history)[-1] == events.Reason(
        "request.failed", {"status": 400, "code": long_code, "message": long_message[:1000]})
    assert change_request.state == CRState.FAILED
    notes = told(world, change_request, "request.failed")
    assert set(notes) == {"ana", "pedro"}
    assert notes["ana"]["status"] == 400 and notes["ana"]["code"] == long_code[:60]
    assert notes["ana"]["message"] == long_message[:500]


# --- a worker whose row was handed on records nothing ---------------------------------------------


def handed_on_meanwhile(response):
    """The worker stalls past its heartbeat after this answer; the sweeper hands its row on."""
    assert push_module.push_sweep(now=timezone.now() + timedelta(hours=1)) == 1


def test_an_error_after_the_row_was_handed_on_is_not_recorded(world, approve):
    change_request = submit(world.invoice, world.accountant, observations="Lenta")
    push = approve(change_request, world.approver)

    def then_unavailable(response):
        handed_on_meanwhile(response)
        return httpx.Response(503, json={"message": "No disponible"}, request=response.request)

    slow = client_through(world, AfterTransport("GET", f"/invoices/{world.invoice.alegra_id}", then_unavailable))
    assert push_module.push_run(push_id=push.pk, client=slow).state == "superseded"

    push.refresh_from_db()
    change_request.refresh_from_db()
    assert (push.state, push.last_status, push.last_message, push.next_attempt_at) == (
        Push.State.QUEUED, None, "", None)
    assert reasons(push.history)[-1] == events.Reason("push.resent", {"why": "worker_lost"})
    assert change_request.state == CRState.PUSHING
    # The next worker pushes it, once.
    assert push_module.push_run(push_id=push.pk, client=alegra_client(world.company)).state == Push.State.APPLIED
    assert invoice_puts(world.account, world.invoice.alegra_id) == 1


def test_a_conflict_found_after_the_row_was_handed_on_is_not_recorded(world, approve):
    change_request = submit(world.invoice, world.accountant, observations="Lenta")
    push = approve(change_request, world.approver)
    sandbox.invoice_update(world.account, world.invoice.alegra_id, {"observations": "Cambiada en Alegra"})

    slow = client_through(world, AfterTransport("GET", f"/invoices/{world.invoice.alegra_id}", handed_on_meanwhile))
    assert push_module.push_run(push_id=push.pk, client=slow).state == "superseded"

    push.refresh_from_db()
    change_request.refresh_from_db()
    assert (push.state, push.conflict_fields, push.remote_document) == (Push.State.QUEUED, [], None)
    assert change_request.state == CRState.PUSHING
    assert Notification.objects.filter(kind="request.conflict").count() == 0
    assert invoice_puts(world.account, world.invoice.alegra_id) == 0


def test_a_write_whose_row_was_handed_on_meanwhile_is_found_by_the_next_worker_not_written_again(world, approve):
    change_request = submit(world.invoice, world.accountant, observations="Escrita una vez")
    push = approve(change_request, world.approver)

    slow = client_through(world, AfterTransport("PUT", f"/invoices/{world.invoice.alegra_id}", handed_on_meanwhile))
    assert push_module.push_run(push_id=push.pk, client=slow).state == "superseded"

    push.refresh_from_db()
    change_request.refresh_from_db()
    assert (push.state, push.writes, push.finished_at) == (Push.State.QUEUED, 1, None)
    assert change_request.state == CRState.PUSHING
    assert Notification.objects.filter(kind="request.applied").count() == 0

    assert push_module.push_run(push_id=push.pk, client=alegra_client(world.company)).state == Push.State.APPLIED
    push.refresh_from_db()
    assert (push.state, push.attempts, push.writes) == (Push.State.APPLIED, 2, 1)
    assert invoice_puts(world.account, world.invoice.alegra_id) == 1
    # The write was this push's (an attempt of it wrote), so the mirror's version is the requester's.
    world.invoice.refresh_from_db()
    latest = world.invoice.history.order_by("-history_id").first()
    assert latest.history_user == world.accountant
    assert events.code_of(latest.history_change_reason) == "push.wrote"


# --- the fence before a write -----------------------------------------------------------------------


def test_the_write_renews_the_heartbeat_so_the_sweeper_leaves_a_slow_worker_s_row_alone(world, approve):
    push = approve(submit(world.invoice, world.accountant, observations="Sin prisa"), world.approver)
    seen = []

    def sweep_during_the_write(response):
        seen.append(Push.objects.values_list("heartbeat_at", flat=True).get(pk=push.pk))
        seen.append(push_module.push_sweep())

    # Claimed long ago (a slow read): by its claim alone the row would look abandoned.
    claimed_at = timezone.now() - timedelta(hours=1)
    writing = client_through(world, AfterTransport("PUT", f"/invoices/{world.invoice.alegra_id}",
                                                   sweep_during_the_write))
    before = timezone.now()
    assert push_module.push_run(push_id=push.pk, client=writing, now=claimed_at).state == Push.State.APPLIED

    heartbeat, swept = seen
    assert heartbeat >= before and swept == 0
    push.refresh_from_db()
    assert (push.attempts, push.writes) == (1, 1)
    assert invoice_puts(world.account, world.invoice.alegra_id) == 1


def test_two_pushes_in_flight_at_once_each_write_once(world, approve):
    first = approve(submit(world.invoice, world.accountant, observations="La primera"), world.approver)
    other = mirrored_invoice(world.company, world.account)
    second = approve(submit(other, world.accountant, observations="La segunda"), world.approver)

    def the_other_worker_starts(response):
        # While this push reads, another worker claims the other push (same attempt number).
        attempt_and_die(world, second, invoice=other)

    client = client_through(world, AfterTransport("GET", f"/invoices/{world.invoice.alegra_id}",
                                                  the_other_worker_starts))
    assert push_module.push_run(push_id=first.pk, client=client).state == Push.State.APPLIED

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.state, first.attempts, first.writes) == (Push.State.APPLIED, 1, 1)
    assert (second.state, second.attempts, second.writes) == (Push.State.PUSHING, 1, 0)
    assert invoice_puts(world.account, world.invoice.alegra_id) == 1
    assert sandbox.invoice_get(world.account, world.invoice.alegra_id)["observations"] == "La primera"


# --- what the mirror and the row keep -------------------------------------------------------------


def test_an_answer_that_cannot_be_mirrored_leaves_the_push_to_retry_and_the_retry_finds_it(world, approve):
    change_request = submit(world.invoice, world.accountant, observations="Respuesta rota")
    push = approve(change_request, world.approver)

    client = client_through(world, AfterTransport("PUT", f"/invoices/{world.invoice.alegra_id}", without_date))
    first = push_module.push_run(push_id=push.pk, client=client)

    assert first.state == Push.State.RETRYING
    push.refresh_from_db()
    assert (push.state, push.last_status, push.writes) == (Push.State.RETRYING, 200, 1)
    assert push.last_message == "respuesta de Alegra inválida: the invoice has no date"
    world.invoice.refresh_from_db()
    assert world.invoice.document["observations"] != "Respuesta rota"  # nothing of the answer was kept

    second = push_module.push_run(push_id=push.pk, after_attempt=first.attempt, client=alegra_client(world.company))
    assert second.state == Push.State.APPLIED
    assert invoice_puts(world.account, world.invoice.alegra_id) == 1
    world.invoice.refresh_from_db()
    assert world.invoice.document["observations"] == "Respuesta rota"


def test_a_conflict_records_alegra_s_version_the_fields_and_tells_everyone(world, approve):
    change_request = submit(world.invoice, world.accountant, observations="Nuestra nota")
    push = approve(change_request, world.approver)
    sandbox.invoice_update(world.account, world.invoice.alegra_id, {"observations": "La de Alegra"})

    assert push_module.push_run(push_id=push.pk, client=alegra_client(world.company)).state == Push.State.CONFLICT

    push.refresh_from_db()
    change_request.refresh_from_db()
    import json

    from invoices import mirror
    from invoices.alegra import loads

    remote = loads(json.dumps(sandbox.invoice_get(world.account, world.invoice.alegra_id)))
    assert push.remote_document == mirror.canonical(remote)
    assert (push.state, push.conflict_fields, push.writes) == (Push.State.CONFLICT, ["observations"], 0)
    assert push.finished_at is not None
    assert reasons(push.history)[-1] == events.Reason("push.conflict", {"fields": ["observations"]})
    assert reasons(change_request.history)[-1] == events.Reason("request.conflict", {"fields": ["observations"]})
    assert set(told(world, change_request, "request.conflict")) == {"ana", "pedro"}
    world.invoice.refresh_from_db()
    latest = world.invoice.history.order_by("-history_id").first()
    assert latest.history_user is None
    assert events.parse(latest.history_change_reason) == events.Reason(
        "push.read", {"request": change_request.pk, "found": "changed"})


def test_a_conflict_with_a_version_the_mirror_cannot_keep_is_still_recorded(world, approve, caplog):
    change_request = submit(world.invoice, world.accountant, observations="Nuestra nota")
    push = approve(change_request, world.approver)

    client = client_through(world, AfterTransport("GET", f"/invoices/{world.invoice.alegra_id}", without_date))
    assert push_module.push_run(push_id=push.pk, client=client).state == Push.State.CONFLICT

    push.refresh_from_db()
    assert "date" in push.conflict_fields and "date" not in push.remote_document
    said = [r.getMessage() for r in caplog.records if r.name == "approvals.services.push"]
    assert said == [f"Alegra's version of request {change_request.pk} not mirrored: the invoice has no date"]
    assert invoice_puts(world.account, world.invoice.alegra_id) == 0


def test_the_mirror_s_version_is_the_push_s_only_when_this_push_wrote(world, approve):
    from tests.approvals.test_push_guarantees import (
        change_contact_in_alegra,
        contact_request,
    )

    # One push writes; another, on another invoice, finds its change already made in Alegra.
    # A long reason, as typed (a reason may have 2000 characters): the history keeps 500, on one line.
    typed = "Lo pidió  el cliente,\npor correo. " + "Detalle " * 100
    wrote = submit(world.invoice, world.accountant, observations="Escrita", reason=typed)
    assert push_module.push_run(push_id=approve(wrote, world.approver).pk,
                                client=alegra_client(world.company)).state == Push.State.APPLIED
    other = mirrored_invoice(world.company, world.account)
    found = submit(other, world.accountant, observations="Ya estaba")
    found_push = approve(found, world.approver)
    sandbox.invoice_update(world.account, other.alegra_id, {"observations": "Ya estaba"})
    assert push_module.push_run(push_id=found_push.pk, client=alegra_client(world.company)).state == Push.State.APPLIED

    world.invoice.refresh_from_db()
    other.refresh_from_db()
    ours = world.invoice.history.order_by("-history_id").first()
    assert ours.history_user == world.accountant
    assert events.parse(ours.history_change_reason) == events.Reason("push.wrote", {
        "request": wrote.pk, "approvers": world.approver.get_full_name(),
        "reason": ("Lo pidió el cliente, por correo. " + "Detalle " * 100)[:500]})
    theirs = other.history.order_by("-history_id").first()
    assert theirs.history_user is None
    assert events.parse(theirs.history_change_reason) == events.Reason(
        "push.read", {"request": found.pk, "found": "already"})

    # The same for contacts.
    contact, edited = contact_request(world, mobile="3001112233")
    assert push_module.push_run(push_id=approve(edited, world.approver).pk,
                                client=alegra_client(world.company)).state == Push.State.APPLIED
    latest = contact.history.order_by("-history_id").first()
    assert latest.history_user == world.accountant
    assert events.code_of(latest.history_change_reason) == "push.wrote"
    contact, already = contact_request(world, mobile="3004445566")
    already_push = approve(already, world.approver)
    change_contact_in_alegra(world, contact.alegra_id, mobile="3004445566")
    assert push_module.push_run(push_id=already_push.pk, client=alegra_client(world.company)).state \
        == Push.State.APPLIED
    latest = contact.history.order_by("-history_id").first()
    assert latest.history_user is None
    assert events.parse(latest.history_change_reason) == events.Reason(
        "push.read", {"request": already.pk, "found": "already"})


def test_a_conflict_names_at_most_fifty_fields(world, approve):
    """However much Alegra's version moved, the row, the history and the notice keep fifty names."""
    change_request = submit(world.invoice, world.accountant, observations="Nuestra nota")
    push = approve(change_request, world.approver)
    added = [f"campo{n:02}" for n in range(60)]

    def grown(response):
        body = response.json()
        body.update({name: "nuevo" for name in added})
        return httpx.Response(200, json=body, request=response.request)

    client = client_through(world, AfterTransport("GET", f"/invoices/{world.invoice.alegra_id}", grown))
    assert push_module.push_run(push_id=push.pk, client=client).state == Push.State.CONFLICT

    push.refresh_from_db()
    change_request.refresh_from_db()
    assert push.conflict_fields == added[:50]
    assert reasons(push.history)[-1] == events.Reason("push.conflict", {"fields": added[:50]})
    assert reasons(change_request.history)[-1] == events.Reason("request.conflict", {"fields": added[:50]})


def test_a_slow_worker_does_not_write_once_another_worker_holds_its_row(world, approve):
    change_request = submit(world.invoice, world.accountant, observations="Una sola vez")
    push = approve(change_request, world.approver)

    def taken_over(response):
        # The first worker stalls; the sweeper hands the row on and a second worker claims it
        # (and is still at work when the first one wakes up).
        handed_on_meanwhile(response)
        attempt_and_die(world, push)

    slow = client_through(world, AfterTransport("GET", f"/invoices/{world.invoice.alegra_id}", taken_over))
    assert push_module.push_run(push_id=push.pk, client=slow).state == "superseded"

    push.refresh_from_db()
    assert (push.state, push.attempts, push.writes) == (Push.State.PUSHING, 2, 0)
    assert invoice_puts(world.account, world.invoice.alegra_id) == 0


def test_a_push_s_own_client_asks_alegra_once_per_attempt(world, approve, sandbox_pushes):
    """The push retries, reading again each time; its client does not retry a call by itself."""
    from alegra_sandbox.models import SandboxRequestLog

    push = approve(submit(world.invoice, world.accountant, observations="Con su cliente"), world.approver)
    sandbox.faults_set(world.account, error_rate="1", seed=7)
    before = SandboxRequestLog.objects.filter(account=world.account).count()

    outcome = push_module.push_run(push_id=push.pk)  # no client given: the worker's own

    assert (outcome.state, outcome.attempt) == (Push.State.RETRYING, 1)
    assert SandboxRequestLog.objects.filter(account=world.account).count() == before + 1
    sandbox.faults_clear(world.account)
    assert push_module.push_run(push_id=push.pk, after_attempt=1).state == Push.State.APPLIED


def test_an_answer_that_cannot_be_mirrored_on_the_last_attempt_fails_the_push_and_says_why(
        world, approve, settings):
    settings.PUSH_MAX_ATTEMPTS = 1
    change_request = submit(world.invoice, world.accountant, observations="Respuesta rota")
    push = approve(change_request, world.approver)

    client = client_through(world, AfterTransport("PUT", f"/invoices/{world.invoice.alegra_id}", without_date))
    assert push_module.push_run(push_id=push.pk, client=client).state == Push.State.FAILED

    push.refresh_from_db()
    change_request.refresh_from_db()
    why = "respuesta de Alegra inválida: the invoice has no date"
    assert (push.state, push.last_status, push.last_message) == (Push.State.FAILED, 200, why)
    assert change_request.state == CRState.FAILED
    assert reasons(change_request.history)[-1] == events.Reason("request.failed", {"status": 200, "message": why})
    assert set(told(world, change_request, "request.failed")) == {"ana", "pedro"}


# --- who the pushed version names -----------------------------------------------------------------


def wrote_reason(invoice) -> events.Reason:
    invoice.refresh_from_db()
    return events.parse(invoice.history.order_by("-history_id").first().history_change_reason)


def test_the_pushed_version_names_the_people_or_the_policy_that_approved_this_revision(world, approve):
    from approvals.services.decisions import conflict_rebase
    from approvals.services.policies import auto_rule_save

    # Two people, for a credit note.
    from tests.approvals.test_push_guarantees import credit_note_request

    note = credit_note_request(world)
    note_push = approve(note, world.approver, world.approver2)
    assert push_module.push_run(push_id=note_push.pk, client=alegra_client(world.company)).state == Push.State.APPLIED
    assert wrote_reason(world.invoice).params["approvers"] == "Pedro, Lucia"

    # Only those who approved the revision pushed: not the approval of the version before a re-base.
    other = mirrored_invoice(world.company, world.account)
    change_request = submit(other, world.accountant, observations="Entregar en bodega 2")
    first = approve(change_request, world.approver)
    sandbox.invoice_update(world.account, other.alegra_id, {"dueDate": "2025-05-30"})
    assert push_module.push_run(push_id=first.pk, client=alegra_client(world.company)).state == Push.State.CONFLICT
    rebased = conflict_rebase(change_request=change_request, user=world.accountant)
    second = approve(rebased, world.approver2)
    assert push_module.push_run(push_id=second.pk, client=alegra_client(world.company)).state == Push.State.APPLIED
    assert wrote_reason(other).params["approvers"] == "Lucia"

    # Nor the approval of another request that proposed the very same (a failed one, withdrawn).
    from approvals.services.requests import request_cancel

    fourth = mirrored_invoice(world.company, world.account)
    withdrawn = submit(fourth, world.accountant, observations="La misma nota")
    refused = ScriptedTransport()
    refused.answer("PUT", f"/invoices/{fourth.alegra_id}", 400, {"code": 3061, "message": "No se puede modificar."})
    assert push_module.push_run(push_id=approve(withdrawn, world.approver).pk, client=alegra_client(
        world.company, http=httpx.Client(transport=refused))).state == Push.State.FAILED
    request_cancel(change_request=withdrawn, user=world.accountant)
    again = submit(fourth, world.accountant, observations="La misma nota")
    again_push = approve(again, world.approver2)
    assert again_push.revision == withdrawn.pushes.get().revision
    assert push_module.push_run(push_id=again_push.pk, client=alegra_client(world.company)).state == Push.State.APPLIED
    assert wrote_reason(fourth).params["approvers"] == "Lucia"

    # A policy.
    auto_rule_save(company=world.company, user=world.manager, name="Solo notas", kind="notes_only", is_active=True)
    third = mirrored_invoice(world.company, world.account)
    by_policy = submit(third, world.accountant, observations="Nota aprobada sola")
    assert by_policy.state == CRState.APPROVED
    push = by_policy.pushes.get()
    assert push_module.push_run(push_id=push.pk, client=alegra_client(world.company)).state == Push.State.APPLIED
    assert wrote_reason(third).params["approvers"] == "policy Solo notas"


def test_the_sweeper_leaves_alone_a_row_whose_worker_is_reading_alegra(world, approve):
    push = approve(submit(world.invoice, world.accountant, observations="En curso"), world.approver)
    swept = []

    def sweep_meanwhile(response):
        swept.append(push_module.push_sweep())

    reading = client_through(world, AfterTransport("GET", f"/invoices/{world.invoice.alegra_id}", sweep_meanwhile))
    assert push_module.push_run(push_id=push.pk, client=reading).state == Push.State.APPLIED

    assert swept == [0]
    push.refresh_from_db()
    assert (push.attempts, push.writes) == (1, 1)
    assert invoice_puts(world.account, world.invoice.alegra_id) == 1
