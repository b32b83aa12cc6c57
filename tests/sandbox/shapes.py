"""Comparing the sandbox's JSON with recorded Alegra bodies: same keys, same JSON types.

Alegra itself sends money and ids sometimes as numbers and sometimes as numeric
strings (see the fixtures README), so those two count as one type. A recorded
null says nothing about the type and matches anything.
"""

from decimal import Decimal, InvalidOperation


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float, Decimal)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


def _numeric_string(value) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return Decimal(value).is_finite()
    except InvalidOperation:
        return False


def _compatible(expected, actual) -> bool:
    want, got = _kind(expected), _kind(actual)
    if want == "null" or want == got:
        return True
    numeric = {want, got} == {"number", "string"}
    return numeric and (_numeric_string(expected) or _numeric_string(actual))


def mismatches(expected, actual, path: str = "$") -> list[str]:
    if not _compatible(expected, actual):
        return [f"{path}: recorded {_kind(expected)} {expected!r}, sandbox {_kind(actual)} {actual!r}"]
    problems = []
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{path}.{key}: missing in the sandbox's body")
            else:
                problems.extend(mismatches(value, actual[key], f"{path}.{key}"))
    elif isinstance(expected, list) and isinstance(actual, list) and expected:
        for index, element in enumerate(actual):
            problems.extend(mismatches(expected[min(index, len(expected) - 1)], element, f"{path}[{index}]"))
    return problems
