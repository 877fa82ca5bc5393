"""The catalog: naming, filters, conflicts (first configured wins, never silently), routes by name, URI and template."""

from __future__ import annotations

import dataclasses
from typing import Any

from mcpstead.catalog import UpstreamLists, build_catalog
from mcpstead.config import ServerConfig
from mcpstead.config_load import parse_config
from mcpstead.protocol import RELAYED_CAPABILITIES
from mcpstead.router import REQUESTS


def server(name: str, extra: str = "") -> ServerConfig:
    lines = [
        "servers:",
        f"  - name: {name}",
        "    url: http://127.0.0.1:9/mcp",
        *(f"    {x}" for x in extra.splitlines()),
    ]
    return parse_config("\n".join(lines) + "\n", "gw.yaml", {}).servers[0]


def lists(
    name: str,
    extra: str = "",
    *,
    tools: tuple[str, ...] = (),
    prompts: tuple[str, ...] = (),
    resources: tuple[str, ...] = (),
    templates: tuple[str, ...] = (),
    tasks: bool = False,
) -> UpstreamLists:
    return UpstreamLists(
        server(name, extra),
        {
            "tools": tuple({"name": t, "description": t.upper(), "inputSchema": {"type": "object"}} for t in tools),
            "prompts": tuple({"name": p} for p in prompts),
            "resources": tuple({"uri": r, "name": r} for r in resources),
            "resourceTemplates": tuple({"uriTemplate": t, "name": t} for t in templates),
        },
        tasks,
    )


def names(items: tuple[dict[str, Any], ...], key: str = "name") -> list[str]:
    return [item[key] for item in items]


def test_names_are_qualified_in_config_order_and_nothing_else_changes() -> None:
    catalog = build_catalog([lists("zeta", tools=("b", "a")), lists("alpha", tools=("x",), prompts=("p",))])
    assert names(catalog.tools) == ["zeta__b", "zeta__a", "alpha__x"]
    assert catalog.tools[0] == {"name": "zeta__b", "description": "B", "inputSchema": {"type": "object"}}
    assert names(catalog.prompts) == ["alpha__p"]
    assert catalog.prompts[0] == {"name": "alpha__p"}
    route = catalog.tool_routes["alpha__x"]
    assert (route.upstream, route.name) == ("alpha", "x")
    assert catalog.prompt_routes["alpha__p"].name == "p"
    assert catalog.problems == ()


def test_describe_prefix_puts_the_server_in_each_description() -> None:
    catalog = build_catalog([lists("zeta", "describe_prefix: true", tools=("b",), prompts=("p",))])
    assert catalog.tools[0]["description"] == "[zeta] B"
    assert catalog.prompts[0]["description"] == "From zeta"


def test_a_name_with_the_separator_routes_to_the_whole_upstream_name() -> None:
    catalog = build_catalog([lists("srv", tools=("do__thing",))])
    assert catalog.tool_routes["srv__do__thing"].name == "do__thing"


def test_long_names_are_shortened_distinctly_and_reported() -> None:
    catalog = build_catalog([lists("srv", tools=("t" * 70 + "a", "t" * 70 + "b"))])
    first, second = names(catalog.tools)
    assert first != second and len(first) == len(second) == 64
    assert {catalog.tool_routes[first].name, catalog.tool_routes[second].name} == {"t" * 70 + "a", "t" * 70 + "b"}
    assert len(catalog.problems) == 2 and "longer than 64 characters" in catalog.problems[0]


def test_unprefixed_names_pass_through_and_a_clash_keeps_the_first_configured() -> None:
    catalog = build_catalog(
        [lists("a", "prefix: false", tools=("echo", "only_a")), lists("b", "prefix: false", tools=("echo",))]
    )
    assert names(catalog.tools) == ["echo", "only_a"]
    assert catalog.tools[0]["description"] == "ECHO"
    assert catalog.tool_routes["echo"].upstream == "a"
    assert catalog.problems == ("upstream 'b' lists tool 'echo' too; upstream 'a' keeps it",)


def test_filters_apply_to_the_upstreams_own_names_and_uris() -> None:
    catalog = build_catalog(
        [
            lists(
                "s",
                "tools: {include: ['get_*'], exclude: ['get_secret']}\nprompts: {exclude: ['draft*']}\n"
                "resources: {include: ['file:///*']}",
                tools=("get_a", "get_secret", "set_b"),
                prompts=("draft1", "final"),
                resources=("file:///x", "http://y"),
                templates=("file:///{path}", "db://{table}"),
            )
        ]
    )
    assert names(catalog.tools) == ["s__get_a"]
    assert "s__get_secret" not in catalog.tool_routes
    assert names(catalog.prompts) == ["s__final"]
    assert names(catalog.resources, "uri") == ["file:///x"]
    assert names(catalog.templates, "uriTemplate") == ["file:///{path}"]


