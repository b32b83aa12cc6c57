"""Personal API tokens, the idempotency memory of POSTs, and outbound event subscriptions.

A token belongs to one user in one company, carries scopes, and is stored only as the SHA-256
of its secret (the secret is high-entropy random text, so a plain hash is enough to make a
stolen table useless). What a token may do is its scopes cut down to its user's current role.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import Company


class Scope(models.TextChoices):
    INVOICES_READ = "invoices:read", _("Read invoices and their versions")
    FINDINGS_READ = "findings:read", _("Read findings")
    REQUESTS_WRITE = "requests:write", _("Propose changes (drafts, submit, cancel) and confirm or dismiss findings")
    DECISIONS_WRITE = "decisions:write", _("Approve or reject other people's requests")
    AUDIT_READ = "audit:read", _("Read and export the audit log")


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_tokens")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    scopes = models.JSONField(_("scopes"), default=list)
    # Shown in lists so a person can tell their tokens apart; not enough to use one.
    prefix = models.CharField(max_length=16)
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    # For an AI agent: every request through it is an agent's (no rule approves it by itself),
    # through REST as through MCP. Else only MCP's requests are.
    for_agent = models.BooleanField(_("for an AI agent"), default=False, db_default=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    # The per-token rate limit: requests counted in the current minute.
    window_start = models.DateTimeField(null=True, blank=True)
    window_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "company", "-created_at"], name="api_token_by_owner")]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and not self.is_expired


class IdempotentResponse(models.Model):
    """The first answer to a POST sent with an Idempotency-Key: a retry gets it again."""

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    target = models.CharField(max_length=300)  # method and path the key was first used on
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token", "key"], name="one_response_per_key")]


class Event(models.TextChoices):
    REQUEST_SUBMITTED = "change_request.submitted", _("A change request was submitted")
    REQUEST_DECIDED = "change_request.decided", _("A change request was approved or rejected")
    PUSH_APPLIED = "push.applied", _("A change was applied in Alegra")
    PUSH_FAILED = "push.failed", _("Alegra refused a change")
    FINDING_CREATED = "finding.created", _("A finding was raised")
    INVOICE_CHANGED_OUTSIDE = "invoice.changed_outside", _("An invoice was changed directly in Alegra")


class EventSubscription(models.Model):
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="event_subscriptions")
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    # Standard Webhooks secret ("whsec_" + base64); shown to its manager, never logged.
    secret = models.CharField(max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("event subscription")
        verbose_name_plural = _("event subscriptions")

    def __str__(self) -> str:
        return f"{self.company_id} → {self.url}"


class EventDelivery(models.Model):
    """One event for one subscription: the outbox row the worker sends until it is received."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    subscription = models.ForeignKey(EventSubscription, on_delete=models.CASCADE, related_name="deliveries")
    message_id = models.CharField(max_length=64, unique=True)
    event = models.CharField(max_length=40)
    payload = models.JSONField()
    invoice_id = models.BigIntegerField(null=True, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["subscription", "state", "id"], name="delivery_queue"),
            models.Index(fields=["state", "next_attempt_at"], name="delivery_due",
                         condition=Q(state="pending")),
        ]


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(EventDelivery, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField(default=timezone.now)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="")
    milliseconds = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at", "-id"]
