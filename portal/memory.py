"""The garbage collector of a long-lived process, set once its code is loaded.

Everything loaded at start (Django, the apps, the URL map, the translations) lives as long as
the process: it is frozen out of the collector's scans. Collections start after 50,000 new
objects instead of 700: a 500-line edit screen or a page of a mirror makes hundreds of thousands
of short-lived ones, and each collection that reached the oldest generation walked every loaded
object again (a third of a 500-line recompute's time; bench/edit_recompute.py).
"""

from __future__ import annotations

import gc

FIRST_GENERATION_THRESHOLD = 50_000


def settle() -> None:
    gc.collect()
    gc.freeze()
    _first, second, third = gc.get_threshold()
    gc.set_threshold(FIRST_GENERATION_THRESHOLD, second, third)
