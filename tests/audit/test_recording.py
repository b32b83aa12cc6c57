"""Each action writes exactly the entries expected, with who, when and why."""

from __future__ import annotations

import copy
import json

import httpx
import pytest
from django.urls import reverse

from alegra_sandbox import services as sandbox
from approvals.models import AutoApprovalRule, ChangeRequest, Decision, Push, RoutingPolicy
from approvals.services import push as push_module
from approvals.services.decisions import request_decide
from approvals.services.policies import auto_rule_save, policies_ensure_defaults, policy_delete, policy_save
from approvals.services.submission import request_submitted
from approvals.services.requests import request_save_and_submit
from audit import services
from audit.models import Action, AuditEntry
from invoices import sync
from portal import events
from invoices.models import Contact, Invoice
from tests.factories.edit import change_in_alegra, invoice_body
from tests.approvals.pushkit import ScriptedTransport, alegra_client, submit, world  # noqa: F401 (fixture)
from tests.audit.conftest import entries_after, last_seq, summary
from tests.factories import PASSWORD, make_company, make_user
from tests.sync.conftest import clock, connect  # noqa: F401 (fixture)


@pytest.fixture
def approve(django_capture_on_commit_callbacks):
    def run(change_request, user, comment=""):
        with django_capture_on_commit_callbacks(execute=False):
            request_decide(change_request=change_request, user=user, outcome="approve", comment=comment)
        return change_request.pushes.order_by("-id").first()

    return run


def run_push(push, client, django_capture_on_commit_callbacks):
    after = None
    for _ in range(10):
        with django_capture_on_commit_callbacks(execute=False):
            outcome = push_module.push_run(push_id=push.pk, after_attempt=after, client=client)
        if outcome.retry_in is None:
            return outcome
        after = outcome.attempt
    raise AssertionError("the push kept retrying")


# --- the mirror --------------------------------------------------------------------------


def test_sync_and_webhook_versions_say_the_system_did_it_on_their_behalf(company, catalogue):
    body = invoice_body(7)
    assert sync.invoice_store(company=company, document=body, source="sync") == "created"
    invoice = Invoice.objects.get(company=company, alegra_id=body["id"])
    [created] = entries_after(company, last_seq(company) - 1)
    version = invoice.history.get()
    assert summary([created]) == [(Action.SYNCED, None, "sync", "read from Alegra")]
    assert (created.invoice_id, created.source, created.source_id) == (invoice.pk, "invoice", version.history_id)
    assert created.at == version.history_date
    assert created.what["number"] == "FE7" and created.what["content_hash"] == invoice.content_hash
    assert "changes" not in created.what

    mark = last_seq(company)
    assert sync.invoice_store(company=company, document=body, source="sync") == "unchanged"
    assert entries_after(company, mark) == []

    edited = copy.deepcopy(invoice.document)
    edited["observations"] = "Cambiada en la pantalla de Alegra"
    sync.invoice_store(company=company, document=edited, source="webhook")
    [changed] = entries_after(company, mark)
    assert summary([changed]) == [(Action.REMOTE_CHANGE, None, "webhook", "read from Alegra after its notice of a change")]
    assert changed.what["changes"] == ["observations"] and "total_before" not in changed.what

    mark = last_seq(company)
    sync.invoice_mark_deleted(company=company, alegra_id=body["id"], source="sync")
    [deleted] = entries_after(company, mark)
    assert summary([deleted]) == [(Action.REMOTE_CHANGE, None, "sync", "deleted in Alegra")]
    assert deleted.what["deleted"] is True


def test_a_total_changed_in_alegra_is_recorded_with_both_totals(company, invoice):
    mark = last_seq(company)
    lines = copy.deepcopy(invoice.document["items"])
    lines[0]["quantity"] = "3.00"
    change_in_alegra(invoice, **{k: v for k, v in invoice_body(1, items=lines).items() if k in ("items", "total", "subtotal", "tax", "balance")})
    [entry] = entries_after(company, mark)
    assert entry.action == Action.REMOTE_CHANGE
    assert entry.what["total_before"] == "142.8" and entry.what["total"] == "238"
    assert "items.quantity" in entry.what["changes"]


