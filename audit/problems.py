"""What a verification found wrong with a chain: a code and its parameters, in words when shown.

The verification stores the code and the parameters beside the English text (for the command
line and the logs); the audit page writes the words in its reader's language from them.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext, gettext_lazy, gettext_noop

from portal import formats

TEXTS = {
    "entry_missing": gettext_noop("entry #%(seq)s is missing"),
    "entry_twice": gettext_noop("entry #%(seq)s appears twice"),
    "entry_not_following": gettext_noop("entry #%(seq)s does not follow entry #%(previous)s"),
    "entry_altered": gettext_noop("entry #%(seq)s was altered"),
    "entry_unkeyed": gettext_noop("entry #%(seq)s carries the unkeyed hash, but only entries up to #%(legacy)s may"),
    "entry_not_sealed": gettext_noop("entry #%(seq)s is not the last one sealed when the chain was keyed"),
    "entry_uncovered": gettext_noop("entry #%(seq)s does not cover the version it describes"),
    "version_columns_unknown": gettext_noop("entry #%(seq)s: the columns of its %(source)s version are not on record"),
    "version_missing": gettext_noop("entry #%(seq)s: the %(source)s version #%(version)s it describes is missing"),
    "version_altered": gettext_noop("entry #%(seq)s: the %(source)s version #%(version)s it describes was altered"),
    "entry_not_anchored": gettext_noop("entry #%(seq)s is not the one anchored at %(at)s"),
    "entry_not_last": gettext_noop("entry #%(seq)s is not the one the chain ended with"),
    "chain_short_of_anchor": gettext_noop("the chain ends at entry #%(seq)s, but entry #%(anchored)s was anchored "
                                          "at %(at)s"),
    "head_missing": gettext_noop("the head of the chain is missing, but its entries are not"),
    "legacy_past_end": gettext_noop("the chain ends at entry #%(seq)s, but its head says entries up to #%(legacy)s "
                                    "carry the unkeyed hash"),
    "history_without_chain": gettext_noop("the company has history but its audit chain is empty"),
    "anchor_unreadable": gettext_noop("the latest anchor of %(chain)s cannot be read (%(path)s): %(error)s"),
    "anchor_unsigned": gettext_noop("the latest anchor of %(chain)s is not signed with this key (%(path)s)"),
}

# The audited sources (audit.versions.AUDITED) by name, for the reader.
SOURCES = {
    "invoice": gettext_lazy("invoice"), "contact": gettext_lazy("contact"),
    "change_request": gettext_lazy("change request"), "push": gettext_lazy("push"),
    "decision": gettext_lazy("decision"), "routing_policy": gettext_lazy("routing policy"),
    "auto_approval_rule": gettext_lazy("auto-approval rule"), "approval_settings": gettext_lazy("approval settings"),
    "finding": gettext_lazy("finding"), "learned_exception": gettext_lazy("learned exception"),
    "learning_settings": gettext_lazy("learning settings"),
}


class Problem(str):
    """The English text of a problem (what the command line and the logs print), carrying its
    code and parameters. A code that is not in TEXTS is a KeyError: no problem goes unnamed."""

    code: str
    params: dict

    def __new__(cls, code: str, **params):
        text = super().__new__(cls, TEXTS[code] % _english(params))
        text.code, text.params = code, params
        return text

    def __getnewargs_ex__(self):
        return (self.code,), self.params


def _english(params: dict) -> dict:
    chain = params.get("chain")
    if "chain" not in params:
        return params
    return {**params, "chain": "the system chain" if chain is None else f"company {chain}"}


def words(code: str, params: dict, fallback: str = "") -> str:
    """The problem in the active language; what was stored as text when the code is not known
    (a verification recorded before problems had codes)."""
    if code not in TEXTS:
        return fallback
    shown = dict(params)
    if "source" in shown:
        shown["source"] = SOURCES.get(shown["source"], shown["source"])
    if "chain" in shown:
        chain = shown["chain"]
        shown["chain"] = gettext("the system chain") if chain is None else gettext("company %(id)s") % {"id": chain}
    if "at" in shown:
        shown["at"] = _moment(shown["at"])
    return gettext(TEXTS[code]) % shown


def _moment(text) -> str:
    try:
        return formats.datetime(dt.datetime.fromisoformat(str(text)))
    except ValueError:
        return str(text)
