"""CPU time of the PostgreSQL server process behind a connection, where the server runs on this
machine: the wall clock of a shared machine counts the waits for a core, CPU time is the work."""

from __future__ import annotations

import os


def process_cpu(pid: int) -> float | None:
    """CPU seconds the server process `pid` has used, or None where /proc cannot tell."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_cpu():
    """A function giving the CPU seconds used so far by the default connection's server process
    (None on SQLite, where the database works inside this process)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return lambda: None
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return lambda: process_cpu(pid)
