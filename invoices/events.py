"""The mirror's reasons for a version, and their words (registered with portal.events)."""

from django.utils.translation import gettext_lazy as _

from portal import events

MESSAGES = {
    "mirror.sync": _("read from Alegra"),
    "mirror.webhook": _("read from Alegra after its notice of a change"),
    "mirror.deleted": _("deleted in Alegra"),
}


def read(source: str) -> str:
    """A version read from Alegra by the sync or after a webhook."""
    return events.reason("mirror.webhook" if source == "webhook" else "mirror.sync")


def deleted(source: str) -> str:
    return events.reason("mirror.deleted", source=source)
