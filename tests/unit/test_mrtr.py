"""MRTR pieces: the sealed requestState and the bridge that collects an upstream's questions."""

from __future__ import annotations

import asyncio

import pytest

from mcpstead.errors import RpcError
from mcpstead.mrtr import InputBridge, StateSeal, params_digest

PARAMS = {"name": "t", "arguments": {"a": 1}}


def test_a_sealed_state_opens_for_the_same_request_only() -> None:
    seal = StateSeal(b"k" * 32)
    state = seal.seal("7", "tools/call", PARAMS, expires=1000.0)
    retry = {**PARAMS, "requestState": state, "inputResponses": {"x": {}}, "_meta": {"progressToken": 2}}
    assert seal.open(state, "tools/call", retry, now=999.0) == "7"  # what a retry adds does not count
    with pytest.raises(RpcError, match="expired"):
        seal.open(state, "tools/call", retry, now=1000.5)
    with pytest.raises(RpcError, match="another request"):
        seal.open(state, "tools/call", {**retry, "arguments": {"a": 2}}, now=999.0)
    with pytest.raises(RpcError, match="another request"):
        seal.open(state, "prompts/get", retry, now=999.0)
    assert StateSeal.issued(state) and not StateSeal.issued("someone-elses-state")
    prefix, payload, mac = state.split(".")
    with pytest.raises(RpcError, match="altered"):
        seal.open(f"{prefix}.{payload[:-2]}AA.{mac}", "tools/call", retry, now=999.0)
    with pytest.raises(RpcError, match="altered"):
        StateSeal(b"j" * 32).open(state, "tools/call", retry, now=999.0)  # another process's key
    for junk in (None, 5, "", "no-dot", "a.b.c", "mcpstead1.%%%.%%%", "mcpstead1.a.b.c"):
        with pytest.raises(RpcError) as raised:
            seal.open(junk, "tools/call", retry, now=999.0)
        assert raised.value.code == -32602


def test_the_digest_ignores_key_order_and_meta() -> None:
    assert params_digest("m", {"a": 1, "b": {"c": 2, "d": 3}}) == params_digest("m", {"b": {"d": 3, "c": 2}, "a": 1})
    assert params_digest("m", {"a": 1, "_meta": {"x": 1}}) == params_digest("m", {"a": 1})


async def test_questions_asked_together_go_in_one_round_and_answers_reach_them() -> None:
    bridge = InputBridge()
    loop = asyncio.get_running_loop()

    async def upstream() -> list[object]:
        deadline = loop.time() + 5
        return list(
            await asyncio.gather(
                bridge.ask("sampling/createMessage", {"messages": []}, deadline),
                bridge.ask("roots/list", None, deadline),
            )
        )

    work = asyncio.create_task(upstream())
    assert await bridge.next_outcome(work) is False
    questions = bridge.open_questions()
    assert sorted(q["method"] for q in questions.values()) == ["roots/list", "sampling/createMessage"]
    roots_key = next(k for k, q in questions.items() if q["method"] == "roots/list")
    assert "params" not in questions[roots_key]
    bridge.answer({roots_key: {"roots": []}, "nobody-asked": {}})  # extra answers are ignored
    assert await bridge.next_outcome(work) is False  # one question is still open: another round
    assert list(bridge.open_questions()) == [k for k in questions if k != roots_key]
    bridge.answer({k: {"model": "m"} for k in questions if k != roots_key})
    assert await bridge.next_outcome(work) is True
    assert work.result() == [{"model": "m"}, {"roots": []}]


async def test_a_question_waits_no_longer_than_its_deadline() -> None:
    bridge = InputBridge()
    with pytest.raises(TimeoutError):
        await bridge.ask("roots/list", None, asyncio.get_running_loop().time() + 0.05)
    assert bridge.open_questions() == {}
