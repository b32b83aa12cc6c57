"""The covering index of the list's count and totals also carries the invoice's id.

Past the first page the summary counts the rows after the page's cursor (date, id): with the id
in the index that count is read from it alone too, instead of fetching every row of the company
from the table (139 ms → index-only on 100,000 invoices). PostgreSQL only, like 0005.
"""

from django.db import migrations

WITH_ID = ("CREATE INDEX IF NOT EXISTS invoice_summary ON invoices_invoice "
           "(company_id, status, due_date) INCLUDE (total, balance, date, is_stamped, id) WHERE NOT is_deleted")
WITHOUT_ID = ("CREATE INDEX IF NOT EXISTS invoice_summary ON invoices_invoice "
              "(company_id, status, due_date) INCLUDE (total, balance, date, is_stamped) WHERE NOT is_deleted")


def _replace(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute("DROP INDEX IF EXISTS invoice_summary")
        schema_editor.execute(sql)
    return run


class Migration(migrations.Migration):

    dependencies = [
        ("invoices", "0006_sync_run_queued"),
    ]

    operations = [migrations.RunPython(_replace(WITH_ID), _replace(WITHOUT_ID), elidable=False)]
