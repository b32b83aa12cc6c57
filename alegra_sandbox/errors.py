"""Refusals the simulator answers with, and the dropped-connection signal.

Codes are the sandbox's own (Alegra documents few); they are stable so the
portal's tests can assert on them. 9070 is the one recorded from Alegra.
"""


class SandboxError(Exception):
    """An answer other than success: HTTP status, Alegra-style code, Spanish message."""

    def __init__(self, status: int, code: int, message: str):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class SandboxConnectionDropped(Exception):
    """Raised while the answer is being sent: the connection is cut without a response."""


class Code:
    BAD_JSON = 1001
    BAD_PARAMETER = 1002
    LIMIT_TOO_LARGE = 1003
    REQUIRED = 1004
    INVALID_VALUE = 1005
    TEXT_TOO_LONG = 1006
    NOT_FOUND = 404
    UNAUTHORIZED = 401
    METHOD_NOT_ALLOWED = 405
    RATE_LIMITED = 429
    SERVER_ERROR = 500
    UNAVAILABLE = 503
    INVOICE_STAMPED = 3060
    INVOICE_VOID = 3061
    TOTAL_BELOW_PAID = 3062
    UNKNOWN_TAX = 3063
    UNKNOWN_ITEM = 3064
    UNKNOWN_CLIENT = 3065
    BAD_QUANTITY = 3066
    BAD_PRICE = 3067
    BAD_DISCOUNT = 3068
    BAD_DATE = 3069
    INVOICE_HAS_PAYMENTS = 3070
    BAD_STATE = 3071
    AMOUNT_ABOVE_BALANCE = 3072
    UNKNOWN_INVOICE = 3073
    DUPLICATE_SUBSCRIPTION = 3080
    INSECURE_URL = 3081
    URL_UNREACHABLE = 3082
    URL_NOT_ALLOWED = 3083
    CREDIT_NOTE_TYPE = 9070


def bad_request(code: int, message: str) -> SandboxError:
    return SandboxError(400, code, message)


def not_found(message: str) -> SandboxError:
    return SandboxError(404, Code.NOT_FOUND, message)
