"""The audit log: one entry per recorded event, chained by hash per company.

django-simple-history keeps every version of the audited rows; an `AuditEntry`
says, for each of those versions (and for logins), who did what, when and why,
in the order the company's events were committed. Entries are append-only: the
model and its queryset refuse updates and deletes, the admin is read-only and,
on PostgreSQL, a trigger refuses UPDATE and DELETE (see migration 0002).

Each entry's hash is an HMAC, keyed with AUDIT_HMAC_KEY (which the database does not
hold), of its fields, of the digest of the version it describes and of the previous
entry's hash: an entry or a version altered or removed behind the application's back
breaks the chain at that point, and nobody without the key can forge the links after it
(`manage.py verify_audit`). Signed heads written outside the database (`audit.anchors`)
catch what the chain alone cannot: its newest entries cut off.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history import register

from approvals.models import ChangeRequest, Decision
from invoices.models import Invoice
from portal import signing
from portal.models import Company

from . import problems

GENESIS_HASH = "0" * 64
# How an entry's hash is computed: 1 = plain SHA-256 (entries written before the key existed,
# sealed by the chain head's `legacy_mac`); 2 = HMAC-SHA256 with the version's digest.
LEGACY_SCHEME, KEYED_SCHEME = 1, 2
# The chain of events tied to no company (a failed login with an unknown user name).
SYSTEM_CHAIN = 0


class Action(models.TextChoices):
    # Versions of the mirror (invoices and contacts)
    SYNCED = "synced", _("Synced from Alegra")
    REMOTE_CHANGE = "remote_change", _("Changed directly in Alegra")
    PUSHED_VERSION = "pushed_version", _("Version written by a push")
    # Change requests
    CREATED = "created", _("Draft created")
    DRAFT_SAVED = "draft_saved", _("Draft saved")
    SUBMITTED = "submitted", _("Edit submitted")
    ROUTED = "routed", _("Routed to approvers")
    DECISION = "decision", _("Decision")
    APPROVED = "approved", _("Approved")
    AUTO_APPROVED = "auto_approved", _("Auto-approved")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    REBASED = "rebased", _("Back to draft")
    PUSH_RETRIED = "push_retried", _("Push retried")
    STATE_CHANGED = "state_changed", _("Request state changed")
    REQUEST_UPDATED = "request_updated", _("Request updated")
    # The push outbox
    PUSH_QUEUED = "push_queued", _("Push queued")
    PUSH_ATTEMPT = "push_attempt", _("Push attempt")
    PUSH_RETRYING = "push_retrying", _("Push will retry")
    PUSHED = "pushed", _("Pushed")
    CONFLICT = "conflict", _("Conflict")
    FAILED = "failed", _("Push failed")
    # Findings of the anomaly scans
    FINDING_CREATED = "finding_created", _("Finding raised")
    FINDING_UPDATED = "finding_updated", _("Finding updated")
    FINDING_DISMISSED = "finding_dismissed", _("Finding dismissed")
    FINDING_RESOLVED = "finding_resolved", _("Finding resolved")
    FINDING_REOPENED = "finding_reopened", _("Finding reopened")
    FINDING_CORRECTION = "finding_correction", _("Correction created from a finding")
    FINDING_CONFIRMED = "finding_confirmed", _("Finding confirmed")
    FINDING_SILENCED = "finding_silenced", _("Finding silenced by learning")
    FINDING_RETURNED = "finding_returned", _("Finding back after a revocation")
    # Learning
    EXCEPTION_LEARNED = "exception_learned", _("Exception learned")
    EXCEPTION_REVOKED = "exception_revoked", _("Learned exception revoked")
    # Configuration and sessions
    POLICY_CHANGED = "policy_changed", _("Policy changed")
    RECORD_DELETED = "record_deleted", _("Record deleted")
    LOGIN = "login", _("Logged in")
    LOGIN_FAILED = "login_failed", _("Failed login")
    LOGIN_LOCKED_OUT = "login_locked_out", _("Login locked out")


class AppendOnly(Exception):
    """Audit entries are never changed or removed by the application."""


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly("audit entries cannot be updated")

    def delete(self):
        raise AppendOnly("audit entries cannot be deleted")

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnly("audit entries cannot be updated")


class AuditEntry(models.Model):
    company = models.ForeignKey(Company, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("company"))
    # Position in the company's chain: 1, 2, 3… with no gap.
    seq = models.PositiveBigIntegerField(_("number"))
    at = models.DateTimeField(_("when"))
    # Null: the system acted (a sync, a webhook, a push worker, a policy).
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("who"))
    on_behalf_of = models.CharField(_("on behalf of"), max_length=200, blank=True, default="")
    action = models.CharField(_("action"), max_length=30, choices=Action.choices)
    # Plain references: the entry outlives anything a test or an admin might remove.
    invoice = models.ForeignKey(Invoice, on_delete=models.DO_NOTHING, db_constraint=False, null=True,
                                blank=True, related_name="+", verbose_name=_("invoice"))
    change_request = models.ForeignKey(ChangeRequest, on_delete=models.DO_NOTHING, db_constraint=False,
                                       null=True, blank=True, related_name="+",
                                       verbose_name=_("change request"))
    # The historical row the entry describes: which table ("invoice", "push"…) and its history_id.
    source = models.CharField(max_length=30)
    source_id = models.BigIntegerField(null=True, blank=True)
    why = models.TextField(_("why"), blank=True, default="")
    what = models.JSONField(_("what"), default=dict, blank=True)
    # The digest of the described version's row, over the columns its layout names.
    version_layout = models.CharField(max_length=32, blank=True, default="")
    version_hash = models.CharField(max_length=64, blank=True, default="")
    scheme = models.PositiveSmallIntegerField(default=KEYED_SCHEME)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-seq"]
        constraints = [
            models.UniqueConstraint(fields=["company", "seq"], name="audit_seq_unique_per_company"),
            models.UniqueConstraint(fields=["seq"], condition=Q(company__isnull=True),
                                    name="audit_seq_unique_system"),
            models.UniqueConstraint(fields=["source", "source_id"], condition=Q(source_id__isnull=False),
                                    name="audit_one_entry_per_history_row"),
        ]
        indexes = [
            models.Index(fields=["company", "-at", "-seq"], name="audit_by_time"),
            models.Index(fields=["company", "actor", "-at", "-seq"], name="audit_by_actor"),
            models.Index(fields=["company", "action", "-at", "-seq"], name="audit_by_action"),
            # A person and an action together (what did Pedro approve?), however rare the pair.
            models.Index(fields=["company", "actor", "action", "-at", "-seq"], name="audit_by_actor_action"),
            models.Index(fields=["invoice", "-at", "-seq"], name="audit_by_invoice"),
        ]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} at {self.at:%Y-%m-%d %H:%M:%S}"

    @property
    def chain(self) -> int:
        return self.company_id or SYSTEM_CHAIN

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly("audit entries cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly("audit entries cannot be deleted")


class AuditChain(models.Model):
    """The head of one chain; its row lock makes appends to the chain one at a time."""

    key = models.BigIntegerField(primary_key=True)  # the company id, or SYSTEM_CHAIN
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    # Entries 1…legacy_seq were hashed before the key existed; `legacy_mac` (keyed) seals
    # the last of them, so none can be rewritten or added with the unkeyed hash.
    legacy_seq = models.PositiveBigIntegerField(default=0)
    legacy_mac = models.CharField(max_length=64, blank=True, default="")

    def __str__(self) -> str:
        return f"audit chain {self.key} at #{self.last_seq}"


class AuditVersionLayout(models.Model):
    """The columns of a version table an entry's version digest covers, stored once."""

    digest = models.CharField(max_length=32, primary_key=True)
    fields = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"version layout {self.digest[:8]} ({len(self.fields)} columns)"


