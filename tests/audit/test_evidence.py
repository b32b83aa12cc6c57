"""The trail as evidence: versions inside the chain, a keyed chain, anchors outside the database.

The attacks are those of someone who holds the database login but not the application's key:
on PostgreSQL they switch user triggers off (`session_replication_role = replica`) where the
attack needs it; on SQLite there are no triggers to switch off.
"""

from __future__ import annotations

import datetime
import importlib
import json
import os

import pytest
from django.apps import apps as django_apps
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from audit import anchors, chain, recorder, services, sessions, tasks, versions
from audit.models import (
    GENESIS_HASH, LEGACY_SCHEME, Action, AuditChain, AuditEntry, AuditVersionLayout,
)
from tests.factories.edit import change_in_alegra
from tests.audit.conftest import entries_after
from tests.audit.test_integrity import POSTGRES, tamper
from tests.factories import make_user

needs_postgres = pytest.mark.skipif(not POSTGRES, reason="the triggers exist on PostgreSQL only")


@pytest.fixture
def versioned(company, invoice):
    change_in_alegra(invoice, observations="Cambiada en Alegra")
    change_in_alegra(invoice, dueDate="2026-12-31")
    return invoice


def version_entry(invoice, index: int) -> AuditEntry:
    history_id = invoice.history.order_by("history_id").values_list("history_id", flat=True)[index]
    return AuditEntry.objects.get(source="invoice", source_id=history_id)


def verify(company):
    return services.chain_verify(company_id=company.pk)


# --- 1. versions inside the chain ----------------------------------------------------------------


def test_each_entry_holds_the_digest_of_the_version_row_it_describes(company, versioned):
    entries = [e for e in entries_after(company) if e.source_id is not None]
    assert {e.source for e in entries} >= {"invoice", "routing_policy", "approval_settings"}
    models = versions.history_models()
    for entry in entries:
        layout = AuditVersionLayout.objects.get(digest=entry.version_layout)
        assert layout.fields == sorted(f.attname for f in models[entry.source]._meta.concrete_fields)
        assert "history_change_reason" in layout.fields and "history_user_id" in layout.fields
        assert entry.version_hash == versions.digests(entry.source, [entry.source_id])[entry.source_id]
    assert verify(company).ok


@pytest.mark.parametrize("column, value", [
    ("due_date", "2030-01-01"),
    ("history_change_reason", "una razón inventada"),
    ("history_date", "2020-01-01T00:00:00+00:00"),
    ("document", '{"id": "1", "observations": "reescrita"}'),
    ("total", "1.00"),
])
def test_a_version_altered_in_sql_is_found_and_named(company, versioned, column, value):
    entry = version_entry(versioned, 1)
    table = versioned.history.model._meta.db_table
    cast = "::jsonb" if column == "document" and POSTGRES else ""
    tamper(f"UPDATE {table} SET {column} = %s{cast} WHERE history_id = %s", [value, entry.source_id])
    report = verify(company)
    assert (report.ok, report.broken_seq, report.checked) == (False, entry.seq, entry.seq - 1)
    assert report.problem == f"entry #{entry.seq}: the invoice version #{entry.source_id} it describes was altered"


def test_a_version_removed_in_sql_is_found(company, versioned):
    entry = version_entry(versioned, 2)
    tamper(f"DELETE FROM {versioned.history.model._meta.db_table} WHERE history_id = %s", [entry.source_id])
    report = verify(company)
    assert (report.ok, report.broken_seq) == (False, entry.seq)
    assert report.problem == f"entry #{entry.seq}: the invoice version #{entry.source_id} it describes is missing"


def test_a_policy_version_altered_is_found_too(company):
    entry = AuditEntry.objects.filter(company=company, source="routing_policy").order_by("seq").first()
    table = versions.history_models()["routing_policy"]._meta.db_table
    tamper(f"UPDATE {table} SET approvals_required = 5 WHERE history_id = %s", [entry.source_id])
    report = verify(company)
    assert report.problem == f"entry #{entry.seq}: the routing_policy version #{entry.source_id} it describes was altered"


