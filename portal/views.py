from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .access import current_membership, get_membership, remember_company


@login_required
def home(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        return render(request, "portal/no_company.html")
    return redirect("portal:company_home", company_id=membership.company_id)


@login_required
def company_home(request: HttpRequest, company_id: int) -> HttpResponse:
    membership = get_membership(request, company_id)
    remember_company(request, company_id)
    return render(request, "portal/company_home.html", {"membership": membership, "company": membership.company})


@login_required
@require_POST
def switch_company(request: HttpRequest) -> HttpResponse:
    try:
        company_id = int(request.POST.get("company_id", ""))
    except ValueError:
        return redirect("portal:home")
    get_membership(request, company_id)
    request.session["company_id"] = company_id
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(reverse("portal:company_home", kwargs={"company_id": company_id}))


def health(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
