"""The exact bytes each hash of the audit chain covers.

Entries already written must verify after any release, so the canonical text an entry's hash
is taken over is fixed: its field names, their order (sorted), the compact separators, text
kept as UTF-8 (not \\u escapes) and times in UTC with microseconds. These tests spell that
text out by hand and hash it with the standard library, so a change to the format (which
would still verify on its own, new entries against new code) is caught here.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from decimal import Decimal

import pytest
from simple_history.signals import post_create_historical_record

from audit import chain, hooks, recorder, versions
from audit.models import (
    SYSTEM_CHAIN,
    Action,
    AuditChain,
    AuditEntry,
    AuditVersionLayout,
)
from tests.audit.test_integrity import tamper
from tests.factories.edit import make_invoice

KEY = b"k" * 32
BOGOTA = datetime.timezone(datetime.timedelta(hours=-5))
FIELDS = {"company_id": 3, "seq": 12, "at": datetime.datetime(2025, 6, 2, 10, 4, 5, 123456, tzinfo=BOGOTA),
          "actor_id": 7, "on_behalf_of": "Ana", "action": "approved", "invoice_id": 41, "change_request_id": 9,
          "source": "decision", "source_id": 55, "why": "razón", "what": {"total": "1"}, "prev_hash": "ab" * 32}
CANONICAL = ('{"action":"approved","actor":7,"at":"2025-06-02T15:04:05.123456Z","change_request":9,"company":3,'
             '"invoice":41,"on_behalf_of":"Ana","prev":"' + "ab" * 32 + '","seq":12,"source":"decision",'
             '"source_id":55,"what":{"total":"1"},"why":"razón"')


def mac(text: str) -> str:
    return hmac.new(KEY, text.encode(), hashlib.sha256).hexdigest()


def test_the_keyed_hash_covers_this_exact_text():
    text = CANONICAL.replace('"seq":12,', '"scheme":2,"seq":12,').replace(
        ',"what"', ',"version":["lay","ver"],"what"') + "}"
    assert chain.entry_hash(**FIELDS, version_layout="lay", version_hash="ver", key=KEY) == mac(text)
    no_version = text.replace('["lay","ver"]', '["",""]')
    assert chain.entry_hash(**FIELDS, key=KEY) == mac(no_version)  # an entry that describes no version


def test_the_unkeyed_hash_of_entries_older_than_the_key_covers_this_exact_text():
    expected = hashlib.sha256((CANONICAL + "}").encode()).hexdigest()
    assert chain.entry_hash(**FIELDS, scheme=1) == expected


def test_an_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="unknown hash scheme 3"):
        chain.entry_hash(**FIELDS, scheme=3, key=KEY)


def test_the_seal_of_the_entries_older_than_the_key_covers_this_exact_text():
    text = '{"hash":"' + "cd" * 32 + '","legacy_seal":3,"seq":5}'
    assert chain.legacy_seal(3, 5, "cd" * 32, key=KEY) == mac(text)


def test_what_is_stored_is_plain_json_without_nul_characters():
    what = {"a\x00b": ["c\x00", {"d": "e\x00f"}], "total": Decimal("1.50"), "day": datetime.date(2025, 6, 2)}
    assert chain.storable_what(what) == {"ab": ["c", {"d": "ef"}], "total": "1.50", "day": "2025-06-02"}
    assert chain.storable_what(None) == {}


@pytest.mark.django_db
def test_an_append_cleans_and_bounds_what_it_stores_and_refuses_naive_times(company):
    entry = AuditEntry(company=company, at=FIELDS["at"], action="login", source="session", why="a\x00b",
                       on_behalf_of="x" * 250, what={"k\x00": "v"})
    (written,) = chain.append([entry])
    written.refresh_from_db()
    assert (written.why, written.on_behalf_of, written.what) == ("ab", "x" * 200, {"k": "v"})
    bare = AuditEntry(company=company, at=FIELDS["at"], action="login", source="session", why=None,
                      on_behalf_of=None)
    (written,) = chain.append([bare])
    assert (written.why, written.on_behalf_of) == ("", "")
    naive = AuditEntry(company=company, at=datetime.datetime(2025, 6, 2), action="login", source="session")
    with pytest.raises(ValueError, match="^audit times must be aware$"):
        chain.append([naive])
    assert AuditChain.objects.get(key=company.pk).last_seq == written.seq


# --- the chain around the hashes ------------------------------------------------------------------


def login(company, **changes) -> AuditEntry:
    return AuditEntry(**{"company": company, "at": FIELDS["at"], "action": Action.LOGIN, "source": "session",
                         **changes})


@pytest.mark.django_db
def test_the_system_chain_holds_only_the_entries_of_no_company(company):
    assert chain.verify(SYSTEM_CHAIN).ok  # empty, and no company's history is its own
    chain.append([login(company), login(None)])
    report = chain.verify(SYSTEM_CHAIN)
    assert (report.ok, report.checked) == (True, 1)
    assert {SYSTEM_CHAIN, company.pk} <= set(chain.chain_keys())
    tamper("DELETE FROM audit_auditchain WHERE key = %s", [SYSTEM_CHAIN])
    report = chain.verify(SYSTEM_CHAIN)
    assert (report.ok, report.problem) == (False, "the head of the chain is missing, but its entries are not")


@pytest.mark.django_db
def test_the_layer_above_hears_of_every_entry_appended(company):
    heard: list = []
    hooks.on_entries_appended(heard.extend)
    try:
        written = chain.append([login(company), login(company)])
    finally:
        hooks._entries_appended.remove(heard.extend)
    assert heard == written and len(written) == 2


@pytest.mark.django_db
def test_an_entry_naming_a_version_that_does_not_exist_is_refused(company):
    with pytest.raises(ValueError, match="^no invoice version #999999 to describe$"):
        chain.append([login(company, source="invoice", source_id=999999)])


@pytest.mark.django_db
def test_a_chain_longer_than_a_batch_verifies_across_batches(company, monkeypatch):
    monkeypatch.setattr(chain, "BATCH", 2)
    chain.append([login(company, source_id=n) for n in range(5)])  # numbered sessions describe no version
    report = chain.verify(company.pk)
    assert report.ok and report.checked == AuditChain.objects.get(key=company.pk).last_seq


@pytest.mark.django_db
def test_a_version_entry_stripped_of_its_digest_with_the_key_is_found(company):
    chain.append([login(company)])  # an entry that describes no version, before those that do
    make_invoice(company)
    last = AuditEntry.objects.filter(company=company).order_by("-seq").first()
    assert last.source in versions.AUDITED and last.version_hash
    fields = {name: getattr(last, name) for name in chain.HASHED_FIELDS[:-2]}
    forged = chain.entry_hash(**{**fields, "version_hash": ""}, prev_hash=last.prev_hash)
    tamper("UPDATE audit_auditentry SET version_hash = '', hash = %s WHERE id = %s", [forged, last.pk])
    tamper("UPDATE audit_auditchain SET last_hash = %s WHERE key = %s", [forged, company.pk])
    report = chain.verify(company.pk)
    assert (report.ok, report.problem) == (False, f"entry #{last.seq} does not cover the version it describes")


@pytest.mark.django_db
def test_versions_whose_columns_are_not_on_record_are_found(company):
    first = AuditEntry.objects.filter(company=company, source__in=list(versions.AUDITED),
                                      source_id__isnull=False).order_by("seq").first()
    tamper("DELETE FROM audit_auditversionlayout", [])
    report = chain.verify(company.pk)
    assert (report.ok, report.broken_seq) == (False, first.seq)
    assert report.problem == f"entry #{first.seq}: the columns of its {first.source} version are not on record"


@pytest.mark.django_db
def test_a_layout_on_record_that_no_longer_matches_its_digest_is_found(company):
    tamper("UPDATE audit_auditversionlayout SET fields = %s", ['["history_id"]'])
    report = chain.verify(company.pk)
    assert not report.ok and report.problem.endswith("it describes is missing")


@pytest.mark.django_db
def test_a_layout_naming_a_column_the_table_does_not_have_is_not_on_record(company):
    post_create_historical_record.disconnect(dispatch_uid="audit-entries")
    try:  # a version without its entry, which is written below
        invoice = make_invoice(company)
    finally:
        post_create_historical_record.connect(recorder.history_row_recorded, dispatch_uid="audit-entries")
    row = invoice.history.order_by("-history_id").first()
    names = ["history_id", "no_such_column"]
    digest = versions.layout_digest(names)
    AuditVersionLayout.objects.create(digest=digest, fields=names)
    [entry] = chain.append([login(company, action=Action.REMOTE_CHANGE, source="invoice",
                                  source_id=row.history_id, version_layout=digest, version_hash="0" * 64)])
    report = chain.verify(company.pk)
    assert report.problem == f"entry #{entry.seq}: the columns of its invoice version are not on record"