def test_versions_written_before_a_column_existed_are_checked_over_the_columns_they_had(company, versioned):
    """A later migration adds a column to a version table: versions recorded before it still verify."""
    from simple_history.signals import post_create_historical_record

    post_create_historical_record.disconnect(dispatch_uid="audit-entries")
    try:  # a version whose entry is written below, as it was before the column existed
        change_in_alegra(versioned, observations="antes de la columna")
    finally:
        post_create_historical_record.connect(recorder.history_row_recorded, dispatch_uid="audit-entries")
    row = versioned.history.order_by("-history_id").first()
    fewer = [name for name in versions.layout(type(row))[1] if name != "due_date"]
    digest = versions.layout_digest(fewer)
    AuditVersionLayout.objects.create(digest=digest, fields=fewer)
    [entry] = chain.append([AuditEntry(
        company=company, at=row.history_date, action=Action.REMOTE_CHANGE, source="invoice",
        source_id=row.history_id, version_layout=digest,
        version_hash=versions.digests("invoice", [row.history_id], fewer)[row.history_id])])
    assert verify(company).ok
    table = versioned.history.model._meta.db_table
    tamper(f"UPDATE {table} SET due_date = %s WHERE history_id = %s", ["2031-01-01", row.history_id])
    assert verify(company).ok  # a column the entry never covered
    tamper(f"UPDATE {table} SET history_change_reason = %s WHERE history_id = %s", ["otra", row.history_id])
    assert verify(company).problem == f"entry #{entry.seq}: the invoice version #{row.history_id} it describes was altered"


def test_a_version_whose_row_was_altered_is_not_restored(client, company, versioned):
    accountant = make_user("ana", company, "accountant")
    entry = version_entry(versioned, 0)
    tamper(f"UPDATE {versioned.history.model._meta.db_table} SET document = %s{'::jsonb' if POSTGRES else ''}"
           " WHERE history_id = %s", [json.dumps({**versioned.document, "observations": "falsa"}), entry.source_id])
    from django.urls import reverse

    client.force_login(accountant)
    response = client.post(reverse("audit:invoice_restore", args=[company.pk, versioned.pk, entry.source_id]),
                           follow=True)
    assert "does not match the audit trail" in response.content.decode()
    assert not versioned.change_requests.exists()


@needs_postgres
def test_postgres_refuses_to_change_remove_or_empty_any_audited_version_table(company, versioned):
    tables = [model._meta.db_table for model in versions.history_models().values()]
    tables += ["audit_auditentry", "audit_auditversionlayout"]
    with_rows = set()
    for table in tables:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")
            if cursor.fetchone()[0]:
                with_rows.add(table)
            cursor.execute(f"SELECT * FROM {table} LIMIT 0")
            column = cursor.description[-1].name
        # Row triggers fire only on rows: UPDATE and DELETE are tried where there are some.
        statements = [f"UPDATE {table} SET {column} = {column}", f"DELETE FROM {table}"] if table in with_rows else []
        for sql in [*statements, f"TRUNCATE {table} CASCADE"]:
            with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), \
                    connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as in a session of its own
                cursor.execute(sql)
    assert {"invoices_historicalinvoice", "approvals_historicalroutingpolicy", "audit_auditentry",
            "audit_auditversionlayout"} <= with_rows
    assert verify(company).ok


@needs_postgres
def test_every_audited_model_s_version_table_carries_the_triggers(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                       "WHERE NOT t.tgisinternal")
        found = set(cursor.fetchall())
    for model in versions.history_models().values():
        table = model._meta.db_table
        assert {(table, "audit_append_only"), (table, "audit_no_truncate")} <= found, table
    assert set(versions.AUDITED) == set(recorder._SOURCES.values())


# --- 2. a chain nobody can rewrite quietly ---------------------------------------------------


@pytest.fixture
def history(company, versioned):
    person = make_user("ines", company, "approver")
    for _ in range(3):
        sessions.login_recorded(user=person, request=RequestFactory().get("/"))
    return entries_after(company)


