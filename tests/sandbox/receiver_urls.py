"""The portal's URLs plus a tiny webhook receiver, for delivery tests through WSGI."""

from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

received: list[tuple[str, bytes]] = []
answer = {"status": 200}


@csrf_exempt
def receiver(request, token):
    received.append((token, request.body))
    return HttpResponse(status=answer["status"])


urlpatterns = [
    path("hooks/<str:token>/", receiver),
    path("", include("portal.urls")),
]
