"""The search's trigram indexes keyed by company first, on PostgreSQL; nothing on SQLite.

A firm's database holds many companies, and a search looks in one. The trigram indexes of 0005
held every company's invoices: a fragment common across the firm ("FE1") found every company's
matches in the index, and each was read from the table only to be dropped for its company (at
1,000,000 invoices across 10 companies, 111,000 rows read for 11,000 kept: 433 ms for a page,
458 for its count). With the company as the GIN index's first column (btree_gin, a contrib
extension shipped with PostgreSQL), the index gives only the company's matches.

Each index is built beside the one it replaces without blocking writes (CONCURRENTLY, hence not
in a transaction), then takes its name; the finer sample of 0008 moves to the expression, now
the index's second column.
"""

from django.db import migrations

COLUMNS = {"invoice_number_trgm": "number", "invoice_client_name_trgm": "client_name"}
STATISTICS = 1000  # as 0008


def _replace(schema_editor, by_company: bool) -> None:
    for name, column in COLUMNS.items():
        keys = f"(UPPER({column}::text)) gin_trgm_ops"
        if by_company:
            keys = f"company_id, {keys}"
        built = f"{name}_next"
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {built}")  # left by a run interrupted here
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY {built} ON invoices_invoice USING gin ({keys})")
        schema_editor.execute(f"ALTER INDEX {built} ALTER COLUMN {2 if by_company else 1} SET STATISTICS {STATISTICS}")
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        schema_editor.execute(f"ALTER INDEX {built} RENAME TO {name}")


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    _replace(schema_editor, by_company=True)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _replace(schema_editor, by_company=False)


class Migration(migrations.Migration):
    atomic = False  # CREATE and DROP INDEX CONCURRENTLY run outside a transaction

    dependencies = [
        ("invoices", "0009_invoice_short_search"),
    ]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
