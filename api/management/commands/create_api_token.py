"""python manage.py create_api_token --user USERNAME --company ID_OR_NAME --scopes a,b [--name TEXT] [--expires-days N]
    [--agent]

Prints the new token alone on standard output (scripts capture it); anything else goes to
standard error. The token is stored only as a hash: this is the one time it is shown.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from api import services
from portal.models import Company
from portal.services import company_find


class Command(BaseCommand):
    help = "Create a personal API token and print it alone on standard output."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="the user name the token acts as")
        parser.add_argument("--company", required=True, help="the company's id or exact name")
        parser.add_argument("--scopes", required=True, help="comma-separated, e.g. invoices:read,requests:write")
        parser.add_argument("--name", default="", help="what the token is for (default: command line token)")
        parser.add_argument("--expires-days", type=int, default=None, help="days until it expires")
        parser.add_argument("--agent", action="store_true",
                            help="for an AI agent: its requests, through REST too, are never approved by a rule")

    def handle(self, *args, **options):
        User = get_user_model()
        user = User.objects.filter(**{User.USERNAME_FIELD: options["user"]}, is_active=True).first()
        if user is None:
            raise CommandError(f"no active user named {options['user']!r}")
        wanted = options["company"].strip()
        # An id or a name, as every command takes it; a name of digits that is no company's id too.
        company = company_find(wanted) or Company.objects.filter(name=wanted).order_by("id").first()
        if company is None:
            raise CommandError(f"no company with id or name {wanted!r}")
        try:
            _token, secret = services.token_create(
                user=user, company=company, name=options["name"] or "command line token",
                scopes=options["scopes"], expires_days=options["expires_days"], for_agent=options["agent"])
        except services.TokenRefused as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(secret)
