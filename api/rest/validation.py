"""Pydantic's type errors in the caller's language: its `type` code kept, its English replaced.

Pydantic writes its messages in English only ("Input should be a valid integer, unable to parse
string as an integer"). A client asking in Spanish gets the same error code with a Spanish
message; the context pydantic gives (a length, a bound, the allowed values) fills the words.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _


def _messages() -> dict[str, str]:
    # Built on each call: gettext reads the language active for the request being answered.
    whole = _("Enter a whole number.")
    number = _("Enter a number.")
    text = _("Enter text.")
    date = _("Enter a date as YYYY-MM-DD.")
    moment = _("Enter a date and time (ISO 8601).")
    yes_no = _("Enter true or false.")
    return {
        "missing": _("This field is required."),
        "int_parsing": whole, "int_type": whole, "int_from_float": whole,
        "float_parsing": number, "float_type": number, "decimal_parsing": number, "decimal_type": number,
        "finite_number": number,
        "decimal_max_digits": _("Enter a number with at most %(max_digits)s digits."),
        "decimal_max_places": _("Enter a number with at most %(decimal_places)s decimal places."),
        "string_type": text, "string_unicode": text,
        "string_too_short": _("Enter at least %(min_length)s characters."),
        "string_too_long": _("Enter at most %(max_length)s characters."),
        "string_pattern_mismatch": _("The value does not have the expected form."),
        "bool_parsing": yes_no, "bool_type": yes_no,
        "date_parsing": date, "date_type": date, "date_from_datetime_parsing": date,
        "date_from_datetime_inexact": date,
        "datetime_parsing": moment, "datetime_type": moment, "datetime_from_date_parsing": moment,
        "greater_than": _("Enter a value greater than %(gt)s."),
        "greater_than_equal": _("Enter a value of at least %(ge)s."),
        "less_than": _("Enter a value less than %(lt)s."),
        "less_than_equal": _("Enter a value of at most %(le)s."),
        "too_short": _("Give at least %(min_length)s items."),
        "too_long": _("Give at most %(max_length)s items."),
        "list_type": _("Give a list."), "tuple_type": _("Give a list."), "set_type": _("Give a list."),
        "dict_type": _("Give an object."), "model_type": _("Give an object."),
        "model_attributes_type": _("Give an object."),
        "literal_error": _("Choose one of: %(expected)s."), "enum": _("Choose one of: %(expected)s."),
        "extra_forbidden": _("This field is not accepted."),
        "json_invalid": _("The body is not valid JSON."), "json_type": _("The body is not valid JSON."),
    }


def message(error: dict[str, Any]) -> str:
    """The error in the active language; unknown kinds get a general message, never English."""
    kind = error.get("type", "")
    template = _messages().get(kind)
    if template is None:
        return _("This value is not valid.")
    context = {key: str(value) for key, value in (error.get("ctx") or {}).items()}
    if kind in ("literal_error", "enum"):
        # pydantic joins the choices with an English "or": list them plainly instead.
        context["expected"] = ", ".join(re.findall(r"'([^']*)'", context.get("expected", ""))) or "—"
    try:
        return template % context if "%(" in template else template
    except (KeyError, ValueError):
        return _("This value is not valid.")
