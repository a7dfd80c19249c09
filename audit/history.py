"""Configuration history from the admin: every save and delete of a record an
operator edits (providers, models, routing records, clients), and of every inline
row saved with it (a chain's steps, a provider's models, a client's tokens), is
written through `record_config_change`, with the row as it was and as it became.

Admin classes take `ConfigHistoryAdmin` as their first base; the snapshot is the
row's own fields (secret values masked by `record_config_change`). Commands that
write configuration record through `record_row_change`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from django.forms.models import model_to_dict
from django.http import HttpRequest

from audit.models import ChangeSource
from audit.services import record_config_change


class ConfigHistoryAdmin:
    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        before = _snapshot(type(obj)._default_manager.filter(pk=obj.pk).first()) if change else None
        super().save_model(request, obj, form, change)
        _record(request, obj, "change" if change else "add", before, _snapshot(obj))

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        before = _snapshot(obj)
        super().delete_model(request, obj)
        _record(request, obj, "delete", before, None)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        befores = {
            id(f.instance): _snapshot(
                type(f.instance)._default_manager.filter(pk=f.instance.pk).first()
            )
            for f in formset.initial_forms
            if f.instance.pk is not None
        }
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            _record(request, obj, "add", None, _snapshot(obj))
        for obj, _fields in formset.changed_objects:
            _record(request, obj, "change", befores.get(id(obj)), _snapshot(obj))
        for obj in formset.deleted_objects:
            _record(request, obj, "delete", befores.get(id(obj)), None)


def snapshot(obj: Model | None) -> dict[str, Any] | None:
    """A row's own fields as the history keeps them (None for no row)."""
    return _snapshot(obj)


def record_row_change(
    obj: Model, *, actor: str, source: str, action: str, before: dict[str, Any] | None
) -> None:
    """The history entry of a write made outside the admin (a command, say)."""
    record_config_change(
        actor=actor, request_id="", obj_repr=f"{obj._meta.verbose_name}: {obj}", action=action,
        before=before, after=_snapshot(obj), source=source,
    )  # fmt: skip


def _snapshot(obj: Model | None) -> dict[str, Any] | None:
    if obj is None:
        return None
    return {key: _plain(value) for key, value in model_to_dict(obj).items()}


def _plain(value: Any) -> Any:
    """JSON-ready: related rows by primary key, anything else unusual as text."""
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, (str, int, float, bool, type(None), list, dict)):
        return value
    return str(value)


def _record(request: HttpRequest, obj: Model, action: str, before: Any, after: Any) -> None:
    record_config_change(
        actor=request.user.get_username(),
        request_id=request.headers.get("X-Request-Id", ""),
        obj_repr=f"{obj._meta.verbose_name}: {obj}",
        action=action,
        before=before,
        after=after,
        source=ChangeSource.ADMIN,
    )
