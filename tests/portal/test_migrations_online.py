"""Migrations are safe to run while the previous version serves (README, Upgrades).

A migration only adds: tables, nullable columns (or columns with a database default), indexes,
constraints, data. The old code keeps working on the new schema because nothing it reads or
writes disappears or becomes mandatory. Removing or renaming is a "contract" step, done a
release after the code stopped using the thing; such a migration says so with
`contract = True` on its class, and its release notes say to stop the old version first.
"""

from __future__ import annotations

import pytest
from django.db.migrations import operations as ops
from django.db.migrations.loader import MigrationLoader
from django.db.models.fields import NOT_PROVIDED

# Written before this rule, when no firm ran the portal yet; never a precedent.
BEFORE_THE_RULE = {"approvals.0003_routing_revision"}
DESTRUCTIVE = (ops.RemoveField, ops.DeleteModel, ops.RenameField, ops.RenameModel, ops.AlterModelTable,
               ops.RemoveConstraint)


def project_migrations():
    loader = MigrationLoader(None, ignore_no_migrations=True)  # files only, no database
    for (app, name), migration in sorted(loader.disk_migrations.items()):
        if app in {"portal", "invoices", "approvals", "audit", "operations", "alegra_sandbox", "findings", "api"}:
            yield f"{app}.{name}", migration


def problems_of(migration) -> list[str]:
    if getattr(migration, "contract", False):
        return []
    found = []
    for operation in migration.operations:
        if isinstance(operation, DESTRUCTIVE):
            found.append(f"{type(operation).__name__} {operation.describe()}")
        elif isinstance(operation, ops.AddField):
            field = operation.field
            # A generated column is filled by the database, whatever the version that inserts.
            if not field.null and not field.many_to_many and field.db_default is NOT_PROVIDED \
                    and not field.generated:
                found.append(f"AddField {operation.model_name}.{operation.name} is NOT NULL without a db_default")
    return found


@pytest.mark.parametrize("label,migration", list(project_migrations()), ids=lambda value: value
                         if isinstance(value, str) else "")
def test_migration_only_expands_the_schema(label, migration):
    if label in BEFORE_THE_RULE:
        pytest.skip("written before the rule")
    assert not problems_of(migration), (
        f"{label} would break the version still serving during an upgrade: {problems_of(migration)}. "
        "Add instead (nullable, or with db_default), or mark a deliberate contract step `contract = True`.")


def test_the_check_catches_a_dropped_column_and_a_mandatory_new_one():
    from django.db import migrations, models

    class Drop(migrations.Migration):
        operations = [migrations.RemoveField("push", "writes")]

    class Mandatory(migrations.Migration):
        operations = [migrations.AddField("push", "owner", models.CharField(max_length=10, default="x"))]

    class Optional(migrations.Migration):
        operations = [migrations.AddField("push", "owner", models.CharField(max_length=10, null=True)),
                      migrations.AddField("push", "kind", models.CharField(max_length=10, db_default="a"))]

    class Contract(migrations.Migration):
        contract = True
        operations = Drop.operations

    assert problems_of(Drop("0099_drop", "approvals")) and problems_of(Mandatory("0099_add", "approvals"))
    assert problems_of(Optional("0099_ok", "approvals")) == []
    assert problems_of(Contract("0099_contract", "approvals")) == []
