"""Indexes for the invoice list at a firm's scale, on PostgreSQL; nothing on SQLite.

- pg_trgm GIN indexes on the upper-cased number and client name: the list's `icontains`
  search (`UPPER(col::text) LIKE UPPER('%…%')`) is served by them, for any fragment of three
  characters or more, wherever it sits in the text;
- a B-tree on (company, identification), the third branch of the same search;
- a partial covering index of the invoices not deleted, keyed by company, status and due date,
  carrying the amounts: the list's count and totals read it alone (an index-only scan), not
  the rows and their documents.

SQLite, the embedded default, has none of these and keeps its plain scans. Both get an index of
each invoice's versions in order (invoice, version id): the timeline numbers the versions from it
without reading them.
"""

from django.db import migrations

INDEXES = [
    ("invoice_number_trgm",
     "CREATE INDEX IF NOT EXISTS invoice_number_trgm ON invoices_invoice "
     "USING gin ((UPPER(number::text)) gin_trgm_ops)"),
    ("invoice_client_name_trgm",
     "CREATE INDEX IF NOT EXISTS invoice_client_name_trgm ON invoices_invoice "
     "USING gin ((UPPER(client_name::text)) gin_trgm_ops)"),
    ("invoice_by_identification",
     "CREATE INDEX IF NOT EXISTS invoice_by_identification ON invoices_invoice "
     "(company_id, client_identification)"),
    ("invoice_summary",
     "CREATE INDEX IF NOT EXISTS invoice_summary ON invoices_invoice "
     "(company_id, status, due_date) INCLUDE (total, balance, date, is_stamped) WHERE NOT is_deleted"),
]


HISTORY_INDEX = ("CREATE INDEX IF NOT EXISTS invoice_history_by_invoice "
                 "ON invoices_historicalinvoice (id, history_id)")


def create(apps, schema_editor):
    schema_editor.execute(HISTORY_INDEX)
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for _name, sql in INDEXES:
        schema_editor.execute(sql)


def drop(apps, schema_editor):
    schema_editor.execute("DROP INDEX IF EXISTS invoice_history_by_invoice")
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _sql in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ("invoices", "0004_contact_history_reason_text"),
    ]

    operations = [migrations.RunPython(create, drop, elidable=False)]
