"""The chain: numbered without gaps, linked by hash, append-only, and any tampering found."""

from __future__ import annotations

import copy
import threading
import time

import pytest
from django.contrib import admin
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from audit import chain, recorder, services, sessions, tasks
from audit.models import GENESIS_HASH, AppendOnly, AuditEntry, AuditVerification
from invoices import sync
from tests.audit.conftest import entries_after
from tests.factories import make_user
from portal import events

POSTGRES = connection.vendor == "postgresql"


@pytest.fixture
def history(company, invoice):
    """Six entries: three versions of an invoice and three logins."""
    for note in ("uno", "dos"):
        sync.invoice_store(company=company, document={**invoice.document, "observations": note}, source="sync")
    person = make_user("ines", company, "approver")
    request = RequestFactory().get("/")
    for _ in range(3):
        sessions.login_recorded(user=person, request=request)
    entries = entries_after(company)
    assert len(entries) >= 6
    return entries


def tamper(sql: str, params: list) -> None:
    """Change the table behind the application's back (on PostgreSQL, as a superuser past its trigger)."""
    with connection.cursor() as cursor:
        if POSTGRES:
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        if POSTGRES:
            cursor.execute("SET LOCAL session_replication_role = origin")


def test_entries_are_numbered_without_gaps_and_each_names_the_previous_hash(company, history):
    assert [e.seq for e in history] == list(range(1, len(history) + 1))
    assert history[0].prev_hash == GENESIS_HASH
    for previous, entry in zip(history, history[1:]):
        assert entry.prev_hash == previous.hash
    started = time.perf_counter()
    report = services.chain_verify(company_id=company.pk)
    assert report.ok and report.checked == len(history) and report.broken_seq is None and report.problem == ""
    assert 0 < report.seconds <= time.perf_counter() - started  # the time the verification took
    recorded = AuditVerification.objects.get(chain=company.pk)
    assert (recorded.ok, recorded.checked, recorded.seconds) == (True, len(history), report.seconds)
    assert (recorded.problem, recorded.problem_code, recorded.problem_params) == ("", "", {})


@pytest.mark.parametrize("column, value", [("why", "otra razón"), ("what", '{"total": "1"}'),
                                           ("on_behalf_of", "alguien"), ("action", "approved")])
def test_a_row_altered_in_the_database_is_the_first_broken_link(company, history, column, value):
    victim = history[3]
    tamper(f"UPDATE audit_auditentry SET {column} = %s WHERE id = %s", [value, victim.pk])
    report = services.chain_verify(company_id=company.pk)
    assert not report.ok
    assert (report.broken_seq, report.checked, report.problem) == (victim.seq, victim.seq - 1,
                                                                   f"entry #{victim.seq} was altered")
    recorded = AuditVerification.objects.get(chain=company.pk)
    assert (recorded.ok, recorded.broken_seq, recorded.problem) == (False, victim.seq, report.problem)
    # What the audit page words in its reader's language.
    assert (recorded.problem_code, recorded.problem_params) == ("entry_altered", {"seq": victim.seq})


def test_a_row_altered_with_its_own_hash_recomputed_breaks_the_next_link(company, history):
    victim, following = history[2], history[3]
    fields = {name: getattr(victim, name) for name in chain.HASHED_FIELDS[:-2]}
    fields["why"] = "reescrita"
    forged = chain.entry_hash(**fields, prev_hash=victim.prev_hash)
    tamper("UPDATE audit_auditentry SET why = %s, hash = %s WHERE id = %s", ["reescrita", forged, victim.pk])
    report = services.chain_verify(company_id=company.pk)
    assert (report.ok, report.checked, report.broken_seq) == (False, victim.seq, following.seq)
    assert report.problem == f"entry #{following.seq} does not follow entry #{victim.seq}"


def test_a_row_deleted_in_the_middle_or_at_the_end_is_found(company, history):
    tamper("DELETE FROM audit_auditentry WHERE id = %s", [history[1].pk])
    report = services.chain_verify(company_id=company.pk)
    assert (report.ok, report.checked, report.broken_seq, report.problem) == (False, 1, 2, "entry #2 is missing")


def test_the_last_row_deleted_is_found(company, history):
    tamper("DELETE FROM audit_auditentry WHERE id = %s", [history[-1].pk])
    report = services.chain_verify(company_id=company.pk)
    assert (report.ok, report.broken_seq) == (False, history[-1].seq)


def test_the_application_never_updates_or_deletes_an_entry(company, history):
    entry = history[0]
    entry.why = "otra"
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        entry.delete()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(why="otra")
    with pytest.raises(AppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    model_admin = admin.site._registry[AuditEntry]
    request = RequestFactory().get("/")
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)
    assert services.chain_verify(company_id=company.pk).ok


