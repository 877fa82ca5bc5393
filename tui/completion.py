"""completion/complete for a prompt argument or a template variable: the request, and what its answer offers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mcpstead.state import GatewayView
from tui import requests

COMPLETE_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Completions:
    """The values a server suggests for what was typed; `error` says why there are none, when it failed."""

    values: tuple[str, ...] = ()
    total: int | None = None
    has_more: bool = False
    error: str | None = None

    def summary(self) -> str:
        """ "3 of 120, more available": how many are shown out of how many the server knows."""
        shown = len(self.values)
        total = f" of {self.total}" if self.total is not None and self.total != shown else ""
        more = ", more available" if self.has_more else ""
        return f"{shown}{total} suggestion{'s' if shown != 1 else ''}{more}"


Completer = Callable[[str, str, dict[str, str]], Awaitable[Completions]]
"""(argument name, value typed, the other arguments' values) -> what the server suggests."""


def prompt_ref(name: str) -> dict[str, str]:
    return {"type": "ref/prompt", "name": name}


def template_ref(uri_template: str) -> dict[str, str]:
    return {"type": "ref/resource", "uri": uri_template}


def request_params(ref: Mapping[str, str], argument: str, value: str, context: Mapping[str, str]) -> dict[str, Any]:
    """completion/complete's params; the context (values already filled in) only when there is some."""
    params: dict[str, Any] = {"ref": dict(ref), "argument": {"name": argument, "value": value}}
    if context:
        params["context"] = {"arguments": dict(context)}
    return params


def parse(result: Mapping[str, Any]) -> Completions:
    """The suggestions in a completion/complete result (anything malformed is ignored, not shown)."""
    completion = result.get("completion")
    if not isinstance(completion, Mapping):
        return Completions()
    values = completion.get("values")
    total = completion.get("total")
    return Completions(
        values=tuple(value for value in values if isinstance(value, str)) if isinstance(values, list) else (),
        total=total if isinstance(total, int) and not isinstance(total, bool) else None,
        has_more=completion.get("hasMore") is True,
    )


def completer(view: GatewayView, ref: Mapping[str, str]) -> Completer:
    """Asks the gateway (which routes by `ref` to the upstream) for the values of one argument at a time."""

    async def complete(argument: str, value: str, context: dict[str, str]) -> Completions:
        params = request_params(ref, argument, value, context)
        answer = await requests.ask(view, "completion/complete", params, timeout=COMPLETE_TIMEOUT)
        return Completions(error=answer.error) if answer.error is not None else parse(answer.result)

    return complete
