"""The merged tool list of all ready upstreams, and the route from each qualified name back to its upstream."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mcpstead.protocol import qualify
from mcpstead.state import ToolView
from mcpstead.upstream.supervisor import UpstreamSupervisor, describe_tool

log = logging.getLogger("mcpstead.registry")


@dataclass(frozen=True, slots=True)
class Route:
    supervisor: UpstreamSupervisor
    tool: str
    """The upstream's own tool name."""


class ToolRegistry:
    def __init__(self) -> None:
        self.tools: tuple[dict[str, Any], ...] = ()
        """Downstream definitions in list order: upstreams by name, each upstream's tools in its order."""
        self._routes: dict[str, Route] = {}
        self._warned: set[str] = set()

    def rebuild(self, supervisors: Iterable[UpstreamSupervisor]) -> None:
        """Recompute from every upstream's cached tools. Runs when a tool list changes, never per call."""
        tools: list[dict[str, Any]] = []
        routes: dict[str, Route] = {}
        for supervisor in sorted(supervisors, key=lambda s: s.name):
            views: list[ToolView] = []
            for tool in supervisor.raw_tools:
                qualified, shortened = qualify(supervisor.name, tool["name"])
                if qualified in routes:
                    self._warn_once(
                        f"dup:{qualified}",
                        f"upstream {supervisor.name} lists tool '{tool['name']}' twice; keeping the first",
                    )
                    continue
                if shortened:
                    self._warn_once(
                        qualified,
                        f"tool '{supervisor.name}__{tool['name']}' is longer than 64 characters; "
                        f"clients see it as '{qualified}'",
                    )
                routes[qualified] = Route(supervisor, tool["name"])
                tools.append(_downstream_definition(supervisor.name, tool, qualified))
                views.append(describe_tool(supervisor.name, tool, qualified))
            supervisor.set_tool_views(tuple(views))
        self.tools = tuple(tools)
        self._routes = routes

    def route(self, qualified_name: str) -> Route | None:
        return self._routes.get(qualified_name)

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning("%s", message)


def _downstream_definition(upstream: str, tool: dict[str, Any], qualified: str) -> dict[str, Any]:
    """The upstream's definition with every field kept, only the name qualified and the description tagged."""
    description = tool.get("description")
    return {
        **tool,
        "name": qualified,
        "description": f"[{upstream}] {description}" if isinstance(description, str) else f"Tool from {upstream}",
    }
