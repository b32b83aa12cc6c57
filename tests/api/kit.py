"""Tokens and calls for the API tests: real tokens from the service, the real HTTP test client."""

from __future__ import annotations

import json

from django.test import Client

from api import services


def token_for(user, company, scopes: str, name: str = "ERP nightly", **kwargs) -> str:
    _token, secret = services.token_create(user=user, company=company, name=name, scopes=scopes, **kwargs)
    return secret


class Api:
    """The REST API as another system calls it: a bearer token, JSON in and out."""

    def __init__(self, secret: str, language: str = "en"):
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_ACCEPT_LANGUAGE=language)

    def get(self, path: str, **params):
        return self.client.get(f"/api/v1{path}", params)

    def post(self, path: str, body=None, *, key: str | None = None, raw: str | None = None):
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        data = raw if raw is not None else json.dumps(body or {})
        return self.client.post(f"/api/v1{path}", data, content_type="application/json", **headers)
