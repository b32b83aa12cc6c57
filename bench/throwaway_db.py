"""The throw-away database every benchmark works in: a temporary SQLite file by default, or the
PostgreSQL database named by DATABASE_URL, created before the run and dropped after it."""

import os
import tempfile


def _split(url: str) -> tuple[str, str]:
    return url.rsplit("/", 1)[0] + "/postgres", url.rsplit("/", 1)[1]


def create_postgres(url: str) -> None:
    import psycopg

    admin, name = _split(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_postgres(url: str) -> None:
    from django.db import connections

    connections.close_all()
    import psycopg

    admin, name = _split(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def prepare() -> str:
    """Call before Django is set up; says where the run works."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        folder = tempfile.mkdtemp(prefix="enmienda-bench-")
        os.environ["ENMIENDA_VAR_DIR"] = folder
        return f"SQLite in {folder}"
    create_postgres(url)
    return f"PostgreSQL database {_split(url)[1]}"


def drop() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if url:
        drop_postgres(url)
