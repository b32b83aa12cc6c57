"""Tenancy core: companies (one Alegra account each) and who may do what in them."""

import secrets
from urllib.parse import urlparse

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from . import crypto


def validate_api_url(value: str) -> None:
    # Not URLValidator: it refuses single-label hosts such as an in-house server name.
    parts = urlparse(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc or parts.username or parts.password:
        raise ValidationError(_("Enter an http(s) URL without credentials in it."))


def _new_webhook_secret() -> str:
    return secrets.token_urlsafe(32)


class Company(models.Model):
    name = models.CharField(_("name"), max_length=200)
    country = models.CharField(_("country"), max_length=2, default="CO")
    base_url = models.CharField(_("API base URL"), max_length=300, validators=[validate_api_url])
    api_email = models.EmailField(_("API user e-mail"))
    # Fernet cipher text; empty when the token comes from ALEGRA_TOKEN instead.
    token_cipher = models.TextField(blank=True, default="", editable=False)
    token_from_env = models.BooleanField(default=False)
    currency = models.CharField(_("currency"), max_length=3, default="COP")
    decimal_precision = models.PositiveSmallIntegerField(_("decimal precision"), default=2)
    time_zone = models.CharField(_("time zone"), max_length=64, default="America/Bogota")
    # Invoices dated on or before this day may not be changed (closed accounting period).
    closed_until = models.DateField(_("closed period until"), null=True, blank=True)
    webhook_secret = models.CharField(max_length=64, default=_new_webhook_secret, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("company")
        verbose_name_plural = _("companies")

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<Company {self.pk} {self.name!r}>"

    def set_token(self, token: str) -> None:
        """Stored encrypted together with the address it was given for (set base_url first)."""
        self.token_cipher = crypto.encrypt_for(self.base_url, token)
        self.token_from_env = False

    @property
    def token(self) -> str:
        """The API token, for the address it was given for only: whoever can write the database
        but holds no key cannot point the company at their own host and be sent the token."""
        if self.token_from_env:
            if self.base_url.rstrip("/") != settings.ALEGRA_BASE_URL.rstrip("/"):
                raise crypto.SecretUnreadable("ALEGRA_TOKEN is for ALEGRA_BASE_URL, not for this company's address")
            return settings.ALEGRA_TOKEN
        if not self.token_cipher:
            return ""
        return crypto.decrypt_for(self.base_url, self.token_cipher)


class Role(models.TextChoices):
    ACCOUNTANT = "accountant", _("Accountant")
    APPROVER = "approver", _("Approver")
    MANAGER = "manager", _("Manager")


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships"
    )
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "company"], name="one_role_per_company"),
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.company} · {self.role}"


class Preference(models.Model):
    """One person's choices: the language of their screens and mail, how they hear of things, where they land."""

    class Mail(models.TextChoices):
        IMMEDIATELY = "immediately", _("Immediately, one e-mail each")
        DIGEST = "digest", _("Once a day, in one e-mail")
        NONE = "none", _("No e-mail (the bell only)")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    # Empty: the portal's default language (settings.LANGUAGE_CODE).
    language = models.CharField(_("language"), max_length=8, blank=True, default="",
                                choices=[("", _("The portal's default"))] + list(settings.LANGUAGES))
    mail = models.CharField(_("e-mail notifications"), max_length=12, choices=Mail.choices, default=Mail.IMMEDIATELY)
    last_company = models.ForeignKey(Company, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    last_digest_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("preference")

    def __str__(self) -> str:
        return f"{self.user} · {self.language or '-'} · {self.mail}"


class Notification(models.Model):
    """Something a person should know (a request awaits them, theirs was decided…): the bell and the e-mail.

    The words are not stored: `kind` and `params` are told in the reader's language when shown or
    mailed (see portal.notifications).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40)
    params = models.JSONField(default=dict, blank=True)
    url = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # When it went out by e-mail (alone or in a digest); None: not yet, or never (the person chose none).
    mailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread"),
                   models.Index(fields=["mailed_at", "user"], name="notification_unmailed")]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.kind} · {self.created_at:%Y-%m-%d %H:%M}"
