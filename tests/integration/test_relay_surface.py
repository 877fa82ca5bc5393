"""The whole MCP surface through the real gateway: real SDK clients, two real upstreams (the SDK-built
conformance server as `conf`, node's server-everything as `every`), prefixed names and shared upstream
sessions (the defaults). Every result through the gateway is compared with the same call made directly to
the upstream, by the same client code; what legitimately differs is normalised, and each place says why.

One gateway and one of each upstream serve the whole module (module-scoped fixture on a module-scoped
event loop). Raw httpx sessions are used where the SDK client has no API (task-augmented tools/call) or
where the exact wire matters (progress tokens, a JSON-only Accept, hanging up mid-call).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import pytest_asyncio
from mcp import Client
from mcp.client.session import ClientRequestContext, IncomingMessage
from mcp.shared.exceptions import MCPError
from mcp.types import (
    CallToolResult,
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitRequestFormParams,
    ElicitRequestParams,
    ElicitRequestURLParams,
    ElicitResult,
    ListRootsResult,
    LoggingMessageNotificationParams,
    PromptReference,
    ResourceTemplateReference,
    ResourceUpdatedNotification,
    Root,
    TextContent,
)
from pydantic import BaseModel, FileUrl

from tests.conformance.suite import conformance_server
from tests.integration.everything import everything_server
from tests.integration.gateway_harness import RunningGateway, run_gateway

pytestmark = [
    pytest.mark.integration,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.timeout(60),
    # subscribe, logging/setLevel and roots are deprecated in 2026-07-28; these clients speak 2025-11-25.
    pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning"),
]

WAIT = 10.0
"""The bound on every wait for something that should arrive (it normally takes milliseconds)."""
QUIET = 0.5
"""How long "nothing arrives" is watched for."""


@dataclass(frozen=True)
class Env:
    gateway: RunningGateway
    conf: str
    every: str

    def direct(self, server: str) -> str:
        return self.conf if server == "conf" else self.every


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def env(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Env]:
    logs = tmp_path_factory.mktemp("relay")
    async with (
        conformance_server(stderr_path=logs / "conf-stderr.log") as conf,
        everything_server("streamableHttp") as every,
    ):
        config = f"""
servers:
  - name: conf
    url: {conf.url}
  - name: every
    url: {every}
"""
        async with run_gateway(config) as gateway:
            await gateway.wait_connected("conf", "every")
            yield Env(gateway, conf.url, every)


# ---- helpers -------------------------------------------------------------------------------------------------


def dump(model: BaseModel) -> Any:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def untagged(item: dict[str, Any], server: str) -> dict[str, Any]:
    """A prefixed tool or prompt as its upstream listed it. The gateway changes exactly one thing: the name
    gets `<server>__` (descriptions are kept as they are: describe_prefix is off by default)."""
    name = item["name"]
    assert name.startswith(f"{server}__"), name
    return {**item, "name": name.removeprefix(f"{server}__")}


def text_of(result: CallToolResult) -> str:
    return "".join(block.text for block in result.content if isinstance(block, TextContent))


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = WAIT) -> None:
    try:
        async with asyncio.timeout(timeout):
            while True:
                if await check():
                    return
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"{what}: not within {timeout}s") from None


async def both(
    env: Env, server: str, work: Callable[[str, str], Awaitable[Any]], *, one_by_one: bool = False
) -> tuple[Any, Any]:
    """`work(url, prefix)` directly against the upstream and through the gateway (where names get the
    `<server>__` prefix), concurrently unless `one_by_one`. Returns (direct, through)."""
    direct_url, prefix = env.direct(server), f"{server}__"
    if one_by_one:
        return await work(direct_url, ""), await work(env.gateway.url, prefix)
    direct, through = await asyncio.gather(work(direct_url, ""), work(env.gateway.url, prefix))
    return direct, through


# ---- 0. tools/list -------------------------------------------------------------------------------------------


async def test_tools_list_is_qualified_and_otherwise_the_upstreams_own(env: Env) -> None:
    """server-everything offers some tools only to clients declaring sampling, elicitation or roots; the
    gateway declares all three to its shared sessions, so the direct client here declares them too."""

    async def tools(url: str) -> list[dict[str, Any]]:
        async with Human().client(url) as client:
            listed = await client.list_tools()
            assert listed.next_cursor is None
            return [dump(t) for t in listed.tools]

    conf, every, through = await asyncio.gather(tools(env.conf), tools(env.every), tools(env.gateway.url))
    assert [untagged(t, "conf") for t in through[: len(conf)]] == conf
    assert [untagged(t, "every") for t in through[len(conf) :]] == every


# ---- 1. resources --------------------------------------------------------------------------------------------


async def test_resources_list_and_templates_are_both_upstreams_merged_with_uris_unchanged(env: Env) -> None:
    async def lists(url: str) -> tuple[list[Any], list[Any]]:
        async with Client(url, mode="legacy") as client:
            resources = await client.list_resources()
            templates = await client.list_resource_templates()
            assert resources.next_cursor is None and templates.next_cursor is None
            return [dump(r) for r in resources.resources], [dump(t) for t in templates.resource_templates]

    (conf_resources, conf_templates), (every_resources, every_templates), (resources, templates) = await asyncio.gather(
        lists(env.conf), lists(env.every), lists(env.gateway.url)
    )
    assert conf_resources and every_resources and conf_templates and every_templates
    # Resources and templates are not renamed or tagged: URIs cannot be prefixed safely. Config order.
    assert resources == conf_resources + every_resources
    assert templates == conf_templates + every_templates


TIMESTAMP = re.compile(r"\d{1,2}:\d{2}:\d{2}( [AP]M)?")


def without_timestamps(value: Any) -> Any:
    """server-everything's dynamic resources embed the time they were made (toLocaleTimeString)."""
    return json.loads(TIMESTAMP.sub("<time>", json.dumps(value)))


