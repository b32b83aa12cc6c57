"""Forms of the approvals screens: `edit` (proposals), `decide` (inbox, decisions, policies)."""
