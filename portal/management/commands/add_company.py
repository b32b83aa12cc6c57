import getpass

from django.core.management.base import BaseCommand, CommandError

from django.core.exceptions import ValidationError

from portal.services import TenancyError, company_create


class Command(BaseCommand):
    help = "Register an Alegra account (company connection). The token is read from a prompt or --token-env."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--base-url", required=True)
        parser.add_argument("--email", required=True, help="the Alegra API user's e-mail")
        parser.add_argument("--token-env", action="store_true", help="read the token from ALEGRA_TOKEN at run time")
        parser.add_argument("--country", default="CO")
        parser.add_argument("--currency", default="COP")
        parser.add_argument("--precision", type=int, default=2)

    def handle(self, *args, **opts):
        token = ""
        if not opts["token_env"]:
            token = getpass.getpass("Alegra API token: ").strip()
        try:
            company = company_create(
                name=opts["name"],
                base_url=opts["base_url"],
                api_email=opts["email"],
                token=token,
                token_from_env=opts["token_env"],
                country=opts["country"],
                currency=opts["currency"],
                decimal_precision=opts["precision"],
            )
        except (TenancyError, ValidationError) as exc:  # messages name the field, never the token
            raise CommandError(f"company not created: {exc}") from None
        self.stdout.write(f"company {company.pk} '{company.name}' registered")
