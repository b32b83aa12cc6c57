import os
import time

import pytest

from tests.factories import make_company, make_user


@pytest.fixture(autouse=True)
def _english_by_default(settings):
    """Assertions read English messages; the Spanish catalogue has its own tests."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing costs half a second per user; what is tested here is access, not hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _celery_eager_by_default():
    """Tasks run inline unless a test starts a real worker (those switch this off)."""
    from portal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _audit_anchors_of_this_test(settings, tmp_path):
    """Anchors are files: each test starts with none, whatever ids the database hands out."""
    settings.AUDIT_ANCHOR_DIR = tmp_path / "audit-anchors"


@pytest.fixture(autouse=True)
def _sandbox_webhook_hosts_of_the_tests(settings):
    """The hosts the tests' webhook subscriptions name, besides the portal's own."""
    settings.SANDBOX_WEBHOOK_ALLOWED_HOSTS = [*settings.SANDBOX_WEBHOOK_ALLOWED_HOSTS, "testserver",
                                              "hooks.example.com", "hooks.example", "portal.example"]


@pytest.fixture(autouse=True)
def _event_receivers_of_the_tests(settings):
    """The tests' event receivers listen on this machine: named, as an operator would name an ERP."""
    settings.EVENT_DELIVERY_PRIVATE_HOSTS = ["127.0.0.1", "localhost"]


@pytest.fixture(scope="session", autouse=True)
def _flush_past_the_audit_triggers():
    """Transactional tests are emptied with TRUNCATE, which the audit's triggers refuse.

    Only the test run empties the audit tables: it does so with triggers off for that one
    transaction (the replication role, as a superuser would have to).
    """
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        # A browser test's last request can still be running in the live server's thread when
        # the test ends; its reads and the TRUNCATE can deadlock, and PostgreSQL may pick the
        # flush as the victim. The request finishes once the flush has rolled back, so retry.
        from django.db import OperationalError

        for attempt in range(5):
            try:
                original(self, ["SET LOCAL session_replication_role = replica", *sql_list])
                return
            except OperationalError as error:
                if "deadlock detected" not in str(error) or attempt == 4:
                    raise
                time.sleep(0.2 * (attempt + 1))

    DatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    DatabaseOperations.execute_sql_flush = original


@pytest.fixture
def company(db):
    return make_company(name="Ferretería Andina S.A.S.")


@pytest.fixture
def other_company(db):
    return make_company(name="Otra Empresa Ltda")


@pytest.fixture
def accountant(company):
    return make_user("ana", company, "accountant")


@pytest.fixture
def approver(company):
    return make_user("pedro", company, "approver")


@pytest.fixture
def manager(company):
    return make_user("maria", company, "manager")


@pytest.fixture
def outsider(other_company):
    return make_user("olga", other_company, "manager")


@pytest.fixture
def in_process_http(monkeypatch):
    """Every httpx.Client made without a transport reaches this app in-process (no network)."""
    import httpx

    from alegra_sandbox.testing import SandboxTransport

    original = httpx.Client.__init__

    def in_process(self, *args, **kwargs):
        kwargs.setdefault("transport", SandboxTransport())
        original(self, *args, **kwargs)

    monkeypatch.setattr(httpx.Client, "__init__", in_process)


if os.environ.get("ENMIENDA_MUTATION_RUN"):
    # A mutation run migrates once and copies the database into each mutant's process.
    from tests.mutation_db import django_db_setup  # noqa: F401,E402
