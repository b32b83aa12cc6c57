"""Change requests: what an accountant proposes."""
