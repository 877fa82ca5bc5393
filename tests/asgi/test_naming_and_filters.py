"""Per-server naming and filters through the whole HTTP path, on scripted upstreams: `prefix: false`,
collisions (first configured wins, logged, in /health), `tools`/`prompts`/`resources` include/exclude
globs, and a reload that changes them without reconnecting."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from mcpstead.config import ServerConfig
from mcpstead.config_load import parse_config
from mcpstead.state import TransportKind
from mcpstead.upstream.transports import ConnectionHooks
from tests.asgi.conftest import WAIT, Harness, initialize_request
from tests.fakes import FakeConnection, FakeUpstream, tool

CAPABILITIES = {"tools": {"listChanged": True}, "prompts": {}, "resources": {}}


def upstream(
    tools: tuple[str, ...] | list[str] = (),
    prompts: tuple[str, ...] | list[str] = (),
    resources: tuple[str, ...] | list[str] = (),
    templates: tuple[str, ...] | list[str] = (),
    label: str = "",
) -> FakeUpstream:
    """A scripted upstream listing these names; every answer says which upstream (`label`) gave it."""
    return FakeUpstream(
        tools=[tool(name, f"{name} of {label}") for name in tools],
        answers={
            "initialize": {
                "protocolVersion": "2025-11-25",
                "capabilities": CAPABILITIES,
                "serverInfo": {"name": label},
            },
            "prompts/list": {"prompts": [{"name": name, "description": f"{name} of {label}"} for name in prompts]},
            "resources/list": {"resources": [{"uri": uri, "name": uri} for uri in resources]},
            "resources/templates/list": {
                "resourceTemplates": [{"uriTemplate": text, "name": text} for text in templates]
            },
            "tools/call": lambda params: {"content": [{"type": "text", "text": f"{label}:{params['name']}"}]},  # type: ignore[index]
            "prompts/get": lambda params: {"messages": [], "description": f"{label}:{params['name']}"},  # type: ignore[index]
            "resources/read": lambda params: {"contents": [{"uri": params["uri"], "text": label}]},  # type: ignore[index]
        },
    )


class Upstreams:
    """One scripted upstream per configured server name; `connect` is the gateway's `connect=`."""

    def __init__(self, **by_name: FakeUpstream) -> None:
        self.by_name = by_name

    def connect(self, config: ServerConfig, transport: TransportKind, hooks: ConnectionHooks) -> FakeConnection:
        return self.by_name[config.name].connect(config, transport, hooks)

    def called(self, name: str, method: str) -> list[dict[str, Any] | None]:
        return [r.params for r in self.by_name[name].requests if r.method == method]


def servers(*entries: str) -> str:
    """`servers:` with one HTTP entry per `name[;key: value;...]`."""
    lines = ["servers:"]
    for entry in entries:
        name, *keys = entry.split(";")
        lines += [f"  - name: {name}", f"    url: http://127.0.0.1:9/{name}"]
        lines += [f"    {key.strip()}" for key in keys]
    return "\n".join(lines) + "\n"


async def ready(h: Harness, *names: str) -> str:
    await h.wait_until(lambda: all(h.gateway.supervisors[n].status == "ready" for n in names))
    return await h.initialize()


async def names(h: Harness, session: str, method: str, key: str, field: str = "name") -> list[str]:
    answer = await h.rpc(session, method)
    return [item[field] for item in answer["result"][key]]


def text(answer: dict[str, Any]) -> str:
    (content,) = answer["result"]["content"]
    return str(content["text"])


async def test_prefix_false_passes_names_and_definitions_through(start: Any) -> None:
    fakes = Upstreams(
        plain=upstream(tools=["echo"], prompts=["greet"], label="plain"),
        tagged=upstream(tools=["echo"], prompts=["greet"], label="tagged"),
    )
    async with start(servers("plain;prefix: false", "tagged;describe_prefix: true"), connect=fakes.connect) as h:
        session = await ready(h, "plain", "tagged")
        listed = (await h.rpc(session, "tools/list"))["result"]["tools"]
        assert listed == [
            tool("echo", "echo of plain"),  # exactly the upstream's definition
            {**tool("echo"), "name": "tagged__echo", "description": "[tagged] echo of tagged"},
        ]
        assert await names(h, session, "prompts/list", "prompts") == ["greet", "tagged__greet"]

        called = await h.rpc(session, "tools/call", {"name": "echo", "arguments": {}})
        assert text(called) == "plain:echo"
        assert text(await h.rpc(session, "tools/call", {"name": "tagged__echo"})) == "tagged:echo"
        got = await h.rpc(session, "prompts/get", {"name": "greet"})
        assert got["result"]["description"] == "plain:greet"
        assert fakes.called("plain", "tools/call")[0] == {"name": "echo", "arguments": {}}