def test_the_hash_is_keyed_with_the_application_s_key(company, history, settings):
    entry = history[-1]
    fields = {name: getattr(entry, name) for name in chain.HASHED_FIELDS[:-2]}
    assert chain.entry_hash(**fields, prev_hash=entry.prev_hash) == entry.hash
    assert chain.entry_hash(**fields, prev_hash=entry.prev_hash, key=b"another key") != entry.hash
    settings.AUDIT_HMAC_KEY = "x" * 40  # the same tables, checked by someone with another key
    assert verify(company).problem == f"entry #{history[0].seq} was altered"


def test_attack_a_newest_entries_cut_off_and_head_moved_back_is_found_by_the_anchor(company, history):
    call_command("audit_anchor", "--company", str(company.pk))
    kept = history[-3]
    tamper("DELETE FROM audit_auditentry WHERE company_id = %s AND seq > %s", [company.pk, kept.seq])
    tamper("UPDATE audit_auditchain SET last_seq = %s, last_hash = %s WHERE key = %s",
           [kept.seq, kept.hash, company.pk])
    report = verify(company)
    assert (report.ok, report.broken_seq) == (False, kept.seq + 1)
    assert report.problem.startswith(f"the chain ends at entry #{kept.seq}, but entry #{history[-1].seq} was anchored")
    with pytest.raises(CommandError, match="1 of 1 audit chains are broken"):
        call_command("verify_audit", "--company", str(company.pk))
    with pytest.raises(CommandError, match="could not be anchored"):  # never anchored behind the last one
        call_command("audit_anchor", "--company", str(company.pk))


def test_attack_b_text_changed_and_following_hashes_recomputed_without_the_key(company, history):
    victim = len(history) - 4
    previous = history[victim - 1].hash
    for position, entry in enumerate(history[victim:], start=victim):
        fields = {name: getattr(entry, name) for name in chain.HASHED_FIELDS[:-2]}
        if position == victim:
            fields["why"] = "nunca pasó"
        forged = chain.entry_hash(**fields, prev_hash=previous, key=b"the attacker's guess")
        tamper("UPDATE audit_auditentry SET why = %s, prev_hash = %s, hash = %s WHERE id = %s",
               [fields["why"], previous, forged, entry.pk])
        previous = forged
    tamper("UPDATE audit_auditchain SET last_hash = %s WHERE key = %s", [previous, company.pk])
    report = verify(company)
    assert (report.ok, report.broken_seq) == (False, history[victim].seq)
    assert report.problem == f"entry #{history[victim].seq} was altered"


def test_attack_b_with_the_old_unkeyed_hash_is_refused_too(company, history):
    """Forged links marked as written before the key: no entry of this chain may use that hash."""
    victim = history[-2]
    fields = {name: getattr(victim, name) for name in chain.HASHED_FIELDS[:-2]}
    fields.update(why="nunca pasó", scheme=LEGACY_SCHEME)
    forged = chain.entry_hash(**fields, prev_hash=victim.prev_hash)
    tamper("UPDATE audit_auditentry SET why = %s, scheme = 1, hash = %s WHERE id = %s",
           ["nunca pasó", forged, victim.pk])
    report = verify(company)
    assert report.problem == f"entry #{victim.seq} carries the unkeyed hash, but only entries up to #0 may"


def test_attack_b_with_the_unkeyed_hash_and_the_head_s_seal_moved_past_the_end_is_refused(company, history):
    """The seal over the last unkeyed entry is checked at that entry: with the head naming one past
    the end it never was, and every entry could be rewritten with the unkeyed hash."""
    tamper("UPDATE audit_auditchain SET legacy_seq = %s, legacy_mac = '' WHERE key = %s", [10**12, company.pk])
    previous = GENESIS_HASH
    for entry in history:
        fields = {name: getattr(entry, name) for name in chain.HASHED_FIELDS[:-2]}
        fields.update(scheme=LEGACY_SCHEME, why="nunca pasó" if entry.seq == 2 else entry.why)
        forged = chain.entry_hash(**fields, prev_hash=previous)
        tamper("UPDATE audit_auditentry SET why = %s, scheme = 1, prev_hash = %s, hash = %s WHERE id = %s",
               [fields["why"], previous, forged, entry.pk])
        previous = forged
    tamper("UPDATE audit_auditchain SET last_hash = %s WHERE key = %s", [previous, company.pk])
    report = verify(company)
    assert (report.ok, report.checked, report.broken_seq) == (False, 0, history[-1].seq + 1)
    assert report.problem == (f"the chain ends at entry #{history[-1].seq}, but its head says entries up to "
                              f"#{10**12} carry the unkeyed hash")


