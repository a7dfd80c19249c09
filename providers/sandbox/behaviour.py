"""How the sandbox upstream misbehaves: one frozen record of switches.

The command line sets the start values; `POST /_sandbox/behaviour` swaps in a
changed copy at run time and `POST /_sandbox/reset` brings the start values
back. A value that makes no sense raises `ValueError` with a message written
for whoever set it, so both the CLI and the control endpoint can show it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class SandboxBehaviour:
    """The switches; the defaults describe a healthy LM Studio 0.4."""

    latency_ms: int = 0  # added before every API answer
    error_status: int | None = None  # every API call answers this status
    rate_limit_retry_after: int | None = None  # every API call answers 429 with it
    break_stream_after: int | None = None  # streams drop after this many chunks
    malformed: bool = False  # 200 answers carry bodies that do not parse
    legacy: bool = False  # an LM Studio older than 0.3.6: no native REST API
    v0_only: bool = False  # LM Studio 0.3.x: /api/v0 but not /api/v1
    require_api_key: str = ""  # when set, requests need this bearer token
    omit_stream_usage: bool = False  # streams ignore stream_options.include_usage (llama.cpp)

    def __post_init__(self) -> None:
        for spec in fields(self):
            _check_type(spec.name, getattr(self, spec.name), spec.type)
        _check_range("latency_ms", self.latency_ms, 0, 600_000)
        _check_range("error_status", self.error_status, 400, 599)
        _check_range("rate_limit_retry_after", self.rate_limit_retry_after, 0, 86_400)
        _check_range("break_stream_after", self.break_stream_after, 0, 10_000)

    def changed(self, values: dict[str, Any]) -> SandboxBehaviour:
        """A copy with `values` applied; unknown names are refused, not ignored."""
        unknown = sorted(set(values) - {spec.name for spec in fields(self)})
        if unknown:
            raise ValueError(f"Unknown behaviour field(s): {', '.join(unknown)}.")
        return replace(self, **values)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# Field annotations are strings under `from __future__ import annotations`.
_ACCEPTED: dict[str, tuple[type, ...]] = {
    "int": (int,),
    "int | None": (int, type(None)),
    "bool": (bool,),
    "str": (str,),
}


def _check_type(name: str, value: Any, annotation: Any) -> None:
    accepted = _ACCEPTED[str(annotation)]
    # bool is a subclass of int, but `latency_ms: true` is a mistake, not 1 ms.
    if isinstance(value, bool) and bool not in accepted:
        raise ValueError(f"{name} must be {annotation}, got {value!r}.")
    if not isinstance(value, accepted):
        raise ValueError(f"{name} must be {annotation}, got {value!r}.")


def _check_range(name: str, value: int | None, low: int, high: int) -> None:
    if value is not None and not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}.")
