"""The push outbox: one row per approved revision, written in the transaction of the final approval."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from invoices.models import MONEY
from portal.models import Company

from .change_requests import ChangeRequest

__all__ = ["Push"]


class Push(models.Model):
    """The outbox: one row per approved revision, written with the final approval."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        PUSHING = "pushing", _("Pushing")
        RETRYING = "retrying", _("Waiting to retry")
        APPLIED = "applied", _("Applied")
        CONFLICT = "conflict", _("Conflict")
        FAILED = "failed", _("Failed")

    change_request = models.ForeignKey(ChangeRequest, on_delete=models.CASCADE, related_name="pushes")
    revision = models.CharField(max_length=64)
    # The revision signed with a key from the environment (approvals.revisions): checked before writing.
    seal = models.CharField(max_length=64, blank=True, default="", db_default="")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    state = models.CharField(_("push state"), max_length=10, choices=State.choices, default=State.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=8)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When a task was last handed to the broker, and when a worker last showed life.
    queued_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Write calls sent to Alegra (PUT or POST): audit for "never written twice".
    writes = models.PositiveSmallIntegerField(default=0)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_code = models.CharField(max_length=60, blank=True, default="")
    last_message = models.TextField(blank=True, default="")
    response = models.JSONField(null=True, blank=True)
    # What Alegra held when the push stopped on a conflict.
    remote_document = models.JSONField(null=True, blank=True)
    conflict_fields = models.JSONField(default=list, blank=True)
    # The credit note created, or the contact updated.
    result_alegra_id = models.CharField(max_length=36, blank=True, default="")
    totals_mismatch = models.BooleanField(default=False)
    expected_total = models.DecimalField(**MONEY, null=True, blank=True)
    received_total = models.DecimalField(**MONEY, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(cascade_delete_history=False, excluded_fields=["heartbeat_at"],
                                history_change_reason_field=models.TextField(null=True))

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["change_request", "revision"], name="one_push_per_approval"),
            models.CheckConstraint(
                condition=Q(state__in=["queued", "pushing", "retrying", "applied", "conflict", "failed"]),
                name="push_state_valid",
            ),
        ]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="push_by_state")]
        verbose_name = _("push")
        verbose_name_plural = _("pushes")

    def __str__(self) -> str:
        return f"push of #{self.change_request_id} ({self.state})"

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.APPLIED, self.State.CONFLICT, self.State.FAILED)
