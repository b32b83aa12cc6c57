"""The keyed chain: entries cover their version's content, old entries stay verifiable.

Entries already written keep their plain SHA-256 hash (scheme 1): rewriting them with the
key would be the very rewrite the chain must make visible, and would bless whatever was
in the tables at upgrade time as if it had always been keyed. Instead each existing chain
is sealed here: the head records its last legacy entry with a keyed MAC, so later no entry
may use the unkeyed hash past that number, and no earlier one can be changed without
breaking the seal. New entries are written with scheme 2 (HMAC, version digest).

On PostgreSQL, triggers refuse UPDATE, DELETE and TRUNCATE on the entries, the version
layouts and the simple-history tables of every audited model, refuse removing a chain
head or moving it anywhere but forward onto an entry of its chain, and refuse TRUNCATE
of the heads.
"""

from django.db import migrations, models

# The simple-history tables of the audited models (audit.versions.AUDITED); a test checks that
# every audited model's table carries the triggers.
VERSION_TABLES = [("invoices", "HistoricalInvoice"), ("invoices", "HistoricalContact"),
                  ("approvals", "HistoricalChangeRequest"), ("approvals", "HistoricalPush"),
                  ("approvals", "HistoricalRoutingPolicy"), ("approvals", "HistoricalAutoApprovalRule"),
                  ("approvals", "HistoricalApprovalSettings"), ("audit", "HistoricalDecision")]

REFUSE = """
CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""
APPEND_ONLY = """
DROP TRIGGER IF EXISTS audit_append_only ON {table};
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
DROP TRIGGER IF EXISTS audit_no_truncate ON {table};
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
"""
HEAD = """
CREATE OR REPLACE FUNCTION audit_guard_head() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.last_seq <> 0 OR NEW.last_hash <> repeat('0', 64) OR NEW.legacy_seq <> 0
                OR NEW.legacy_mac <> '' THEN
            RAISE EXCEPTION 'a new audit chain head starts empty' USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.key <> OLD.key OR NEW.legacy_seq <> OLD.legacy_seq OR NEW.legacy_mac <> OLD.legacy_mac
            OR NEW.last_seq < OLD.last_seq THEN
        RAISE EXCEPTION 'audit chain heads only move forward: % refused on %', TG_OP, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF NEW.last_seq <> OLD.last_seq OR NEW.last_hash <> OLD.last_hash THEN
        IF NEW.key = 0 THEN
            PERFORM 1 FROM audit_auditentry WHERE company_id IS NULL AND seq = NEW.last_seq
                AND hash = NEW.last_hash;
        ELSE
            PERFORM 1 FROM audit_auditentry WHERE company_id = NEW.key AND seq = NEW.last_seq
                AND hash = NEW.last_hash;
        END IF;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'an audit chain head must name an entry of its chain'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS audit_head_guard ON audit_auditchain;
CREATE TRIGGER audit_head_guard BEFORE INSERT OR UPDATE ON audit_auditchain
    FOR EACH ROW EXECUTE FUNCTION audit_guard_head();
DROP TRIGGER IF EXISTS audit_head_kept ON audit_auditchain;
CREATE TRIGGER audit_head_kept BEFORE DELETE ON audit_auditchain
    FOR EACH ROW EXECUTE FUNCTION audit_refuse_change();
DROP TRIGGER IF EXISTS audit_no_truncate ON audit_auditchain;
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_auditchain
    FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
"""


def _protected_tables(apps) -> list[str]:
    tables = [apps.get_model(app, name)._meta.db_table for app, name in VERSION_TABLES]
    return ["audit_auditentry", "audit_auditversionlayout", *tables]


def seal_legacy_chains(apps, schema_editor):
    from audit.chain import legacy_seal

    AuditChain = apps.get_model("audit", "AuditChain")
    for head in AuditChain.objects.filter(last_seq__gt=0, legacy_seq=0):
        head.legacy_seq = head.last_seq
        head.legacy_mac = legacy_seal(head.key, head.last_seq, head.last_hash)
        head.save(update_fields=["legacy_seq", "legacy_mac"])


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(REFUSE, params=None)
    for table in _protected_tables(apps):
        schema_editor.execute(APPEND_ONLY.format(table=table), params=None)
    schema_editor.execute(HEAD, params=None)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in _protected_tables(apps):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS audit_no_truncate ON {table};", params=None)
        if table != "audit_auditentry":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS audit_append_only ON {table};", params=None)
    for name in ("audit_head_guard", "audit_head_kept", "audit_no_truncate"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON audit_auditchain;", params=None)
    schema_editor.execute("DROP FUNCTION IF EXISTS audit_guard_head();", params=None)


class Migration(migrations.Migration):
    # A contract step: the old version would write unkeyed entries after the seal, which
    # verification rightly refuses. Stop the old web and worker processes before migrating.
    contract = True

    dependencies = [
        ('audit', '0003_index_actor_action'),
        ('approvals', '0003_routing_revision'),
        ('invoices', '0002_history_reason_text'),
    ]

    operations = [
        migrations.CreateModel(
            name='AuditVersionLayout',
            fields=[
                ('digest', models.CharField(max_length=32, primary_key=True, serialize=False)),
                ('fields', models.JSONField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.AddField(
            model_name='auditchain',
            name='legacy_mac',
            field=models.CharField(blank=True, default='', max_length=64),
        ),
        migrations.AddField(
            model_name='auditchain',
            name='legacy_seq',
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name='auditentry',
            name='scheme',
            field=models.PositiveSmallIntegerField(default=1),  # the entries already written
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='scheme',
            field=models.PositiveSmallIntegerField(default=2),
        ),
        migrations.AddField(
            model_name='auditentry',
            name='version_hash',
            field=models.CharField(blank=True, default='', max_length=64),
        ),
        migrations.AddField(
            model_name='auditentry',
            name='version_layout',
            field=models.CharField(blank=True, default='', max_length=32),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='action',
            field=models.CharField(choices=[('synced', 'Synced from Alegra'), ('remote_change', 'Changed directly in Alegra'), ('pushed_version', 'Version written by a push'), ('created', 'Draft created'), ('draft_saved', 'Draft saved'), ('submitted', 'Edit submitted'), ('routed', 'Routed to approvers'), ('decision', 'Decision'), ('approved', 'Approved'), ('auto_approved', 'Auto-approved'), ('rejected', 'Rejected'), ('cancelled', 'Cancelled'), ('rebased', 'Back to draft'), ('push_retried', 'Push retried'), ('state_changed', 'Request state changed'), ('request_updated', 'Request updated'), ('push_queued', 'Push queued'), ('push_attempt', 'Push attempt'), ('push_retrying', 'Push will retry'), ('pushed', 'Pushed'), ('conflict', 'Conflict'), ('failed', 'Push failed'), ('policy_changed', 'Policy changed'), ('record_deleted', 'Record deleted'), ('login', 'Logged in'), ('login_failed', 'Failed login'), ('login_locked_out', 'Login locked out')], max_length=30, verbose_name='action'),
        ),
        migrations.RunPython(seal_legacy_chains, migrations.RunPython.noop),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
