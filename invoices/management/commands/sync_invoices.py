import sys

from django.core.management.base import BaseCommand, CommandError

from invoices import sync
from invoices.alegra import AlegraError
from portal.services import companies_all, company_find

NOTHING_CONFIGURED = (
    "no company is configured, so there is nothing to sync. Register an Alegra account with "
    "`manage.py add_company --name NAME --base-url https://api.alegra.com/api/v1 --email API-USER-EMAIL`, "
    "or set ALEGRA_BASE_URL, ALEGRA_EMAIL and ALEGRA_TOKEN; for the demo on the bundled sandbox, "
    "run `manage.py setup_demo`."
)


def _bar(run, width: int = 30) -> str:
    filled = int(width * run.percent / 100)
    return f"[{'#' * filled}{'.' * (width - filled)}] {run.percent:3d}% page {run.pages_done}/{run.pages_total}"


class Command(BaseCommand):
    help = "Mirror invoices from Alegra: recent dates by default, every invoice with --full."

    def add_arguments(self, parser):
        parser.add_argument("--company", help="company id or exact name (default: every company)")
        parser.add_argument("--full", action="store_true", help="read every invoice and find deletions")
        parser.add_argument("--days", type=int, default=None, help="with the default mode, how many days back")

    def handle(self, *args, **opts):
        companies = list(companies_all())
        if not companies:
            raise CommandError(NOTHING_CONFIGURED)
        if opts["company"]:
            company = company_find(opts["company"])
            if company is None:
                raise CommandError(f"no company {opts['company']!r}")
            companies = [company]
        interactive = sys.stdout.isatty()

        def progress(run):
            if interactive:
                self.stdout.write("\r" + _bar(run), ending="")
                self.stdout.flush()

        failed = False
        for company in companies:
            try:
                if opts["full"]:
                    run = sync.sync_full(company=company, progress=progress, with_catalogues=True)
                else:
                    run = sync.sync_recent(company=company, days=opts["days"], progress=progress)
            except sync.SyncBusy as exc:
                self.stderr.write(str(exc))
                failed = True
                continue
            except AlegraError as exc:
                self.stderr.write(f"{company.name}: {exc}")
                failed = True
                continue
            if interactive:
                self.stdout.write("\r" + _bar(run))
            self.stdout.write(
                f"{company.name}: {run.state} — {run.pages_done} pages, {run.invoices_seen} seen, "
                f"{run.invoices_created} new, {run.invoices_changed} changed, {run.invoices_deleted} deleted, "
                f"{run.requests_made} requests, {run.errors} errors"
            )
            failed = failed or run.state != "succeeded"
        if failed:
            raise CommandError("some syncs did not succeed")
