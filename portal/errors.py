"""Error pages (403, 404, 500) in the portal's layout and the reader's language.

Django's handlers serve them when DEBUG is off; `FriendlyErrorsMiddleware` serves the same pages
when DEBUG is on (the demo runs so), unless ERROR_PAGES_DEBUG asks for Django's technical pages.
An ordinary 403 or 404 is a one-line warning in the log, never a traceback.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template import loader
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

log = logging.getLogger("django.request")


def _page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    html = loader.render_to_string("errors/error.html", {"status": status, "title": title, "message": message},
                                   request=request)
    return HttpResponse(html, status=status)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 403, _("This page is not for your role"),
                 _("Your role in this company does not include this page. If you need it, ask a manager of the "
                   "company to change your role."))


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 404, _("Page not found"),
                 _("There is nothing here, or it belongs to a company you are not a member of. Check the "
                   "address, or start again from your home page."))


def server_error(request: HttpRequest) -> HttpResponse:
    try:
        html = loader.render_to_string("500.html", request=None)
    except Exception:  # the page that says something broke must not break in turn
        log.exception("the 500 page could not be drawn")
        html = "<!doctype html><title>500</title><h1>500</h1>"
    return HttpResponse(html, status=500)


class FriendlyErrorsMiddleware:
    """403 and 404 from a view as the portal's pages, logged in one line; with DEBUG on, the 500 too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if settings.DEBUG and not getattr(settings, "ERROR_PAGES_DEBUG", False):
            # An address no URL matches never reaches a view (nor process_exception).
            try:
                resolve(request.path_info, getattr(request, "urlconf", None))
            except Resolver404:
                return not_found(request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        technical = settings.DEBUG and getattr(settings, "ERROR_PAGES_DEBUG", False)
        # Answered here, a refusal is logged as one line (Django's handler would log its traceback).
        if isinstance(exception, Http404) and not technical:
            return not_found(request, exception)
        if isinstance(exception, PermissionDenied) and not technical:
            return forbidden(request, exception)
        if not settings.DEBUG or technical:
            return None
        log.error("Internal Server Error: %s", request.path, exc_info=exception)
        return server_error(request)
