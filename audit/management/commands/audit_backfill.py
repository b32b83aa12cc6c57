from django.core.management.base import BaseCommand

from audit.recorder import history_backfill


class Command(BaseCommand):
    help = "Write the audit entries of historical rows that have none (rows older than the audit log)."

    def handle(self, *args, **opts):
        written = history_backfill()
        self.stdout.write(f"{written} audit entries written")
