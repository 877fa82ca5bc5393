"""The merged tool list and the route from a qualified (possibly shortened) name back to its upstream."""

from __future__ import annotations

from typing import Any

from mcpstead.registry import ToolRegistry
from mcpstead.state import ToolView


class FakeSupervisor:
    def __init__(self, name: str, tools: list[dict[str, Any]]) -> None:
        self.name = name
        self.raw_tools = tuple(tools)
        self.views: tuple[ToolView, ...] = ()

    def set_tool_views(self, views: tuple[ToolView, ...]) -> None:
        self.views = views


def build(*supervisors: FakeSupervisor) -> ToolRegistry:
    registry = ToolRegistry()
    registry.rebuild(supervisors)  # type: ignore[arg-type]
    return registry


def test_tools_are_merged_by_upstream_name_keeping_upstream_order() -> None:
    zeta = FakeSupervisor("zeta", [{"name": "b", "description": "B"}, {"name": "a"}])
    alpha = FakeSupervisor("alpha", [{"name": "x", "description": "X", "inputSchema": {"type": "object"}}])
    registry = build(zeta, alpha)
    assert [t["name"] for t in registry.tools] == ["alpha__x", "zeta__b", "zeta__a"]
    assert registry.tools[0] == {"name": "alpha__x", "description": "[alpha] X", "inputSchema": {"type": "object"}}
    assert registry.tools[2]["description"] == "Tool from zeta"


def test_routes_lead_back_to_the_upstream_tool() -> None:
    sup = FakeSupervisor("srv", [{"name": "do__thing"}])
    registry = build(sup)
    route = registry.route("srv__do__thing")
    assert route is not None
    assert route.supervisor is sup and route.tool == "do__thing"
    assert registry.route("srv__other") is None


def test_long_names_are_routed_by_their_short_form() -> None:
    long_a, long_b = "x" * 70 + "a", "x" * 70 + "b"
    sup = FakeSupervisor("srv", [{"name": long_a}, {"name": long_b}])
    registry = build(sup)
    names = [t["name"] for t in registry.tools]
    assert all(len(name) == 64 for name in names) and len(set(names)) == 2
    route_a, route_b = registry.route(names[0]), registry.route(names[1])
    assert route_a is not None and route_a.tool == long_a
    assert route_b is not None and route_b.tool == long_b
    assert [v.qualified_name for v in sup.views] == names


def test_duplicate_upstream_tools_keep_the_first() -> None:
    sup = FakeSupervisor("srv", [{"name": "t", "description": "first"}, {"name": "t", "description": "second"}])
    registry = build(sup)
    assert [t["description"] for t in registry.tools] == ["[srv] first"]


def test_rebuild_replaces_everything() -> None:
    sup = FakeSupervisor("srv", [{"name": "t"}])
    registry = build(sup)
    sup.raw_tools = ()
    registry.rebuild([sup])  # type: ignore[list-item]
    assert registry.tools == ()
    assert registry.route("srv__t") is None
