"""The approvals screens, one module per aggregate: edit, credit note, contact, requests,
decisions and policies. Each view checks access, calls one service, and responds."""
