"""A narrower index for the page of a one- or two-character search, on PostgreSQL; nothing on SQLite.

Such a fragment is too short for the trigram indexes: its page reads the search text of every
invoice of the company from `invoice_short_search` (0009), which carries the sort keys and the
amounts too, for the filters, the other orders and the count and totals. The page in the list's
own order needs only the search text: read from an index that carries nothing else, the query
of a rare fragment ("zq") took 14.1-14.7 ms instead of 18.5-20.0 at a million invoices across 10
companies, and 12.9 instead of 16.9 at 100,000 in one.

Built without blocking writes (CONCURRENTLY, hence not in a transaction).
"""

from django.db import migrations

NAME = "invoice_short_search_page"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")  # left invalid by a run interrupted here
    schema_editor.execute(f"CREATE INDEX CONCURRENTLY {NAME} ON invoices_invoice (company_id, date DESC, id DESC) "
                          "INCLUDE (search_text) WHERE NOT is_deleted")


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {NAME}")


class Migration(migrations.Migration):
    atomic = False  # CREATE and DROP INDEX CONCURRENTLY run outside a transaction

    dependencies = [
        ("invoices", "0010_invoice_search_by_company"),
    ]

    operations = [migrations.RunPython(forward, backward, elidable=False)]
