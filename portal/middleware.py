"""Input no column can store and no encoder can write is refused before any view sees it.

PostgreSQL text refuses NUL characters (a 500 deep in a service otherwise), and a lone UTF-16
surrogate cannot be encoded to UTF-8 at all. Both are refused once, here, for every form and
endpoint: a 400 that says what is wrong, and nothing is changed.
"""

from __future__ import annotations

import re

from django.http import HttpResponseBadRequest
from django.utils.translation import gettext as _

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable(request) -> bool:
    texts = [request.path_info]
    for data in (request.GET, request.POST, request.FILES):
        for key, values in data.lists():
            texts.append(key)
            texts.extend(getattr(value, "name", value) or "" for value in values)
    return any(isinstance(text, str) and UNSTORABLE.search(text) for text in texts)


class RefuseUnstorableInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _unstorable(request):
            return HttpResponseBadRequest(
                _("The request was refused: one of its values contains a NUL character or an invalid "
                  "character (a lone surrogate). Nothing was changed."),
                content_type="text/plain; charset=utf-8")
        return self.get_response(request)
