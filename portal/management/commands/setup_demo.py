"""Demo data: a seeded sandbox account, its company connection and one user per role.

The first mirror is made by `run_portal` once the web server (and so the
sandbox behind it) answers: the worker syncs over real HTTP, as in production.
"""

import io

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from portal.models import Company
from portal.services import company_create, company_from_environment, membership_set, user_ensure

DEMO_PASSWORD = "enmienda-demo-2026"
DEMO_COMPANIES = [
    # (name, api e-mail, token, precision, seed, invoices, seed profile)
    # The first company has a year of trade with labelled mistakes: its Review page fills up
    # as the first sync mirrors it (each page of invoices is scanned as it lands).
    ("Ferretería Andina S.A.S.", "api@ferreteria-andina.test", "demo-token-andina", 2, 42, 600, "year"),
    ("Café de la Sierra Ltda", "api@cafe-sierra.test", "demo-token-sierra", 0, 7, 120, "demo"),
]
DEMO_USERS = [
    # (username, first name, role in the first company, role in the second or None)
    ("contadora", "Ana Contadora", "accountant", "accountant"),
    ("contador2", "Luis Contador", "accountant", None),
    ("aprobador", "Pedro Aprobador", "approver", None),
    ("aprobadora2", "Sofía Aprobadora", "approver", "approver"),
    ("gerente", "María Gerente", "manager", "manager"),
]


class Command(BaseCommand):
    help = "Seed the sandbox and register the demo companies and users (idempotent)."

    def handle(self, *args, **opts):
        if not settings.SANDBOX_ENABLED:
            # Demo users with a published password against a simulator: never on a real deployment.
            raise CommandError("the demo runs against the bundled sandbox, which is off: set SANDBOX_ENABLED=true "
                               "(it is on by default with DEBUG=true)")
        own = company_from_environment()
        if own is not None:
            self.stdout.write(f"company '{own.name}' configured from ALEGRA_BASE_URL/ALEGRA_EMAIL/ALEGRA_TOKEN")
        base_url = settings.PORTAL_BASE_URL.rstrip("/") + "/sandbox/api/v1"
        companies = []
        for name, email, token, precision, seed, count, profile in DEMO_COMPANIES:
            company = Company.objects.filter(api_email=email).first()
            if company is None:
                call_command("sandbox_seed", email=email, token=token, name=name, seed=seed,
                             invoices=count, precision=precision, reset=True, profile=profile,
                             stdout=io.StringIO())
                company = company_create(name=name, base_url=base_url, api_email=email, token=token,
                                         decimal_precision=precision)
            companies.append(company)
        for username, full_name, first_role, second_role in DEMO_USERS:
            first, _, last = full_name.partition(" ")
            user = user_ensure(username=username, password=DEMO_PASSWORD, email=f"{username}@enmienda.test",
                               first_name=first, last_name=last)
            membership_set(user=user, company=companies[0], role=first_role)
            if second_role:
                membership_set(user=user, company=companies[1], role=second_role)
        self.stdout.write(demo_summary(companies))


def demo_summary(companies: list[Company]) -> str:
    """The first thing `make run` prints: both companies, and who works in each as what."""
    lines = ["", "Enmienda demo: two companies, one user per role (password for every user: %s)" % DEMO_PASSWORD]
    for position, (company, spec) in enumerate(zip(companies, DEMO_COMPANIES)):
        lines.append(f"  {company.name} ({spec[5]} invoices in its Alegra sandbox)")
        for username, full_name, first_role, second_role in DEMO_USERS:
            role = first_role if position == 0 else second_role
            if role:
                lines.append(f"    {username:<12} {full_name:<18} {role}")
    lines.append("")
    return "\n".join(lines)