@pytest.mark.parametrize(
    ("server", "uri"),
    [
        ("conf", "test://static-text"),
        ("conf", "test://static-binary"),
        ("conf", "test://template/42/data"),  # matched by the template test://template/{id}/data
        ("every", "demo://resource/static/document/features.md"),
        ("every", "demo://resource/dynamic/text/7"),  # demo://resource/dynamic/text/{resourceId}
        ("every", "demo://resource/dynamic/blob/3"),
    ],
)
async def test_resources_read_equals_direct(env: Env, server: str, uri: str) -> None:
    async def read(url: str, _prefix: str) -> Any:
        async with Client(url, mode="legacy") as client:
            return dump(await client.read_resource(uri))

    direct, through = await both(env, server, read)
    assert direct["contents"]
    if "dynamic/blob" in uri:  # the blob is base64 of a text with the time in it
        for contents in (*direct["contents"], *through["contents"]):
            contents["blob"] = without_timestamps(base64.b64decode(contents["blob"]).decode())
    assert without_timestamps(through) == without_timestamps(direct)


@dataclass
class Inbox:
    """What a client's message_handler saw: resource updates (by URI), each with an event."""

    updates: list[str] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, message: IncomingMessage) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            self.updates.append(str(message.params.uri))
            self.changed.set()

    async def wait_for(self, uri: str, trigger: Callable[[], Awaitable[Any]]) -> None:
        """Trigger until `uri` shows up: a client's GET stream opens shortly after initialize, and an
        update sent before that is (rightly) lost, directly and through the gateway alike."""

        async def arrived() -> bool:
            if uri in self.updates:
                return True
            self.changed.clear()
            await trigger()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5):
                    await self.changed.wait()
            return uri in self.updates

        await eventually(arrived, f"notifications/resources/updated for {uri}")


async def test_resource_subscription_reaches_only_the_subscribed_client(env: Env) -> None:
    watched, other = "test://watched-resource", "test://static-text"

    async def subscribed_session(url: str, prefix: str) -> tuple[list[str], list[str]]:
        subscriber, bystander = Inbox(), Inbox()
        async with (
            Client(url, mode="legacy", message_handler=subscriber.handle) as client,
            Client(url, mode="legacy", message_handler=bystander.handle) as second,
        ):

            async def notify(client: Client, uri: str) -> None:
                assert text_of(await client.call_tool(f"{prefix}test_notify_resource_updated", {"uri": uri})) == "ok"

            # The bystander holds a subscription of its own (to another URI) and receives it, which proves
            # its GET stream is open, so its silence about the watched resource below means something.
            await second.subscribe_resource(other)
            await bystander.wait_for(other, lambda: notify(second, other))
            await client.subscribe_resource(watched)
            await subscriber.wait_for(watched, lambda: notify(client, watched))
            await asyncio.sleep(QUIET)
            assert watched not in bystander.updates
            assert other not in subscriber.updates

            await client.unsubscribe_resource(watched)
            await second.unsubscribe_resource(other)
            before = list(subscriber.updates)
            await notify(client, watched)
            await notify(second, other)
            await asyncio.sleep(QUIET)
            assert subscriber.updates == before  # nothing after unsubscribing
            return subscriber.updates, bystander.updates

    # Each client may receive its URI more than once (one per trigger until its stream was open).
    direct, through = await both(env, "conf", subscribed_session)
    assert set(through[0]) == set(direct[0]) == {watched}
    assert set(through[1]) == set(direct[1]) == {other}


# ---- 2. prompts and completion -----------------------------------------------------------------------------


async def test_prompts_list_is_qualified_and_otherwise_the_upstreams_own(env: Env) -> None:
    async def prompts(url: str) -> list[dict[str, Any]]:
        async with Client(url, mode="legacy") as client:
            listed = await client.list_prompts()
            assert listed.next_cursor is None
            return [dump(p) for p in listed.prompts]

    conf, every, through = await asyncio.gather(prompts(env.conf), prompts(env.every), prompts(env.gateway.url))
    names = [p["name"] for p in through]
    assert "conf__test_simple_prompt" in names and "every__args-prompt" in names
    assert names == [f"conf__{p['name']}" for p in conf] + [f"every__{p['name']}" for p in every]
    assert [untagged(p, "conf") for p in through[: len(conf)]] == conf
    assert [untagged(p, "every") for p in through[len(conf) :]] == every


@pytest.mark.parametrize(
    ("server", "prompt", "arguments"),
    [
        ("conf", "test_simple_prompt", None),
        ("conf", "test_prompt_with_arguments", {"arg1": "first", "arg2": "second"}),
        ("conf", "test_prompt_with_embedded_resource", {"resourceUri": "test://static-text"}),
        ("every", "simple-prompt", None),
        ("every", "args-prompt", {"city": "Lisbon", "state": "Lisboa"}),
        ("every", "completable-prompt", {"department": "Sales", "name": "Eve"}),
    ],
)
async def test_prompts_get_equals_direct(env: Env, server: str, prompt: str, arguments: dict[str, str] | None) -> None:
    async def get(url: str, prefix: str) -> Any:
        async with Client(url, mode="legacy") as client:
            return dump(await client.get_prompt(f"{prefix}{prompt}", arguments))

    direct, through = await both(env, server, get)
    assert direct["messages"]
    assert through == direct


