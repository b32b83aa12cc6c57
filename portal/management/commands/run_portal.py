"""Web server, Celery worker and scheduler together; one Ctrl-C stops all."""

import os
import signal
import subprocess
import sys
import time

import httpx
from django.conf import settings
from django.core.management.base import BaseCommand


def worker_command(python: str) -> list[str]:
    """One worker for the demo: every queue (pushes, sync, events, default) and the scheduler."""
    return [python, "-m", "celery", "-A", "portal", "--quiet", "worker", "-B", "--loglevel=INFO", "--concurrency=2",
            "-Q", ",".join(settings.TASK_QUEUES), "-s", settings.CELERY_BEAT_SCHEDULE_FILENAME]


class Command(BaseCommand):
    help = "Run the web server and a Celery worker with its scheduler until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")

    def handle(self, *args, **opts):
        python = sys.executable
        env = dict(os.environ)
        # The demo's console shows what happens, not warnings meant for a production setup: Django's
        # "development server" notice, and Celery's about running as root (a container's default).
        env.setdefault("DJANGO_RUNSERVER_HIDE_WARNING", "true")
        env["ENMIENDA_DEMO_WORKER"] = "1"
        children = [
            subprocess.Popen([python, "manage.py", "runserver", opts["addr"], "--noreload", "--skip-checks"], env=env),
            subprocess.Popen(worker_command(python), env=env),
        ]
        stopping = False

        def stop(*_):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        self.stdout.write(f"Enmienda is starting on http://{opts['addr']}/ — Ctrl-C stops everything.")
        try:
            self._after_start(opts["addr"])
            while not stopping and all(child.poll() is None for child in children):
                time.sleep(0.5)
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
        self.stdout.write("stopped")

    def _after_start(self, addr: str) -> None:
        """Once the server answers: mirror companies never synced, and subscribe to webhooks."""
        for _ in range(60):
            try:
                if httpx.get(f"http://{addr}/health/", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        from invoices.models import SyncRun
        from invoices.tasks import ensure_webhooks_all, sync_company
        from portal.services import companies_all

        synced = set(SyncRun.objects.filter(state=SyncRun.State.SUCCEEDED).values_list("company_id", flat=True))
        for company in companies_all().exclude(pk__in=synced):
            self.stdout.write(f"mirroring {company.name} in the background (see its Sync page)")
            sync_company.delay(company.pk, "full")
        ensure_webhooks_all.delay()
