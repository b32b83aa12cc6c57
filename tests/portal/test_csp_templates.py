"""Every template keeps to what the Content-Security-Policy allows, so a new page cannot
quietly break under it: no inline script or handler, no hx-on (eval), no style attribute,
and a <style> block only with the request's nonce."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client

TEMPLATES = sorted((settings.BASE_DIR / "templates").rglob("*.html"))
FORBIDDEN = {
    "inline event handler": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "hx-on attribute (needs eval)": re.compile(r"\shx-on(:|-)", re.IGNORECASE),
    "inline script": re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
    "js: value (needs eval)": re.compile(r"""hx-vals\s*=\s*['"]js:""", re.IGNORECASE),
    "<style> without the nonce": re.compile(r"<style(?![^>]*nonce=\"\{\{ request\.csp_nonce \}\}\")[^>]*>"),
}


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: str(path.relative_to(settings.BASE_DIR)))
def test_template_keeps_to_the_policy(template):
    text = template.read_text()
    found = [what for what, pattern in FORBIDDEN.items() if pattern.search(text)]
    assert not found, f"{template.name}: {found}"


def test_every_page_carries_the_policy(db):
    response = Client().get("/accounts/login/")
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["default-src"] == "'self'" and directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy


def test_a_page_with_a_style_block_gets_its_nonce_in_the_header(client, company):
    from tests.factories import make_user

    client.force_login(make_user("pedro", company, "approver"))
    response = client.get(f"/c/{company.pk}/approvals/")
    nonce = re.search(r"<style nonce=\"([^\"]+)\">", response.content.decode()).group(1)
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