def test_uris_are_routed_by_listing_then_by_the_first_matching_template() -> None:
    catalog = build_catalog(
        [
            lists("a", resources=("test://static",), templates=("test://template/{id}/data",)),
            lists("b", resources=("test://static", "b://only"), templates=("test://{+rest}",)),
        ]
    )
    assert names(catalog.resources, "uri") == ["test://static", "b://only"]
    assert catalog.problems == (
        "resource 'test://static' is listed by upstreams 'a' and 'b'; 'a' (configured first) keeps it",
    )
    routed = catalog.route_uri("test://template/7/data")
    assert routed is not None and routed.upstream == "a"
    other = catalog.route_uri("test://elsewhere/x")
    assert other is not None and other.upstream == "b"
    assert catalog.route_uri("nothing://here") is None
    owner = catalog.route_template("test://{+rest}")
    assert owner is not None and owner.upstream == "b"


def test_an_invalid_template_is_listed_but_reported() -> None:
    catalog = build_catalog([lists("a", templates=("x://{bad",))])
    assert names(catalog.templates, "uriTemplate") == ["x://{bad"]
    assert catalog.route_uri("x://anything") is None
    assert "not an RFC 6570 template" in catalog.problems[0]


def test_a_tool_that_requires_a_task_is_offered_only_when_its_upstream_takes_tasks() -> None:
    task_tool = {"name": "research", "inputSchema": {"type": "object"}, "execution": {"taskSupport": "required"}}
    without = UpstreamLists(server("a"), {"tools": (task_tool,)})
    with_tasks = UpstreamLists(server("b"), {"tools": (task_tool,)}, task_augmented_calls=True)
    catalog = build_catalog([without, with_tasks])
    assert names(catalog.tools) == ["b__research"]
    assert "requires task augmentation" in catalog.problems[0] and "'a'" in catalog.problems[0]


def test_tool_views_keep_the_upstreams_own_definition() -> None:
    catalog = build_catalog([lists("a", tools=("x",))])
    (view,) = catalog.tool_views["a"]
    assert (view.qualified_name, view.name, view.description) == ("a__x", "x", "X")
    assert view.definition["name"] == "x"


def test_capabilities_not_passed_on_are_a_problem_line() -> None:
    said = dataclasses.replace(lists("a", tools=("t",)), unrelayed=("experimental", "extensions"))
    catalog = build_catalog([said, lists("b", tools=("u",))])
    assert catalog.problems == (
        "upstream 'a' offers capabilities mcpstead does not pass on to its clients: experimental, extensions",
    )
    assert names(catalog.tools) == ["a__t", "b__u"]  # the rest is offered as ever


def test_the_capabilities_passed_on_are_those_of_the_method_table() -> None:
    table = {method.capability for method in REQUESTS.values() if method.capability}
    assert table == RELAYED_CAPABILITIES


def test_a_rebuild_reuses_what_did_not_change_and_redoes_what_did() -> None:
    zeta, alpha = lists("zeta", tools=("a", "b")), lists("alpha", tools=("x",), prompts=("p",))
    first = build_catalog([zeta, alpha])
    again = build_catalog([zeta, alpha], first)
    assert again == first
    assert all(a is b for a, b in zip(again.tools, first.tools, strict=True))  # reused, not copied again
    assert again.tool_views["zeta"][0] is first.tool_views["zeta"][0]
    relisted = lists("zeta", tools=("a", "c"))  # zeta's list changed: new items
    reconfigured = lists("alpha", "describe_prefix: true", tools=("x",), prompts=("p",))
    reconfigured = UpstreamLists(reconfigured.config, alpha.lists)  # same items, a reloaded config
    third = build_catalog([relisted, reconfigured], again)
    assert names(third.tools) == ["zeta__a", "zeta__c", "alpha__x"]
    assert third.tools[2]["description"] == "[alpha] X"
    assert third.prompts[0]["description"] == "From alpha"
    assert set(third.tool_routes) == {"zeta__a", "zeta__c", "alpha__x"}
    assert len(third.named) == 4  # what is no longer listed is not kept
