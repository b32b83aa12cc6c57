"""A company's home page, per role: what this person should look at first.

Accountants see their open findings and their requests that need them; approvers what awaits
their decision, oldest first; managers the month's corrections, failures, conflicts and how
fresh the mirror is. Each layer contributes its panels through `hooks.on_home_panels`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Item:
    text: str
    url: str = ""
    meta: str = ""
    tone: str = ""  # "", "bad", "warn", "good"


@dataclass
class Figure:
    label: str
    value: str
    url: str = ""
    tone: str = ""


@dataclass
class Panel:
    key: str
    title: str
    order: int = 100
    items: list[Item] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    empty: str = ""
    more_url: str = ""
    more_label: str = ""