async def test_a_name_clash_between_unprefixed_upstreams_keeps_the_first_configured(
    start: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="mcpstead.gateway")
    fakes = Upstreams(
        first=upstream(tools=["echo", "only_first"], prompts=["greet"], label="first"),
        second=upstream(tools=["echo", "only_second"], prompts=["greet"], label="second"),
    )
    async with start(servers("first;prefix: false", "second;prefix: false"), connect=fakes.connect) as h:
        session = await ready(h, "first", "second")
        await h.wait_until(lambda: len(h.gateway.catalog.problems) == 2)
        assert await names(h, session, "tools/list", "tools") == ["echo", "only_first", "only_second"]
        assert text(await h.rpc(session, "tools/call", {"name": "echo"})) == "first:echo"
        assert text(await h.rpc(session, "tools/call", {"name": "only_second"})) == "second:only_second"
        assert (await h.rpc(session, "prompts/get", {"name": "greet"}))["result"]["description"] == "first:greet"
        assert fakes.called("second", "tools/call") == [{"name": "only_second"}]

        expected = [
            "upstream 'second' lists tool 'echo' too; upstream 'first' keeps it",
            "upstream 'second' lists prompt 'greet' too; upstream 'first' keeps it",
        ]
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert [w for w in warnings if "keeps it" in w] == expected
        health = (await h.request("GET", "/health")).json()
        assert health["problems"] == expected


async def test_include_and_exclude_globs_filter_the_lists_and_what_can_be_called(start: Any) -> None:
    fakes = Upstreams(
        fs=upstream(
            tools=["get_file", "get_secret", "put_file", "echo"],
            prompts=["summarize", "internal_debug"],
            resources=["file:///pub/a.txt", "file:///private/b.txt"],
            templates=["file:///pub/{name}", "file:///private/{name}"],
            label="fs",
        )
    )
    config = servers(
        "fs;tools: {include: ['get_*', echo], exclude: [get_secret]}"
        ";prompts: {exclude: ['internal_*']}"
        ";resources: {include: ['file:///pub/*']}"
    )
    async with start(config, connect=fakes.connect) as h:
        session = await ready(h, "fs")
        assert await names(h, session, "tools/list", "tools") == ["fs__get_file", "fs__echo"]
        assert await names(h, session, "prompts/list", "prompts") == ["fs__summarize"]
        assert await names(h, session, "resources/list", "resources", "uri") == ["file:///pub/a.txt"]
        assert await names(h, session, "resources/templates/list", "resourceTemplates", "uriTemplate") == [
            "file:///pub/{name}"
        ]

        for hidden in ("fs__get_secret", "fs__put_file"):
            refused = await h.rpc(session, "tools/call", {"name": hidden, "arguments": {}})
            message = h.rpc_error(refused, -32602)
            assert hidden in message
        prompt = await h.rpc(session, "prompts/get", {"name": "fs__internal_debug"})
        assert "fs__internal_debug" in h.rpc_error(prompt, -32602)
        for uri in ("file:///private/b.txt", "file:///private/c.txt"):
            read = await h.rpc(session, "resources/read", {"uri": uri})
            assert uri in h.rpc_error(read, -32602)
        assert fakes.called("fs", "tools/call") == []
        assert fakes.called("fs", "prompts/get") == []
        assert fakes.called("fs", "resources/read") == []

        # What is offered still works, by listing and by template.
        assert text(await h.rpc(session, "tools/call", {"name": "fs__get_file"})) == "fs:get_file"
        for uri in ("file:///pub/a.txt", "file:///pub/other.txt"):
            read = await h.rpc(session, "resources/read", {"uri": uri})
            assert read["result"]["contents"] == [{"uri": uri, "text": "fs"}]