@pytest.mark.parametrize(
    ("server", "ref", "argument", "context"),
    [
        (
            "conf",
            PromptReference(type="ref/prompt", name="test_prompt_with_arguments"),
            {"name": "arg1", "value": "al"},
            None,
        ),
        (
            "every",
            PromptReference(type="ref/prompt", name="completable-prompt"),
            {"name": "department", "value": "S"},
            None,
        ),
        (
            "every",
            PromptReference(type="ref/prompt", name="completable-prompt"),
            {"name": "name", "value": ""},
            {"department": "Engineering"},
        ),
        (
            "conf",
            ResourceTemplateReference(type="ref/resource", uri="test://template/{id}/data"),
            {"name": "id", "value": "1"},
            None,
        ),
        (
            "every",
            ResourceTemplateReference(type="ref/resource", uri="demo://resource/dynamic/text/{resourceId}"),
            {"name": "resourceId", "value": "12"},
            None,
        ),
    ],
)
async def test_completion_equals_direct(
    env: Env,
    server: str,
    ref: PromptReference | ResourceTemplateReference,
    argument: dict[str, str],
    context: dict[str, str] | None,
) -> None:
    async def complete(url: str, prefix: str) -> Any:
        # A prompt is referred to by the name the client sees (qualified); a template by its URI template.
        named = ref.model_copy(update={"name": f"{prefix}{ref.name}"}) if isinstance(ref, PromptReference) else ref
        async with Client(url, mode="legacy") as client:
            return dump(await client.complete(named, argument, context))

    direct, through = await both(env, server, complete)
    assert direct["completion"]["values"], direct
    assert through == direct


# ---- 3. logging ----------------------------------------------------------------------------------------------


