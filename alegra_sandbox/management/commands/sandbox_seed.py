"""Create (or reuse) a sandbox account and fill it with deterministic demo data."""

import time

from django.core.management.base import BaseCommand, CommandError

from alegra_sandbox.models import SandboxAccount
from alegra_sandbox.services import SeedError, account_create, seed


class Command(BaseCommand):
    help = "Fill a sandbox account with deterministic Colombian demo data."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--token", required=True)
        parser.add_argument("--name", default="Ferretería Andina S.A.S.")
        parser.add_argument("--seed", type=int, default=42)
        parser.add_argument("--invoices", type=int, default=300)
        parser.add_argument("--reset", action="store_true", help="wipe the account's data first")
        parser.add_argument("--precision", type=int, choices=[0, 2], default=None)
        parser.add_argument("--profile", choices=["demo", "year"], default="demo",
                            help="demo: varied invoices over 18 months; year: a year of trade with client "
                                 "habits, hard negatives and labelled mistakes of every kind")

    def handle(self, *args, **options):
        if options["invoices"] < 0:
            raise CommandError("--invoices must be zero or more")
        account = SandboxAccount.objects.filter(email=options["email"]).first()
        if account is None:
            account = account_create(email=options["email"], token=options["token"], name=options["name"])
        elif account.token != options["token"] or account.name != options["name"]:
            account.token, account.name = options["token"], options["name"]
            account.save(update_fields=["token", "name"])

        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            if done == total or done % 10_000 == 0:
                self.stdout.write(f"  {done}/{total} invoices ({time.monotonic() - started:.1f} s)")

        try:
            summary = seed(account, seed=options["seed"], invoices=options["invoices"],
                           reset=options["reset"], precision=options["precision"], progress=progress,
                           profile=options["profile"])
        except SeedError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Seeded {account.email}: {summary.invoices} invoices, {summary.contacts} clients, "
            f"{summary.items} items, {summary.mistakes} planted mistakes "
            f"in {time.monotonic() - started:.1f} s")
