"""Writes on companies and memberships."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext as _

from . import hooks
from .models import Company, Membership, Role


class TenancyError(Exception):
    pass


@transaction.atomic
def company_create(
    *,
    name: str,
    base_url: str,
    api_email: str,
    token: str = "",
    token_from_env: bool = False,
    country: str = "CO",
    currency: str = "COP",
    decimal_precision: int = 2,
) -> Company:
    if not token and not token_from_env:
        raise TenancyError("a token (or token_from_env) is required")
    company = Company(
        name=name.strip(),
        base_url=base_url.rstrip("/"),
        api_email=api_email.strip(),
        country=country.upper(),
        currency=currency.upper(),
        decimal_precision=decimal_precision,
        token_from_env=token_from_env,
    )
    if token:
        company.set_token(token)
    company.full_clean(exclude=["token_cipher", "webhook_secret"])
    company.save()
    hooks.company_created(company)
    return company


# What an admin may change on a company after creating it.
COMPANY_FIELDS = ("name", "country", "base_url", "api_email", "currency", "decimal_precision", "time_zone",
                  "closed_until")


@transaction.atomic
def company_update(*, company: Company, token: str = "", **changes) -> Company:
    """Change a company's settings; a new API base URL needs the token again.

    The stored token (or ALEGRA_TOKEN) was given for one host: keeping it for another would
    send it there. Without a new token the change is refused and nothing is written.
    """
    unknown = set(changes) - set(COMPANY_FIELDS)
    if unknown:
        raise TenancyError(f"not a company setting: {', '.join(sorted(unknown))}")
    locked = Company.objects.select_for_update().get(pk=company.pk)
    if "base_url" in changes:
        changes["base_url"] = str(changes["base_url"] or "").strip().rstrip("/")
        if changes["base_url"] != locked.base_url and not token:
            raise TenancyError(_("Changing the API base URL requires the API token again."))
    for name, value in changes.items():
        setattr(locked, name, value)
    if token:
        locked.set_token(token)
    locked.full_clean(exclude=["token_cipher", "webhook_secret"])
    locked.save()
    return locked


@transaction.atomic
def company_from_environment() -> Company | None:
    """The default company described by ALEGRA_BASE_URL/EMAIL/TOKEN, created once."""
    if not (settings.ALEGRA_EMAIL and settings.ALEGRA_TOKEN):
        return None
    base_url = settings.ALEGRA_BASE_URL.rstrip("/")
    existing = Company.objects.filter(base_url=base_url, api_email=settings.ALEGRA_EMAIL).first()
    if existing:
        return existing
    return company_create(
        name=settings.ALEGRA_EMAIL.split("@")[-1],
        base_url=base_url,
        api_email=settings.ALEGRA_EMAIL,
        token_from_env=True,
    )


def company_find(key: str) -> Company | None:
    """A company by id or exact name, as the management commands take it."""
    key = (key or "").strip()
    by_id = key.isascii() and key.isdigit() and len(key) < 18  # "²" is a digit int() refuses
    rows = Company.objects.filter(pk=int(key)) if by_id else Company.objects.filter(name=key)
    return rows.first()


def companies_all():
    """Every company, the one ALEGRA_BASE_URL/EMAIL/TOKEN describe included (registered on first use).

    Commands and periodic tasks list companies through here, so a deployment configured only by
    the environment is seen by all of them.
    """
    company_from_environment()
    return Company.objects.all()


@transaction.atomic
def membership_set(*, user, company: Company, role: str) -> Membership:
    if role not in Role.values:
        raise TenancyError(f"unknown role {role!r}")
    membership, _ = Membership.objects.update_or_create(
        user=user, company=company, defaults={"role": role}
    )
    return membership


@transaction.atomic
def user_ensure(*, username: str, password: str, email: str = "", first_name: str = "", last_name: str = ""):
    User = get_user_model()
    user, created = User.objects.get_or_create(
        username=username, defaults={"email": email, "first_name": first_name, "last_name": last_name}
    )
    if created:
        user.set_password(password)
        user.save()
    return user


@transaction.atomic
def user_deactivate(*, user) -> None:
    # Never delete: names must stay on the history.
    user.is_active = False
    user.save(update_fields=["is_active"])
