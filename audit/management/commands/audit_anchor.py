from django.core.management.base import BaseCommand, CommandError

from audit import services
from audit.models import SYSTEM_CHAIN
from portal.services import company_find


class Command(BaseCommand):
    help = ("Append the signed head of the audit chains to AUDIT_ANCHOR_DIR, outside the database "
            "(the scheduler does it every AUDIT_ANCHOR_EVERY_MINUTES).")

    def add_arguments(self, parser):
        parser.add_argument("--company", help="company id or exact name (default: every chain)")

    def handle(self, *args, **opts):
        if opts["company"]:
            company = company_find(opts["company"])
            if company is None:
                raise CommandError(f"no company {opts['company']!r}")
            results = services.chains_anchor(company_id=company.pk)
        else:
            results = services.chains_anchor(every=True)
        for result in results:
            name = "system" if result.chain == SYSTEM_CHAIN else f"company {result.chain}"
            if result.problem:
                self.stderr.write(f"{name}: NOT ANCHORED: {result.problem}")
            elif result.anchor is None:
                self.stdout.write(f"{name}: nothing to anchor yet")
            else:
                self.stdout.write(f"{name}: entry #{result.anchor.seq} anchored ({result.anchor.at})")
        refused = [result for result in results if result.problem]
        if refused:
            raise CommandError(f"{len(refused)} of {len(results)} audit chains could not be anchored")
