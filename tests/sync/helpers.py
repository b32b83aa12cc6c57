from alegra_sandbox.models import SandboxInvoice
from invoices.mirror import canonical, content_hash
from invoices.models import Invoice


def sandbox_state(account) -> dict[str, str]:
    """alegra id → content hash of what the sandbox serves now."""
    from alegra_sandbox.services.invoices import invoice_get

    ids = SandboxInvoice.objects.filter(account=account).values_list("number", flat=True)
    return {str(n): content_hash(canonical(_parsed(invoice_get(account, n)))) for n in ids}


def _parsed(doc):
    # The portal stores what the client parsed: JSON text → Decimal → exact text.
    import json
    from decimal import Decimal

    return json.loads(json.dumps(doc, default=str), parse_float=Decimal)


def mirror_state(company) -> dict[str, str]:
    return dict(Invoice.objects.filter(company=company, is_deleted=False).values_list("alegra_id", "content_hash"))
