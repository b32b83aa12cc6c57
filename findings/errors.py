"""The refusal every write of findings raises (its message is in the user's language)."""


class FindingRefused(Exception):
    """A write refused by a rule; the message is in the user's language."""
