"""Scan a company's mirror (or every company's) for anomalies: a full rescan.

    python manage.py scan_anomalies [--company ID_OR_NAME] [--json]

With --json, standard output carries one JSON array of the open findings and nothing else;
summaries and logs go to standard error. An unknown company is a one-line error, exit 1.
"""

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from django.utils import translation

from findings import presenters, services
from findings.models import OPEN_STATES, Finding
from portal.models import Company


def finding_object(finding: Finding) -> dict:
    country = finding.company.country
    return {
        "id": finding.pk, "invoice_id": finding.invoice.alegra_id, "number": finding.invoice.number,
        "kind": finding.kind, "line": finding.line, "severity": finding.severity,
        "confidence": float(finding.confidence), "explanation": presenters.explanation(finding, country),
        "suggestion": finding.suggestion, "cause": finding.cause, "state": finding.state,
        "company": finding.company.name, "client": finding.client_name, "date": finding.invoice_date.isoformat(),
        "impact": format(finding.impact.normalize(), "f") if finding.impact else "0",
        "evidence": finding.evidence, "fix": presenters.suggestion_text(finding, country),
    }


class Command(BaseCommand):
    help = "Scan the mirrored invoices for anomalies (a full rescan) and, with --json, print the open findings."

    def add_arguments(self, parser):
        parser.add_argument("--company", help="a company's id or name (default: every company)")
        parser.add_argument("--json", action="store_true", help="print the open findings as one JSON array")
        parser.add_argument("--language", choices=[code for code, _ in settings.LANGUAGES],
                            help="language of the explanations (default: the portal's)")

    def _companies(self, wanted: str | None) -> list[Company]:
        if wanted is None:
            return list(Company.objects.order_by("id"))
        wanted = wanted.strip()
        found = list(Company.objects.filter(pk=int(wanted))) if wanted.isascii() and wanted.isdigit() else []
        if not found:  # names compared in Python: SQLite folds the case of ASCII letters only
            found = [c for c in Company.objects.order_by("id") if c.name.casefold() == wanted.casefold()]
        if len(found) != 1:
            raise CommandError(f"no such company: {wanted}" if not found
                               else f"several companies are named {wanted}: use the id")
        return found

    def handle(self, *args, **options):
        try:
            self._handle(options)
        except DatabaseError as exc:
            raise CommandError(f"database error: {' '.join(str(exc).split())}") from None

    def _handle(self, options):
        companies = self._companies(options["company"])
        report = self.stderr if options["json"] else self.stdout
        for company in companies:
            summary = services.scan_company(company_id=company.pk)
            report.write(f"{company.name}: {summary}")
        if not options["json"]:
            return
        with translation.override(options["language"] or settings.LANGUAGE_CODE):
            findings = (Finding.objects.filter(company__in=companies, state__in=OPEN_STATES)
                        .select_related("invoice", "company").order_by("company_id", "-rank", "-impact", "id"))
            self.stdout.write(json.dumps([finding_object(f) for f in findings], ensure_ascii=False))
