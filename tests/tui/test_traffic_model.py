"""The Traffic tab's model: pairing, grouping under the causing call, counterparts and the filter."""

from __future__ import annotations

import dataclasses
import json

from tests.tui.traffic_scene import Script, tools_call_over_stdio
from tui.runs import params_to_replay
from tui.traffic_model import TrafficFilter, TrafficModel, changes


def test_a_call_and_what_it_caused_are_one_group_in_order_with_latency() -> None:
    script = Script()
    tools_call_over_stdio(script, call=1, client_id=7, upstream_id=41, token="t")
    model = TrafficModel()
    model.add(script.records)
    rows = list(model.rows())
    assert [row.group for row in rows] == [1] * 6
    assert [row.child for row in rows] == [False, True, True, True, True, True]
    assert [row.method for row in rows] == ["tools/call", "tools/call", "notifications/progress"] * 1 + [
        "notifications/progress",
        "tools/call",
        "tools/call",
    ]
    client_answer, upstream_answer = rows[5], rows[4]
    assert client_answer.answers is rows[0] and upstream_answer.answers is rows[1]
    assert round(client_answer.latency_ms or 0, 1) == 50.0
    assert model.upstream_of(rows[0]) == "demo" and model.session_of(rows[2]) == "s1"


def test_interleaved_calls_keep_their_messages_under_their_own_call() -> None:
    script = Script()
    one, two = Script(), Script()
    tools_call_over_stdio(one, call=1, client_id=1, upstream_id=11, token="a")
    tools_call_over_stdio(two, call=2, client_id=1, upstream_id=12, token="b")
    for first, second in zip(one.records, two.records, strict=True):  # interleaved, renumbered in tap order
        for source in (first, second):
            script.add(
                source.hop,
                source.direction,
                json.loads(source.data),
                session=source.session,
                upstream=source.upstream,
                call=source.call,
            )
    model = TrafficModel()
    model.add(script.records)
    rows = list(model.rows())
    groups = [row.group for row in rows]
    assert groups == [1] * 6 + [2] * 6
    answers = [row for row in rows if row.summary.kind == "result" and row.record.hop == "upstream"]
    assert [json.loads(row.answers.record.data)["id"] for row in answers if row.answers] == [11, 12]


def test_a_relayed_request_and_the_clients_answer_join_the_call() -> None:
    script = Script()
    script.add("client", "in", {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "x"}}, call=5)
    script.add("upstream", "out", {"jsonrpc": "2.0", "id": 90, "method": "tools/call"}, upstream="u", call=5)
    ask = {"jsonrpc": "2.0", "id": 4, "method": "elicitation/create", "params": {"message": "who?"}}
    script.add("upstream", "in", ask, session=None, upstream="u")  # only call in flight to u
    script.add("client", "out", {**ask, "id": "mcpstead-1"}, call=5)
    answer = {"jsonrpc": "2.0", "id": "mcpstead-1", "result": {"action": "accept", "content": {"name": "Ada"}}}
    script.add("client", "in", answer, call=6)  # its own POST
    script.add("upstream", "out", {**answer, "id": 4}, upstream="u", call=None)
    model = TrafficModel()
    model.add(script.records)
    rows = list(model.rows())
    assert [row.group for row in rows] == [1] * 6
    relayed_up, relayed_down, client_answer, upstream_answer = rows[2], rows[3], rows[4], rows[5]
    assert client_answer.answers is relayed_down and upstream_answer.answers is relayed_up
    assert model.counterpart(relayed_down) is relayed_up and model.counterpart(client_answer) is upstream_answer
    assert model.counterpart(rows[0]) is rows[1]


def test_an_initialize_pairs_by_its_post_and_a_cancellation_joins_its_request() -> None:
    script = Script()
    script.add("client", "in", {"jsonrpc": "2.0", "id": 0, "method": "initialize"}, session=None, call=1)
    script.add("client", "out", {"jsonrpc": "2.0", "id": 0, "result": {}}, session="newsess1", call=1)
    script.add("client", "in", {"jsonrpc": "2.0", "id": 1, "method": "tools/call"}, session="newsess1", call=2)
    cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}}
    script.add("client", "in", cancel, session="newsess1", call=3)
    script.add(
        "client",
        "out",
        {"jsonrpc": "2.0", "id": 1, "error": {"code": -32800, "message": "x"}},
        session="newsess1",
        call=2,
    )
    model = TrafficModel()
    model.add(script.records)
    rows = list(model.rows())
    assert rows[1].answers is rows[0] and model.session_of(rows[0]) == "newsess1"
    assert [row.group for row in rows] == [1, 1, 3, 3, 3]
    assert rows[4].is_error and rows[4].summary.error_code == -32800