def test_the_head_s_seal_named_on_a_keyed_entry_is_refused(company, history):
    """Named on a keyed entry, the seal would be checked nowhere."""
    victim = history[-2]
    tamper("UPDATE audit_auditchain SET legacy_seq = %s WHERE key = %s", [victim.seq, company.pk])
    report = verify(company)
    assert (report.ok, report.broken_seq) == (False, victim.seq)
    assert report.problem == f"entry #{victim.seq} is not the last one sealed when the chain was keyed"


@needs_postgres
def test_attack_c_truncate_is_refused_and_the_heads_kept(company, history):
    for sql in ("TRUNCATE audit_auditentry CASCADE", "TRUNCATE audit_auditchain", "DELETE FROM audit_auditchain",
                f"UPDATE audit_auditchain SET last_seq = last_seq - 1 WHERE key = {company.pk}",
                f"UPDATE audit_auditchain SET last_hash = '{GENESIS_HASH}' WHERE key = {company.pk}",
                f"UPDATE audit_auditchain SET legacy_seq = 1 WHERE key = {company.pk}",
                "INSERT INTO audit_auditchain (key, last_seq, last_hash, legacy_seq, legacy_mac) "
                f"VALUES (987654, 5, '{GENESIS_HASH}', 0, '')"):
        with pytest.raises(DatabaseError, match="append-only|only move forward|starts empty|must name an entry"), \
                transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as in a session of its own
            cursor.execute(sql)
    assert verify(company).ok


def test_attack_c_heads_deleted_is_a_failure_not_zero_chains_intact(company, history, capsys):
    tamper("DELETE FROM audit_auditchain", [])
    report = verify(company)
    assert (report.ok, report.checked, report.broken_seq) == (False, 0, 1)
    with pytest.raises(CommandError, match="audit chains are broken"):
        call_command("verify_audit")
    assert f"company {company.pk}: BROKEN at entry #1: the head of the chain is missing" in capsys.readouterr().err


def test_attack_c_entries_and_heads_emptied_is_a_failure(company, history, capsys):
    tamper("DELETE FROM audit_auditentry", [])
    tamper("DELETE FROM audit_auditchain", [])
    report = verify(company)
    assert (report.ok, report.checked, report.broken_seq, report.problem) == (
        False, 0, 1, "the company has history but its audit chain is empty")
    with pytest.raises(CommandError, match="audit chains are broken"):
        call_command("verify_audit")
    assert "the company has history but its audit chain is empty" in capsys.readouterr().err


def test_a_company_without_history_has_an_empty_chain_that_holds(db):
    from portal.models import Company

    company = Company.objects.create(name="Sin historia", base_url="http://x.test/api/v1", api_email="a@x.test")
    report = services.chain_verify(company_id=company.pk)
    assert (report.ok, report.checked) == (True, 0)


# --- anchors -----------------------------------------------------------------------------


def test_verify_audit_anchors_intact_chains_one_signed_line_each_time_the_head_moved(
        company, history, settings, capsys):
    call_command("verify_audit")
    path = anchors.path_of(company.pk)
    [line] = path.read_text().splitlines()
    record = json.loads(line)
    head = AuditChain.objects.get(key=company.pk)
    assert (record["company"], record["seq"], record["hash"]) == (company.pk, head.last_seq, head.last_hash)
    assert len(record["mac"]) == 64 and datetime.datetime.fromisoformat(record["at"])
    call_command("audit_anchor")  # nothing new: no second line
    assert len(path.read_text().splitlines()) == 1
    sessions.login_recorded(user=history[-1].actor, request=RequestFactory().get("/"))
    assert tasks.anchor_all() == "1 chains, 0 refused"
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and lines[0] == line and json.loads(lines[1])["seq"] == head.last_seq + 1
    assert "anchor-audit" in settings.CELERY_BEAT_SCHEDULE
    assert settings.CELERY_BEAT_SCHEDULE["anchor-audit"]["task"] == "audit.tasks.anchor_all"