async def test_a_uri_listed_by_two_upstreams_stays_with_the_first_and_is_reported(
    start: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="mcpstead.gateway")
    fakes = Upstreams(
        one=upstream(resources=["file:///shared.txt", "file:///one.txt"], templates=["notes://{id}"], label="one"),
        two=upstream(resources=["file:///shared.txt", "file:///two.txt"], templates=["notes://{id}"], label="two"),
    )
    async with start(servers("one", "two"), connect=fakes.connect) as h:
        session = await ready(h, "one", "two")
        await h.wait_until(lambda: len(h.gateway.catalog.problems) == 2)
        assert await names(h, session, "resources/list", "resources", "uri") == [
            "file:///shared.txt",
            "file:///one.txt",
            "file:///two.txt",
        ]
        shared = await h.rpc(session, "resources/read", {"uri": "file:///shared.txt"})
        assert shared["result"]["contents"][0]["text"] == "one"
        templated = await h.rpc(session, "resources/read", {"uri": "notes://7"})
        assert templated["result"]["contents"][0]["text"] == "one"
        assert (await h.rpc(session, "resources/read", {"uri": "file:///two.txt"}))["result"]["contents"][0][
            "text"
        ] == "two"

        expected = [
            "resource 'file:///shared.txt' is listed by upstreams 'one' and 'two'; 'one' (configured first) keeps it",
            "resource template 'notes://{id}' is listed by upstreams 'one' and 'two'; 'one' (configured first) keeps it",
        ]
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert [w for w in warnings if "configured first" in w] == expected
        health = (await h.request("GET", "/health")).json()
        assert health["problems"] == expected


async def test_a_reload_of_prefix_and_filters_applies_in_place_and_tells_open_streams(start: Any) -> None:
    fakes = Upstreams(
        app=upstream(tools=["echo", "admin_reset"], prompts=["greet", "internal_x"], label="app"),
    )
    before = servers("app")
    after = servers("app;prefix: false;tools: {exclude: ['admin_*']};prompts: {include: [greet]}")
    async with start(before, connect=fakes.connect) as h:
        session = await ready(h, "app")
        assert await names(h, session, "tools/list", "tools") == ["app__echo", "app__admin_reset"]
        downstream = h.gateway.sessions.get(session)
        assert downstream is not None
        outbox = downstream.open_stream()  # what GET /mcp streams (tests/integration covers the wire)
        assert outbox is not None
        connections = len(fakes.by_name["app"].connections)

        outcome = await h.gateway.apply_config(parse_config(after, "test.yaml", {}))
        assert outcome.ok and outcome.updated == ("app",) and outcome.restarted == ()

        assert len(fakes.by_name["app"].connections) == connections, "a naming change must not reconnect"
        assert not fakes.by_name["app"].current.closed.is_set()
        assert await names(h, session, "tools/list", "tools") == ["echo"]
        assert await names(h, session, "prompts/list", "prompts") == ["greet"]
        announced: list[dict[str, Any] | None] = []
        async with asyncio.timeout(WAIT):
            while len(announced) < 2:
                announced.append(await outbox.get())
        assert {m["method"] for m in announced if m is not None} == {
            "notifications/tools/list_changed",
            "notifications/prompts/list_changed",
        }
        assert outbox.empty(), "resources did not change, so no resources/list_changed"

        assert text(await h.rpc(session, "tools/call", {"name": "echo"})) == "app:echo"
        old = await h.rpc(session, "tools/call", {"name": "app__echo"})
        h.rpc_error(old, -32602)
        hidden = await h.rpc(session, "tools/call", {"name": "admin_reset"})
        h.rpc_error(hidden, -32602)
        assert fakes.called("app", "tools/call") == [{"name": "echo"}]


