from django.db import migrations, models


class Migration(migrations.Migration):
    """The check on auto-approval rule kinds widened to the two new kinds (due date, finding fix),
    and their limits required. A contract step only in form: the version still serving writes
    none of the new kinds, so every row it writes passes the new checks."""

    contract = True

    dependencies = [
        ('approvals', '0006_learning_rules_and_origin'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='autoapprovalrule',
            name='auto_rule_kind_valid',
        ),
        migrations.AddConstraint(
            model_name='autoapprovalrule',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['notes_only', 'contact_address', 'small_discount', 'due_date', 'finding_fix'])), name='auto_rule_kind_valid'),
        ),
        migrations.AddConstraint(
            model_name='autoapprovalrule',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'due_date'), _negated=True), ('max_days__isnull', False), _connector='OR'), name='auto_rule_due_date_limit_set'),
        ),
        migrations.AddConstraint(
            model_name='autoapprovalrule',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'finding_fix'), _negated=True), models.Q(('max_impact__isnull', False), models.Q(('finding_kind', ''), _negated=True)), _connector='OR'), name='auto_rule_finding_fix_limits_set'),
        ),
    ]
