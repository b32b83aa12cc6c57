"""The audit log, its exports and the invoice timeline: access, filters, pages, queries, restore."""

from __future__ import annotations

import copy
import csv
import datetime
import io
import json
import re
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from approvals.models import ChangeRequest
from approvals.services.requests import request_save_draft
from audit import chain, services
from audit.models import Action, AuditEntry, AuditVerification
from portal import events
from invoices import sync
from invoices.models import Invoice
from tests.factories.edit import change_in_alegra, make_invoice
from tests.audit.conftest import entries_after
from tests.factories import make_user

UTC = datetime.UTC


@pytest.fixture
def people(company, other_company):
    return SimpleNamespace(
        accountant=make_user("ana", company, "accountant"),
        approver=make_user("pedro", company, "approver"),
        manager=make_user("maria", company, "manager"),
        outsider=make_user("olga", other_company, "manager"),
    )


@pytest.fixture
def versioned(company, invoice):
    """The invoice in three versions: as first read, notes changed in Alegra, then a line changed."""
    change_in_alegra(invoice, observations="Cambiada en Alegra")
    lines = copy.deepcopy(invoice.document["items"])
    lines[1]["quantity"] = "4.00"
    change_in_alegra(invoice, items=lines)
    return invoice


def synthetic(company, count: int, *, people=(), invoices=(), start=None, step=datetime.timedelta(minutes=7),
              same_time_every: int = 1, action=Action.LOGIN):
    """Entries written through the chain (not through history), for volume and paging tests."""
    start = start or datetime.datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    entries = []
    for n in range(count):
        entries.append(AuditEntry(
            company=company, at=start + (n // same_time_every) * step,
            actor=people[n % len(people)] if people and n % 3 else None,
            action=action, source="session", why=f"n{n}", what={"username": f"u{n}", "ip": "127.0.0.1"},
            invoice=invoices[n % len(invoices)] if invoices else None,
        ))
    return chain.append(entries)


def log_url(company, **params):
    from urllib.parse import urlencode

    return reverse("audit:audit_log", args=[company.pk]) + (f"?{urlencode(params)}" if params else "")


def walk(client, company, **params) -> list[int]:
    """Every entry the log shows for these filters, following its "older" links."""
    seqs, cursor = [], None
    for _ in range(100):
        response = client.get(log_url(company, **params, **({"after": cursor} if cursor else {})))
        assert response.status_code == 200
        seqs += [entry.seq for entry in response.context["entries"]]
        cursor = response.context["page"].next_cursor
        if cursor is None:
            return seqs
    raise AssertionError("the pages never ended")


def exported(client, company, fmt: str, **params) -> list[dict]:
    from urllib.parse import urlencode

    url = reverse("audit:audit_export", args=[company.pk, fmt]) + (f"?{urlencode(params)}" if params else "")
    response = client.get(url)
    assert response.status_code == 200 and response.streaming
    body = b"".join(response.streaming_content).decode()
    if fmt == "json":
        return json.loads(body)
    return list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))


# --- who sees what -------------------------------------------------------------------------


def test_managers_see_the_log_members_only_their_invoices_history_outsiders_nothing(
        client, company, people, versioned, other_company):
    log = reverse("audit:audit_log", args=[company.pk])
    export = reverse("audit:audit_export", args=[company.pk, "csv"])
    timeline = reverse("audit:invoice_timeline", args=[company.pk, versioned.pk])
    expected = {
        people.manager: {log: 200, export: 200, timeline: 200},
        people.accountant: {log: 403, export: 403, timeline: 200},
        people.approver: {log: 403, export: 403, timeline: 200},
        people.outsider: {log: 404, export: 404, timeline: 404},
    }
    for user, pages in expected.items():
        client.force_login(user)
        for url, status in pages.items():
            assert client.get(url).status_code == status, (user.username, url)
    # Another company's invoice through one's own company: 404, not a leak.
    theirs = make_invoice(other_company, number=9)
    client.force_login(people.outsider)
    assert client.get(reverse("audit:invoice_timeline", args=[company.pk, theirs.pk])).status_code == 404
    client.force_login(people.manager)
    assert client.get(reverse("audit:invoice_timeline", args=[company.pk, theirs.pk])).status_code == 404
    assert client.get(reverse("audit:audit_export", args=[company.pk, "xml"])).status_code == 404
    client.logout()
    assert client.get(log).status_code == 302


