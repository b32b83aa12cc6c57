"""Every error under /api/ in the API's own shape (problem+json, in the client's language).

The API's handlers answer what reaches them; some answers come before they run or from outside
them: an address no endpoint has (Django's 404 page), a method an endpoint does not take
(ninja's bare 405), a body over the upload limit (Django's 400 page) and a NUL in the query (the
portal's plain-text 400). A client would have to parse HTML for those.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from .rest.core import problem

PREFIX = "/api/"
SHAPED = ("application/problem+json", "application/json")


def _problem_for(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    status = response.status_code
    if status == 404:
        return problem(404, "not_found", _("No such address in this API; its endpoints are listed at /api/v1/docs."))
    if status == 405:
        return problem(405, "method_not_allowed", _("This address does not take the method %(method)s.")
                       % {"method": request.method}, headers={"Allow": response.get("Allow", "")})
    if status == 400 and response.get("Content-Type", "").startswith("text/plain"):
        # The portal's own refusal (a NUL or a lone surrogate), already in the reader's words.
        return problem(400, "unstorable_text", response.content.decode("utf-8", "replace"))
    if status == 400:
        return problem(400, "bad_request", _("The request could not be read (too large, or malformed). "
                                             "Nothing was changed."))
    return problem(status, "error", _("The request could not be answered."))


class ApiProblemsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (response.status_code < 400 or not request.path_info.startswith(PREFIX)
                or response.get("Content-Type", "").startswith(SHAPED)):
            return response
        return _problem_for(request, response)