def test_anchor_files_are_opened_for_appending_only(company, history, monkeypatch):
    opened = []
    original = os.open

    def spy(path, flags, *args):
        opened.append((str(path), flags))
        return original(path, flags, *args)

    monkeypatch.setattr(os, "open", spy)
    anchors.write(company.pk)
    [(path, flags)] = [item for item in opened if item[0].endswith(".jsonl")]
    assert flags & os.O_APPEND and not flags & os.O_TRUNC


def test_an_anchor_not_signed_with_the_key_is_reported(company, history):
    anchors.write(company.pk)
    path = anchors.path_of(company.pk)
    record = json.loads(path.read_text())
    record["seq"] = 1  # as if an anchor could be moved back to suit a shorter chain
    with path.open("a") as handle:
        handle.write(json.dumps(record) + "\n")
    report = verify(company)
    assert not report.ok and "is not signed with this key" in report.problem
    assert (report.checked, report.broken_seq) == (0, None)


def test_an_entry_at_the_anchored_number_with_another_hash_is_found(company, history):
    anchors.write(company.pk)
    last = history[-1]
    fields = {name: getattr(last, name) for name in chain.HASHED_FIELDS[:-2]}
    forged = chain.entry_hash(**{**fields, "why": "otra"}, prev_hash=last.prev_hash)  # even with the key
    tamper("UPDATE audit_auditentry SET why = 'otra', hash = %s WHERE id = %s", [forged, last.pk])
    tamper("UPDATE audit_auditchain SET last_hash = %s WHERE key = %s", [forged, company.pk])
    report = verify(company)
    assert report.problem.startswith(f"entry #{last.seq} is not the one anchored at")
    assert (report.ok, report.checked, report.broken_seq) == (False, last.seq - 1, last.seq)


# --- entries written before the key --------------------------------------------------------


def legacy_chain(company, count: int) -> list[AuditEntry]:
    """Entries as the portal wrote them before the key (plain SHA-256), then sealed by the migration."""
    tamper("DELETE FROM audit_auditentry WHERE company_id = %s", [company.pk])  # a chain older than this test
    tamper("DELETE FROM audit_auditchain WHERE key = %s", [company.pk])
    start = datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC)
    previous, entries = GENESIS_HASH, []
    for seq in range(1, count + 1):
        entry = AuditEntry(company=company, seq=seq, at=start + datetime.timedelta(minutes=seq),
                           action=Action.LOGIN, source="session", why="login", what={"username": "ana"},
                           scheme=LEGACY_SCHEME, prev_hash=previous)
        entry.hash = chain.entry_hash(**{name: getattr(entry, name) for name in chain.HASHED_FIELDS[:-2]},
                                      prev_hash=previous)
        entries.append(entry)
        previous = entry.hash
    entries = AuditEntry.objects.bulk_create(entries)
    migration = importlib.import_module("audit.migrations.0004_keyed_chain_and_versions")
    tamper("INSERT INTO audit_auditchain (key, last_seq, last_hash, legacy_seq, legacy_mac) "
           "VALUES (%s, %s, %s, 0, '')", [company.pk, entries[-1].seq, entries[-1].hash])
    with connection.cursor() as cursor:  # the migration seals before it creates the triggers
        if POSTGRES:
            cursor.execute("SET LOCAL session_replication_role = replica")
        migration.seal_legacy_chains(django_apps, None)
        if POSTGRES:
            cursor.execute("SET LOCAL session_replication_role = origin")
    return entries


def test_entries_written_before_the_key_still_verify_and_new_ones_follow_them(company, db):
    legacy = legacy_chain(company, 5)
    head = AuditChain.objects.get(key=company.pk)
    assert (head.legacy_seq, len(head.legacy_mac)) == (legacy[-1].seq, 64)
    sessions.login_recorded(user=make_user("ana", company, "accountant"), request=RequestFactory().get("/"))
    newest = AuditEntry.objects.get(company=company, seq=legacy[-1].seq + 1)
    assert (newest.scheme, newest.prev_hash) == (2, legacy[-1].hash)
    assert verify(company).ok


