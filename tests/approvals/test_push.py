"""The push to Alegra (the in-process sandbox): re-read first, write once, never over a change."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from alegra_sandbox import services as sandbox
from approvals.models import ChangeRequest, Push
from approvals.services import push as push_module
from approvals.services.decisions import conflict_rebase, push_retry, request_decide
from approvals.services.requests import request_save_and_submit
from invoices import editable
from invoices.models import Contact, Invoice
from invoices.sync import invoice_store
from portal import events
from tests.approvals.pushkit import (  # noqa: F401 (fixtures)
    _as_read,
    ScriptedTransport, alegra_client, approve, invoice_puts, run_push, sandbox_pushes, submit, world, writes_to,
)

CRState = ChangeRequest.State


def sandbox_doc(world, invoice=None):
    return sandbox.invoice_get(world.account, (invoice or world.invoice).alegra_id)


# --- the happy path ------------------------------------------------------------------------


def test_final_approval_pushes_once_and_the_history_says_who_and_why(
        world, sandbox_pushes, django_capture_on_commit_callbacks, mailoutbox):
    change_request = submit(world.invoice, world.accountant, observations="Entregado en bodega 2",
                            reason="El cliente pidió anotar la bodega")
    with django_capture_on_commit_callbacks(execute=True):
        request_decide(change_request=change_request, user=world.approver, outcome="approve", comment="ok")

    change_request.refresh_from_db()
    push = change_request.pushes.get()
    assert push.state == Push.State.APPLIED and push.writes == 1 and push.attempts == 1
    assert change_request.state == CRState.APPLIED
    assert sandbox_doc(world)["observations"] == "Entregado en bodega 2"
    assert invoice_puts(world.account, world.invoice.alegra_id) == 1

    world.invoice.refresh_from_db()
    assert world.invoice.document["observations"] == "Entregado en bodega 2"
    latest = world.invoice.history.order_by("-history_id").first()
    assert latest.history_user == world.accountant
    told = events.describe(latest.history_change_reason)
    assert "Pedro" in told and "bodega" in told and told.startswith(f"pushed by request #{change_request.pk}")
    subjects = [m.subject for m in mailoutbox]
    assert any("approved" in s or "aprobada" in s for s in subjects)
    assert any("applied" in s or "aplicada" in s for s in subjects)


def test_the_put_carries_only_editable_fields_and_whole_lines(world, approve, run_push):
    lines = [dict(line) for line in world.invoice.document["items"]]
    lines[0]["quantity"] = "3"
    change_request = submit(world.invoice, world.accountant, items=lines, observations="Tres bultos")
    push = approve(change_request, world.approver)
    transport = ScriptedTransport()
    from httpx import Client

    run_push(push, alegra_client(world.company, http=Client(transport=transport)))

    assert push.state == Push.State.APPLIED
    (body,) = transport.sent("PUT", f"/invoices/{world.invoice.alegra_id}")
    sent = json.loads(body)
    assert set(sent) <= editable.EDITABLE_FIELDS
    assert set(sent) == {"observations", "items"}
    assert len(sent["items"]) == len(lines)
    assert all("total" not in line for line in sent["items"])
    assert not {"total", "subtotal", "tax", "balance"} & set(sent)
    # What the approver saw is what Alegra computed.
    assert push.totals_mismatch is False
    assert push.received_total == change_request.new_total


def test_a_retry_after_the_answer_was_lost_finds_the_change_applied_and_writes_nothing(world, approve, run_push):
    change_request = submit(world.invoice, world.accountant, observations="Nota nueva")
    push = approve(change_request, world.approver)
    # The first attempt's PUT reached Alegra, then the worker died before recording it.
    sandbox.invoice_update(world.account, world.invoice.alegra_id, {"observations": "Nota nueva"})
    puts_before = invoice_puts(world.account, world.invoice.alegra_id)

    run_push(push, alegra_client(world.company))

    assert push.state == Push.State.APPLIED
    assert push.writes == 0
    assert invoice_puts(world.account, world.invoice.alegra_id) == puts_before
    change_request.refresh_from_db()
    assert change_request.state == CRState.APPLIED


def test_a_finished_push_run_again_does_nothing(world, approve, run_push):
    push = approve(submit(world.invoice, world.accountant, observations="Una vez"), world.approver)
    client = alegra_client(world.company)
    run_push(push, client)
    assert push_module.push_run(push_id=push.pk, client=client).state == Push.State.APPLIED
    assert invoice_puts(world.account, world.invoice.alegra_id) == 1


# --- conflicts -----------------------------------------------------------------------------


def test_an_edit_in_alegra_between_approval_and_push_is_a_conflict_and_nothing_is_written(
        world, approve, run_push):
    change_request = submit(world.invoice, world.accountant, observations="Lo que pidió contabilidad")
    push = approve(change_request, world.approver)
    # Somebody edits the invoice in Alegra's own screen meanwhile.
    sandbox.invoice_update(world.account, world.invoice.alegra_id, {"observations": "Lo que escribió ventas"})

    run_push(push, alegra_client(world.company))

    assert push.state == Push.State.CONFLICT
    assert push.writes == 0 and "observations" in push.conflict_fields
    assert push.remote_document["observations"] == "Lo que escribió ventas"
    assert invoice_puts(world.account, world.invoice.alegra_id) == 0
    assert sandbox_doc(world)["observations"] == "Lo que escribió ventas"
    change_request.refresh_from_db()
    assert change_request.state == CRState.CONFLICT
    world.invoice.refresh_from_db()
    assert world.invoice.document["observations"] == "Lo que escribió ventas"  # the mirror learnt it


def test_rebase_after_a_conflict_goes_back_to_approval_and_keeps_both_changes(world, approve, run_push):
    change_request = submit(world.invoice, world.accountant, observations="Entregar en bodega 2")
    push = approve(change_request, world.approver)
    sandbox.invoice_update(world.account, world.invoice.alegra_id, {"dueDate": "2025-05-30"})
    run_push(push, alegra_client(world.company))
    assert push.state == Push.State.CONFLICT

    rebased = conflict_rebase(change_request=change_request, user=world.accountant)
    assert rebased.state == CRState.PENDING
    assert rebased.base_document["dueDate"] == "2025-05-30"
    # The approval given to the old version does not count for the new one.
    assert rebased.decisions.count() == 1
    second = Push.objects.filter(change_request=rebased).exclude(pk=push.pk)
    assert not second.exists()

    approve(rebased, world.approver2)
    second = Push.objects.exclude(pk=push.pk).get(change_request=rebased)
    run_push(second, alegra_client(world.company))
    assert second.state == Push.State.APPLIED
    now = sandbox_doc(world)
    assert now["observations"] == "Entregar en bodega 2" and now["dueDate"] == "2025-05-30"


def test_a_payment_registered_in_alegra_meanwhile_is_a_conflict(world, approve, run_push):
    push = approve(submit(world.invoice, world.accountant, observations="x"), world.approver)
    sandbox.invoice_pay(world.account, world.invoice.alegra_id, Decimal("100"))
    run_push(push, alegra_client(world.company))
    assert push.state == Push.State.CONFLICT
    assert invoice_puts(world.account, world.invoice.alegra_id) == 0


# --- failures and retries -------------------------------------------------------------------


def test_a_4xx_fails_at_once_with_alegras_code_and_spanish_message(
        world, approve, run_push, django_capture_on_commit_callbacks, mailoutbox):
    change_request = submit(world.invoice, world.accountant, observations="Nueva")
    push = approve(change_request, world.approver)
    transport = ScriptedTransport()
    transport.answer("PUT", f"/invoices/{world.invoice.alegra_id}", 400,
                     {"code": 3061, "message": "La factura tiene un pago asociado y no se puede modificar."})
    from httpx import Client

    outcomes = run_push(push, alegra_client(world.company, http=Client(transport=transport)))

    assert [o.state for o in outcomes] == [Push.State.FAILED]
    assert push.attempts == 1 and push.last_status == 400 and push.last_code == "3061"
    assert "no se puede modificar" in push.last_message
    change_request.refresh_from_db()
    assert change_request.state == CRState.FAILED
    failed_mail = [m for m in mailoutbox if "#%s" % change_request.pk in m.subject and "3061" in m.body]
    # The requester and the approver each get their own e-mail.
    assert {"ana@example.com", "pedro@example.com"} <= {address for m in failed_mail for address in m.to}

    # The retry button sends it again; Alegra takes it this time.
    with django_capture_on_commit_callbacks(execute=False):
        push_retry(change_request=change_request, user=world.accountant)
    push.refresh_from_db()
    assert push.state == Push.State.QUEUED
    run_push(push, alegra_client(world.company))
    assert push.state == Push.State.APPLIED
    assert invoice_puts(world.account, world.invoice.alegra_id) == 1


def test_5xx_and_timeouts_retry_with_growing_jittered_delays_then_apply(world, approve, run_push):
    push = approve(submit(world.invoice, world.accountant, observations="Tras varios intentos"), world.approver)
    transport = ScriptedTransport()
    transport.answer("GET", f"/invoices/{world.invoice.alegra_id}", 503, {"message": "No disponible"}, times=2)
    transport.answer("PUT", f"/invoices/{world.invoice.alegra_id}", 500, {"message": "Error interno"}, times=1)
    from httpx import Client

    outcomes = run_push(push, alegra_client(world.company, http=Client(transport=transport)))

    assert [o.state for o in outcomes] == ["retrying", "retrying", "retrying", "applied"]
    delays = [o.retry_in for o in outcomes[:-1]]
    base = push_module.retry_base_seconds()
    for attempt, delay in enumerate(delays, start=1):
        assert base * 2 ** (attempt - 1) * 0.5 <= delay <= base * 2 ** (attempt - 1)
    assert push.attempts == 4 and push.writes == 2
    assert invoice_puts(world.account, world.invoice.alegra_id) == 1


def test_a_429_waits_at_least_for_the_rate_limit_reset(world, approve, run_push):
    push = approve(submit(world.invoice, world.accountant, observations="Con paciencia"), world.approver)
    transport = ScriptedTransport()
    transport.answer("GET", f"/invoices/{world.invoice.alegra_id}", 429, {"message": "Demasiadas peticiones"},
                     headers={"X-Rate-Limit-Limit": "150", "X-Rate-Limit-Remaining": "0",
                              "X-Rate-Limit-Reset": "37"})
    from httpx import Client

    outcomes = run_push(push, alegra_client(world.company, http=Client(transport=transport)))
    assert outcomes[0].state == "retrying" and outcomes[0].retry_in >= 37
    assert push.state == Push.State.APPLIED


def test_attempts_are_bounded_then_the_push_fails_with_a_retry_button(world, approve, run_push, settings):
    settings.PUSH_MAX_ATTEMPTS = 3
    change_request = submit(world.invoice, world.accountant, observations="Nunca llega")
    push = approve(change_request, world.approver)
    transport = ScriptedTransport()
    transport.answer("GET", f"/invoices/{world.invoice.alegra_id}", 503, {"message": "No disponible"}, times=99)
    from httpx import Client

    outcomes = run_push(push, alegra_client(world.company, http=Client(transport=transport)))
    assert [o.state for o in outcomes] == ["retrying", "retrying", "failed"]
    assert push.last_status == 503
    change_request.refresh_from_db()
    assert change_request.state == CRState.FAILED


def test_a_totals_difference_in_alegras_answer_is_flagged(world, approve, run_push):
    change_request = submit(world.invoice, world.accountant, observations="Totales")
    push = approve(change_request, world.approver)
    ChangeRequest.objects.filter(pk=change_request.pk).update(new_total=Decimal("2831.00"))
    run_push(push, alegra_client(world.company))
    assert push.state == Push.State.APPLIED
    assert push.totals_mismatch is True
    assert push.expected_total == Decimal("2831.00") and push.received_total == Decimal("2830.00")


# --- credit notes and contacts -------------------------------------------------------------


def credit_note_request(world):
    note = editable.credit_note_body(world.invoice.document, [editable.ReturnedLine(0, "1")], "OTHER",
                                     "Devolución de una unidad", "2025-03-20")
    change_request = request_save_and_submit(invoice=world.invoice, user=world.accountant, proposed=note,
                                             reason="El cliente devolvió un bulto", kind="credit_note")
    from approvals.services.submission import request_submitted

    request_submitted(change_request=change_request)
    change_request.refresh_from_db()
    return change_request


def test_a_credit_note_is_created_once_even_when_the_push_is_run_again_after_a_crash(world, approve, run_push):
    change_request = credit_note_request(world)
    push = approve(change_request, world.approver, world.approver2)  # credit notes need two
    run_push(push, alegra_client(world.company))
    assert push.state == Push.State.APPLIED and push.writes == 1
    note = sandbox.credit_note_get(world.account, push.result_alegra_id)
    assert f"[enmienda #{change_request.pk}]" in note["observations"]
    assert writes_to(world.account, "/credit-notes", "POST") == 1
    world.invoice.refresh_from_db()
    assert world.invoice.balance < world.invoice.total  # the mirror re-read the invoice

    # The worker died after the POST and before recording it: the sweeper hands the row on.
    Push.objects.filter(pk=push.pk).update(state=Push.State.PUSHING, finished_at=None,
                                           heartbeat_at=timezone.now() - timedelta(hours=1))
    ChangeRequest.objects.filter(pk=change_request.pk).update(state=CRState.PUSHING)
    assert push_module.push_sweep() == 1
    push.refresh_from_db()
    run_push(push, alegra_client(world.company))
    assert push.state == Push.State.APPLIED
    assert writes_to(world.account, "/credit-notes", "POST") == 1


def test_a_note_on_a_paid_invoice_is_pushed_as_the_clients_credit_without_a_totals_alarm(world, approve, run_push):
    sandbox.invoice_pay(world.account, world.invoice.alegra_id, sandbox.invoice_get(
        world.account, world.invoice.alegra_id)["balance"])
    invoice_store(company=world.company, source="sync", document=_as_read(
        sandbox.invoice_get(world.account, world.invoice.alegra_id)))
    world.invoice.refresh_from_db()
    assert world.invoice.balance == 0
    change_request = credit_note_request(world)
    push = approve(change_request, world.approver, world.approver2)
    run_push(push, alegra_client(world.company))
    assert push.state == Push.State.APPLIED and not push.totals_mismatch
    note = sandbox.credit_note_get(world.account, push.result_alegra_id)
    assert note["invoices"][0]["amount"] in ("0", "0.00") and note["balance"] == note["total"]
    world.invoice.refresh_from_db()
    assert world.invoice.balance == 0


def test_a_contact_update_sends_the_whole_contact_and_keeps_what_it_did_not_change(world, approve, run_push):
    contact = Contact.objects.get(company=world.company, alegra_id=world.invoice.client_alegra_id)
    proposed = json.loads(json.dumps(contact.document))
    proposed["address"] = {**proposed.get("address", {}), "address": "Calle 100 # 7-33"}
    change_request = request_save_and_submit(invoice=world.invoice, user=world.accountant, proposed=proposed,
                                             reason="Nueva dirección del cliente", kind="contact")
    push = approve(change_request, world.approver)
    run_push(push, alegra_client(world.company))

    assert push.state == Push.State.APPLIED
    now = sandbox.catalogue_document(world.account, "contact", contact.alegra_id)
    assert now["address"]["address"] == "Calle 100 # 7-33"
    assert now["type"] == contact.document["type"] and now["name"] == contact.document["name"]
    contact.refresh_from_db()
    assert contact.document["address"]["address"] == "Calle 100 # 7-33"


# --- the sweeper ---------------------------------------------------------------------------


def test_the_sweeper_resends_rows_whose_message_or_worker_was_lost(world, approve, django_capture_on_commit_callbacks):
    push = approve(submit(world.invoice, world.accountant, observations="Perdido"), world.approver)
    now = timezone.now()
    # Just queued: the broker still has it.
    assert push_module.push_sweep(now=now) == 0
    # Queued long ago and never picked up: lost between commit and broker, or by the broker.
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert push_module.push_sweep(now=now + timedelta(minutes=20)) == 1
    assert len(queued) == 1
    # A worker holding it with a fresh heartbeat is left alone; a stale one is taken back.
    Push.objects.filter(pk=push.pk).update(state=Push.State.PUSHING, heartbeat_at=now, attempts=1)
    assert push_module.push_sweep(now=now + timedelta(seconds=30)) == 0
    assert push_module.push_sweep(now=now + timedelta(minutes=20)) == 1
    push.refresh_from_db()
    assert push.state == Push.State.QUEUED
    # Waiting for a retry whose time passed long ago: the retry message was lost.
    Push.objects.filter(pk=push.pk).update(state=Push.State.RETRYING, next_attempt_at=now)
    assert push_module.push_sweep(now=now + timedelta(seconds=30)) == 0
    assert push_module.push_sweep(now=now + timedelta(minutes=20)) == 1


def test_a_duplicate_message_for_a_row_being_pushed_does_nothing(world, approve):
    push = approve(submit(world.invoice, world.accountant, observations="Doble"), world.approver)
    Push.objects.filter(pk=push.pk).update(state=Push.State.PUSHING, heartbeat_at=timezone.now(), attempts=1)
    outcome = push_module.push_run(push_id=push.pk, client=alegra_client(world.company))
    assert outcome.state == "busy"
    assert invoice_puts(world.account, world.invoice.alegra_id) == 0


def test_the_task_runs_the_push_for_an_id(world, approve, sandbox_pushes, django_capture_on_commit_callbacks):
    from approvals.tasks import push_change

    push = approve(submit(world.invoice, world.accountant, observations="Por la tarea"), world.approver)
    with django_capture_on_commit_callbacks(execute=True):
        assert push_change.delay(push.pk).get() == Push.State.APPLIED
    assert Invoice.objects.get(pk=world.invoice.pk).document["observations"] == "Por la tarea"


def test_delivery_settings_hold_for_the_push_task():
    from django.conf import settings

    from approvals.tasks import push_change

    assert push_change.acks_late is True and push_change.reject_on_worker_lost is True
    # A retry waiting longer than the visibility timeout would be delivered a second time.
    assert push_module.retry_max_seconds() < settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert push_module.stale_after().total_seconds() < settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
