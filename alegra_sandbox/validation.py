"""Checking what clients send, with Alegra-style refusals in Spanish."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

from . import arithmetic as ar
from .errors import Code, bad_request

MAX_TEXT = 500
MAX_PRICE = Decimal("1e13")
MAX_QUANTITY = Decimal("1e9")


def _reject_constant(name: str):
    raise ValueError(f"constante JSON no permitida: {name}")


def parse_json_body(raw: bytes, *, required: bool = True):
    """The request body as JSON with every decimal as Decimal (never float)."""
    if not raw.strip():
        if required:
            raise bad_request(Code.BAD_JSON, "El cuerpo de la petición está vacío; se esperaba JSON.")
        return {}
    try:
        body = json.loads(raw.decode("utf-8"), parse_float=Decimal, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise bad_request(Code.BAD_JSON, "El cuerpo de la petición no es un JSON válido.") from None
    if _unstorable(body):
        raise bad_request(Code.INVALID_VALUE,
                          "El texto no puede contener el carácter nulo (\\u0000) ni sustitutos sueltos.")
    return body


def _unstorable(value) -> bool:
    """A text no database stores as sent: the NUL character ("\\u0000"), or half of a surrogate pair."""
    if isinstance(value, str):
        if "\x00" in value:
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_unstorable(key) or _unstorable(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_unstorable(item) for item in value)
    return False


def require_object(body, what: str = "El cuerpo de la petición") -> dict:
    if not isinstance(body, dict):
        raise bad_request(Code.BAD_JSON, f"{what} debe ser un objeto JSON.")
    return body


def parse_id(value, label: str) -> int:
    """An Alegra id as sent by clients: 3, "3" or {"id": "3"}."""
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, bool):
        value = None
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        number = int(value)
        if 0 < number < 10**15:
            return number
    raise bad_request(Code.INVALID_VALUE, f"El identificador de {label} no es válido.")


def parse_date(value, label: str) -> str:
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise bad_request(Code.BAD_DATE, f"La fecha '{label}' debe tener el formato aaaa-mm-dd.")


def parse_text(value, label: str, *, limit: int = MAX_TEXT, nullable: bool = True) -> str | None:
    if value is None and nullable:
        return None
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise bad_request(Code.INVALID_VALUE, f"El campo '{label}' debe ser texto.")
    if len(value) > limit:
        raise bad_request(Code.TEXT_TOO_LONG,
                          f"El campo '{label}' no puede tener más de {limit} caracteres.")
    return value


def parse_number(value, label: str, code: int = Code.INVALID_VALUE) -> Decimal:
    try:
        return ar.to_decimal(value)
    except ValueError:
        raise bad_request(code, f"El valor de '{label}' debe ser un número.") from None


def parse_quantity(value, position: int) -> Decimal:
    quantity = parse_number(value, "quantity", Code.BAD_QUANTITY)
    if quantity < MAX_QUANTITY:
        quantity = ar.round_to(quantity, 6)  # a quantity that rounds to zero is zero
    if quantity <= 0 or quantity >= MAX_QUANTITY:
        raise bad_request(Code.BAD_QUANTITY,
                          f"La cantidad del ítem {position} debe ser mayor que cero.")
    return quantity


def parse_price(value, position: int) -> Decimal:
    price = parse_number(value, "price", Code.BAD_PRICE)
    if price < 0 or price >= MAX_PRICE:
        raise bad_request(Code.BAD_PRICE, f"El precio del ítem {position} no puede ser negativo.")
    return ar.round_to(price, 6)


def parse_discount(value, position: int) -> Decimal:
    if value is None or value == "":
        return ar.ZERO
    discount = parse_number(value, "discount", Code.BAD_DISCOUNT)
    if discount < 0 or discount > 100:
        raise bad_request(Code.BAD_DISCOUNT,
                          f"El descuento del ítem {position} debe estar entre 0 y 100.")
    return ar.round_to(discount, 6)


def parse_choice(value, label: str, choices: set[str]) -> str:
    if isinstance(value, str) and value.strip().upper() in choices:
        return value.strip().upper()
    raise bad_request(Code.INVALID_VALUE,
                      f"El valor de '{label}' no es válido. Valores permitidos: {', '.join(sorted(choices))}.")


def parse_page(params) -> tuple[int, int]:
    """`start` and `limit` of a list request; Alegra refuses a limit above 30."""
    start = _non_negative_int(params.get("start", "0"), "start")
    limit = _non_negative_int(params.get("limit", "30"), "limit")
    if limit > 30:
        raise bad_request(Code.LIMIT_TOO_LARGE,
                          "El límite de elementos por consulta no puede ser mayor a 30.")
    if limit == 0:
        raise bad_request(Code.BAD_PARAMETER, "El límite de elementos debe ser mayor que cero.")
    return start, limit


def _non_negative_int(raw, label: str) -> int:
    if isinstance(raw, str) and raw.strip().isdigit() and len(raw.strip()) < 10:
        return int(raw)
    raise bad_request(Code.BAD_PARAMETER, f"El parámetro '{label}' debe ser un entero no negativo.")


def wants_metadata(params) -> bool:
    return str(params.get("metadata", "")).lower() in {"true", "1"}
