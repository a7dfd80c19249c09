"""Apply an exported configuration, idempotently, all or nothing.

`import_config(data, dry_run=...)` walks the file in dependency order
(providers, models, scores, task preferences, chains, fault rules) inside one
transaction. Each entry is looked up by its natural key and compared with the
export of the row it names: equal means unchanged; otherwise the row is built,
`full_clean()`ed (fields, choices, constraints, references) and saved. The first
bad entry raises `ConfigImportError` naming it, and the transaction rolls back,
so a bad file changes nothing; a dry run rolls back on purpose after reporting.

Entries may leave out fields (a new row takes the model's default, an existing
one keeps its value); unknown fields are refused. Rows absent from the file are
left alone, but a task's model list and a chain's steps are replaced as a whole.
Clients are exported but not imported yet (their model lands with the API).

Every row created or updated leaves a configuration change (source "import")
with its export before and after, and a real import that changed anything
publishes the result as a configuration version: active at once by default,
pending review when review is required.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models as db
from django.db import transaction
from django.utils.dateparse import parse_datetime

from audit.models import ChangeSource
from audit.services import record_config_change
from providers.models import Model, Provider
from routing import config_export as export
from routing.models import CapabilityScore, FallbackChain, FallbackStep, FaultRule, TaskPreference
from routing.versions import publish_working_copy

Entry = dict[str, Any]
KINDS = (
    "providers", "models", "capability_scores", "task_preferences", "fallback_chains",
    "fault_rules",
)  # fmt: skip


class ConfigImportError(Exception):
    pass


@dataclass
class KindReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # (name, row, export before, export after) of every row written, for the history
    writes: list[tuple[str, Any, Entry | None, Entry]] = field(default_factory=list)

    def line(self, kind: str) -> str:
        created = _counted(len(self.created), "created", self.created)
        updated = _counted(len(self.updated), "updated", self.updated)
        return f"{kind}: {created}, {updated}, {len(self.unchanged)} unchanged"


@dataclass
class ImportReport:
    dry_run: bool
    kinds: dict[str, KindReport] = field(default_factory=lambda: {k: KindReport() for k in KINDS})
    notes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(r.created or r.updated for r in self.kinds.values())

    def lines(self) -> list[str]:
        head = "Dry run: nothing was saved." if self.dry_run else "Configuration imported."
        return [head, *(r.line(kind) for kind, r in self.kinds.items()), *self.notes]


def import_config(
    data: dict[str, Any], *, dry_run: bool = False, actor: str = "import_config command"
) -> ImportReport:
    _check_shape(data)
    report = ImportReport(dry_run=dry_run)
    with transaction.atomic():
        for entry in data["providers"]:
            _apply_provider(entry, report.kinds["providers"])
        for entry in data["models"]:
            _apply_model(entry, report.kinds["models"])
        for entry in _defaults_last(data["capability_scores"]):
            _apply_score(entry, report.kinds["capability_scores"])
        for entry in data["task_preferences"]:
            _apply_task(entry, report.kinds["task_preferences"])
        for entry in _defaults_last(data["fallback_chains"]):
            _apply_chain(entry, report.kinds["fallback_chains"])
        for entry in data["fault_rules"]:
            _apply_fault(entry, report.kinds["fault_rules"])
        if data.get("clients"):
            report.notes.append(f"clients: {len(data['clients'])} left alone (not imported yet)")
        if dry_run:
            transaction.set_rollback(True)
        elif report.changed:
            _record_writes(report, actor)
            version = publish_working_copy(author=actor, source=ChangeSource.IMPORT)
            if version is not None:
                report.notes.append(f"Published as {version} ({version.get_status_display()}).")
    return report


def _record_writes(report: ImportReport, actor: str) -> None:
    for kind in report.kinds.values():
        for name, obj, before, after in kind.writes:
            record_config_change(
                actor=actor, request_id="", obj_repr=f"{_kind(obj)}: {name}", action="import",
                before=before, after=after, source=ChangeSource.IMPORT,
            )  # fmt: skip


def _check_shape(data: Any) -> None:
    if not isinstance(data, dict) or data.get("format") != export.FORMAT:
        raise ConfigImportError(f"Not a configuration export: expected format {export.FORMAT!r}.")
    for kind in KINDS:
        rows = data.get(kind)
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise ConfigImportError(f"{kind!r} must be a list of objects.")


def _defaults_last(entries: list[Entry]) -> list[Entry]:
    # Unset a capability's old default before setting its new one.
    return sorted(entries, key=lambda entry: bool(entry.get("is_default")))


def _apply_provider(entry: Entry, report: KindReport) -> None:
    name = _name(entry, "key")
    _allow(entry, name, {*export.PROVIDER_FIELDS, "capabilities"})
    provider = Provider.objects.filter(key=entry.get("key")).first() or Provider()
    _upsert(provider, entry, name, report, export.export_provider, _fields(entry, Provider))


def _apply_model(entry: Entry, report: KindReport) -> None:
    name = f"{entry.get('provider')}/{entry.get('model_id')}"
    _allow(entry, name, {*export.MODEL_FIELDS, "provider", "capabilities"})
    provider = _provider(entry.get("provider"), name)
    found = Model.objects.filter(provider=provider, model_id=entry.get("model_id")).first()
    model = found or Model(provider=provider)
    _upsert(model, entry, name, report, export.export_model, _fields(entry, Model, "provider"))


def _apply_score(entry: Entry, report: KindReport) -> None:
    name = f"{entry.get('provider')}/{entry.get('model')} {entry.get('capability')}"
    _allow(entry, name, {"provider", "model", "capability", "score", "is_default"})
    model = _model(entry, name)
    score = CapabilityScore.objects.filter(model=model, capability=entry.get("capability")).first()
    fields = {k: entry[k] for k in ("capability", "score", "is_default") if k in entry}
    _upsert(score or CapabilityScore(model=model), entry, name, report, export.export_score, fields)


def _apply_task(entry: Entry, report: KindReport) -> None:
    task = _name(entry, "task")
    _allow(entry, task, {"task", "models"})
    wanted = [_model(ref, f"{task} → {ref}") for ref in entry.get("models", [])]
    current = TaskPreference.objects.filter(task=task).order_by("position", "id")
    if [row.model_id for row in current] == [m.pk for m in wanted]:
        report.unchanged.append(task)
        return
    before = [export.model_ref(row.model) for row in current]
    (report.updated if before else report.created).append(task)
    current.delete()
    for position, model in enumerate(wanted):
        _save(TaskPreference(task=task, position=position, model=model), task)
    after = [export.model_ref(model) for model in wanted]
    report.writes.append(
        (task, TaskPreference(task=task), {"models": before} if before else None, {"models": after})
    )


def _apply_chain(entry: Entry, report: KindReport) -> None:
    name = _name(entry, "name")
    _allow(entry, name, {"name", "capability", "is_default", "description", "steps"})
    chain = FallbackChain.objects.filter(name=name).first() or FallbackChain()
    fields = {
        k: entry[k] for k in ("name", "capability", "is_default", "description") if k in entry
    }
    before = export.export_chain(chain) if chain.pk else None
    if before is not None and before == before | entry:
        report.unchanged.append(name)
        return
    (report.updated if chain.pk else report.created).append(name)
    _assign_and_save(chain, fields, name)
    chain.steps.all().delete()
    for position, step in enumerate(entry.get("steps", [])):
        _allow(step, f"{name} step {position}", {"provider", "model", *export.STEP_FLAGS})
        flags = {flag: step[flag] for flag in export.STEP_FLAGS if flag in step}
        model = _model(step, f"{name} step {position}")
        _save(FallbackStep(chain=chain, position=position, model=model, **flags), name)
    report.writes.append((name, chain, before, export.export_chain(chain)))


def _apply_fault(entry: Entry, report: KindReport) -> None:
    name = _name(entry, "name")
    allowed = {*export.FAULT_FIELDS, "provider", "model", "starts_at", "expires_at"}
    _allow(entry, name, allowed)
    fields = {k: entry[k] for k in export.FAULT_FIELDS if k in entry}
    fields["provider"] = _provider(entry["provider"], name) if entry.get("provider") else None
    fields["model"] = _model(entry["model"], name) if entry.get("model") else None
    for stamp in ("starts_at", "expires_at"):
        fields[stamp] = _datetime(entry.get(stamp), f"{name} {stamp}")
    rule = FaultRule.objects.filter(name=name).first() or FaultRule()
    _upsert(rule, entry, name, report, export.export_fault, fields)


def _upsert(
    obj: db.Model,
    entry: Entry,
    name: str,
    report: KindReport,
    serialize: Callable[[Any], Entry],
    fields: dict[str, Any],
) -> None:
    before = serialize(obj) if obj.pk is not None else None
    if before is not None and before == before | _normalised(entry):
        report.unchanged.append(name)
        return
    (report.updated if obj.pk is not None else report.created).append(name)
    _assign_and_save(obj, fields, name)
    report.writes.append((name, obj, before, serialize(obj)))


def _assign_and_save(obj: db.Model, fields: dict[str, Any], name: str) -> None:
    for attribute, value in fields.items():
        setattr(obj, attribute, value)
    _save(obj, name)


def _save(obj: db.Model, name: str) -> None:
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise ConfigImportError(f"{_kind(obj)} {name!r}: {_messages(exc)}") from exc
    obj.save()


def _normalised(entry: Entry) -> Entry:
    if "capabilities" in entry and isinstance(entry["capabilities"], list):
        return entry | {"capabilities": export.sorted_capabilities(entry["capabilities"])}
    return entry


def _fields(entry: Entry, model: type[db.Model], *skip: str) -> dict[str, Any]:
    names = {f.name for f in model._meta.concrete_fields} - set(skip)
    fields = {k: v for k, v in entry.items() if k in names}
    return _normalised(fields)


def _provider(key: Any, name: str) -> Provider:
    provider = Provider.objects.filter(key=key).first()
    if provider is None:
        raise ConfigImportError(f"{name!r}: provider {key!r} is neither in the file nor saved.")
    return provider


def _model(ref: Any, name: str) -> Model:
    if not isinstance(ref, dict):
        raise ConfigImportError(f"{name!r}: a model is named as {{provider, model}}.")
    model = Model.objects.filter(provider__key=ref.get("provider"), model_id=ref.get("model"))
    found = model.select_related("provider").first()
    if found is None:
        raise ConfigImportError(
            f"{name!r}: model {ref.get('provider')}/{ref.get('model')} is neither in the file "
            "nor saved."
        )
    return found


def _datetime(value: Any, name: str) -> Any:
    if value is None:
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise ConfigImportError(f"{name!r}: {value!r} is not an ISO 8601 date and time.")
    return parsed


def _name(entry: Entry, key: str) -> str:
    if not isinstance(entry.get(key), str):
        raise ConfigImportError(f"An entry has no {key!r}: {entry!r}")
    return entry[key]


def _allow(entry: Entry, name: str, allowed: Iterable[str]) -> None:
    unknown = sorted(set(entry) - set(allowed))
    if unknown:
        raise ConfigImportError(f"{name!r}: unknown field(s) {', '.join(unknown)}.")


def _counted(count: int, verb: str, names: list[str]) -> str:
    return f"{count} {verb}" + (f" ({', '.join(names)})" if names else "")


def _kind(obj: db.Model) -> str:
    return str(obj._meta.verbose_name)


def _messages(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
    return " ".join(exc.messages)
