"""The refusal every write of findings raises (its message is in the user's language)."""


class FindingRefused(Exception):
    """A write refused by a rule; the message is in the user's language. `field` names the form
    field the message belongs on, when one does (a screen shows it there)."""

    def __init__(self, message: str = "", *, field: str | None = None):
        super().__init__(message)
        self.field = field
