"""The sandbox upstream: an LM Studio-compatible server shipped with the project.

Tests, demos and failure rehearsals talk to it over loopback instead of a real
LM Studio (`manage.py sandbox_upstream`). It is a raw ASGI app with no Django
request handling, fast enough to serve as the benchmark's upstream, and its
`SandboxBehaviour` switches make it slow, failing, throttling or old on demand.
"""

from __future__ import annotations

from providers.sandbox.app import SandboxApp
from providers.sandbox.behaviour import SandboxBehaviour

__all__ = ["SandboxApp", "SandboxBehaviour"]
