"""The REST API at /api/v1/ (OpenAPI at /api/v1/docs)."""

from . import audit, findings, invoices, requests
from .core import api

api.add_router("", invoices.router)
api.add_router("", findings.router)
api.add_router("", requests.router)
api.add_router("", audit.router)

__all__ = ["api"]