def test_the_nav_shows_the_audit_to_managers_only(client, company, people):
    client.force_login(people.manager)
    assert reverse("audit:audit_log", args=[company.pk]) in client.get(reverse("invoices:invoice_list", args=[company.pk])).content.decode()
    client.force_login(people.accountant)
    assert reverse("audit:audit_log", args=[company.pk]) not in client.get(reverse("invoices:invoice_list", args=[company.pk])).content.decode()


# --- the log -------------------------------------------------------------------------------


def test_the_log_page_and_its_htmx_fragment(client, company, people, versioned):
    client.force_login(people.manager)
    page = client.get(log_url(company))
    html = page.content.decode()
    assert "<html" in html and 'id="audit-results"' in html
    assert "Changed directly in Alegra" in html and "Audit log" in html
    spanish = client.get(log_url(company), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Cambiada directamente en Alegra" in spanish and "Registro de auditoría" in spanish
    assert 'data-action="remote_change"' in html and 'data-testid="audit-badge"' in html
    fragment = client.get(log_url(company, action="remote_change"), HTTP_HX_REQUEST="true",
                          HTTP_HX_TARGET="audit-results")
    body = fragment.content.decode()
    assert "<html" not in body and body.strip().startswith('<div id="audit-results">')
    assert body.count('data-action="remote_change"') == 2 and 'data-action="synced"' not in body


def test_filters_by_action_person_invoice_and_local_days(client, company, people, versioned):
    other = make_invoice(company, number=2)
    bogota = ZoneInfo("America/Bogota")
    # 23:30 on 10 March in Bogotá is already 11 March in UTC: it belongs to the 10th.
    late = datetime.datetime(2026, 3, 10, 23, 30, tzinfo=bogota)
    synthetic(company, 3, people=[people.approver], start=late, step=datetime.timedelta(hours=1))
    client.force_login(people.manager)

    def seqs(**params):
        return set(walk(client, company, **params))

    every = set(AuditEntry.objects.filter(company=company).values_list("seq", flat=True))
    assert seqs() == every
    assert seqs(action="remote_change") == set(AuditEntry.objects.filter(
        company=company, action="remote_change").values_list("seq", flat=True))
    assert seqs(person=str(people.approver.pk)) == set(AuditEntry.objects.filter(
        company=company, actor=people.approver).values_list("seq", flat=True))
    assert seqs(person="system") == set(AuditEntry.objects.filter(
        company=company, actor__isnull=True).values_list("seq", flat=True))
    assert seqs(invoice="FE2") == set(AuditEntry.objects.filter(invoice=other).values_list("seq", flat=True))
    assert seqs(invoice=versioned.alegra_id) == set(AuditEntry.objects.filter(
        invoice=versioned).values_list("seq", flat=True))
    tenth = seqs(date_from="2026-03-10", date_to="2026-03-10")
    assert [AuditEntry.objects.get(company=company, seq=s).at.astimezone(bogota).day for s in tenth] == [10]
    assert len(seqs(date_from="2026-03-11", date_to="2026-03-11")) == 2


@pytest.mark.parametrize("params, message", [
    ({"invoice": "NO-EXISTE"}, "NO-EXISTE"),
    ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "date"),
    ({"date_from": "ayer"}, "date"),
    ({"person": "999999"}, "999999"),
    ({"action": "hacked"}, "hacked"),
    ({"after": "not-a-cursor"}, "link"),
    ({"after": "².1"}, "link"),  # a digit to str.isdigit(), not to int(): a 500
    # One day past the end, or midnight in a zone ahead of UTC, was past what a date holds (a 500).
    ({"date_to": "9999-12-31"}, "years 1900 and 2999"),
    ({"date_from": "0001-01-01"}, "years 1900 and 2999"),
])
def test_bad_filters_say_what_is_wrong_and_show_nothing(client, company, people, versioned, params, message,
                                                        settings):
    settings.LANGUAGE_CODE = "en"
    client.force_login(people.manager)
    response = client.get(log_url(company, **params), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert response.context["page"] is None and response.context["entries"] == []
    assert response.context["form"].errors and message in response.content.decode()
    # Filtering in place swaps only the results: the reason is said there too (it was in the form,
    # which the swap leaves as it was, and the results said only "Correct the filters").
    swapped = client.get(log_url(company, **params), HTTP_ACCEPT_LANGUAGE="en", HTTP_HX_REQUEST="true",
                         HTTP_HX_TARGET="audit-results").content.decode()
    assert 'id="audit-results"' in swapped and "<form" not in swapped
    assert message in swapped.split('data-testid="filter-errors"')[1]
    export = client.get(reverse("audit:audit_export", args=[company.pk, "csv"]) + "?" + "&".join(
        f"{k}={v}" for k, v in params.items()), HTTP_ACCEPT_LANGUAGE="en")
    assert export.status_code == 400 and "filters are not valid" in export.content.decode()


def test_keyset_pages_walk_every_entry_once_even_with_equal_times(client, company, people):
    before = len(entries_after(company))  # the company's default policies
    synthetic(company, 137, people=[people.accountant, people.approver], same_time_every=7)
    client.force_login(people.manager)
    seqs = walk(client, company)
    assert len(seqs) == before + 137 and sorted(seqs) == list(range(1, before + 138))
    newest_first = AuditEntry.objects.filter(company=company).order_by("-at", "-seq").values_list("seq", flat=True)
    assert seqs == list(newest_first)
    assert walk(client, company, person=str(people.approver.pk)) == [
        s for s in seqs if AuditEntry.objects.get(company=company, seq=s).actor_id == people.approver.pk]


def test_the_log_page_costs_the_same_queries_at_any_size(client, company, people, versioned):
    client.force_login(people.manager)
    client.get(log_url(company))  # sessions and caches warmed

    def queries(url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    small = queries(log_url(company))
    invoices = [make_invoice(company, number=n) for n in range(10, 20)]
    synthetic(company, 400, people=[people.accountant, people.approver, people.manager], invoices=invoices)
    services.chain_verify(company_id=company.pk)
    large = queries(log_url(company))
    filtered = queries(log_url(company, person=str(people.approver.pk), action="login"))
    by_invoice = queries(log_url(company, invoice="FE12"))
    # session, user, memberships, people to filter by, the page, the badge (+ the invoice named)
    assert small == large == filtered == by_invoice - 1 == 6


def test_the_badge_shows_the_last_verification(client, company, people, versioned):
    client.force_login(people.manager)
    assert "audit-badge unknown" in client.get(log_url(company)).content.decode()
    services.chain_verify(company_id=company.pk)
    assert "audit-badge ok" in client.get(log_url(company)).content.decode()
    from tests.audit.test_integrity import tamper

    entry = AuditEntry.objects.get(company=company, seq=2)
    tamper("UPDATE audit_auditentry SET why = %s WHERE id = %s", ["x", entry.pk])
    response = client.post(reverse("audit:audit_verify", args=[company.pk]))
    assert response.status_code == 302
    html = client.get(log_url(company)).content.decode()
    assert "audit-badge broken" in html and "#2" in html
    client.force_login(people.accountant)
    assert client.post(reverse("audit:audit_verify", args=[company.pk])).status_code == 403


def test_a_verification_rewritten_in_the_database_is_not_shown_as_intact(client, company, people, versioned):
    """The badge showed whatever the row said: a broken chain recorded as intact read "Verified"."""
    from tests.audit.test_integrity import tamper

    client.force_login(people.manager)
    entry = AuditEntry.objects.get(company=company, seq=2)
    tamper("UPDATE audit_auditentry SET why = %s WHERE id = %s", ["x", entry.pk])
    services.chain_verify(company_id=company.pk)
    recorded = AuditVerification.objects.get(chain=company.pk)
    assert recorded.trusted and "audit-badge broken" in client.get(log_url(company)).content.decode()
    tamper("UPDATE audit_auditverification SET ok = %s, broken_seq = NULL, problem = '' WHERE id = %s",
           [True, recorded.pk])
    html = client.get(log_url(company)).content.decode()
    assert "audit-badge ok" not in html and "audit-badge broken" in html
    assert "The record of the last verification does not hold: verify again." in html


def test_what_broke_the_chain_is_said_in_the_reader_s_language(client, company, people, versioned):
    from tests.audit.test_integrity import tamper

    client.force_login(people.manager)
    entry = AuditEntry.objects.get(company=company, seq=2)
    tamper("UPDATE audit_auditentry SET why = %s WHERE id = %s", ["x", entry.pk])
    services.chain_verify(company_id=company.pk)
    recorded = AuditVerification.objects.get(chain=company.pk)
    # The code and its parameters are kept; the English text too, as the command line prints it.
    assert (recorded.problem_code, recorded.problem_params, recorded.problem) == (
        "entry_altered", {"seq": 2}, "entry #2 was altered")

    def problem(language):
        html = client.get(log_url(company), HTTP_ACCEPT_LANGUAGE=language).content.decode()
        return re.search(r'data-testid="audit-problem">([^<]*)<', html).group(1)

    assert problem("es") == "la entrada #2 fue alterada"
    assert problem("en") == "entry #2 was altered"
    # A version's source is named in words too.
    recorded.problem_code, recorded.problem_params = "version_altered", {"seq": 3, "source": "invoice", "version": 7}
    recorded.save()
    assert problem("es") == "entrada #3: la versión #7 (factura) que describe fue alterada"
    # A verification recorded before problems had codes shows the text it stored.
    recorded.problem_code, recorded.problem = "", "entry #9 was altered"
    recorded.save()
    assert problem("es") == "entry #9 was altered"


def test_times_are_shown_in_the_company_time_zone(client, company, people):
    company.time_zone = "Asia/Tokyo"
    company.save()
    [entry] = synthetic(company, 1, start=datetime.datetime(2026, 3, 1, 20, 15, 5, tzinfo=UTC))
    client.force_login(people.manager)
    html = client.get(log_url(company)).content.decode()
    assert "02/03/2026 05:15:05" in html and "01/03/2026 15:15:05" not in html
    [row] = exported(client, company, "json", action="login")
    assert row["at_utc"] == "2026-03-01T20:15:05.000000Z" and row["at_local"] == "2026-03-02T05:15:05.000000+09:00"


@pytest.mark.parametrize("zone", ["America/Bogota", "Asia/Kolkata", "America/St_Johns", "Europe/Madrid", "UTC"])
def test_exported_times_are_python_s_isoformat_whoever_writes_them(company, people, zone):
    """On PostgreSQL the database writes the times: to the character what Python would write."""
    from audit import queries

    company.time_zone = zone
    company.save()
    moments = [datetime.datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC),  # Madrid's clocks go forward
               datetime.datetime(2026, 3, 29, 1, 0, 0, 1, tzinfo=UTC),
               datetime.datetime(2026, 11, 1, 5, 30, 0, tzinfo=UTC), datetime.datetime(1999, 12, 31, 23, 59, tzinfo=UTC)]
    for moment in moments:
        synthetic(company, 1, start=moment)
    rows = list(queries.export_rows(company, queries.Filters(action="login")))
    expected = [(moment.isoformat(timespec="microseconds").replace("+00:00", "Z"),
                 moment.astimezone(ZoneInfo(zone)).isoformat(timespec="microseconds")) for moment in moments]
    assert [(row[1], row[2]) for row in rows] == expected


# --- exports -------------------------------------------------------------------------------


@pytest.mark.parametrize("params", [
    {}, {"action": "login"}, {"person": "system"}, {"invoice": "FE1"},
    {"date_from": "2026-03-01", "date_to": "2026-03-01"},
])
def test_exports_hold_exactly_what_the_page_shows(client, company, people, versioned, params):
    synthetic(company, 60, people=[people.accountant, people.approver], invoices=[versioned],
              step=datetime.timedelta(hours=1))
    client.force_login(people.manager)
    if params.get("person") == "system":
        params = {"person": "system"}
    shown = walk(client, company, **params)
    assert shown
    as_csv = exported(client, company, "csv", **params)
    as_json = exported(client, company, "json", **params)
    assert sorted(int(row["seq"]) for row in as_csv) == sorted(shown)
    assert sorted(row["seq"] for row in as_json) == sorted(shown)
    # In chain order, with the chain's hashes, so an auditor can recompute it.
    assert [row["seq"] for row in as_json] == sorted(row["seq"] for row in as_json)
    first = AuditEntry.objects.get(company=company, seq=as_json[0]["seq"])
    assert (as_json[0]["hash"], as_json[0]["prev_hash"], as_json[0]["what"]) == (first.hash, first.prev_hash, first.what)


def test_the_csv_never_hands_a_spreadsheet_a_formula(client, company, people):
    chain.append([AuditEntry(company=company, at=datetime.datetime(2026, 3, 1, tzinfo=UTC), action=Action.LOGIN_FAILED,
                             source="session", why="=HYPERLINK(\"http://x\")", what={"username": "=1+1"})])
    client.force_login(people.manager)
    [row] = exported(client, company, "csv", action="login_failed")
    assert row["why"] == "'=HYPERLINK(\"http://x\")" and row["action"] == "login_failed"
    [record] = exported(client, company, "json", action="login_failed")
    assert record["why"] == "=HYPERLINK(\"http://x\")"


@pytest.mark.parametrize("language, words", [("en", "signed in"), ("es", "inició sesión")])
def test_exports_tell_each_reason_in_the_reader_s_language_beside_its_code(client, company, people, language,
                                                                            words):
    chain.append([AuditEntry(company=company, at=datetime.datetime(2026, 3, 1, tzinfo=UTC), action=Action.LOGIN,
                             source="session", why=events.reason("session.login"), what={"username": "maria"})])
    client.force_login(people.manager)
    client.cookies["django_language"] = language
    for fmt in ("csv", "json"):
        [row] = exported(client, company, fmt, action="login")
        assert (events.code_of(row["why"]), row["why_text"]) == ("session.login", words)


# --- the timeline --------------------------------------------------------------------------


def test_the_timeline_shows_versions_and_requests_and_compares_any_two(client, company, people, versioned):
    request_save_draft(invoice=versioned, user=people.accountant, kind="update", reason="Nota",
                       proposed={**versioned.document, "observations": "Propuesta"})
    client.force_login(people.approver)
    response = client.get(reverse("audit:invoice_timeline", args=[company.pk, versioned.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert [e.action for e in response.context["entries"]] == [
        Action.CREATED, Action.REMOTE_CHANGE, Action.REMOTE_CHANGE, Action.SYNCED]
    assert [e.version_number for e in response.context["entries"]] == [None, 3, 2, 1]
    # By default the last change is compared: the line whose quantity moved, side by side.
    assert 'data-component="diff"' in html and 'data-kind="changed"' in html
    first, _second, third = sorted(versioned.history.values_list("history_id", flat=True))
    compare = client.get(reverse("audit:invoice_timeline", args=[company.pk, versioned.pk]),
                         {"a": first, "b": third}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="compare")
    body = compare.content.decode()
    assert "<html" not in body and body.strip().startswith('<section class="card" id="compare">')
    assert "Cambiada en Alegra" in body and 'data-kind="changed"' in body
    assert "Restore this version" not in html and "Restaurar esta versión" not in html  # approvers do not restore
    client.force_login(people.accountant)
    mine = client.get(reverse("audit:invoice_timeline", args=[company.pk, versioned.pk]), {"a": first, "b": third})
    restore_first = reverse("audit:invoice_restore", args=[company.pk, versioned.pk, first])
    assert 'data-testid="restore-compared"' in mine.content.decode() and restore_first in mine.content.decode()
    current = client.get(reverse("audit:invoice_timeline", args=[company.pk, versioned.pk]), {"a": third, "b": first})
    assert 'data-testid="restore-compared"' not in current.content.decode()


def test_versions_of_another_invoice_cannot_be_compared(client, company, people, versioned):
    other = make_invoice(company, number=3)
    change_in_alegra(other, observations="x")
    foreign = other.history.order_by("history_id").first().history_id
    client.force_login(people.accountant)
    response = client.get(reverse("audit:invoice_timeline", args=[company.pk, versioned.pk]),
                          {"a": foreign, "b": versioned.history.first().history_id})
    assert response.status_code == 200 and response.context["diff"] is None
    assert response.context["compare_form"].errors["a"]
    bad = client.get(reverse("audit:invoice_timeline", args=[company.pk, versioned.pk]), {"a": "x", "b": "-1"})
    assert bad.status_code == 200 and bad.context["diff"] is None and bad.context["compare_form"].errors


def test_the_timeline_costs_the_same_queries_at_any_size(client, company, people, invoice):
    client.force_login(people.accountant)
    url = reverse("audit:invoice_timeline", args=[company.pk, invoice.pk])
    client.get(url)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    single = queries()
    change_in_alegra(invoice, observations="dos")
    two = queries()
    for n in range(30):
        change_in_alegra(invoice, observations=f"v{n}")
    synthetic(company, 150, people=[people.accountant, people.approver], invoices=[invoice])
    many = queries()
    # A single version has nothing to compare: the diff's two queries are not needed.
    assert (single, two, many) == (6, 8, 8)


def test_an_accountant_restores_an_earlier_version_as_a_draft_request(client, company, people, versioned):
    first = versioned.history.order_by("history_id").first()
    client.force_login(people.accountant)
    response = client.post(reverse("audit:invoice_restore", args=[company.pk, versioned.pk, first.history_id]),
                           HTTP_ACCEPT_LANGUAGE="en")
    change_request = ChangeRequest.objects.get(invoice=versioned)
    assert response.status_code == 302
    assert response["Location"] == reverse("approvals:request_detail", args=[company.pk, change_request.pk])
    assert change_request.state == "draft" and change_request.requester == people.accountant
    assert change_request.base_hash == versioned.content_hash
    assert change_request.proposed_document["observations"] == first.document["observations"]
    assert [line["quantity"] for line in change_request.proposed_document["items"]] == \
        [line["quantity"] for line in first.document["items"]]
    # The moment as the company writes it, whoever restores (English put the month first).
    from audit.queries import company_zone
    from portal import formats

    when = formats.datetime(first.history_date.astimezone(company_zone(company)), company.country)
    assert change_request.reason == f"Restores version 1 of the invoice, from {when}." and "/" in when
    entry = AuditEntry.objects.get(change_request=change_request)
    assert (entry.action, entry.actor_id) == (Action.CREATED, people.accountant.pk)
    assert sorted(entry.what["changes"]) == ["items.quantity", "observations"]


def test_restore_refusals_change_nothing_and_say_why(client, company, people, versioned):
    current = versioned.history.order_by("-history_id").first()
    first = versioned.history.order_by("history_id").first()
    url = reverse("audit:invoice_restore", args=[company.pk, versioned.pk, current.history_id])
    client.force_login(people.accountant)
    before = AuditEntry.objects.count()
    response = client.post(url, follow=True)
    assert "nothing to restore" in response.content.decode() or "nada que restaurar" in response.content.decode()
    assert not ChangeRequest.objects.exists() and AuditEntry.objects.count() == before
    assert client.post(reverse("audit:invoice_restore", args=[company.pk, versioned.pk, 99999999])).status_code == 302
    assert not ChangeRequest.objects.exists()
    # An open request on the invoice: only one at a time.
    client.post(reverse("audit:invoice_restore", args=[company.pk, versioned.pk, first.history_id]))
    second = client.post(reverse("audit:invoice_restore", args=[company.pk, versioned.pk, first.history_id]), follow=True)
    assert ChangeRequest.objects.count() == 1 and "#" in second.content.decode()
    # Managers and approvers do not propose changes; outsiders do not even see the invoice.
    client.force_login(people.manager)
    assert client.post(reverse("audit:invoice_restore", args=[company.pk, versioned.pk, first.history_id])).status_code == 403
    client.force_login(people.outsider)
    assert client.post(reverse("audit:invoice_restore", args=[company.pk, versioned.pk, first.history_id])).status_code == 404
    assert client.get(reverse("audit:invoice_restore", args=[company.pk, versioned.pk, first.history_id])).status_code == 405


def test_a_stamped_invoice_is_not_restored_in_place(client, company, people, catalogue):
    stamped = make_invoice(company, number=5, stamped=True)
    change_in_alegra(stamped, observations="cambio")
    first = stamped.history.order_by("history_id").first()
    client.force_login(people.accountant)
    response = client.post(reverse("audit:invoice_restore", args=[company.pk, stamped.pk, first.history_id]), follow=True)
    assert "credit note" in response.content.decode() or "nota crédito" in response.content.decode()
    assert not ChangeRequest.objects.exists()


def test_every_recorded_invoice_version_is_on_its_timeline(client, company, people, versioned):
    sync.invoice_mark_deleted(company=company, alegra_id=versioned.alegra_id, source="sync")
    client.force_login(people.manager)
    response = client.get(reverse("audit:invoice_timeline", args=[company.pk, versioned.pk]))
    versions = Invoice.history.model.objects.filter(id=versioned.pk).count()
    assert sum(1 for e in response.context["entries"] if e.source == "invoice") == versions == 4
    assert "deleted in Alegra" in response.content.decode() or "eliminada en Alegra" in response.content.decode()


def test_the_version_pickers_offer_the_latest_versions_and_all_of_them_on_demand(client, company, people, invoice):
    from audit.queries import PICKER_VERSIONS

    for n in range(PICKER_VERSIONS + 4):
        change_in_alegra(invoice, observations=f"v{n}")
    ids = list(invoice.history.order_by("history_id").values_list("history_id", flat=True))
    assert len(ids) == PICKER_VERSIONS + 5
    client.force_login(people.accountant)
    url = reverse("audit:invoice_timeline", args=[company.pk, invoice.pk])

    def offered(response) -> list[int]:
        html = response.content.decode()
        picker = html[html.index('<select name="a">'):html.index("</select>")]
        return [int(value) for value in re.findall(r'value="(\d+)"', picker)]

    page = client.get(url)
    assert page.context["version_count"] == len(ids)
    assert offered(page) == ids[::-1][:PICKER_VERSIONS]
    assert 'data-testid="all-versions"' in page.content.decode()
    # Every version on the page is numbered from the first, whatever the pickers offer.
    numbers = [e.version_number for e in page.context["entries"] if e.version_number]
    assert numbers[0] == len(ids) and numbers == sorted(numbers, reverse=True)
    # The first version, chosen, is offered although it is not among the latest.
    chosen = client.get(url, {"a": ids[0], "b": ids[-1]})
    assert ids[0] in offered(chosen) and chosen.context["diff"] is not None
    everything = client.get(url, {"a": ids[0], "b": ids[-1], "versions": "all"},
                            HTTP_HX_REQUEST="true", HTTP_HX_TARGET="compare")
    assert offered(everything) == ids[::-1]
    assert 'data-testid="all-versions"' not in everything.content.decode()


def test_versions_are_numbered_from_the_first_whichever_are_asked_for(company, invoice):
    """The numbering reads only from the oldest version asked for: the numbers are still the full count's."""
    from audit import queries

    other = make_invoice(company, number=2)
    for n in range(12):  # two invoices' versions interleaved: their ids have gaps
        change_in_alegra(invoice if n % 3 else other, observations=f"v{n}")
    ids = list(invoice.history.order_by("history_id").values_list("history_id", flat=True))
    others = list(other.history.values_list("history_id", flat=True))
    expected = {ident: (number, ids[number - 2] if number > 1 else None) for number, ident in enumerate(ids, 1)}
    for wanted, latest in [(set(), 3), (set(), None), (set(), 100), ({ids[0]}, 2), ({ids[3], ids[-1]}, 1),
                           ({min(others)}, 2), ({ids[4], max(others) + 1000}, 0), (set(ids), 2)]:
        found = queries.versions(invoice, wanted, latest)
        shown = ids if latest is None else [i for i in ids if i in wanted or expected[i][0] > len(ids) - latest]
        assert found.count == len(ids), (wanted, latest)
        assert [row["history_id"] for row in found.rows] == shown[::-1], (wanted, latest)
        assert {row["history_id"]: (row["number"], row["previous"]) for row in found.rows} == {
            ident: expected[ident] for ident in shown}, (wanted, latest)


@pytest.mark.parametrize("language, words, restore", [
    ("en", ["Version 3", "Changed directly in Alegra", "bypassed approval", "System", "(via the sync)",
            '<div class="why">read from Alegra</div>', '<div class="facts-line">changed: lines: quantity</div>',
            "Compare with the previous version"], "Restore this version"),
    ("es", ["Versión 3", "Cambiada directamente en Alegra", "sin aprobación", "Sistema", "(vía la sincronización)",
            '<div class="why">leída de Alegra</div>', '<div class="facts-line">cambió: líneas: cantidad</div>',
            "Comparar con la versión anterior"], "Restaurar esta versión"),
])
def test_a_timeline_entry_says_what_it_always_said(client, company, people, versioned, language, words, restore):
    client.force_login(people.accountant)
    client.cookies["django_language"] = language
    html = client.get(reverse("audit:invoice_timeline", args=[company.pk, versioned.pk])).content.decode()
    entries = re.findall(r'<li class="version tone-remote" data-action="remote_change".*?</li>', html, re.DOTALL)
    newest, older = (re.sub(r"\s+", " ", entry) for entry in entries[:2])
    at = AuditEntry.objects.filter(invoice_id=versioned.pk).order_by("-seq").first().at
    assert f'<span class="when">{at.astimezone(ZoneInfo(company.time_zone)):%d/%m/%Y %H:%M:%S}</span>' in newest
    position = 0
    for word in words:  # in this order
        position = newest.index(word, position)
    _first, second, third = versioned.history.order_by("history_id").values_list("history_id", flat=True)
    assert f'href="?a={second}&amp;b={third}#compare"' in newest
    assert "restore" not in newest  # the invoice as it is now
    assert f'action="/c/{company.pk}/invoices/{versioned.pk}/history/{second}/restore/"' in older
    assert f'<button type="submit" data-testid="restore">{restore}</button>' in older


def test_an_anchor_s_problem_names_the_chain_and_the_moment_in_the_reader_s_words(company, settings):
    from django.utils import translation

    from audit.problems import Problem, words

    settings.TIME_ZONE = "America/Bogota"
    short = Problem("chain_short_of_anchor", seq=4, anchored=6, at="2026-03-01T20:15:05+00:00")
    assert short == "the chain ends at entry #4, but entry #6 was anchored at 2026-03-01T20:15:05+00:00"
    unsigned = Problem("anchor_unsigned", chain=company.pk, path="/var/anchors/x.jsonl")
    assert unsigned == f"the latest anchor of company {company.pk} is not signed with this key (/var/anchors/x.jsonl)"
    with translation.override("es"):
        assert words(short.code, short.params) == ("la cadena termina en la entrada #4, pero la entrada #6 "
                                                   "se ancló el 01/03/2026 15:15")
        assert words(unsigned.code, unsigned.params) == (f"la última ancla de la empresa {company.pk} no está "
                                                         "firmada con esta clave (/var/anchors/x.jsonl)")
        assert words("anchor_unsigned", {"chain": None, "path": "p"}).startswith("la última ancla de la cadena del")
