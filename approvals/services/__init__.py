"""Every write of the approvals app goes through a function here (views, tasks and tests alike)."""

from .requests import (  # noqa: F401
    ALLOWED_TRANSITIONS,
    RequestRefused,
    StaleBase,
    request_cancel,
    request_copy_to_draft,
    request_rebase,
    request_save_and_submit,
    request_save_draft,
    request_submit,
    request_transition,
    validate_proposal,
)