@pytest.mark.skipif(not POSTGRES, reason="the trigger exists on PostgreSQL only")
def test_postgres_refuses_update_and_delete_of_an_entry(company, history):
    for sql in ("UPDATE audit_auditentry SET why = 'x' WHERE id = %s", "DELETE FROM audit_auditentry WHERE id = %s"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [history[0].pk])
    assert services.chain_verify(company_id=company.pk).ok


def test_verify_audit_command_and_task_report_the_first_broken_link(company, history, capsys):
    call_command("verify_audit")
    assert f"company {company.pk}: {len(history)} entries verified" in capsys.readouterr().out
    assert tasks.verify_all() == "1 chains, 0 broken"

    tamper("UPDATE audit_auditentry SET why = %s WHERE id = %s", ["x", history[4].pk])
    with pytest.raises(CommandError, match="1 of 1 audit chains are broken"):
        call_command("verify_audit", "--company", str(company.pk))
    assert f"BROKEN at entry #{history[4].seq}: entry #{history[4].seq} was altered" in capsys.readouterr().err
    assert tasks.verify_company(company.pk) == f"broken at #{history[4].seq}"
    latest = AuditVerification.objects.filter(chain=company.pk).order_by("-id").first()
    assert (latest.ok, latest.broken_seq) == (False, history[4].seq)
    with pytest.raises(CommandError, match="no company"):
        call_command("verify_audit", "--company", "999999")


@pytest.mark.django_db(transaction=True)
def test_writers_at_the_same_moment_never_fork_the_chain(company, invoice):
    documents = []
    for n in range(4):
        body = copy.deepcopy(invoice.document)
        documents.append(body)
    barrier = threading.Barrier(4)
    errors = []

    def write(n: int) -> None:
        try:
            barrier.wait(timeout=30)
            for round_ in range(5):
                sync.invoice_store(company=company, document={**documents[n], "observations": f"{n}-{round_}"},
                                   source="webhook")
                sessions.login_failed_recorded(username=f"w{n}", request=RequestFactory().get("/"))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    seqs = list(AuditEntry.objects.filter(company=company).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    assert services.chain_verify(company_id=company.pk).ok
    assert services.chain_verify(company_id=None).checked == 20


def test_history_older_than_the_audit_log_is_backfilled_once_in_time_order(company, catalogue, capsys):
    from simple_history.signals import post_create_historical_record

    from tests.factories.edit import change_in_alegra, make_invoice

    post_create_historical_record.disconnect(dispatch_uid="audit-entries")
    try:  # rows written as if the audit log were not installed yet
        invoice = make_invoice(company, number=3)
        change_in_alegra(invoice, observations="antes del registro")
    finally:
        post_create_historical_record.connect(recorder.history_row_recorded, dispatch_uid="audit-entries")
    assert not AuditEntry.objects.filter(invoice=invoice).exists()

    assert recorder.history_backfill() == 2
    entries = list(AuditEntry.objects.filter(invoice=invoice).order_by("seq"))
    assert [(e.action, events.code_of(e.why)) for e in entries] == [("synced", "mirror.sync"), ("remote_change", "mirror.sync")]
    assert entries[1].what["changes"] == ["observations"]
    assert recorder.history_backfill() == 0
    call_command("audit_backfill")
    assert "0 audit entries written" in capsys.readouterr().out
    assert services.chain_verify(company_id=company.pk).ok


def test_a_chain_cut_short_under_a_head_that_kept_its_number_is_found(company, history):
    """The newest entry removed and the head given the hash before it, but not its number."""
    last, before = history[-1], history[-2]
    tamper("DELETE FROM audit_auditentry WHERE id = %s", [last.pk])
    tamper("UPDATE audit_auditchain SET last_hash = %s WHERE key = %s", [before.hash, company.pk])
    report = services.chain_verify(company_id=company.pk)
    assert (report.ok, report.checked, report.broken_seq) == (False, before.seq, last.seq)
    assert report.problem == f"entry #{last.seq} is missing"


def test_a_head_whose_hash_is_not_the_last_entry_s_is_found(company, history):
    """Every entry intact and numbered up to the head, but the head names another hash."""
    last = history[-1]
    tamper("UPDATE audit_auditchain SET last_hash = %s WHERE key = %s", [history[0].hash, company.pk])
    report = services.chain_verify(company_id=company.pk)
    assert (report.ok, report.checked, report.broken_seq) == (False, last.seq, last.seq)
    assert report.problem == f"entry #{last.seq} is not the one the chain ended with"