def test_a_full_sync_writes_one_entry_per_new_invoice_even_when_stored_in_bulk(db, clock):
    connected = connect(clock, invoices=45)
    run = sync.sync_full(company=connected.company, client=connected.client())
    assert run.state == "succeeded" and run.invoices_created == 45
    entries = AuditEntry.objects.filter(company=connected.company, source="invoice")
    assert entries.count() == 45 == Invoice.history.model.objects.filter(company=connected.company).count()
    assert set(entries.values_list("action", "on_behalf_of", "why").distinct()) == {(Action.SYNCED, "sync", events.reason("mirror.sync"))}
    history_ids = set(Invoice.history.model.objects.filter(company=connected.company).values_list("history_id", flat=True))
    assert set(entries.values_list("source_id", flat=True)) == history_ids
    assert list(AuditEntry.objects.filter(company=connected.company).order_by("seq").values_list("seq", flat=True)) \
        == list(range(1, AuditEntry.objects.filter(company=connected.company).count() + 1))


def test_a_page_stored_in_bulk_reads_its_versions_once_for_their_entries_and_digests(db, clock):
    """The entries of a bulk-written page and the digests they carry come from one read of the
    versions: reading them again for the digests read every document twice."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from audit import chain, versions

    connected = connect(clock, invoices=12)
    table = Invoice.history.model._meta.db_table
    with CaptureQueriesContext(connection) as captured:
        run = sync.sync_full(company=connected.company, client=connected.client())
    assert run.state == "succeeded" and run.invoices_created == 12
    reads = [q["sql"] for q in captured.captured_queries
             if q["sql"].lstrip().upper().startswith("SELECT") and f'FROM "{table}"' in q["sql"]]
    assert len(reads) == 1, reads
    entries = AuditEntry.objects.filter(company=connected.company, source="invoice")
    stored = versions.digests("invoice", entries.values_list("source_id", flat=True))
    assert {e.source_id: e.version_hash for e in entries} == stored
    assert chain.verify(connected.company.pk).ok


# --- a change request from draft to Alegra ------------------------------------------------


def test_an_approved_edit_records_each_step_with_who_and_why(world, approve, django_capture_on_commit_callbacks):
    policies_ensure_defaults(company=world.company)
    mark = last_seq(world.company)
    change_request = submit(world.invoice, world.accountant, observations="Entregar en bodega 2")
    push = approve(change_request, world.approver, comment="De acuerdo")
    run_push(push, alegra_client(world.company), django_capture_on_commit_callbacks)
    number = change_request.pk

    entries = entries_after(world.company, mark)
    assert summary(entries) == [
        (Action.CREATED, "ana", "", "draft created"),
        (Action.SUBMITTED, "ana", "", "submitted for approval"),
        (Action.ROUTED, None, "system", f"routed by the policy “{change_request.routed_by}”"),
        (Action.DECISION, "pedro", "", "De acuerdo"),
        (Action.APPROVED, "pedro", "", "approved by Pedro: De acuerdo"),
        (Action.PUSH_QUEUED, None, "push", "approved by Pedro: De acuerdo"),
        (Action.PUSH_ATTEMPT, None, "push", "attempt 1"),
        (Action.STATE_CHANGED, None, "push", "sending to Alegra (attempt 1)"),
        (Action.PUSHED_VERSION, "ana", "push", f"pushed by request #{number} (Pedro): Corrige la observación"),
        (Action.PUSHED, None, "push", "applied"),
        (Action.STATE_CHANGED, None, "push", "applied in Alegra"),
    ]
    # Every entry of the request names it and its invoice; the new version names the invoice.
    assert {e.invoice_id for e in entries} == {world.invoice.pk}
    assert {e.change_request_id for e in entries if e.source != "invoice"} == {number}
    created, submitted = entries[0], entries[1]
    assert created.what["changes"] == ["observations"] and created.what["reason"] == "Corrige la observación"
    assert submitted.what["state_before"] == "draft" and submitted.what["state"] == "pending"
    decision = Decision.history.get(change_request_id=change_request.pk)
    assert entries[3].what["outcome"] == "approve" and entries[3].at == decision.history_date
    assert entries[3].source_id == decision.history_id
    history = {row.history_id: row.history_date for row in ChangeRequest.history.filter(id=number)}
    for entry in entries:
        if entry.source == "change_request":
            assert entry.at == history[entry.source_id]
    assert entries[8].what["changes"] == ["observations"]
    assert entries[-1].what == {**entries[-1].what, "state_before": "pushing", "state": "applied"}


def test_a_rejection_records_the_decision_with_its_comment(world):
    change_request = submit(world.invoice, world.accountant, observations="Otra")
    mark = last_seq(world.company)
    request_decide(change_request=change_request, user=world.approver, outcome="reject", comment="Falta el soporte")
    assert summary(entries_after(world.company, mark)) == [
        (Action.DECISION, "pedro", "", "Falta el soporte"),
        (Action.REJECTED, "pedro", "", "rejected by Pedro: Falta el soporte"),
    ]
    decision_entry = entries_after(world.company, mark)[0]
    assert decision_entry.what["outcome"] == "reject" and decision_entry.what["approver_role"] == "approver"


def test_an_auto_approval_is_recorded_on_behalf_of_its_rule(world, django_capture_on_commit_callbacks):
    policies_ensure_defaults(company=world.company)
    auto_rule_save(company=world.company, user=world.manager, name="Solo notas", kind="notes_only", is_active=True)
    mark = last_seq(world.company)
    with django_capture_on_commit_callbacks(execute=False):
        change_request = request_save_and_submit(invoice=world.invoice, user=world.accountant, reason="Nota",
                                                 proposed={**world.invoice.document, "observations": "Nota"},
                                                 kind="update")
        request_submitted(change_request=change_request)
    assert summary(entries_after(world.company, mark)) == [
        (Action.CREATED, "ana", "", "draft created"),
        (Action.SUBMITTED, "ana", "", "submitted for approval"),
        (Action.ROUTED, None, "system", f"routed by the policy “{change_request.routed_by}”"),
        (Action.DECISION, None, "policy Solo notas", Decision.objects.get(change_request=change_request).comment),
        (Action.AUTO_APPROVED, None, "policy Solo notas", "approved by the policy “Solo notas”"),
        (Action.PUSH_QUEUED, None, "push", "approved by the policy “Solo notas”"),
    ]


def test_a_change_in_alegra_found_by_the_push_is_a_conflict_and_a_remote_change(
        world, approve, django_capture_on_commit_callbacks):
    push = approve(submit(world.invoice, world.accountant, observations="La de contabilidad"), world.approver)
    sandbox.invoice_update(world.account, world.invoice.alegra_id, {"observations": "La de ventas"})
    mark = last_seq(world.company)
    run_push(push, alegra_client(world.company), django_capture_on_commit_callbacks)
    entries = entries_after(world.company, mark)
    number = push.change_request_id
    assert summary(entries) == [
        (Action.PUSH_ATTEMPT, None, "push", "attempt 1"),
        (Action.STATE_CHANGED, None, "push", "sending to Alegra (attempt 1)"),
        (Action.REMOTE_CHANGE, None, "push", f"read by request #{number}'s push: changed in Alegra meanwhile"),
        (Action.CONFLICT, None, "push", "conflict: observations"),
        (Action.STATE_CHANGED, None, "push", "changed in Alegra meanwhile: observations"),
    ]
    assert entries[2].what["changes"] == ["observations"]
    assert entries[3].what["conflict_fields"] == ["observations"]


def test_a_refused_push_records_alegras_status_code_and_message(world, approve, django_capture_on_commit_callbacks):
    push = approve(submit(world.invoice, world.accountant, observations="Nueva"), world.approver)
    transport = ScriptedTransport()
    transport.answer("PUT", f"/invoices/{world.invoice.alegra_id}", 400,
                     {"code": 3061, "message": "La factura tiene un pago asociado y no se puede modificar."})
    mark = last_seq(world.company)
    run_push(push, alegra_client(world.company, http=httpx.Client(transport=transport)),
             django_capture_on_commit_callbacks)
    entries = entries_after(world.company, mark)
    assert [e.action for e in entries] == [Action.PUSH_ATTEMPT, Action.STATE_CHANGED, Action.FAILED,
                                           Action.STATE_CHANGED]
    failed = entries[2]
    assert failed.what["status"] == 400 and failed.what["code"] == "3061"
    assert "no se puede modificar" in failed.what["message"] and events.describe(failed.why).startswith("failed:")


def test_a_version_that_only_repeats_what_our_push_wrote_is_not_a_bypass(
        world, approve, django_capture_on_commit_callbacks):
    push = approve(submit(world.invoice, world.accountant, observations="La nuestra"), world.approver)
    run_push(push, alegra_client(world.company), django_capture_on_commit_callbacks)
    push.refresh_from_db()
    # Alegra changes it, then the change is undone there: the sync reads back what we pushed.
    other = {**push.response, "observations": "La de ventas"}
    sync.invoice_store(company=world.company, document=other, source="sync")
    mark = last_seq(world.company)
    sync.invoice_store(company=world.company, document=push.response, source="sync")
    [entry] = entries_after(world.company, mark)
    assert (entry.action, entry.on_behalf_of) == (Action.SYNCED, "sync")


def test_a_change_made_in_alegra_equal_to_the_pending_request_is_an_outside_change(
        world, approve, django_capture_on_commit_callbacks):
    change_request = submit(world.invoice, world.accountant, observations="Igual en los dos lados")
    # Someone makes the very same change directly in Alegra; the mirror has not seen it yet.
    sandbox.invoice_update(world.account, world.invoice.alegra_id, {"observations": "Igual en los dos lados"})
    push = approve(change_request, world.approver)
    mark = last_seq(world.company)
    run_push(push, alegra_client(world.company), django_capture_on_commit_callbacks)
    push.refresh_from_db()
    assert (push.state, push.writes) == (Push.State.APPLIED, 0)
    [version] = [e for e in entries_after(world.company, mark) if e.source == "invoice"]
    assert summary([version]) == [(Action.REMOTE_CHANGE, None, "push",
                                   f"read by request #{change_request.pk}'s push: already so in Alegra")]
    assert version.what["changes"] == ["observations"]
    # Undone and redone in Alegra later: still nobody's push.
    current = Invoice.objects.get(pk=world.invoice.pk).document
    sync.invoice_store(company=world.company, document={**current, "observations": "Otra"}, source="sync")
    mark = last_seq(world.company)
    sync.invoice_store(company=world.company, document=current, source="sync")
    assert [e.action for e in entries_after(world.company, mark)] == [Action.REMOTE_CHANGE]


class _LosesThePutAnswer(httpx.BaseTransport):
    """The PUT reaches Alegra, its answer never comes back (once)."""

    def __init__(self):
        from alegra_sandbox.testing import SandboxTransport

        self.inner, self.lost = SandboxTransport(), 0

    def handle_request(self, request):
        response = self.inner.handle_request(request)
        if request.method == "PUT" and not self.lost:
            self.lost += 1
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


def test_our_write_found_applied_after_its_answer_was_lost_is_still_the_push_s_version(
        world, approve, django_capture_on_commit_callbacks):
    change_request = submit(world.invoice, world.accountant, observations="La respuesta se perdió")
    push = approve(change_request, world.approver)
    mark = last_seq(world.company)
    client = alegra_client(world.company, http=httpx.Client(transport=_LosesThePutAnswer()))
    run_push(push, client, django_capture_on_commit_callbacks)
    push.refresh_from_db()
    assert (push.state, push.writes, push.attempts) == (Push.State.APPLIED, 1, 2)
    [version] = [e for e in entries_after(world.company, mark) if e.source == "invoice"]
    assert (version.action, version.actor_id, version.on_behalf_of) == (
        Action.PUSHED_VERSION, world.accountant.pk, "push")


def contact_request(world, address: str):
    """(the mirrored contact, its proposed version with a new address, the submitted request)."""
    contact = Contact.objects.get(company=world.company, alegra_id=world.invoice.client_alegra_id)
    proposed = json.loads(json.dumps(contact.document))
    proposed["address"] = {**proposed.get("address", {}), "address": address}
    change_request = request_save_and_submit(invoice=world.invoice, user=world.accountant, proposed=proposed,
                                             reason="Nueva dirección", kind="contact")
    return contact, proposed, change_request


def test_a_contact_changed_in_alegra_like_the_request_is_not_the_push_s_until_it_writes(
        world, approve, django_capture_on_commit_callbacks):
    _contact, proposed, change_request = contact_request(world, "Carrera 7 # 71-21")
    push = approve(change_request, world.approver)
    # The push has started (it holds the row) but has written nothing when the sync reads the
    # contact that someone changed the same way in Alegra.
    push_module._claim(push.pk, None, push.created_at)
    mark = last_seq(world.company)
    sync.contact_store(company=world.company, document=proposed, source="sync")
    [entry] = entries_after(world.company, mark)
    assert (entry.action, entry.on_behalf_of) == (Action.REMOTE_CHANGE, "sync")


def test_a_contact_written_by_our_push_is_the_push_s_version(world, approve, django_capture_on_commit_callbacks):
    contact, _proposed, change_request = contact_request(world, "Calle 100 # 7-33")
    push = approve(change_request, world.approver)
    mark = last_seq(world.company)
    run_push(push, alegra_client(world.company), django_capture_on_commit_callbacks)
    contact_entries = [e for e in entries_after(world.company, mark) if e.source == "contact"]
    assert [(e.action, e.on_behalf_of) for e in contact_entries] == [(Action.PUSHED_VERSION, "push")]
    assert contact_entries[0].what["changes"] == ["address.address"]

    mark = last_seq(world.company)
    edited = {**contact.document, "email": "otro@example.test"}
    sync.contact_store(company=world.company, document=edited, source="sync")
    [entry] = entries_after(world.company, mark)
    assert (entry.action, entry.what["changes"]) == (Action.REMOTE_CHANGE, ["address.address", "email"])


# --- policies and sessions ----------------------------------------------------------------


def test_a_policy_change_reads_in_the_reader_s_words_and_the_company_s_numbers(company, manager):
    """The log showed the stored values: True → False, "update", 1234567.5."""
    from django.utils import translation

    from audit.presenters import facts_of

    policy = policy_save(company=company, user=manager, name="Grandes", approvals_required=1, min_impact="1234567.5",
                         kind="update")
    mark = last_seq(company)
    policy_save(company=company, user=manager, name="Grandes", approvals_required=1, min_impact="9876543.25",
                kind="", manager_required=True, is_active=False, policy=policy)
    [entry] = entries_after(company, mark)
    with translation.override("es"):
        facts = " · ".join(facts_of({"what": entry.what, "source": entry.source, "action": entry.action}, company))
    assert "1.234.567,5 → 9.876.543,25" in facts, facts
    assert "no → sí" in facts and "sí → no" in facts and "True" not in facts and "False" not in facts
    assert "tipo: Modificación directa → Cualquier tipo" in facts and "update" not in facts, facts


def test_policy_changes_say_who_changed_what(company, manager):
    mark = last_seq(company)
    policy = policy_save(company=company, user=manager, name="Grandes", approvals_required=1, min_impact="1000")
    policy_save(company=company, user=manager, name="Grandes", approvals_required=2, min_impact="1000",
                policy=policy)
    policy_delete(policy=RoutingPolicy.objects.get(pk=policy.pk), user=manager)
    entries = entries_after(company, mark)
    assert summary(entries) == [
        (Action.POLICY_CHANGED, "maria", "", "policy saved"),
        (Action.POLICY_CHANGED, "maria", "", "policy saved"),
        (Action.POLICY_CHANGED, "maria", "", "policy deleted"),
    ]
    assert entries[0].what["type"] == "created" and entries[0].what["values"]["min_impact"] == "1000"
    assert entries[1].what["changes"] == {"approvals_required": [1, 2]}
    assert entries[2].what["type"] == "deleted" and entries[2].what["name"] == "Grandes"

    mark = last_seq(company)
    rule = auto_rule_save(company=company, user=manager, name="Notas", kind="notes_only", is_active=False)
    auto_rule_save(company=company, user=manager, name="Notas", kind="notes_only", is_active=True, rule=rule)
    entries = entries_after(company, mark)
    assert [(e.source, e.what["type"]) for e in entries] == [("auto_approval_rule", "created"),
                                                            ("auto_approval_rule", "changed")]
    assert entries[1].what["changes"] == {"is_active": [False, True]}
    assert AutoApprovalRule.objects.count() == 1


DEFAULTS = [(Action.POLICY_CHANGED, None, "system", "default settings")] + \
    [(Action.POLICY_CHANGED, None, "system", "default policy")] * 6


def test_a_company_created_by_a_person_starts_with_default_policies_the_system_created(client, db):
    """Created in the admin by a signed-in person: the defaults are still the system's doing."""
    from django.contrib.auth import get_user_model

    from portal.models import Company

    admin_user = get_user_model().objects.create_superuser("root", "root@example.com", PASSWORD)
    client.force_login(admin_user)
    response = client.post(reverse("admin:portal_company_add"), {
        "name": "Nueva S.A.S.", "country": "CO", "base_url": "https://api.alegra.com/api/v1",
        "api_email": "api@nueva.test", "currency": "COP", "decimal_precision": "2", "token": "tok-nueva-123"})
    assert response.status_code == 302, response.content.decode()[:2000]
    company = Company.objects.get(name="Nueva S.A.S.")
    assert company.token == "tok-nueva-123"
    assert RoutingPolicy.objects.filter(company=company).count() == 6
    assert not RoutingPolicy.history.filter(company_id=company.pk, history_user__isnull=False).exists()
    assert summary(entries_after(company)) == DEFAULTS


