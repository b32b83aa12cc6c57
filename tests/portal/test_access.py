import pytest
from django.urls import reverse

from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_login(client, company):
    for url in [reverse("portal:home"), reverse("portal:company_home", args=[company.pk]),
                reverse("invoices:invoice_list", args=[company.pk])]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_member_of_another_company_gets_404(client, company, outsider):
    client.force_login(outsider)
    assert client.get(reverse("portal:company_home", args=[company.pk])).status_code == 404
    assert client.get(reverse("invoices:invoice_list", args=[company.pk])).status_code == 404
    assert client.get(reverse("invoices:sync_page", args=[company.pk])).status_code == 404
    assert client.get(reverse("invoices:invoice_detail", args=[company.pk, 1])).status_code == 404


def test_login_logout_and_home_redirects_to_current_company(client, accountant, company):
    response = client.post(reverse("login"), {"username": "ana", "password": PASSWORD})
    assert response.status_code == 302
    response = client.get(reverse("portal:home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:company_home", args=[company.pk])
    client.post(reverse("logout"))
    assert client.get(reverse("portal:home")).status_code == 302


def test_wrong_password_is_refused(client, accountant):
    response = client.post(reverse("login"), {"username": "ana", "password": "nope"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_deactivated_user_cannot_log_in(client, accountant):
    from portal.services import user_deactivate

    user_deactivate(user=accountant)
    client.post(reverse("login"), {"username": "ana", "password": PASSWORD})
    assert "_auth_user_id" not in client.session


def test_switcher_lists_only_own_companies_and_refuses_others(client, company, other_company):
    from portal.services import membership_set
    from tests.factories import make_company

    third = make_company(name="Tercera S.A.")
    user = make_user("firma", company, "accountant")
    membership_set(user=user, company=third, role="approver")
    client.force_login(user)
    page = client.get(reverse("portal:company_home", args=[company.pk])).content.decode()
    assert "Tercera S.A." in page and other_company.name not in page
    response = client.post(reverse("portal:switch_company"), {"company_id": third.pk})
    assert response["Location"] == reverse("portal:company_home", args=[third.pk])
    assert client.session["company_id"] == third.pk
    assert client.post(reverse("portal:switch_company"), {"company_id": other_company.pk}).status_code == 404
    assert client.session["company_id"] == third.pk


def test_password_change(client, accountant):
    client.force_login(accountant)
    response = client.post(reverse("password_change"), {
        "old_password": PASSWORD, "new_password1": "otra-clave-larga-77", "new_password2": "otra-clave-larga-77"})
    assert response.status_code == 302
    accountant.refresh_from_db()
    assert accountant.check_password("otra-clave-larga-77")


def test_header_names_the_company_of_the_page_not_the_last_one_visited(client, company):
    from portal.services import membership_set
    from tests.factories import make_company

    second = make_company(name="Zeta Comercial S.A.S.")
    user = make_user("doble", company, "accountant")
    membership_set(user=user, company=second, role="approver")
    client.force_login(user)
    client.get(reverse("portal:company_home", args=[company.pk]))
    page = client.get(reverse("invoices:sync_page", args=[second.pk])).content.decode()
    selected = page.split("selected>")[0].rsplit("<option", 1)[1]
    assert f'value="{second.pk}"' in selected