@dataclass
class LogBook:
    messages: list[dict[str, Any]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def record(self, params: LoggingMessageNotificationParams) -> None:
        self.messages.append(dump(params))
        self.arrived.set()

    def of(self, logger: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("logger") == logger]


async def test_logging_set_level_then_a_tool_that_logs(env: Env) -> None:
    async def run(url: str, prefix: str) -> tuple[list[Any], list[Any]]:
        book = LogBook()
        async with Client(url, mode="legacy", logging_callback=book.record) as client:
            await client.set_logging_level("info")
            result = await client.call_tool(f"{prefix}test_tool_with_logging")
            assert text_of(result) == "Tool with logging executed successfully"
            at_info = book.of("conformance-server")
            await client.set_logging_level("error")
            await client.call_tool(f"{prefix}test_tool_with_logging")
            await asyncio.sleep(QUIET)
            return at_info, book.of("conformance-server")[len(at_info) :]

    direct, through = await both(env, "conf", run)
    assert [m["data"] for m in direct[0]] == [
        "Tool execution started",
        "Tool processing data",
        "Tool execution completed",
    ]
    assert through[0] == direct[0]  # same level, logger, data, in order
    assert direct[1] == through[1] == []  # at "error", the info messages do not arrive


async def test_logging_from_outside_any_call_reaches_the_client_at_its_level(env: Env) -> None:
    """every's toggle-simulated-logging sends a random-level message at once, then one every 5 s, on the
    session's GET stream (outside any call): the gateway fans it out to the clients of its shared session."""
    session_id = re.compile(r" - SessionId [0-9a-f-]+$")

    async def run(url: str, prefix: str) -> dict[str, Any]:
        book = LogBook()
        async with Client(url, mode="legacy", logging_callback=book.record) as client:
            await client.set_logging_level("debug")
            toggled = text_of(await client.call_tool(f"{prefix}toggle-simulated-logging"))
            try:
                assert toggled.startswith("Started simulated"), toggled
                async with asyncio.timeout(WAIT):
                    await book.arrived.wait()
            finally:
                assert text_of(await client.call_tool(f"{prefix}toggle-simulated-logging")).startswith("Stopped")
            (first, *_) = book.messages
            # The message names the upstream session it was sent on: the gateway's, or the direct client's.
            return {**first, "data": session_id.sub("", first["data"])}

    direct, through = await both(env, "every", run)
    # The level is random; the shape and the text (without the session id) are the same.
    assert set(through) == set(direct) == {"level", "data"}
    assert re.fullmatch(r"\w+[- ]level[- ]message", through["data"], re.IGNORECASE), through
    assert through["data"].lower().startswith(through["level"])


# ---- 4. progress ---------------------------------------------------------------------------------------------

Progress = list[tuple[float, float | None, str | None]]


def progress_recorder() -> tuple[Progress, Callable[[float, float | None, str | None], Awaitable[None]]]:
    seen: Progress = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    return seen, on_progress


@pytest.mark.parametrize(
    ("server", "tool", "arguments"),
    [
        ("conf", "test_tool_with_progress", {}),
        ("every", "trigger-long-running-operation", {"duration": 0.5, "steps": 5}),
    ],
)
async def test_progress_sequence_equals_direct(env: Env, server: str, tool: str, arguments: dict[str, Any]) -> None:
    async def run(url: str, prefix: str) -> tuple[Progress, str]:
        seen, on_progress = progress_recorder()
        async with Client(url, mode="legacy") as client:
            result = await client.call_tool(f"{prefix}{tool}", arguments, progress_callback=on_progress)
        assert not result.is_error
        return seen, text_of(result)

    (direct, direct_text), (through, through_text) = await both(env, server, run)
    assert direct, "the upstream sent no progress"
    # The SDK hands a progress callback only the notifications carrying the token it sent (its request
    # id), so an equal sequence here also shows the gateway put the client's own token back.
    assert through == direct
    assert through_text == direct_text


async def test_progress_tokens_on_the_wire_are_the_clients_own(env: Env) -> None:
    """A string token of the client's choosing comes back exactly, on every notification of the call."""
    async with RawSession.opened(env.gateway.url) as raw:
        answer, before = await raw.request(
            "tools/call",
            {
                "name": "every__trigger-long-running-operation",
                "arguments": {"duration": 0.2, "steps": 4},
                "_meta": {"progressToken": "my-own-token"},
            },
        )
    assert "result" in answer, answer
    assert [m["method"] for m in before] == ["notifications/progress"] * 4
    assert [m["params"] for m in before] == [
        {"progress": step, "total": 4, "progressToken": "my-own-token"} for step in range(1, 5)
    ]


@pytest.mark.parametrize(
    ("server", "tool", "arguments"),
    [
        ("conf", "test_tool_with_progress", {}),
        ("every", "trigger-long-running-operation", {"duration": 0.2, "steps": 4}),
    ],
)
async def test_a_json_only_client_still_gets_the_answer_of_a_tool_that_sends_progress(
    env: Env, server: str, tool: str, arguments: dict[str, Any]
) -> None:
    """Accept: application/json only: the progress cannot reach it, the answer must (one JSON body). Both
    upstreams refuse a JSON-only Accept (406), so the direct call accepts SSE too."""
    params = {"arguments": arguments, "_meta": {"progressToken": 1}}
    async with RawSession.opened(env.direct(server)) as raw:
        direct, direct_before = await raw.request("tools/call", {"name": tool, **params})
    assert direct_before, "directly, with SSE accepted, the progress comes first"
    async with RawSession.opened(env.gateway.url, accept="application/json") as raw:
        through, before = await raw.request("tools/call", {"name": f"{server}__{tool}", **params})
        assert raw.last_content_type == "application/json"
    assert before == []
    assert through["result"] == direct["result"]


# ---- raw JSON-RPC --------------------------------------------------------------------------------------------


class RawSession:
    """A bare JSON-RPC session over httpx: what the SDK client cannot send, or where the exact wire matters."""

    def __init__(self, http: httpx.AsyncClient, url: str, accept: str) -> None:
        self.http = http
        self.url = url
        self.headers = {"accept": accept, "content-type": "application/json"}
        self.ids = itertools.count(1)
        self.last_content_type = ""

    @classmethod
    @contextlib.asynccontextmanager
    async def opened(
        cls,
        url: str,
        *,
        accept: str = "application/json, text/event-stream",
        capabilities: dict[str, Any] | None = None,
    ) -> AsyncIterator[RawSession]:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            raw = cls(http, url, accept)
            answer, _ = await raw.request(
                "initialize",
                {
                    "protocolVersion": "2025-11-25",
                    "capabilities": capabilities or {},
                    "clientInfo": {"name": "test-relay-raw", "version": "1"},
                },
            )
            assert "result" in answer, answer
            await raw.notify("notifications/initialized")
            try:
                yield raw
            finally:
                with contextlib.suppress(httpx.HTTPError):
                    await http.delete(url, headers=raw.headers)

    async def notify(self, method: str, params: dict[str, Any] | None = None) -> None:
        body: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            body["params"] = params
        response = await self.http.post(self.url, headers=self.headers, json=body)
        assert response.status_code == 202, response.text

    async def request(
        self, method: str, params: dict[str, Any], timeout: float = WAIT, request_id: str | int | None = None
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The answer, and every message that came before it on the POST's stream."""
        body = {
            "jsonrpc": "2.0",
            "id": next(self.ids) if request_id is None else request_id,
            "method": method,
            "params": params,
        }
        response = await self.http.post(self.url, headers=self.headers, json=body, timeout=timeout)
        assert response.status_code == 200, response.text
        if session_id := response.headers.get("mcp-session-id"):
            self.headers["mcp-session-id"] = session_id
            self.headers["mcp-protocol-version"] = "2025-11-25"
        self.last_content_type = response.headers.get("content-type", "").split(";")[0]
        if self.last_content_type == "text/event-stream":
            messages = [
                json.loads(line.removeprefix("data:").strip())
                for line in response.text.splitlines()
                if line.startswith("data:") and line.removeprefix("data:").strip()
            ]
        else:
            messages = [response.json()]
        answers = [m for m in messages if "method" not in m and m.get("id") == body["id"]]
        assert len(answers) == 1, messages
        return answers[0], [m for m in messages if m is not answers[0]]

    async def request_answering(
        self, method: str, params: dict[str, Any], answer: Callable[[dict[str, Any]], dict[str, Any]]
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Like `request`, read as a stream: every server-to-client request on it gets `answer(request)` as
        its result (POSTed at once, as a client does) before the stream goes on."""
        request_id = next(self.ids)
        body = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        before: list[dict[str, Any]] = []
        async with self.http.stream("POST", self.url, headers=self.headers, json=body) as response:
            assert response.status_code == 200
            async for line in response.aiter_lines():
                data = line.removeprefix("data:").strip() if line.startswith("data:") else ""
                if not data:
                    continue
                message = json.loads(data)
                if "method" not in message and message.get("id") == request_id:
                    return message, before
                before.append(message)
                if "method" in message and "id" in message:
                    reply = {"jsonrpc": "2.0", "id": message["id"], "result": answer(message)}
                    replied = await self.http.post(self.url, headers=self.headers, json=reply)
                    assert replied.status_code == 202, replied.text
        raise AssertionError(f"{method}: the stream ended without its answer; before it: {before}")


# ---- 5. cancellation -----------------------------------------------------------------------------------------


async def cancellations(client: Client, prefix: str) -> list[dict[str, Any]]:
    """conf's record of every cancelled test_slow call: upstream session, request id, reason."""
    records: list[dict[str, Any]] = json.loads(text_of(await client.call_tool(f"{prefix}test_cancellations")))
    return records


async def new_cancellation(client: Client, prefix: str, seen: int) -> dict[str, Any]:
    """The one record past the first `seen`, once its reason (noted when notifications/cancelled arrived) is in."""
    found: list[dict[str, Any]] = []

    async def recorded() -> bool:
        found[:] = (await cancellations(client, prefix))[seen:]
        return bool(found) and found[0]["reason"] is not None

    await eventually(recorded, "conf recording the cancellation")
    (record,) = found
    return record


async def test_a_call_the_client_cancels_is_cancelled_upstream(env: Env) -> None:
    """The SDK's way: cancel the task awaiting call_tool; it sends notifications/cancelled."""

    async def run(url: str, prefix: str) -> dict[str, Any]:
        started = asyncio.Event()

        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            started.set()

        async with Client(url, mode="legacy") as client:
            seen = len(await cancellations(client, prefix))
            call = asyncio.create_task(
                client.call_tool(f"{prefix}test_slow", {"seconds": 30}, progress_callback=on_progress)
            )
            try:
                async with asyncio.timeout(WAIT):
                    await started.wait()  # the upstream is working on it
            finally:
                call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            record = await new_cancellation(client, prefix, seen)
            # The session still works after the cancellation.
            assert text_of(await client.call_tool(f"{prefix}test_slow", {"seconds": 0.1})) == "slept 0.1s"
            return record

    # One after the other: conf keeps one list of cancellations for all its sessions.
    direct, through = await both(env, "conf", run, one_by_one=True)
    assert direct["reason"] == "caller cancelled"
    # The upstream ids and sessions are each path's own; the client's reason is passed on.
    assert through["reason"] == direct["reason"]
    assert through["session"] != direct["session"]


async def test_a_client_that_hangs_up_mid_call_cancels_it_upstream(env: Env) -> None:
    """A raw client starts test_slow, reads the first progress event (the upstream is working), then closes
    its connection. The gateway (downstream/serving.py's connection_lost hook) cancels the upstream call."""
    async with Client(env.conf, mode="legacy") as observer:
        seen = len(await cancellations(observer, ""))
    async with RawSession.opened(env.gateway.url) as raw:
        body = {
            "jsonrpc": "2.0",
            "id": 99,
            "method": "tools/call",
            "params": {"name": "conf__test_slow", "arguments": {"seconds": 30}, "_meta": {"progressToken": "t"}},
        }
        async with (
            httpx.AsyncClient(timeout=WAIT) as caller,  # its own connection, closed below
            caller.stream("POST", raw.url, headers=raw.headers, json=body) as response,
        ):
            assert response.headers["content-type"].startswith("text/event-stream")
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    assert json.loads(line.removeprefix("data:"))["method"] == "notifications/progress"
                    break
        # The connection is closed now, mid-call.
        async with Client(env.gateway.url, mode="legacy") as observer:
            record = await new_cancellation(observer, "conf__", seen)
    assert record["reason"] is not None


async def test_a_raw_notifications_cancelled_gets_the_same_answer_as_directly(env: Env) -> None:
    """On the wire: after notifications/cancelled, the call's own stream ends with -32800, as the SDK server's."""

    async def run(url: str, prefix: str) -> tuple[dict[str, Any], list[str]]:
        async with RawSession.opened(url) as raw:
            call = asyncio.create_task(
                raw.request(
                    "tools/call",
                    {"name": f"{prefix}test_slow", "arguments": {"seconds": 30}, "_meta": {"progressToken": "c"}},
                    request_id="to-cancel",
                )
            )
            await asyncio.sleep(0.35)  # a few progress steps in
            await raw.notify("notifications/cancelled", {"requestId": "to-cancel", "reason": "enough"})
            async with asyncio.timeout(WAIT):
                answer, before = await call
            return answer, sorted({m["method"] for m in before})

    direct, through = await both(env, "conf", run, one_by_one=True)
    assert direct == (
        {"jsonrpc": "2.0", "id": "to-cancel", "error": {"code": -32800, "message": "Request cancelled"}},
        ["notifications/progress"],
    )
    assert through == direct


# ---- 6. server-to-client requests: sampling, elicitation, roots ------------------------------------------------


@dataclass
class Human:
    """The client side of server-to-client requests: fixed answers, and a record of what was asked."""

    asked: list[tuple[str, Any]] = field(default_factory=list)

    async def sample(self, context: ClientRequestContext, params: CreateMessageRequestParams) -> CreateMessageResult:
        self.asked.append(("sampling", dump(params)))
        text = TextContent(type="text", text="a relayed model answer")
        return CreateMessageResult(role="assistant", content=text, model="test-model", stop_reason="endTurn")

    async def elicit(self, context: ClientRequestContext, params: ElicitRequestParams) -> ElicitResult:
        self.asked.append(("elicitation", dump(params)))
        if isinstance(params, ElicitRequestURLParams):
            return ElicitResult(action="accept")
        assert isinstance(params, ElicitRequestFormParams)
        return ElicitResult(
            action="accept", content={"username": "ada", "email": "ada@example.com", "name": "Ada", "check": True}
        )

    async def roots(self, context: ClientRequestContext) -> ListRootsResult:
        self.asked.append(("roots", None))
        return ListRootsResult(roots=[Root(uri=FileUrl("file:///tmp/project"), name="project")])

    def client(self, url: str) -> Client:
        return Client(
            url,
            mode="legacy",
            sampling_callback=self.sample,
            elicitation_callback=self.elicit,
            list_roots_callback=self.roots,
        )


@pytest.mark.parametrize(
    ("server", "tool", "arguments", "kind"),
    [
        ("conf", "test_sampling", {"prompt": "Say hi"}, "sampling"),
        ("every", "trigger-sampling-request", {"prompt": "Say hi", "maxTokens": 20}, "sampling"),
        ("conf", "test_elicitation", {"message": "Who are you?"}, "elicitation"),
        ("every", "trigger-elicitation-request", {}, "elicitation"),
        (
            "every",
            "trigger-url-elicitation",
            {"url": "https://example.com/authorize", "elicitationId": "fixed-elicitation-id"},
            "elicitation",
        ),
        ("conf", "test_list_roots", {}, "roots"),
    ],
)
async def test_server_to_client_requests_reach_the_calling_client(
    env: Env, server: str, tool: str, arguments: dict[str, Any], kind: str
) -> None:
    async def run(url: str, prefix: str) -> tuple[Any, list[tuple[str, Any]]]:
        human = Human()
        async with human.client(url) as client:
            result = await client.call_tool(f"{prefix}{tool}", arguments)
        return dump(result), human.asked

    (direct, direct_asked), (through, through_asked) = await both(env, server, run)
    assert not direct.get("isError"), direct
    assert [k for k, _ in direct_asked] == [kind]
    assert through_asked == direct_asked  # the client was asked the same thing, once
    assert through == direct


async def test_cancelling_a_call_cancels_the_request_its_client_is_still_answering(env: Env) -> None:
    """The client cancels a call while its sampling callback is still working on the upstream's request: the
    callback is cancelled too (directly, the SDK server cancels its request when its handler is cancelled)."""

    async def run(url: str, prefix: str) -> float:
        entered, ended = asyncio.Event(), asyncio.Event()

        async def sample(context: ClientRequestContext, params: CreateMessageRequestParams) -> CreateMessageResult:
            entered.set()
            try:
                await asyncio.sleep(WAIT * 2)
            finally:
                ended.set()
            raise AssertionError("not cancelled")

        async with Client(url, mode="legacy", sampling_callback=sample) as client:
            call = asyncio.create_task(client.call_tool(f"{prefix}test_sampling", {"prompt": "never mind"}))
            try:
                async with asyncio.timeout(WAIT):
                    await entered.wait()
            finally:
                call.cancel()
            with pytest.raises(asyncio.CancelledError):
                await call
            started = asyncio.get_running_loop().time()
            async with asyncio.timeout(WAIT):
                await ended.wait()
            return asyncio.get_running_loop().time() - started

    direct, through = await both(env, "conf", run)
    assert direct < 1 and through < 1, (direct, through)


async def test_url_elicitation_required_error_passes_through(env: Env) -> None:
    """every's error path: a -32042 JSON-RPC error whose data names the URL elicitations to complete."""

    async def run(url: str, prefix: str) -> dict[str, Any]:
        async with Human().client(url) as client:
            with pytest.raises(MCPError) as caught:
                await client.call_tool(
                    f"{prefix}trigger-url-elicitation",
                    {"url": f"https://example.com/{'direct' if not prefix else 'gateway'}", "errorPath": True},
                )
        error = caught.value.error
        data = json.loads(json.dumps(error.data))
        for elicitation in data["elicitations"]:  # minted by the upstream per call (randomUUID)
            elicitation["elicitationId"] = "<id>"
        return {"code": error.code, "message": error.message, "data": data}

    direct, through = await both(env, "every", run)
    assert direct["code"] == -32042
    assert through == direct


async def test_a_client_without_sampling_gets_a_prompt_refusal(env: Env) -> None:
    """A client that did not declare sampling: the upstream's request is refused at once (no hang), so the
    tool reports the failure in its result, directly and through the gateway alike."""

    async def run(url: str, prefix: str) -> dict[str, Any]:
        async with Client(url, mode="legacy") as client:  # no sampling_callback: sampling not declared
            async with asyncio.timeout(WAIT):
                return dump(await client.call_tool(f"{prefix}test_sampling", {"prompt": "Say hi"}))

    direct, through = await both(env, "conf", run)
    assert direct["isError"] is True and through["isError"] is True
    # Each refusal is worded by whoever refused: the client's SDK directly, the gateway through it.
    (direct_text,) = [block["text"] for block in direct["content"]]
    (through_text,) = [block["text"] for block in through["content"]]
    assert direct_text.startswith("Sampling not supported or error: ")
    assert through_text.startswith("Sampling not supported or error: ")
    print(f"direct:  {direct_text}\nthrough: {through_text}")


# ---- 7. tasks ------------------------------------------------------------------------------------------------

TASK_MINTED = ("taskId", "createdAt", "lastUpdatedAt")
"""What the upstream mints per task (an id, two timestamps): different on every run, so normalised."""


def task_shape(task: dict[str, Any]) -> dict[str, Any]:
    return {key: ("<minted>" if key in TASK_MINTED else value) for key, value in task.items()}


def without_task_ids(value: Any, task_id: str) -> Any:
    return json.loads(json.dumps(value).replace(task_id, "<task>"))


@contextlib.asynccontextmanager
async def get_stream(raw: RawSession) -> AsyncIterator[list[dict[str, Any]]]:
    """The session's GET stream, open (its headers arrived) when this enters; every message it carried."""
    messages: list[dict[str, Any]] = []
    opened = asyncio.Event()

    async def listen() -> None:
        async with httpx.AsyncClient(timeout=None) as http:
            headers = {**raw.headers, "accept": "text/event-stream"}
            async with http.stream("GET", raw.url, headers=headers) as response:
                assert response.status_code == 200
                opened.set()
                async for line in response.aiter_lines():
                    if line.startswith("data:") and line.removeprefix("data:").strip():
                        messages.append(json.loads(line.removeprefix("data:")))

    listener = asyncio.create_task(listen())
    try:
        async with asyncio.timeout(WAIT):
            await asyncio.wait({listener, asyncio.ensure_future(opened.wait())}, return_when=asyncio.FIRST_COMPLETED)
        if listener.done():
            listener.result()
        yield messages
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener


async def test_a_task_augmented_call_and_its_task_route_back_to_the_upstream(env: Env) -> None:
    """every's simulate-research-query (taskSupport: required) with `task`: CreateTaskResult at once, then
    tasks/get, tasks/list and tasks/result (which blocks until the task ends) reach the upstream that made it,
    and the task's status notifications reach the client that made it. The query is ambiguous, so the task
    goes input_required and its elicitation/create rides the tasks/result stream."""
    research = {"topic": "python", "ambiguous": True}

    async def run(url: str, prefix: str) -> dict[str, Any]:
        asked: list[dict[str, Any]] = []

        def clarify(request: dict[str, Any]) -> dict[str, Any]:
            asked.append({"method": request["method"], "params": request["params"]})
            return {"action": "accept", "content": {"interpretation": "snake"}}

        async with RawSession.opened(url, capabilities={"elicitation": {}}) as raw, get_stream(raw) as pushed:
            created, _ = await raw.request(
                "tools/call",
                {"name": f"{prefix}simulate-research-query", "arguments": research, "task": {"ttl": 60000}},
            )
            task = created["result"]["task"]
            task_id = task["taskId"]
            got, _ = await raw.request("tasks/get", {"taskId": task_id})
            listed, _ = await raw.request("tasks/list", {})
            async with asyncio.timeout(20):
                final, _ = await raw.request_answering("tasks/result", {"taskId": task_id}, clarify)
            done, _ = await raw.request("tasks/get", {"taskId": task_id})
            await asyncio.sleep(QUIET)  # the last status notification may trail tasks/result's answer
            statuses = [m["params"] for m in pushed if m.get("method") == "notifications/tasks/status"]
            assert all(s["taskId"] == task_id for s in statuses)
            return {
                "created": task_shape(task),
                "got": task_shape(got["result"]),
                "listed": [task_shape(t) for t in listed["result"]["tasks"] if t["taskId"] == task_id],
                "result": without_task_ids(final["result"], task_id),
                "done": task_shape(done["result"]),
                "statuses": [(s["status"], s.get("statusMessage")) for s in statuses],
                "asked": without_task_ids(asked, task_id),
            }

    direct, through = await both(env, "every", run)
    assert direct["created"]["status"] == "working"
    assert direct["done"]["status"] == "completed"
    assert "Research Report: python (snake)" in json.dumps(direct["result"])
    assert "input_required" in [status for status, _ in direct["statuses"]]
    assert direct["statuses"][-1][0] == "completed"
    assert [a["method"] for a in direct["asked"]] == ["elicitation/create"]
    assert through == direct


async def test_tasks_cancel_routes_to_the_upstream_that_made_the_task(env: Env) -> None:
    async def run(url: str, prefix: str) -> tuple[Any, Any]:
        async with RawSession.opened(url) as raw:
            created, _ = await raw.request(
                "tools/call",
                {"name": f"{prefix}simulate-research-query", "arguments": {"topic": "moss"}, "task": {"ttl": 60000}},
            )
            task_id = created["result"]["task"]["taskId"]
            cancelled, _ = await raw.request("tasks/cancel", {"taskId": task_id})
            again, _ = await raw.request("tasks/cancel", {"taskId": task_id})  # a terminal task: an error
            return task_shape(cancelled["result"]), without_task_ids(again.get("error"), task_id)

    direct, through = await both(env, "every", run)
    assert direct[0]["status"] == "cancelled"
    assert direct[1] is not None
    assert through == direct


async def test_tasks_list_holds_every_task_of_the_session_past_the_upstreams_first_page(env: Env) -> None:
    """The upstream pages tasks/list (10 a page). On the shared upstream session other clients' tasks come
    first; a client's own tasks must still all be listed, however many pages in they are."""
    start = {"name": "every__simulate-research-query", "arguments": {"topic": "filler"}, "task": {"ttl": 60000}}
    async with RawSession.opened(env.gateway.url) as others:
        for _ in range(10):
            await others.request("tools/call", start)
    async with RawSession.opened(env.gateway.url) as raw:
        created, _ = await raw.request("tools/call", start)
        mine = created["result"]["task"]["taskId"]
        listed, _ = await raw.request("tasks/list", {})
    assert [t["taskId"] for t in listed["result"]["tasks"]] == [mine]


# ---- several clients at once on the shared upstream sessions ---------------------------------------------------


async def test_concurrent_calls_each_get_their_own_server_to_client_requests(env: Env) -> None:
    """Two clients sample at once through one shared upstream session: each is asked by its own call only."""

    both_asked = asyncio.Barrier(2)

    class Named(Human):
        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

        async def sample(
            self, context: ClientRequestContext, params: CreateMessageRequestParams
        ) -> CreateMessageResult:
            self.asked.append(("sampling", dump(params)))
            async with asyncio.timeout(WAIT):
                await both_asked.wait()  # each answers only once both requests are outstanding
            text = TextContent(type="text", text=f"answer of {self.name}")
            return CreateMessageResult(role="assistant", content=text, model="test-model")

    async def run(human: Named) -> str:
        async with human.client(env.gateway.url) as client:
            return text_of(await client.call_tool("conf__test_sampling", {"prompt": f"for {human.name}"}))

    one, two = Named("one"), Named("two")
    texts = await asyncio.gather(run(one), run(two))
    assert texts == ["LLM response: answer of one", "LLM response: answer of two"]
    for human in (one, two):
        ((_, params),) = human.asked
        assert params["messages"][0]["content"]["text"] == f"for {human.name}"


async def test_concurrent_progress_with_the_same_client_token_stays_apart(env: Env) -> None:
    """SDK clients use their request id as the progress token, so two fresh clients send the same token;
    the gateway keeps them apart upstream and gives each client only its own progress."""
    arguments = {"duration": 0.3, "steps": 3}

    async def run() -> Progress:
        seen, on_progress = progress_recorder()
        async with Client(env.gateway.url, mode="legacy") as client:
            await client.call_tool("every__trigger-long-running-operation", arguments, progress_callback=on_progress)
        return seen

    one, two = await asyncio.gather(run(), run())
    assert one == two == [(1, 3, None), (2, 3, None), (3, 3, None)]


async def test_each_client_gets_log_messages_at_its_own_level(env: Env) -> None:
    """The shared upstream session is asked for the most verbose level any client wants; the gateway
    filters per client."""

    both_set = asyncio.Barrier(2)

    async def run(level: str) -> list[dict[str, Any]]:
        book = LogBook()
        async with Client(env.gateway.url, mode="legacy", logging_callback=book.record) as client:
            await client.set_logging_level(level)  # type: ignore[arg-type]
            async with asyncio.timeout(WAIT):
                await both_set.wait()  # both levels are set before either calls
            await client.call_tool("conf__test_tool_with_logging")
            await asyncio.sleep(QUIET)
        return book.of("conformance-server")

    quiet, chatty = await asyncio.gather(run("error"), run("info"))
    assert quiet == []
    assert [m["data"] for m in chatty] == ["Tool execution started", "Tool processing data", "Tool execution completed"]


async def test_a_subscription_shared_upstream_stays_while_any_client_holds_it(env: Env) -> None:
    """Three clients subscribe to one URI (the shared upstream session holds one subscription for them).
    One unsubscribes, one ends its session without unsubscribing: the last still gets every update."""
    watched = "test://watched-resource"
    leaving, ending, staying = Inbox(), Inbox(), Inbox()

    def client(inbox: Inbox) -> Client:
        return Client(env.gateway.url, mode="legacy", message_handler=inbox.handle)

    async with client(leaving) as one, client(staying) as three:

        async def notify() -> None:
            assert text_of(await three.call_tool("conf__test_notify_resource_updated", {"uri": watched})) == "ok"

        async with client(ending) as two:
            for each, inbox in ((one, leaving), (two, ending), (three, staying)):
                await each.subscribe_resource(watched)
                await inbox.wait_for(watched, notify)
            await one.unsubscribe_resource(watched)
        # `two` has ended its session (DELETE) while still subscribed.
        for inbox in (leaving, ending, staying):
            inbox.updates.clear()
        await notify()
        await eventually(_returns(lambda: watched in staying.updates), "the update for the last subscriber")
        await asyncio.sleep(QUIET)
        assert leaving.updates == ending.updates == []
        await three.unsubscribe_resource(watched)


def _returns(predicate: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return predicate()

    return check


async def test_an_upstream_error_reaches_the_client_unchanged(env: Env) -> None:
    """A JSON-RPC error the upstream answers with keeps its code, message and data."""

    async def run(url: str, prefix: str) -> dict[str, Any]:
        async with Client(url, mode="legacy") as client:
            with pytest.raises(MCPError) as caught:
                await client.get_prompt(f"{prefix}resource-prompt", {"resourceType": "Video", "resourceId": "1"})
        return dump(caught.value.error)

    direct, through = await both(env, "every", run)
    assert "Invalid resourceType" in direct["message"]
    assert through == direct


# ---- a per-client upstream session, right after it opens ---------------------------------------------------------


async def test_a_request_the_upstream_makes_outside_the_call_right_after_its_session_opens(env: Env) -> None:
    """server-everything's get-roots-list asks for roots/list on the session's GET stream (not the call's),
    and servers drop what they send there while no GET stream is open. A per-client upstream session opens
    at the client's first request, so that request must wait until the gateway's GET stream is open."""
    config = f"""
servers:
  - name: every
    url: {env.every}
    session: per_client
    timeout_seconds: 5
"""

    async def run(url: str, prefix: str) -> tuple[Any, list[tuple[str, Any]]]:
        human = Human()
        async with human.client(url) as client:
            return dump(await client.call_tool(f"{prefix}get-roots-list")), human.asked

    async with run_gateway(config) as gateway:
        await gateway.wait_connected("every")
        (direct, direct_asked), (through, through_asked) = await asyncio.gather(
            run(env.every, ""), run(gateway.url, "every__")
        )
    assert "file:///tmp/project" in json.dumps(direct)
    # Asked once, or twice when the server's own roots sync (350 ms after initialize) overlaps the call.
    assert {kind for kind, _ in direct_asked} == {kind for kind, _ in through_asked} == {"roots"}
    assert through == direct


async def test_a_client_that_never_set_a_level_still_gets_info_messages(env: Env) -> None:
    async def run(url: str, prefix: str) -> list[dict[str, Any]]:
        book = LogBook()
        async with (
            Client(url, mode="legacy") as strict,
            Client(url, mode="legacy", logging_callback=book.record) as default,
        ):
            await strict.set_logging_level("error")  # another client, on the same upstream session if shared
            await default.call_tool(f"{prefix}test_tool_with_logging")
            await asyncio.sleep(QUIET)
        return book.of("conformance-server")

    direct, through = await both(env, "conf", run)
    assert [m["data"] for m in direct] == ["Tool execution started", "Tool processing data", "Tool execution completed"]
    assert through == direct
