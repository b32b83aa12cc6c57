"""Companies created before the default policies came with the company get them now.

Until now they were created the first time someone submitted (or opened the policies
page), recorded as that person's doing. A company that already has its approval settings
keeps what it has. The rows are written with their first version, by no user: the system.
The audit records those versions after `migrate` (its backfill of versions without entries).
"""

from django.conf import settings
from django.db import migrations
from django.utils import timezone, translation


def _with_first_version(apps, model_name: str, row, when, reason: str) -> None:
    History = apps.get_model("approvals", f"Historical{model_name}")
    values = {field.attname: getattr(row, field.attname) for field in row._meta.concrete_fields}
    History.objects.create(**values, history_date=when, history_type="+", history_user_id=None,
                           history_change_reason=reason)


def create_defaults(apps, schema_editor):
    from approvals.routing import default_policies

    Company = apps.get_model("portal", "Company")
    ApprovalSettings = apps.get_model("approvals", "ApprovalSettings")
    RoutingPolicy = apps.get_model("approvals", "RoutingPolicy")
    columns = {field.name for field in RoutingPolicy._meta.fields}
    with translation.override(settings.LANGUAGE_CODE):
        for company in Company.objects.exclude(pk__in=ApprovalSettings.objects.values("company_id")):
            when = timezone.now()
            row = ApprovalSettings.objects.create(company=company)
            _with_first_version(apps, "ApprovalSettings", row, when, "default settings")
            if RoutingPolicy.objects.filter(company=company).exists():
                continue
            for values in default_policies(company.currency):
                policy = RoutingPolicy.objects.create(
                    company=company, **{name: value for name, value in values.items() if name in columns})
                _with_first_version(apps, "RoutingPolicy", policy, when, "default policy")


class Migration(migrations.Migration):
    dependencies = [("approvals", "0003_routing_revision"), ("portal", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
