from django.core.management.base import BaseCommand, CommandError

from audit import services
from audit.models import SYSTEM_CHAIN
from portal.services import company_find


class Command(BaseCommand):
    help = ("Recompute the audit log's hash chains, their versions and their latest anchors, and report "
            "the first broken link, if any. A chain found intact has its head anchored.")

    def add_arguments(self, parser):
        parser.add_argument("--company", help="company id or exact name (default: every chain)")
        parser.add_argument("--no-anchor", action="store_true", help="do not anchor the chains found intact")

    def handle(self, *args, **opts):
        anchor = not opts["no_anchor"]
        if opts["company"]:
            company = company_find(opts["company"])
            if company is None:
                raise CommandError(f"no company {opts['company']!r}")
            reports = [services.chain_verify(company_id=company.pk, anchor=anchor)]
        else:
            reports = services.chains_verify_all(anchor=anchor)
        broken = [r for r in reports if not r.ok]
        for report in reports:
            name = "system" if report.chain == SYSTEM_CHAIN else f"company {report.chain}"
            if report.ok:
                self.stdout.write(f"{name}: {report.checked} entries verified in {report.seconds:.1f} s")
            else:
                where = f" at entry #{report.broken_seq}" if report.broken_seq else ""
                self.stderr.write(f"{name}: BROKEN{where}: {report.problem} "
                                  f"({report.checked} entries verified before it)")
        if broken:
            raise CommandError(f"{len(broken)} of {len(reports)} audit chains are broken")
        self.stdout.write(f"{len(reports)} audit chains intact")
