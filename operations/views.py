"""Endpoints for load balancers, monitoring and Prometheus; no session, no page."""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from . import metrics as metrics_exposition
from .readiness import readiness


@never_cache
@require_GET
def ready(request: HttpRequest) -> HttpResponse:
    """200 when the database, the broker, the scheduler and every company's mirror are fine, else 503."""
    report = readiness()
    return JsonResponse(report, status=200 if report["ready"] else 503)


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format, for `Authorization: Bearer <METRICS_TOKEN>` only; absent when unset."""
    expected = settings.METRICS_TOKEN
    if not expected:
        raise Http404
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not constant_time_compare(token.strip(), expected):
        response = HttpResponse("unauthorized\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics_exposition.exposition(), content_type=CONTENT_TYPE_LATEST)