def test_a_modern_request_shows_its_client_from_the_envelope() -> None:
    script = Script()
    meta = {"io.modelcontextprotocol/clientInfo": {"name": "agent", "version": "2"}}
    script.add(
        "client",
        "in",
        {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": meta}},
        session=None,
        call=1,
    )
    script.add("client", "out", {"jsonrpc": "2.0", "id": 1, "result": {"tools": []}}, session=None, call=1)
    model = TrafficModel()
    model.add(script.records)
    rows = list(model.rows())
    assert [model.session_of(row) for row in rows] == ["2026:agent/2", "2026:agent/2"]


def test_the_filter_takes_keys_and_free_text() -> None:
    script = Script()
    tools_call_over_stdio(script, call=1, client_id=7, upstream_id=41, token="t")
    script.add("client", "in", {"jsonrpc": "2.0", "id": 9, "method": "ping"}, session="other123", call=2)
    script.add(
        "client",
        "out",
        {"jsonrpc": "2.0", "id": 9, "error": {"code": -1, "message": "nope"}},
        session="other123",
        call=2,
    )
    model = TrafficModel()
    model.add(script.records)

    def shown(query: str, errors: bool = False) -> list[int]:
        wanted = TrafficFilter.parse(query, errors)
        return [row.seq for row in model.rows() if wanted.admits(row, model)]

    assert shown("session:oth") == [7, 8]
    assert shown("upstream:demo") == [1, 2, 3, 4, 5, 6]
    assert shown("m:progress") == [3, 4]
    assert shown("errors") == shown("", errors=True) == [8]
    assert shown("DONE") == [5, 6]
    assert shown("u:demo m:tools/call") == [1, 2, 5, 6]


def test_changes_name_what_the_gateway_rewrote() -> None:
    client = {"id": 7, "method": "tools/call", "params": {"name": "demo__sleep", "_meta": {"progressToken": "t"}}}
    upstream = {"id": 41, "method": "tools/call", "params": {"name": "sleep", "_meta": {"progressToken": 410}}}
    assert changes(client, upstream) == [
        "id: 7 → 41",
        'params.name: "demo__sleep" → "sleep"',
        'params._meta.progressToken: "t" → 410',
    ]
    assert changes({"a": [1, 2]}, {"a": [1, 2], "b": True}) == ["b: true (added)"]


def test_the_model_forgets_the_oldest_groups_past_its_bound() -> None:
    script = Script()
    for call in range(1, 11):
        script.add("client", "in", {"jsonrpc": "2.0", "id": call, "method": "ping"}, call=call)
        script.add("client", "out", {"jsonrpc": "2.0", "id": call, "result": {}}, call=call)
    model = TrafficModel(keep=6)
    model.add(script.records)
    assert len(model) == 6 and next(row.seq for row in model.rows()) == 15


def test_what_pointed_into_forgotten_groups_is_forgotten_too() -> None:
    script = Script()
    for call in range(1, 101):
        tools_call_over_stdio(script, call=call, client_id=call, upstream_id=1000 + call, token=f"t{call}")
        script.add(
            "upstream", "out", {"jsonrpc": "2.0", "id": 5000 + call, "method": "ping"}, upstream="demo", call=call
        )
    model = TrafficModel(keep=14)
    model.add(script.records)
    assert len(model) <= 14
    assert len(model._tokens) <= 2 and len(model._by_call) <= 2 and len(model._pending) <= 2
    assert sum(len(waiting) for waiting in model._open_upstream.values()) <= 2


def test_a_message_cut_to_the_limit_is_not_an_error() -> None:
    script = Script()
    script.add("client", "out", {"jsonrpc": "2.0", "id": 1, "result": {"text": "x" * 50}}, call=1)
    cut = dataclasses.replace(script.records[0], data=script.records[0].data[:20], cut=True)
    model = TrafficModel()
    model.add([cut])
    (row,) = model.rows()
    assert row.summary.kind == "invalid" and not row.is_error
    assert TrafficFilter.parse("errors").admits(row, model) is False


def test_a_replayed_request_keeps_its_meta_but_not_the_envelope_or_progress_token() -> None:
    params = {
        "name": "demo__echo",
        "_meta": {"progressToken": 3, "io.modelcontextprotocol/clientInfo": {"name": "x"}, "trace": "t-1"},
    }
    assert params_to_replay(params) == {"name": "demo__echo", "_meta": {"trace": "t-1"}}
    assert params_to_replay({"_meta": {"progressToken": 1}}) == {}
    assert params["_meta"]["progressToken"] == 3  # the captured message is left as it was
