"""Change requests: what an accountant proposes."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from invoices.models import MONEY, Invoice
from portal.models import Company

__all__ = ["ChangeRequest", "OPEN_STATES", "CLOSED_STATES"]


class ChangeRequest(models.Model):
    class Kind(models.TextChoices):
        UPDATE = "update", _("In-place update")
        CREDIT_NOTE = "credit_note", _("Credit note")
        CONTACT = "contact", _("Client contact update")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING = "pending", _("Pending approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        CANCELLED = "cancelled", _("Cancelled")
        PUSHING = "pushing", _("Sending to Alegra")
        APPLIED = "applied", _("Applied")
        CONFLICT = "conflict", _("Conflict")
        FAILED = "failed", _("Failed")

    class Origin(models.TextChoices):
        SCREEN = "screen", _("The portal's screens")
        API = "api", _("An API token")
        AGENT = "agent", _("An AI agent")

    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="change_requests")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="change_requests")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.UPDATE)
    # What the editor saw: the mirrored invoice body (or, for a contact update, the contact's).
    base_document = models.JSONField()
    base_hash = models.CharField(max_length=64)
    # The body to send: the invoice after the change, the credit note, or the contact.
    proposed_document = models.JSONField()
    # The contact a contact update targets (empty for the other kinds).
    contact_alegra_id = models.CharField(max_length=36, blank=True, default="")
    reason = models.TextField(_("reason"), blank=True, default="")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="change_requests"
    )
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.DRAFT)
    old_total = models.DecimalField(_("old total"), **MONEY, default=0)
    new_total = models.DecimalField(_("new total"), **MONEY, default=0)
    approvals_required = models.PositiveSmallIntegerField(default=1)
    routed_by = models.TextField(blank=True, default="")
    routing_reason = models.TextField(blank=True, default="")
    # Set only on a request the system drafted by itself under an auto-approval rule (a finding's
    # fix): that rule, and no other, may approve it alone. Requests people make have none.
    origin_rule = models.ForeignKey("approvals.AutoApprovalRule", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    # Where the request was made: a screen, or a personal API token (an agent's or a system's).
    # The token is named by id and name (the API app sits above this one and keeps the tokens).
    # db_default: the version still serving during an upgrade inserts rows without these columns.
    origin = models.CharField(_("made through"), max_length=10, choices=Origin.choices, default=Origin.SCREEN,
                              db_default=Origin.SCREEN)
    via_token_id = models.PositiveBigIntegerField(null=True, blank=True)
    via_token_name = models.CharField(max_length=100, blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Reasons are people's words (a rejection comment, a conflict); 100 characters is too few.
    history = HistoricalRecords(
        cascade_delete_history=False, history_change_reason_field=models.TextField(null=True)
    )

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(state__in=["draft", "pending", "approved", "pushing", "conflict", "failed"]),
                name="one_open_change_request_per_invoice",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["update", "credit_note", "contact"]),
                name="change_request_kind_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    state__in=[
                        "draft", "pending", "approved", "rejected", "cancelled",
                        "pushing", "applied", "conflict", "failed",
                    ]
                ),
                name="change_request_state_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["company", "state", "-updated_at"], name="cr_by_state"),
            models.Index(fields=["requester", "-updated_at"], name="cr_by_requester"),
        ]
        verbose_name = _("change request")
        verbose_name_plural = _("change requests")

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} · {self.invoice}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    @property
    def is_editable(self) -> bool:
        return self.state == self.State.DRAFT

    @property
    def difference(self):
        return self.new_total - self.old_total

    @property
    def note_amount(self):
        """A credit note's own amount (its request's totals are the invoice's before and after it)."""
        return self.old_total - self.new_total


OPEN_STATES = frozenset({"draft", "pending", "approved", "pushing", "conflict", "failed"})
CLOSED_STATES = frozenset({"rejected", "cancelled", "applied"})
