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
