"""A structured diff between two configuration exports (two versions, or a version
and the working copy): rows added, removed and changed field by field.

Each section of the export is keyed by its natural key (a provider's key, a
model's `provider/model_id`, a chain's name, a client's tool id, ...). Lists
that are configuration in their own right, a chain's steps and a task's
preferred models, are spread into one field per position ("step 1", "step 2"),
so a moved or edited step shows as that step's change. The admin's diff page
and `manage.py diff_config` both render these records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]
_FLAG_NAMES = {
    "on_temporary": "temporary", "on_rate_limit": "rate limit", "on_timeout": "timeout",
    "on_auth": "credential refused",
}  # fmt: skip


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class RowChange:
    section: str  # "provider", "model", "capability score", ...
    key: str
    action: str  # "added", "removed", "changed"
    fields: tuple[FieldChange, ...] = ()

    def __str__(self) -> str:
        return f"{self.section} {self.key} {self.action}"


def _ref(ref: Row | None) -> str | None:
    return f"{ref['provider']}/{ref['model']}" if ref else None


def _step(step: Row) -> str:
    flags = [label for flag, label in _FLAG_NAMES.items() if step.get(flag)]
    return f"{_ref(step)} (moves on: {', '.join(flags) or 'never'})"


def _chain(row: Row) -> Row:
    flat = {k: v for k, v in row.items() if k != "steps"}
    return flat | {f"step {n}": _step(s) for n, s in enumerate(row.get("steps", []), 1)}


def _task(row: Row) -> Row:
    return {f"choice {n}": _ref(ref) for n, ref in enumerate(row.get("models", []), 1)}


def _fault(row: Row) -> Row:
    return row | {"model": _ref(row.get("model"))}


def _same(row: Row) -> Row:
    return row


# section in the export -> (label, natural key of a row, flattening)
SECTIONS: dict[str, tuple[str, Callable[[Row], str], Callable[[Row], Row]]] = {
    "providers": ("provider", lambda r: r["key"], _same),
    "models": ("model", lambda r: f"{r['provider']}/{r['model_id']}", _same),
    "capability_scores": (
        "capability score",
        lambda r: f"{r['provider']}/{r['model']} {r['capability']}",
        _same,
    ),  # fmt: skip
    "task_preferences": ("task preference", lambda r: r["task"], _task),
    "fallback_chains": ("fallback chain", lambda r: r["name"], _chain),
    "fault_rules": ("fault rule", lambda r: r["name"], _fault),
    "clients": ("client", lambda r: r.get("tool_id", "?"), _same),
}


def diff_configs(old: dict[str, Any], new: dict[str, Any]) -> list[RowChange]:
    """Every row added, removed or changed from `old` to `new`, section by section."""
    changes: list[RowChange] = []
    for section, (label, key_of, flatten) in SECTIONS.items():
        before = {key_of(row): flatten(row) for row in old.get(section, [])}
        after = {key_of(row): flatten(row) for row in new.get(section, [])}
        for key in sorted(before.keys() | after.keys()):
            change = _row_change(label, key, before.get(key), after.get(key))
            if change is not None:
                changes.append(change)
    return changes


def _row_change(label: str, key: str, before: Row | None, after: Row | None) -> RowChange | None:
    if before is None:
        fields = tuple(FieldChange(f, None, v) for f, v in after.items())
        return RowChange(label, key, "added", fields)
    if after is None:
        fields = tuple(FieldChange(f, v, None) for f, v in before.items())
        return RowChange(label, key, "removed", fields)
    names = sorted(before.keys() | after.keys(), key=_field_order)
    fields = tuple(
        FieldChange(f, before.get(f), after.get(f)) for f in names if before.get(f) != after.get(f)
    )
    return RowChange(label, key, "changed", fields) if fields else None


def _field_order(name: str) -> tuple[int, int, str]:
    # Positions ("step 2") in their numeric order, after the plain fields.
    head, _, tail = name.rpartition(" ")
    return (1, int(tail), head) if tail.isdigit() else (0, 0, name)


def summarize(changes: list[RowChange], *, limit: int = 255) -> str:
    """One line: what changed, e.g. "fallback chain chat-safety changed (step 1)"."""
    if not changes:
        return "no changes"
    parts = []
    for change in changes:
        detail = ", ".join(f.field for f in change.fields) if change.action == "changed" else ""
        parts.append(f"{change}" + (f" ({detail})" if detail else ""))
    line = "; ".join(parts)
    return line if len(line) <= limit else line[: limit - 1] + "…"


def format_changes(changes: list[RowChange]) -> list[str]:
    """The diff as plain lines, for the command line."""
    if not changes:
        return ["No differences."]
    lines = []
    for change in changes:
        sign = {"added": "+", "removed": "-", "changed": "~"}[change.action]
        lines.append(f"{sign} {change}")
        for field in change.fields:
            lines.append(f"    {field.field}: {_show(field.before)} -> {_show(field.after)}")
    return lines


def _show(value: Any) -> str:
    return "—" if value is None else repr(value) if isinstance(value, str) else str(value)
