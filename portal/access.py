"""Access helpers every view uses: outsiders get 404, never a 403 or a leak."""

import functools
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import connections, router
from django.http import Http404, HttpRequest

from . import formats
from .models import Company, Membership, Role

EDIT_ROLES = {Role.ACCOUNTANT}
DECIDE_ROLES = {Role.APPROVER, Role.MANAGER}
MANAGE_ROLES = {Role.MANAGER}
ALL_ROLES = set(Role)


def memberships_for(user) -> list[Membership]:
    """The user's memberships with their companies, by company name (none for an inactive user)."""
    if not user.is_authenticated:
        return []
    cached = getattr(user, "_enmienda_memberships", None)
    if cached is None:
        cached = user._enmienda_memberships = _memberships_read(user.pk)
    return cached


def _memberships_read(user_id: int) -> list[Membership]:
    """One plain statement, its values converted and its instances built as the ORM does: every
    page asks, and composing the join through the ORM cost three times what the database takes."""
    alias = router.db_for_read(Membership)
    connection = connections[alias]
    statement = _memberships_statement(alias)
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, [int(user_id)])
        rows = cursor.fetchall()
    if not rows:
        return []
    # As the ORM's compiler converts a column: the backend's converters, then the field's.
    converters = [(n, col, chain) for n, col in enumerate(statement.columns)
                  if (chain := connection.ops.get_db_converters(col) + col.get_db_converters(connection))]
    split, found = len(statement.member_names), []
    for row in rows:
        values = list(row)
        for n, col, chain in converters:
            for convert in chain:
                values[n] = convert(values[n], col, connection)
        membership = Membership.from_db(alias, statement.member_names, values[:split])
        company = Company.from_db(alias, statement.company_names, values[split:])
        Membership.company.field.set_cached_value(membership, company)  # as select_related leaves it
        found.append(membership)
    return found


@dataclass(frozen=True)
class _Statement:
    sql: str
    columns: tuple  # the selected columns as the ORM's expressions (for their converters)
    member_names: list[str]  # attribute names of the membership's values, then of the company's
    company_names: list[str]


@functools.cache
def _memberships_statement(alias: str) -> _Statement:
    """The statement the ORM would compose for the memberships, composed once per process and
    database alias, with what turns its rows into instances."""
    quote = connections[alias].ops.quote_name
    to_user, to_company = Membership._meta.get_field("user"), Membership._meta.get_field("company")
    user_model = to_user.related_model
    member_fields, company_fields = tuple(Membership._meta.concrete_fields), tuple(Company._meta.concrete_fields)
    member, company, user = (quote(model._meta.db_table) for model in (Membership, Company, user_model))

    def column(table: str, model, name: str) -> str:
        return f"{table}.{quote(model._meta.get_field(name).column)}"

    selected = [f"{member}.{quote(f.column)}" for f in member_fields] + \
        [f"{company}.{quote(f.column)}" for f in company_fields]
    user_id, company_id = f"{member}.{quote(to_user.column)}", f"{member}.{quote(to_company.column)}"
    sql = (f"SELECT {', '.join(selected)} FROM {member} "
           f"INNER JOIN {user} ON ({user_id} = {user}.{quote(user_model._meta.pk.column)}) "
           f"INNER JOIN {company} ON ({company_id} = {company}.{quote(Company._meta.pk.column)}) "
           f"WHERE {user_id} = %s AND {column(user, user_model, 'is_active')} "
           f"ORDER BY {column(company, Company, 'name')} ASC, {company_id} ASC")
    columns = tuple(field.get_col(field.model._meta.db_table) for field in member_fields + company_fields)
    return _Statement(sql, columns, [f.attname for f in member_fields], [f.attname for f in company_fields])


def company_ids_for(user) -> list[int]:
    return [m.company_id for m in memberships_for(user)]


def get_membership(request: HttpRequest, company_id: int, roles: Iterable[str] = ALL_ROLES) -> Membership:
    """The user's membership in the company, 404 for outsiders, 403 for a member without the role."""
    for membership in memberships_for(request.user):
        if membership.company_id == company_id:
            if membership.role not in set(roles):
                raise PermissionDenied
            # The header shows the company of the page being looked at.
            request.enmienda_membership = membership
            # Numbers on this page are written and read as this company's country does.
            formats.set_current_country(membership.company.country)
            return membership
    raise Http404("No such company")


def get_company_for_user(request: HttpRequest, company_id: int, roles: Iterable[str] = ALL_ROLES) -> Company:
    return get_membership(request, company_id, roles).company


def current_membership(request: HttpRequest) -> Membership | None:
    """The company the user last switched to, or their first one."""
    memberships = memberships_for(request.user)
    if not memberships:
        return None
    if getattr(request, "enmienda_membership", None) is not None:
        return request.enmienda_membership
    wanted = request.session.get("company_id")
    for membership in memberships:
        if membership.company_id == wanted:
            return membership
    return memberships[0]


def remember_company(request: HttpRequest, company_id: int) -> None:
    """Make this company the current one; writes the session only when it changes."""
    if request.session.get("company_id") != company_id:
        request.session["company_id"] = company_id