async def test_an_excluded_uri_cannot_be_reached_through_a_template_that_matches_it(start: Any) -> None:
    fakes = Upstreams(
        fs=upstream(
            resources=["file:///pub/a.txt", "file:///private/b.txt"], templates=["file:///{+path}"], label="fs"
        ),
        db=upstream(templates=["db://{table}"], label="db"),
    )
    config = servers("fs;resources: {exclude: ['file:///private/*']}", "db;resources: {include: ['db://{table}']}")
    async with start(config, connect=fakes.connect) as h:
        session = await ready(h, "fs", "db")
        assert await names(h, session, "resources/list", "resources", "uri") == ["file:///pub/a.txt"]
        for method in ("resources/read", "resources/subscribe"):
            for uri in ("file:///private/b.txt", "file:///private/deeper/c.txt"):
                refused = await h.rpc(session, method, {"uri": uri})
                assert uri in h.rpc_error(refused, -32602)
        assert fakes.called("fs", "resources/read") == [] and fakes.called("fs", "resources/subscribe") == []
        # What the filter allows is still routed by the template.
        read = await h.rpc(session, "resources/read", {"uri": "file:///elsewhere/d.txt"})
        assert read["result"]["contents"] == [{"uri": "file:///elsewhere/d.txt", "text": "fs"}]
        # `include` chose the templates; it does not also have to match every URI they serve.
        table = await h.rpc(session, "resources/read", {"uri": "db://users"})
        assert table["result"]["contents"] == [{"uri": "db://users", "text": "db"}]


async def test_capabilities_the_gateway_does_not_pass_on_are_said_not_dropped(
    start: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="mcpstead.gateway")
    capabilities = {"tools": {}, "experimental": {"x-thing": {}}, "extensions": {"io.example/ext": {}}}
    initialized = {"protocolVersion": "2025-11-25", "capabilities": capabilities, "serverInfo": {}}
    fake = FakeUpstream(tools=[tool("echo")], answers={"initialize": initialized})
    async with start(servers("odd"), connect=fake.connect) as h:
        await h.wait_until(lambda: bool(h.gateway.catalog.problems))
        said = "upstream 'odd' offers capabilities mcpstead does not pass on to its clients: experimental, extensions"
        assert (await h.request("GET", "/health")).json()["problems"] == [said]
        assert said in [r.getMessage() for r in caplog.records]
        response = await h.post(initialize_request())
        assert set(response.json()["result"]["capabilities"]) == {"tools"}  # what it says it does not pass on


async def test_list_changes_in_one_pass_of_the_loop_cost_one_rebuild_and_one_announcement(
    start: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each rebuild visits every tool: upstreams whose lists change together (many coming up at once)
    are rebuilt once, and a session hears one list_changed for them."""
    fakes = Upstreams(one=upstream(tools=["a"], label="one"), two=upstream(tools=["b"], label="two"))
    async with start(servers("one", "two"), connect=fakes.connect) as h:
        session = await ready(h, "one", "two")
        downstream = h.gateway.sessions.get(session)
        assert downstream is not None
        outbox = downstream.open_stream()
        assert outbox is not None
        rebuilds: list[int] = []
        rebuild = h.gateway.rebuild_catalog
        monkeypatch.setattr(h.gateway, "rebuild_catalog", lambda: (rebuilds.append(1), rebuild()))
        for name, added in (("one", "a2"), ("two", "b2")):  # as two supervisors' refreshes would
            supervisor = h.gateway.supervisors[name]
            supervisor.lists = {**supervisor.lists, "tools": (*supervisor.lists["tools"], tool(added))}
            h.gateway.lists_changed()
        assert rebuilds == []  # the catalog catches up once this pass is done
        await h.gateway.catalog_settled()
        assert rebuilds == [1]
        assert await names(h, session, "tools/list", "tools") == ["one__a", "one__a2", "two__b", "two__b2"]
        async with asyncio.timeout(WAIT):
            assert (await outbox.get() or {}).get("method") == "notifications/tools/list_changed"
        assert outbox.empty()


async def test_an_upstream_is_ready_only_once_its_items_are_in_the_catalog(start: Any) -> None:
    """The rebuild after a list change waits a pass; the ready announcement waits for it."""
    fakes = Upstreams(app=upstream(tools=["echo"], label="app"))
    async with start(servers("app"), connect=fakes.connect) as h:
        seen: list[tuple[str, tuple[str, ...]]] = []

        def check() -> bool:
            status = h.gateway.supervisors["app"].status
            seen.append((status, tuple(str(t.get("name")) for t in h.gateway.catalog.tools)))
            return status == "ready"

        await h.wait_until(check)
        assert all(tools == ("app__echo",) for status, tools in seen if status == "ready")
