"""Learning from feedback and decisions, explainable and reversible.

- `exceptions`: what a dismissal teaches (a learned exception at the narrowest scope) and which
  findings an exception silences; pure functions over numbers.
- `calibration`: each detector's confidence, a Beta posterior over confirmations and dismissals.
- `hints` and `proposals`: what past change-request decisions say about a pending one, and the
  auto-approval rules history suggests to a manager.
- `services`: every write (feedback, exceptions, revocations, settings, accepted rules).
"""
