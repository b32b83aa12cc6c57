"""Alegra's webhook deliveries: trust only the id, answer fast, re-read in the background."""

import json
import logging

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from portal.models import Company

from .models import WebhookEvent
from .tasks import refresh_invoice

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024
EVENTS = {"new-invoice", "edit-invoice", "delete-invoice"}


def _refuse(status: int, reason: str) -> JsonResponse:
    return JsonResponse({"ok": False, "error": reason}, status=status)


@csrf_exempt
@require_POST
def alegra_webhook(request: HttpRequest, company_id: int, secret: str) -> HttpResponse:
    company = Company.objects.filter(pk=company_id).only("pk", "webhook_secret").first()
    if company is None or not constant_time_compare(secret, company.webhook_secret):
        log.warning("webhook refused: unknown company or wrong secret (company %s)", company_id)
        return _refuse(404, "not found")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _refuse(400, "bad Content-Length")
    if length > MAX_BODY_BYTES:
        log.warning("webhook refused for company %s: body of %s bytes", company_id, length)
        return _refuse(413, "body too large")
    raw = request.body[: MAX_BODY_BYTES + 1]
    if len(raw) > MAX_BODY_BYTES:
        return _refuse(413, "body too large")
    if not raw.strip():
        # Alegra checks a new subscription with an empty POST.
        return JsonResponse({"ok": True})
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # nested past the parser's limit too
        log.warning("webhook refused for company %s: body is not JSON", company_id)
        return _refuse(400, "body is not JSON")
    subject, alegra_id = _subject_and_id(payload)
    if subject not in EVENTS:
        log.info("webhook ignored for company %s: subject %r", company_id, str(subject)[:40])
        return JsonResponse({"ok": True, "ignored": "subject"})
    if alegra_id is None:
        log.warning("webhook refused for company %s: no invoice id", company_id)
        return _refuse(400, "no invoice id")
    WebhookEvent.objects.create(company=company, subject=subject, alegra_id=alegra_id, outcome="queued")
    transaction.on_commit(lambda: refresh_invoice.delay(company.pk, alegra_id, "webhook"))
    return JsonResponse({"ok": True})


def _subject_and_id(payload) -> tuple[str | None, str | None]:
    if not isinstance(payload, dict):
        return None, None
    subject = payload.get("subject")
    message = payload.get("message")
    invoice = message.get("invoice") if isinstance(message, dict) else None
    raw_id = invoice.get("id") if isinstance(invoice, dict) else None
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)):
        return (subject if isinstance(subject, str) else None), None
    text = str(raw_id).strip()
    if not text or len(text) > 36 or not all(c.isalnum() or c == "-" for c in text):
        return (subject if isinstance(subject, str) else None), None
    return (subject if isinstance(subject, str) else None), text
