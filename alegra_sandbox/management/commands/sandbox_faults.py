"""Switch injected faults (errors, latency, dropped connections) on or off for an account."""

from django.core.management.base import BaseCommand, CommandError

from alegra_sandbox.errors import SandboxError
from alegra_sandbox.models import SandboxAccount
from alegra_sandbox.services import faults_set


class Command(BaseCommand):
    help = "Set the sandbox's fault injection for one account (all zero = off)."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--error-rate", default="0", help="share of 500/503 answers, 0–1")
        parser.add_argument("--drop-rate", default="0", help="share of dropped connections, 0–1")
        parser.add_argument("--latency-ms", type=int, default=0)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--off", action="store_true", help="switch every fault off")

    def handle(self, *args, **options):
        account = SandboxAccount.objects.filter(email=options["email"]).first()
        if account is None:
            raise CommandError(f"no sandbox account with e-mail {options['email']}")
        values = {"error_rate": "0", "drop_rate": "0", "latency_ms": 0, "seed": 0}
        if not options["off"]:
            values = {"error_rate": options["error_rate"], "drop_rate": options["drop_rate"],
                      "latency_ms": options["latency_ms"], "seed": options["seed"]}
        try:
            faults_set(account, **values)
        except SandboxError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"Faults for {account.email}: errors {account.fault_error_rate}, drops "
            f"{account.fault_drop_rate}, latency {account.fault_latency_ms} ms, seed {account.fault_seed}")
