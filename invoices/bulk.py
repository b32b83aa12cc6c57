"""New invoices of a mirrored page written with COPY on PostgreSQL: rows, first versions and lines.

A first mirror writes tens of thousands of invoices, each with its document twice (the row and
its first version). COPY streams them in one statement per table instead of INSERTs of a few
hundred rows each. Ids are reserved from the tables' own sequences first, so the rows, their
versions and their lines point at each other exactly as `bulk_create_with_history` would leave
them; the values are prepared by the models' own fields, so the stored rows are the same (a
test compares both ways, column by column).

SQLite (the embedded default) and MIRROR_COPY=false keep the ordinary bulk path.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections

from . import mirror
from .models import Invoice, InvoiceLine


def available() -> bool:
    return connection.vendor == "postgresql" and getattr(settings, "MIRROR_COPY", True)


def _reserve(cursor, table: str, column: str, count: int) -> list[int]:
    cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                   [table, column, count])
    return [row[0] for row in cursor.fetchall()]


def _database():
    """The connection itself, not the proxy `django.db.connection`: each field's preparation
    reads it several times, and through the proxy each read looked the connection up again
    (a twentieth of a first mirror's own time)."""
    return connections[DEFAULT_DB_ALIAS]


def _copy(cursor, model, fields: Sequence, rows) -> None:
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with cursor.cursor.copy(f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def invoices_create(invoices: list[Invoice], *, change_reason: str) -> list[Invoice]:
    """Insert new invoices and their first versions; the instances get their ids."""
    if not invoices:
        return invoices
    history = Invoice.history.model
    with connection.cursor() as cursor:
        ids = _reserve(cursor, Invoice._meta.db_table, Invoice._meta.pk.column, len(invoices))
        history_ids = _reserve(cursor, history._meta.db_table, history._meta.pk.column, len(invoices))
        fields = Invoice._meta.concrete_fields
        database = _database()
        rows = []
        for invoice, pk in zip(invoices, ids, strict=True):
            invoice.pk = pk
            # pre_save fills auto_now(_add) stamps as bulk_create does, one instant per row.
            rows.append([field.get_db_prep_save(field.pre_save(invoice, True), database) for field in fields])
            invoice._state.adding, invoice._state.db = False, "default"
        _copy(cursor, Invoice, fields, rows)
        _copy(cursor, history, history._meta.concrete_fields,
              _history_rows(history, invoices, history_ids, change_reason))
    return invoices


def _history_rows(history, invoices: list[Invoice], history_ids: list[int], change_reason: str):
    """What simple-history's bulk_history_create would write for each first version."""
    from django.utils import timezone

    tracked = {field.attname for field in history.tracked_fields}
    database = _database()
    for invoice, history_id in zip(invoices, history_ids, strict=True):
        user = getattr(invoice, "_history_user", None) or history.get_default_history_user(invoice)
        values = {attname: getattr(invoice, attname) for attname in tracked}
        values.update(history_id=history_id, history_date=getattr(invoice, "_history_date", None) or timezone.now(),
                      history_change_reason=getattr(invoice, "_change_reason", None) or change_reason,
                      history_type="+", history_user_id=user.pk if user is not None else None)
        yield [field.get_db_prep_save(values[field.attname], database) for field in history._meta.concrete_fields]


def lines_create(invoices: list[Invoice], company_id: int) -> None:
    """The analysis lines of new invoices (their ids come from the column's default)."""
    fields = [field for field in InvoiceLine._meta.concrete_fields if not field.primary_key]
    database = _database()
    with connection.cursor() as cursor:
        _copy(cursor, InvoiceLine, fields, (
            [field.get_db_prep_save(values[field.attname], database) for field in fields]
            for invoice in invoices
            for values in (
                {"invoice_id": invoice.pk, "company_id": company_id, **row}
                for row in mirror.invoice_lines(invoice.document))
        ))
