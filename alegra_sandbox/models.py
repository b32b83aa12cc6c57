"""Storage of the Alegra simulator.

Each invoice, contact or catalogue entry is kept as the JSON document the API
answers with, plus the few columns the API lists, filters and orders by. The
document is the truth; the columns are rewritten whenever it changes.
"""

from django.db import models


class SandboxAccount(models.Model):
    """One Alegra company with its API user (e-mail + token)."""

    name = models.CharField(max_length=200)
    email = models.CharField(max_length=254, unique=True)
    token = models.CharField(max_length=200)
    identification = models.CharField(max_length=30, default="900123456-7")
    city = models.CharField(max_length=100, default="Bogotá")
    decimal_precision = models.PositiveSmallIntegerField(default=2)
    country = models.CharField(max_length=2, default="CO")
    application_version = models.CharField(max_length=30, default="colombia")
    rate_limit_per_minute = models.PositiveIntegerField(default=150)
    rate_limit_window_seconds = models.PositiveIntegerField(default=60)

    # Fault injection: a seeded draw per request decides errors and drops, so a
    # run with the same seed and the same request order fails the same way.
    fault_error_rate = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    fault_drop_rate = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    fault_latency_ms = models.PositiveIntegerField(default=0)
    fault_seed = models.BigIntegerField(default=0)
    fault_draws = models.BigIntegerField(default=0)

    # Last id handed out per kind; incremented atomically, ids are per account.
    invoice_seq = models.BigIntegerField(default=0)
    contact_seq = models.BigIntegerField(default=0)
    credit_note_seq = models.BigIntegerField(default=0)
    payment_seq = models.BigIntegerField(default=0)

    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"

    @property
    def faults_enabled(self) -> bool:
        return bool(self.fault_error_rate or self.fault_drop_rate or self.fault_latency_ms)


class CatalogueKind(models.TextChoices):
    CONTACT = "contact"
    ITEM = "item"
    TAX = "tax"
    RETENTION = "retention"
    SELLER = "seller"
    PRICE_LIST = "price_list"
    WAREHOUSE = "warehouse"
    NUMBER_TEMPLATE = "number_template"


class SandboxCatalogueEntry(models.Model):
    """A contact, item, tax, retention, seller, price list, warehouse or numbering."""

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=CatalogueKind.choices)
    number = models.BigIntegerField()
    name = models.CharField(max_length=300, blank=True)
    # Identification for contacts, reference for items: what `query` searches beside the name.
    code = models.CharField(max_length=100, blank=True)
    document = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "kind", "number"], name="sandbox_catalogue_unique")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.number} {self.name}"


class SandboxInvoice(models.Model):
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="+")
    number = models.BigIntegerField()
    date = models.DateField()
    due_date = models.DateField()
    status = models.CharField(max_length=10)
    client_number = models.BigIntegerField(null=True)
    client_name = models.CharField(max_length=300, blank=True)
    full_number = models.CharField(max_length=60, blank=True)
    is_stamped = models.BooleanField(default=False)
    # Credit notes lower the balance without showing up as payments.
    credited = models.DecimalField(max_digits=24, decimal_places=6, default=0)
    document = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="sandbox_invoice_unique")
        ]
        indexes = [
            models.Index(fields=["account", "date", "number"], name="sandbox_inv_date"),
            models.Index(fields=["account", "due_date", "number"], name="sandbox_inv_due"),
            models.Index(fields=["account", "status", "number"], name="sandbox_inv_status"),
            models.Index(fields=["account", "client_number", "number"], name="sandbox_inv_client"),
            models.Index(fields=["account", "full_number"], name="sandbox_inv_fullnum"),
        ]

    def __str__(self) -> str:
        return f"invoice {self.number} ({self.status})"


class SandboxCreditNote(models.Model):
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="+")
    number = models.BigIntegerField()
    date = models.DateField()
    client_number = models.BigIntegerField(null=True)
    document = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="sandbox_credit_note_unique")
        ]


class SandboxWebhookSubscription(models.Model):
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=30)
    url = models.CharField(max_length=1000)
    consecutive_failures = models.PositiveIntegerField(default=0)
    deliveries = models.PositiveIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "event", "url"], name="sandbox_subscription_unique")
        ]


class SandboxRateWindow(models.Model):
    """Requests counted in one fixed window; shared by every thread and process."""

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="+")
    window = models.BigIntegerField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "window"], name="sandbox_rate_window_unique")
        ]


class SandboxRequestLog(models.Model):
    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="+")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    status = models.PositiveSmallIntegerField()
    created = models.DateTimeField(auto_now_add=True)


class SandboxPlantedMistake(models.Model):
    """A mistake the seed put into an invoice on purpose, for anomaly checks.

    The link does not cascade (and has no database constraint) so that wiping a
    seeded account of 100,000 invoices stays one DELETE per table.
    """

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="+")
    invoice = models.ForeignKey(
        SandboxInvoice, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    kind = models.CharField(max_length=30)
    detail = models.JSONField(default=dict)


class SandboxHardNegative(models.Model):
    """An invoice the seed made unusual on purpose but correct (a standing discount, a big
    order, a negotiated price…): a detector that flags it is wrong. Kept like planted mistakes."""

    account = models.ForeignKey(SandboxAccount, on_delete=models.CASCADE, related_name="+")
    invoice = models.ForeignKey(
        SandboxInvoice, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    kind = models.CharField(max_length=30)
    detail = models.JSONField(default=dict)
