"""Every write of the approvals app goes through a function in this package.

By aggregate: `requests` (drafts, submission, cancellation, re-basing), `submission` (routing
and approval), `decisions` (approvers' answers, retries, conflicts), `policies` (managers'
rules), `push` and `push_writes` (the outbox and what it sends to Alegra), `transitions` (the
one way a request's state moves), `proposals` (the reads and checks they share).
"""
