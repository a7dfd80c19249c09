"""Admin actions a user may not run are refused, not quietly skipped.

Django leaves an action out of the list for a user without its permission, but
a form posted by hand that names it anyway gets a changelist back (or "No
action selected"), which reads like a glitch rather than a refusal. Admin
classes with actions take `GuardedActionsAdmin` as a base, before
`admin.ModelAdmin`: such a POST is answered 403 and nothing runs.
`ReadOnlyAdmin` is the audit rows' page: shown to readers, never added, changed or
deleted here.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse


class GuardedActionsAdmin:
    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if request.method == "POST":
            named = {name for name in request.POST.getlist("action") if name}
            if named - set(self.get_actions(request)):
                raise PermissionDenied
        return super().changelist_view(request, extra_context)


class NoEditsAdmin:
    """Rows the admin shows but never adds, changes or deletes (a page's own
    views, such as signing, may still act on them)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(GuardedActionsAdmin, NoEditsAdmin, admin.ModelAdmin):
    pass