def test_neither_opening_the_policies_nor_submitting_creates_policies(client, catalogue):
    """A company from before the defaults came with it (the migration below gives it them)."""
    from approvals.models import ApprovalSettings
    from portal.models import Company
    from tests.factories.edit import make_invoice

    company = Company.objects.create(name="Antigua", base_url="http://testserver/sandbox/api/v1",
                                     api_email="api@antigua.test")
    manager = make_user("maria", company, "manager")
    client.force_login(manager)
    assert client.get(reverse("approvals:approval_policies", args=[company.pk])).status_code == 200
    accountant = make_user("ana", company, "accountant")
    from tests.factories.edit import mirror_catalogue

    mirror_catalogue(company)
    invoice = make_invoice(company, number=4)
    change_request = submit(invoice, accountant, observations="Sin políticas")
    assert change_request.routed_by == "Built-in default"
    assert not RoutingPolicy.objects.filter(company=company).exists()
    assert not ApprovalSettings.objects.filter(company=company).exists()
    assert not AuditEntry.objects.filter(company=company, action=Action.POLICY_CHANGED).exists()


def test_companies_from_before_get_their_defaults_from_the_migration_as_the_system(db):
    import importlib

    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    from approvals.models import ApprovalSettings
    from audit.apps import record_versions_without_entries
    from portal.models import Company

    bare = Company.objects.create(name="Antigua", base_url="http://x.test/api/v1", api_email="a@x.test")
    kept = Company.objects.create(name="Con lo suyo", base_url="http://x.test/api/v1", api_email="b@x.test")
    ApprovalSettings.objects.create(company=kept, remind_after_hours=5)
    name = "0004_default_policies_with_the_company"
    migration = importlib.import_module(f"approvals.migrations.{name}")
    # The models as that migration sees them (no simple-history signals there).
    migration.create_defaults(MigrationLoader(connection).project_state(("approvals", name)).apps, None)
    assert RoutingPolicy.objects.filter(company=bare).count() == 6
    assert not RoutingPolicy.objects.filter(company=kept).exists()
    assert ApprovalSettings.objects.get(company=kept).remind_after_hours == 5
    record_versions_without_entries(sender=None, verbosity=0)  # what `migrate` runs once it is done
    assert sorted(summary(entries_after(bare))) == sorted(DEFAULTS)
    assert not AuditEntry.objects.filter(company=kept, source="routing_policy").exists()
    assert services.chain_verify(company_id=bare.pk).ok


