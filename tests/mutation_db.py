"""The test database of a mutation run: migrated once, then copied into each mutant's process.

A mutation run (`make mutation`) runs the selected tests once per mutant, each time in a
process forked from the first. Migrating a fresh SQLite database for every mutant would cost
more than the tests themselves, so the first session migrates, keeps a copy of the migrated
database in memory, and every later session (the parent's own, or a forked mutant's) starts
from that copy, in a file of its own: what each test sees is what it sees in a normal run.

Used only when ENMIENDA_MUTATION_RUN is set (tests/conftest.py imports the fixture then).
"""

from __future__ import annotations

import atexit
import os
import sqlite3
from pathlib import Path

import pytest

_migrated: dict[str, object] = {}


def _use_own_file(connection) -> Path:
    """Point the connection at a new database file of this process (the inherited one is the parent's)."""
    path = Path(str(connection.settings_dict["NAME"])).with_name(f"test-db-mutant-{os.getpid()}.sqlite3")
    path.unlink(missing_ok=True)
    # The handle inherited from the parent belongs to the parent's file: left alone, not closed.
    connection.connection = None
    connection.settings_dict["NAME"] = str(path)
    return path


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker):
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.test.utils import setup_databases

    if connection.vendor != "sqlite":
        raise pytest.UsageError("a mutation run uses SQLite: unset DATABASE_URL")
    own_file = None
    with django_db_blocker.unblock():
        if not _migrated:
            setup_databases(verbosity=0, interactive=False, aliases={"default"}, serialized_aliases=set())
            copy = sqlite3.connect(":memory:", check_same_thread=False)
            connection.ensure_connection()
            connection.connection.backup(copy)
            _migrated.update(copy=copy, owner=os.getpid(), name=str(connection.settings_dict["NAME"]))
            atexit.register(Path(_migrated["name"]).unlink, missing_ok=True)
        else:
            if os.getpid() != _migrated["owner"]:
                own_file = _use_own_file(connection)
            connection.ensure_connection()
            _migrated["copy"].backup(connection.connection)
            ContentType.objects.clear_cache()  # ids as the copy has them
    yield
    if own_file is not None:
        with django_db_blocker.unblock():
            connection.close()
        own_file.unlink(missing_ok=True)
