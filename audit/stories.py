"""The audit pages read as a story: the entries of one change request gathered into one group, one line per
step (proposed → routed → decided → sent to Alegra → applied), the raw entries kept beside it.

Pure Python over the entries a page already holds: grouping costs no query, and a request whose
entries span two pages shows on each the part that page holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from approvals.models import ChangeRequest

from .models import Action
from .presenters import EntryView

PROPOSED, ROUTED, DECIDED, SENT, APPLIED, STOPPED = "proposed", "routed", "decided", "sent", "applied", "stopped"
STAGES = (PROPOSED, ROUTED, DECIDED, SENT, APPLIED, STOPPED)
STAGE_LABELS = {
    PROPOSED: pgettext_lazy("a change request", "Proposed"), ROUTED: gettext_lazy("Routed to approvers"),
    SENT: gettext_lazy("Sent to Alegra"), APPLIED: gettext_lazy("Applied in Alegra"),
}
STAGE_OF_ACTION = {
    Action.CREATED: PROPOSED, Action.DRAFT_SAVED: PROPOSED, Action.SUBMITTED: PROPOSED,
    Action.REQUEST_UPDATED: PROPOSED, Action.REBASED: PROPOSED, Action.FINDING_CORRECTION: PROPOSED,
    Action.ROUTED: ROUTED,
    Action.DECISION: DECIDED, Action.APPROVED: DECIDED, Action.AUTO_APPROVED: DECIDED,
    Action.REJECTED: DECIDED, Action.CANCELLED: DECIDED,
    Action.PUSH_QUEUED: SENT, Action.PUSH_ATTEMPT: SENT, Action.PUSH_RETRYING: SENT, Action.PUSH_RETRIED: SENT,
    Action.PUSHED: APPLIED, Action.CONFLICT: STOPPED, Action.FAILED: STOPPED,
}
# A request's own "state changed" entries, placed by the state they reached.
STAGE_OF_STATE = {
    ChangeRequest.State.PUSHING: SENT, ChangeRequest.State.APPROVED: SENT, ChangeRequest.State.APPLIED: APPLIED,
    ChangeRequest.State.CONFLICT: STOPPED, ChangeRequest.State.FAILED: STOPPED,
}
# Of a step's entries, the one whose words name the step (a decision's outcome over its bare record, an
# attempt over the queueing); the step's latest entry otherwise.
NAMING = (Action.APPROVED, Action.AUTO_APPROVED, Action.REJECTED, Action.CANCELLED, Action.CONFLICT, Action.FAILED,
          Action.PUSHED, Action.PUSH_RETRYING, Action.PUSH_ATTEMPT, Action.ROUTED, Action.SUBMITTED, Action.CREATED)
# Steps the system takes by itself: naming it adds nothing.
SYSTEM_STEPS = (ROUTED, SENT, APPLIED, STOPPED)


@dataclass
class Step:
    stage: str
    label: str
    entries: list[EntryView]  # oldest first
    people: list[str]
    facts: list[str]
    why: str = ""
    tone: str = ""

    @property
    def at(self):
        return self.entries[-1].at


@dataclass
class Story:
    """One request's entries on this page (`change_request_id` set), or a single entry of no request."""

    entries: list[EntryView]  # newest first, as the page lists them
    change_request_id: int | None = None
    steps: list[Step] = field(default_factory=list)

    @property
    def entry(self) -> EntryView:
        return self.entries[0]

    @property
    def is_request(self) -> bool:
        return self.change_request_id is not None

    @property
    def tone(self) -> str:
        return self.steps[-1].tone if self.steps else ""


def stage_of(entry: EntryView) -> str | None:
    if entry.action == Action.STATE_CHANGED:
        return STAGE_OF_STATE.get(entry.request_state)
    return STAGE_OF_ACTION.get(entry.action)


def _people(stage: str, entries: list[EntryView]) -> list[str]:
    people = [e.who for e in entries if not e.is_system]
    if not people and stage not in SYSTEM_STEPS:
        people = [e.behalf for e in entries if e.behalf]  # "the policy “…”" approved it, a rule drafted it
    return list(dict.fromkeys(people))


def _step(stage: str, entries: list[EntryView]) -> Step:
    naming = next((e for action in NAMING for e in reversed(entries) if e.action == action), entries[-1])
    label = naming.action_label if stage in (DECIDED, STOPPED) else str(STAGE_LABELS[stage])
    request_fact = _("request #%(number)s") % {"number": naming.change_request_id}
    facts = [fact for fact in naming.facts if fact != request_fact]
    attempts = sum(1 for e in entries if e.action == Action.PUSH_ATTEMPT)
    if stage == SENT and attempts > 1:
        facts.append(_("%(n)s attempts") % {"n": attempts})
    # The approvers' comments, from their decisions' own records (a cancellation says why in its own).
    comments = [e.why for e in entries if e.action == Action.DECISION and e.why]
    why = "; ".join(comments) or (naming.why if naming.action == Action.CANCELLED else "")
    return Step(stage, label, entries, _people(stage, entries), facts, why=why, tone=naming.tone)


def _steps(entries: list[EntryView]) -> list[Step]:
    """One step per stage reached, in the order of the story; the decision's own record joins its outcome."""
    by_stage: dict[str, list[EntryView]] = {}
    for entry in sorted(entries, key=lambda e: (e.at, e.seq)):
        stage = stage_of(entry)
        if stage is not None:
            by_stage.setdefault(stage, []).append(entry)
    return [_step(stage, by_stage[stage]) for stage in STAGES if stage in by_stage]


def stories(entries: list[EntryView]) -> list[Story]:
    """The page's entries as stories, in the page's order (a request where its newest entry stands)."""
    told: list[Story] = []
    by_request: dict[int, Story] = {}
    for entry in entries:
        number = entry.change_request_id if entry.source != "invoice" else None
        if number is None:
            told.append(Story([entry]))
        elif number in by_request:
            by_request[number].entries.append(entry)
        else:
            by_request[number] = Story([entry], change_request_id=number)
            told.append(by_request[number])
    for story in by_request.values():
        story.steps = _steps(story.entries)
    return told
