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

import datetime
import json
from collections.abc import Callable, Sequence
from decimal import Decimal

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, models

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


# Values the driver writes exactly as the field would have prepared them, by the field's kind.
_AS_THEY_ARE: tuple[tuple[type, tuple[type, ...]], ...] = (
    (models.BooleanField, (bool,)),
    (models.CharField, (str,)), (models.TextField, (str,)),
    (models.IntegerField, (int,)), (models.AutoField, (int,)), (models.BigAutoField, (int,)),
    (models.DateTimeField, ()),  # before DateField, its parent: instants go the field's way
    (models.DateField, (datetime.date,)),
)


def _preparer(field, database) -> Callable:
    """From a value to what COPY writes. A first mirror prepares sixty values an invoice, and the
    field's own preparation (about a microsecond each) is needed only for what the driver would
    not write as the field does: other types, decimals (checked finite) and JSON."""
    prepare = field.get_db_prep_save
    if isinstance(field, models.ForeignKey):
        kinds: tuple[type, ...] = (int,)
    else:
        kinds = next((accepted for kind, accepted in _AS_THEY_ARE if isinstance(field, kind)), ())
    if isinstance(field, models.JSONField):
        # Written as text, which the column parses: the same document as the field's adapter writes.
        return lambda value: (json.dumps(value, cls=field.encoder) if type(value) in (dict, list)
                              else prepare(value, database))
    if isinstance(field, models.DecimalField):
        return lambda value: value if type(value) is Decimal and value.is_finite() else prepare(value, database)
    if not kinds:
        return lambda value: prepare(value, database)
    return lambda value: value if value is None or type(value) in kinds else prepare(value, database)


def _written(model) -> list:
    """The columns an insert writes: not those the database computes (generated columns)."""
    return [field for field in model._meta.concrete_fields if not field.generated]


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
        fields = _written(Invoice)
        database = _database()
        preparers = [_preparer(field, database) for field in fields]
        rows = []
        for invoice, pk in zip(invoices, ids, strict=True):
            invoice.pk = pk
            # pre_save fills auto_now(_add) stamps as bulk_create does, one instant per row.
            rows.append([prepare(field.pre_save(invoice, True)) for field, prepare in zip(fields, preparers)])
            invoice._state.adding, invoice._state.db = False, "default"
        _copy(cursor, Invoice, fields, rows)
        _copy(cursor, history, history._meta.concrete_fields,
              _history_rows(history, invoices, rows, history_ids, change_reason))
    return invoices


def _history_rows(history, invoices: list[Invoice], rows: list[list], history_ids: list[int], change_reason: str):
    """What simple-history's bulk_history_create would write for each first version: the values
    the invoice's row was written with (prepared once, the document dumped once), then who,
    when and why."""
    from django.utils import timezone

    tracked = {field.attname for field in history.tracked_fields}
    position = {field.attname: index for index, field in enumerate(_written(Invoice))
                if field.attname in tracked}
    fields = history._meta.concrete_fields
    database = _database()
    preparers = {field.attname: _preparer(field, database) for field in fields if field.attname not in position}
    for invoice, row, history_id in zip(invoices, rows, history_ids, strict=True):
        user = getattr(invoice, "_history_user", None) or history.get_default_history_user(invoice)
        own = {"history_id": history_id,
               "history_date": getattr(invoice, "_history_date", None) or timezone.now(),
               "history_change_reason": getattr(invoice, "_change_reason", None) or change_reason,
               "history_type": "+", "history_user_id": user.pk if user is not None else None}
        yield [row[position[field.attname]] if field.attname in position
               else preparers[field.attname](own[field.attname]) for field in fields]


def lines_create(invoices: list[Invoice], company_id: int) -> None:
    """The analysis lines of new invoices (their ids come from the column's default)."""
    fields = [field for field in InvoiceLine._meta.concrete_fields if not field.primary_key]
    database = _database()
    preparers = [(field.attname, _preparer(field, database)) for field in fields]
    with connection.cursor() as cursor:
        _copy(cursor, InvoiceLine, fields, (
            [prepare(values[name]) for name, prepare in preparers]
            for invoice in invoices
            for values in (
                {"invoice_id": invoice.pk, "company_id": company_id, **row}
                for row in mirror.invoice_lines(invoice.document))
        ))
