from .urls_decide import urlpatterns as decide_patterns
from .urls_edit import urlpatterns as edit_patterns

app_name = "approvals"

urlpatterns = edit_patterns + decide_patterns
