"""`manage.py run_demo`: what `make run` runs after migrating.

It finds an upstream (an LM Studio answering at LMSTUDIO_URL, else a sandbox
upstream it starts on SANDBOX_PORT), seeds the demo configuration, sets the demo
admin's password, issues a fresh token for the demo client (revoking its older
ones), discovers and probes, seeds a routing story over what it discovered
(capability defaults for chat and embed, which chatStream follows, a default
chat fallback chain, coding sent to a code-capable model) unless routing is
already configured, prints how to sign in and call, and then serves
the gateway with a probe loop and an audit roll-up loop beside it until
interrupted. Child processes stop
with it.
"""

from __future__ import annotations

import secrets
import signal
import subprocess
import sys
import time

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from llmcaller.models import ApiMethod, Client
from llmcaller.tokens import issue_token, revoke_tokens
from providers.errors import UpstreamError
from providers.models import Capability, Model, Provider
from providers.services import discover_models, probe_providers
from routing.models import CapabilityScore, FallbackChain, FallbackStep, Task, TaskPreference

DEMO_ADMIN = "admin"
DEMO_CLIENT = "demo-tool"


class Command(BaseCommand):
    help = "Seed the demo configuration and serve the gateway (used by `make run`)."

    def handle(self, *args, **options) -> None:
        # SIGTERM (from a supervisor or `timeout`) must stop the children too.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        children: list[subprocess.Popen] = []
        try:
            upstream = self.find_upstream(children)
            self.seed(upstream)
            password = self.reset_admin_password()
            token = self.reissue_demo_token()
            self.discover_and_probe()
            self.seed_routing()
            self.print_welcome(password, token)
            children.append(self.spawn("probe_providers", "--loop", quiet=True))
            children.append(self.spawn("roll_up_audit", "--loop", quiet=True))
            server = self.spawn_gateway()
            children.append(server)
            server.wait()
        except KeyboardInterrupt:
            self.stdout.write("\nStopping.")
        finally:
            for child in reversed(children):
                child.terminate()
            for child in children:
                child.wait(timeout=10)

    def find_upstream(self, children: list[subprocess.Popen]) -> str:
        if _answers(settings.LMSTUDIO_URL):
            self.stdout.write(f"Using the LM Studio server at {settings.LMSTUDIO_URL}.")
            return settings.LMSTUDIO_URL
        url = f"http://127.0.0.1:{settings.SANDBOX_PORT}"
        if not _answers(url):
            self.stdout.write(f"No LM Studio at {settings.LMSTUDIO_URL}: starting the sandbox.")
            children.append(self.spawn("sandbox_upstream", "--port", str(settings.SANDBOX_PORT)))
            _wait_until_answering(url)
        return url

    def seed(self, upstream: str) -> None:
        Provider.objects.update_or_create(
            key="lmstudio",
            defaults={
                "name": "LM Studio (local)",
                "kind": "lmstudio",
                "base_url": upstream,
                "capabilities": [Capability.CHAT, Capability.CHAT_STREAM, Capability.EMBED],
            },
        )
        Provider.objects.get_or_create(
            key="openai",
            defaults={
                "name": "OpenAI",
                "kind": "openai",
                "base_url": "https://api.openai.com",
                "enabled": False,
                "credential_env": "LLMCALLER_PROVIDER_OPENAI",
                "notes": "Set LLMCALLER_PROVIDER_OPENAI (or a key in the admin), then enable it.",
            },
        )

    def reset_admin_password(self) -> str:
        password = settings.DEMO_PASSWORD or secrets.token_urlsafe(12)
        user, _ = get_user_model().objects.get_or_create(username=DEMO_ADMIN)
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        return password

    def reissue_demo_token(self) -> str:
        client, _ = Client.objects.get_or_create(
            tool_id=DEMO_CLIENT,
            defaults={"name": "Demo tool (make run)", "allowed_methods": list(ApiMethod.values),
                      "requests_per_minute": 120},
        )  # fmt: skip
        revoke_tokens(tokens=list(client.tokens.filter(revoked_at__isnull=True)))
        return issue_token(client=client).raw

    def discover_and_probe(self) -> None:
        providers = list(Provider.objects.filter(enabled=True))
        for provider in providers:
            try:
                self.stdout.write(str(discover_models(provider=provider)))
            except UpstreamError as exc:
                self.stderr.write(f"{provider.key}: discovery failed: {exc.detail}")
        for report in probe_providers(providers=providers):
            self.stdout.write(str(report))

    def seed_routing(self) -> None:
        """Defaults, a fallback chain and a coding preference over the demo's models,
        so the first plans show a fallback; an operator's own routing is kept."""
        if CapabilityScore.objects.exists() or FallbackChain.objects.exists():
            return
        models = list(Model.objects.filter(provider__key="lmstudio", enabled=True))
        chat = sorted((m for m in models if m.serves(Capability.CHAT)), key=_chat_rank)
        embed = [m for m in models if m.serves(Capability.EMBED)]
        if not chat:
            return
        for position, model in enumerate(chat[:3]):
            score = 80 - 10 * position
            CapabilityScore.objects.create(
                model=model, capability=Capability.CHAT, score=score, is_default=position == 0
            )
        if embed:
            CapabilityScore.objects.create(
                model=embed[0], capability=Capability.EMBED, score=80, is_default=True
            )
        chain = FallbackChain.objects.create(
            name="demo-chat-fallback", capability=Capability.CHAT, is_default=True,
            description="The demo's chat defaults, then the next chat models in turn.",
        )  # fmt: skip
        for position, model in enumerate(chat[:3]):
            FallbackStep.objects.create(chain=chain, position=position, model=model)
        coder = next((m for m in chat if _codes(m)), chat[0])
        TaskPreference.objects.create(task=Task.CODING, position=0, model=coder)
        self.stdout.write(f"Routing: chat to {chat[0].model_id}, falling back along "
                          f"{chain.name}; coding to {coder.model_id}.")  # fmt: skip

    def print_welcome(self, password: str, token: str) -> None:
        base = f"http://{settings.LLMCALLER_HOST}:{settings.LLMCALLER_PORT}"
        body = '{"requestId":"r1","callerTool":"demo","messages":[{"role":"user","content":"Hi"}]}'
        self.stdout.write(
            self.style.SUCCESS(
                f"\nLLM Caller is starting on {base}\n"
                f"  Admin:     {base}/admin/\n"
                f"  Sign in:   user {DEMO_ADMIN!r}, password {password!r}\n"
                f"  API token: {token}  (client {DEMO_CLIENT!r}, new on every run)\n"
                f"  Try:       curl -s {base}/mcp/chat -H 'x-llm-caller-token: {token}' "
                f"-d '{body}'\n"
                f"  Check:     .venv/bin/python manage.py run_uat --url {base} --token {token}\n"
                f"  API docs:  {base}/api/docs/ (signed in as {DEMO_ADMIN!r})\n"
                "Stop with Ctrl-C.\n"
            )
        )

    def spawn(self, *command: str, quiet: bool = False) -> subprocess.Popen:
        output = subprocess.DEVNULL if quiet else None
        return subprocess.Popen(
            [sys.executable, "manage.py", *command], stdout=output, cwd=settings.BASE_DIR
        )

    def spawn_gateway(self) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "llmcaller.serve"], cwd=settings.BASE_DIR)


def _answers(base_url: str) -> bool:
    try:
        return httpx.get(base_url.rstrip("/") + "/v1/models", timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _wait_until_answering(url: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _answers(url):
            return
        time.sleep(0.1)
    raise CommandError(f"The sandbox upstream did not start on {url} within {seconds:g} s.")


def _chat_rank(model: Model) -> tuple[bool, bool, str]:
    """Loaded text models first, vision models after them: the usual chat default."""
    return (not model.loaded, "vl" in model.model_id.lower(), model.model_id)


def _codes(model: Model) -> bool:
    """A model trained for code, by its name (qwen2.5-coder, codestral, starcoder…),
    else one trained for tool use, which writes code as well."""
    name = model.model_id.lower()
    return "code" in name or model.tool_use