def test_a_login_is_recorded_in_each_company_of_the_person(client, company, other_company):
    person = make_user("ines", company, "approver")
    make_user("ines", other_company, "manager")
    response = client.post(reverse("login"), {"username": "ines", "password": PASSWORD},
                           REMOTE_ADDR="10.1.2.3", HTTP_USER_AGENT="Pruebas/1.0")
    assert response.status_code == 302
    for chain in (company, other_company):
        [entry] = AuditEntry.objects.filter(company=chain, action=Action.LOGIN)
        assert (entry.actor_id, entry.source, events.code_of(entry.why)) == (person.pk, "session", "session.login")
        assert entry.what == {"username": "ines", "ip": "10.1.2.3", "user_agent": "Pruebas/1.0"}


def test_a_failed_login_is_recorded_for_the_companies_of_the_name_tried_or_the_system(client, company):
    make_user("ines", company, "approver")
    response = client.post(reverse("login"), {"username": "ines", "password": "wrong"}, REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 200
    [entry] = AuditEntry.objects.filter(action=Action.LOGIN_FAILED)
    assert (entry.company_id, entry.actor_id, events.code_of(entry.why)) == (company.pk, None, "session.login_failed")
    assert entry.what["username"] == "ines" and entry.what["known_user"] is True

    client.post(reverse("login"), {"username": "nadie", "password": "x"})
    unknown = AuditEntry.objects.get(action=Action.LOGIN_FAILED, company__isnull=True)
    assert unknown.what["username"] == "nadie" and unknown.what["known_user"] is False
    assert unknown.seq == 1
    assert not AuditEntry.objects.filter(action=Action.LOGIN).exists()


def test_a_deactivated_person_keeps_their_name_on_the_entries(world):
    from portal.services import user_deactivate

    change_request = submit(world.invoice, world.accountant, observations="Antes de irse")
    user_deactivate(user=world.accountant)
    entry = AuditEntry.objects.get(change_request=change_request, action=Action.CREATED)
    assert entry.actor.username == "ana" and not entry.actor.is_active
    other = make_company()  # its chain holds its own default policies, created by the system, and nothing else
    assert set(AuditEntry.objects.filter(company=other).values_list("action", "actor")) == {
        (Action.POLICY_CHANGED, None)}
    assert Push.objects.count() == 0


def test_every_reason_a_flow_writes_is_a_code_told_in_the_readers_language(
        world, approve, django_capture_on_commit_callbacks):
    from django.utils import translation

    from approvals.models import Push as PushModel

    mark = last_seq(world.company)
    change_request = submit(world.invoice, world.accountant, observations="Entregar en bodega 2")
    push = approve(change_request, world.approver, comment="De acuerdo")
    run_push(push, alegra_client(world.company), django_capture_on_commit_callbacks)
    reasons = [*ChangeRequest.history.filter(id=change_request.pk).values_list("history_change_reason", flat=True),
               *PushModel.history.filter(id=push.pk).values_list("history_change_reason", flat=True),
               *Invoice.history.filter(id=world.invoice.pk).values_list("history_change_reason", flat=True)]
    assert reasons and all(events.code_of(text) for text in reasons), reasons  # no prose stored
    whys = [entry.why for entry in entries_after(world.company, mark) if entry.source != "decision"]
    assert all(events.code_of(why) for why in whys)
    with translation.override("es"):
        spanish = [events.describe(why) for why in whys]
    assert "enviada a aprobación" in spanish and "intento 1" in spanish and "aplicada en Alegra" in spanish
