from django.core.management.base import BaseCommand, CommandError

from audit import services
from audit.models import SYSTEM_CHAIN
from portal.models import Company


class Command(BaseCommand):
    help = "Recompute the audit log's hash chains and report the first broken link, if any."

    def add_arguments(self, parser):
        parser.add_argument("--company", help="company id or exact name (default: every chain)")

    def handle(self, *args, **opts):
        if opts["company"]:
            key = opts["company"]
            company = (Company.objects.filter(pk=int(key)) if key.isdigit() else Company.objects.filter(name=key)).first()
            if company is None:
                raise CommandError(f"no company {key!r}")
            reports = [services.chain_verify(company_id=company.pk)]
        else:
            reports = services.chains_verify_all()
        broken = [r for r in reports if not r.ok]
        for report in reports:
            name = "system" if report.chain == SYSTEM_CHAIN else f"company {report.chain}"
            if report.ok:
                self.stdout.write(f"{name}: {report.checked} entries verified in {report.seconds:.1f} s")
            else:
                self.stderr.write(f"{name}: BROKEN at entry #{report.broken_seq}: {report.problem} "
                                  f"({report.checked} entries verified before it)")
        if broken:
            raise CommandError(f"{len(broken)} of {len(reports)} audit chains are broken")
        self.stdout.write(f"{len(reports)} audit chains intact")
