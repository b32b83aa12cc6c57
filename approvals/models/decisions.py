"""Decisions, routing and auto-approval policies, and the push outbox."""