def test_an_entry_written_before_the_key_altered_in_place_is_named(company, db):
    legacy = legacy_chain(company, 5)
    tamper("UPDATE audit_auditentry SET why = %s WHERE id = %s", ["reescrita", legacy[2].pk])
    report = verify(company)
    assert (report.ok, report.broken_seq, report.problem) == (False, legacy[2].seq, f"entry #{legacy[2].seq} was altered")
    assert (report.problem.code, report.problem.params) == ("entry_altered", {"seq": legacy[2].seq})


def test_an_entry_written_before_the_key_altered_and_relinked_breaks_the_seal(company, db):
    legacy = legacy_chain(company, 5)
    previous = legacy[1].prev_hash
    for position, entry in enumerate(legacy[1:], start=1):
        fields = {name: getattr(entry, name) for name in chain.HASHED_FIELDS[:-2]}
        if position == 1:
            fields["why"] = "reescrita"
        forged = chain.entry_hash(**fields, prev_hash=previous)
        tamper("UPDATE audit_auditentry SET why = %s, prev_hash = %s, hash = %s WHERE id = %s",
               [fields["why"], previous, forged, entry.pk])
        previous = forged
    tamper("UPDATE audit_auditchain SET last_hash = %s WHERE key = %s", [previous, company.pk])
    report = verify(company)
    assert report.problem == f"entry #{legacy[-1].seq} is not the last one sealed when the chain was keyed"


# --- settings ----------------------------------------------------------------------------


@pytest.mark.parametrize("env, message", [
    ({"DEBUG": "false", "SECRET_KEY": "s" * 50}, "AUDIT_HMAC_KEY must be set"),
    ({"AUDIT_HMAC_KEY": "short"}, "AUDIT_HMAC_KEY must be at least 32"),
    ({"SECRET_KEY": "k" * 40, "AUDIT_HMAC_KEY": "k" * 40}, "AUDIT_HMAC_KEY must differ from SECRET_KEY"),
    ({"AUDIT_ANCHOR_EVERY_MINUTES": "often"}, "AUDIT_ANCHOR_EVERY_MINUTES"),
])
def test_the_audit_key_is_parsed_strictly(env, message):
    from tests.portal.test_settings import _check

    result = _check({"ENMIENDA_TESTING": "", **env})
    assert result.returncode != 0 and message in result.stderr


def test_migrate_stores_the_layout_of_every_version_table(db):
    """So an append never has to insert one while another writer holds a chain head."""
    stored = set(AuditVersionLayout.objects.values_list("digest", flat=True))
    assert {versions.layout(model)[0] for model in versions.history_models().values()} <= stored


def _layout_inserts(captured) -> list[str]:
    table = AuditVersionLayout._meta.db_table
    return [q["sql"] for q in captured.captured_queries
            if q["sql"].startswith("INSERT") and f'"{table}"' in q["sql"].split("(")[0]]


def test_an_append_stores_the_layout_of_its_versions_once_per_process(db, django_capture_on_commit_callbacks):
    from django.test.utils import CaptureQueriesContext

    model = versions.history_models()["invoice"]
    versions.layouts_forget()
    with CaptureQueriesContext(connection) as first, django_capture_on_commit_callbacks(execute=True):
        versions.layouts_store([model])
    with CaptureQueriesContext(connection) as again:
        assert versions.layouts_store([model]) == {model: versions.layout(model)[0]}
    assert len(_layout_inserts(first)) == 1 and _layout_inserts(again) == []
    # A store that rolled back is not remembered: the next one writes the layout again.
    versions.layouts_forget()
    with pytest.raises(RuntimeError), transaction.atomic():
        versions.layouts_store([model])
        raise RuntimeError("rolled back")
    with CaptureQueriesContext(connection) as after_rollback:
        versions.layouts_store([model])
    assert len(_layout_inserts(after_rollback)) == 1


def test_a_flush_stores_again_the_layouts_it_emptied(transactional_db):
    model = versions.history_models()["invoice"]
    versions.layouts_store([model])  # committed at once: remembered
    call_command("flush", interactive=False, verbosity=0)
    assert AuditVersionLayout.objects.filter(digest=versions.layout(model)[0]).exists()