class AuditVerification(models.Model):
    """One recomputation of a chain: the audit page shows the latest as a badge."""

    chain = models.BigIntegerField(db_index=True)
    at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField()
    checked = models.PositiveBigIntegerField(default=0)
    # The first entry that does not hold (altered, missing or out of place).
    broken_seq = models.PositiveBigIntegerField(null=True, blank=True)
    problem = models.TextField(blank=True, default="")  # in English, as the command line prints it
    # What the audit page words in its reader's language (audit.problems); blank before codes.
    problem_code = models.CharField(max_length=40, blank=True, default="", db_default="")
    problem_params = models.JSONField(null=True, blank=True, default=dict)
    seconds = models.FloatField(default=0)
    # The outcome signed with the audit key: a row rewritten in the database (a broken chain
    # recorded as intact) no longer holds, and the badge says so.
    mac = models.CharField(max_length=64, blank=True, default="", db_default="")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["chain", "-at"], name="audit_verification_latest")]

    def problem_text(self) -> str:
        return problems.words(self.problem_code, self.problem_params or {}, self.problem)

    def _signed(self) -> str:
        return signing.sign({"chain": self.chain, "at": self.at.isoformat(), "ok": self.ok, "checked": self.checked,
                             "broken_seq": self.broken_seq, "problem": self.problem})

    def save(self, *args, **kwargs):
        self.mac = self._signed()
        super().save(*args, **kwargs)

    @property
    def trusted(self) -> bool:
        return bool(self.mac) and self.at is not None and signing.same(self.mac, self._signed())

    def __str__(self) -> str:
        return f"chain {self.chain}: {'ok' if self.ok else f'broken at #{self.broken_seq}'}"


# Decisions keep no history of their own in approvals; the audit keeps one for them, in
# its own table, so every decision (with its comment) is an event of the chain.
register(Decision, app="audit", manager_name="history", cascade_delete_history=False)
