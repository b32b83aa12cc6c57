"""Real rows for tests, made through the project's services."""

import itertools

from portal.services import company_create, membership_set, user_ensure

_seq = itertools.count(1)
PASSWORD = "correct-horse-battery-9"


def make_company(name: str = "", token: str = "tok-secret-123456", **kwargs):
    n = next(_seq)
    return company_create(
        name=name or f"Empresa {n}",
        base_url=kwargs.pop("base_url", "http://testserver/sandbox/api/v1"),
        api_email=kwargs.pop("api_email", f"api{n}@example.com"),
        token=token,
        **kwargs,
    )


def make_user(username: str, company=None, role: str = "accountant"):
    user = user_ensure(username=username, password=PASSWORD, email=f"{username}@example.com",
                       first_name=username.capitalize())
    if company is not None:
        membership_set(user=user, company=company, role=role)
    return user
