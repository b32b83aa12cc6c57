"""Record feedback on a finding, as a person, exactly as the screens do.

    python manage.py review_finding ID --confirm|--dismiss --reason TEXT --user USERNAME

The user must be an accountant or a manager of the finding's company. A dismissal teaches a
learned exception like the screen's (its "learn" box is ticked by default). One line on success;
a one-line error and exit 1 otherwise.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from findings import services
from findings.models import Finding


class Command(BaseCommand):
    help = "Confirm or dismiss a finding as a user (the same feedback as the Review page)."

    def add_arguments(self, parser):
        parser.add_argument("finding", type=int, help="the finding's id")
        verdict = parser.add_mutually_exclusive_group(required=True)
        verdict.add_argument("--confirm", action="store_true", help="the finding is right")
        verdict.add_argument("--dismiss", action="store_true", help="the finding is not a mistake")
        parser.add_argument("--reason", default="", help="why (required to dismiss)")
        parser.add_argument("--user", required=True, help="the user name of the person giving the feedback")

    def handle(self, *args, **options):
        User = get_user_model()
        user = User.objects.filter(**{User.USERNAME_FIELD: options["user"]}, is_active=True).first()
        if user is None:
            raise CommandError(f"no such active user: {options['user']}")
        finding = Finding.objects.filter(pk=options["finding"]).first()
        if finding is None:
            raise CommandError(f"no such finding: {options['finding']}")
        try:
            if options["confirm"]:
                services.finding_confirm(finding=finding, user=user, reason=options["reason"])
                self.stdout.write(f"finding {finding.pk} confirmed by {user.get_username()}")
                return
            finding = services.finding_dismiss(finding=finding, user=user, reason=options["reason"])
        except services.FindingRefused as exc:
            raise CommandError(" ".join(str(exc).split())) from None
        except DatabaseError as exc:
            raise CommandError(f"database error: {' '.join(str(exc).split())}") from None
        self.stdout.write(f"finding {finding.pk} dismissed by {user.get_username()}")
