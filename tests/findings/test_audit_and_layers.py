"""Findings in the audit trail (raised, dismissed with the reason, resolved, corrections made from
them), and the layers: findings sits above approvals and below audit."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

from audit import services as audit_services
from audit.models import Action, AuditEntry
from findings import scan, services
from findings.models import Finding
from findings.services import correction_create
from tests.factories.anomalies import body, history, line, mirror_catalogue, store
from portal import events


@pytest.mark.django_db
def test_the_audit_trail_records_every_step_of_a_finding(company, accountant):
    mirror_catalogue(company)
    history(company, count=6)
    slipped = store(company, body(1, [line("1", "10", price="276470")], day=50))
    other = store(company, body(2, [line("1", "10", price="276470")], day=51))
    scan.scan_full(company_id=company.pk)  # created in bulk: recorded through the mirror's hook
    created = AuditEntry.objects.filter(company=company, action=Action.FINDING_CREATED)
    assert set(created.values_list("invoice_id", flat=True)) >= {slipped.pk, other.pk}
    finding = Finding.objects.get(invoice=slipped, kind="price")
    services.finding_dismiss(finding=finding, user=accountant, reason="Precio pactado", learn=False)
    dismissed = AuditEntry.objects.get(company=company, action=Action.FINDING_DISMISSED)
    assert (dismissed.actor, events.describe(dismissed.why), dismissed.what["finding"]) == (accountant, "dismissed: Precio pactado",
                                                                         finding.pk)
    corrected_finding = Finding.objects.get(invoice=other, kind="price")
    change_request = correction_create(finding=corrected_finding, user=accountant)
    corrected = AuditEntry.objects.get(company=company, action=Action.FINDING_CORRECTION)
    assert corrected.change_request_id == change_request.pk and corrected.actor == accountant
    store(company, body(2, [line("1", "10")], day=51))  # fixed in Alegra
    scan.scan_full(company_id=company.pk)
    resolved = AuditEntry.objects.get(company=company, action=Action.FINDING_RESOLVED,
                                      what__finding=corrected_finding.pk)
    assert events.describe(resolved.why) == "resolved: the invoice no longer shows the problem" and resolved.actor is None
    assert audit_services.chain_verify(company_id=company.pk).ok


@pytest.mark.django_db
def test_a_scan_records_every_finding_it_changes_in_one_append_to_the_chain(company):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from findings import incremental

    mirror_catalogue(company)
    history(company, count=6)
    first = store(company, body(1, [line("1", "10", price="276470")], day=50))
    second = store(company, body(2, [line("1", "10", price="276470")], day=51))
    scan.scan_full(company_id=company.pk)
    versions = {f.pk: f.history.count() for f in Finding.objects.filter(invoice__in=[first, second])}
    last_seq = AuditEntry.objects.filter(company=company).order_by("-seq").values_list("seq", flat=True).first()
    store(company, body(1, [line("1", "10")], day=50))  # fixed in Alegra
    store(company, body(2, [line("1", "30", price="276470")], day=51))  # another quantity: updated
    third = store(company, body(3, [line("1", "10", price="276470")], day=52))  # a new one
    with CaptureQueriesContext(connection) as captured:
        outcome = incremental.scan_changed(company_id=company.pk, invoice_ids=[first.pk, second.pk, third.pk]).outcome
    assert outcome.created >= 1 and outcome.updated >= 1 and outcome.resolved >= 1
    heads = [q for q in captured.captured_queries if q["sql"].startswith('UPDATE "audit_auditchain"')]
    assert len(heads) == 1  # one append for every version the scan wrote, not one per finding
    assert set(Finding.objects.filter(invoice=first).values_list("state", flat=True)) == {"resolved"}
    price = Finding.objects.get(invoice=second, kind="price")
    assert price.state == "open" and price.history.count() == versions[price.pk] + 1
    assert events.parse(price.history.first().history_change_reason).code == "finding.updated"
    # Stored as a JSON object (searchable by key), the amounts as the detector computed them.
    assert Finding.objects.filter(pk=price.pk, evidence__price=price.evidence["price"],
                                  suggestion__type=price.suggestion["type"]).exists()
    assert price.impact == price.history.first().impact and price.impact != 0
    for finding in Finding.objects.filter(invoice=first):
        assert finding.history.count() == versions[finding.pk] + 1
        assert events.parse(finding.history.first().history_change_reason).code == "finding.resolved"
    entries = list(AuditEntry.objects.filter(company=company, seq__gt=last_seq, source="finding").order_by("seq"))
    # In the scan's order: the changes as the drafts meet them, then what resolved, then the new.
    assert [e.action for e in entries] == ([Action.FINDING_UPDATED] * outcome.updated
                                           + [Action.FINDING_RESOLVED] * outcome.resolved
                                           + [Action.FINDING_CREATED] * outcome.created)
    assert all(e.version_hash for e in entries)
    assert audit_services.chain_verify(company_id=company.pk).ok


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def offenders(app: str, forbidden: set[str]) -> list[str]:
    base = Path(settings.BASE_DIR)
    return sorted(str(p.relative_to(base)) for p in (base / app).rglob("*.py") if imports(p) & forbidden)


def test_findings_sits_between_approvals_and_audit():
    assert offenders("findings", {"audit", "api", "alegra_sandbox"}) == []
    for lower in ("portal", "invoices", "approvals"):
        assert offenders(lower, {"findings"}) == [], lower


def test_findings_imports_approvals_in_one_module():
    assert offenders("findings", {"approvals"}) == ["findings/requests.py"]
