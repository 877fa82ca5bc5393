"""The conformance upstream's 2026-07-28 MRTR tools and prompt (the `input-required-result-*` scenarios).

Each answers `input_required` (its questions as `inputRequests`) until a retry brings the answers, as the
alpha suite's scenario texts describe. `requestState` is HMAC-sealed here too, so a tampered one is -32602.
On a 2025-era session the same questions are asked mid-call (`diagnostics.in_rounds`), as a dual-era server
does, so that a gateway bridging a 2026-07-28 client to the 2025 session is checked by the same scenarios.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping
from typing import Any

import mcp.types as types
from mcp.shared.exceptions import MCPError

_KEY = secrets.token_bytes(32)


def _seal(state: dict[str, Any]) -> str:
    payload = json.dumps(state, sort_keys=True)
    return payload + "|" + hmac.new(_KEY, payload.encode(), hashlib.sha256).hexdigest()


def _open(state: str | None) -> dict[str, Any] | None:
    if state is None:
        return None
    payload, _, mac = state.rpartition("|")
    if not hmac.compare_digest(mac, hmac.new(_KEY, payload.encode(), hashlib.sha256).hexdigest()):
        raise MCPError(code=types.INVALID_PARAMS, message="requestState failed its integrity check")
    opened: dict[str, Any] = json.loads(payload)
    return opened


def _elicit(message: str, field: str, kind: str = "string") -> dict[str, Any]:
    schema = {"type": "object", "properties": {field: {"type": kind}}, "required": [field]}
    return {"method": "elicitation/create", "params": {"message": message, "requestedSchema": schema}}


def _sample(text: str, max_tokens: int) -> dict[str, Any]:
    messages = [{"role": "user", "content": {"type": "text", "text": text}}]
    return {"method": "sampling/createMessage", "params": {"messages": messages, "maxTokens": max_tokens}}


ROOTS = {"method": "roots/list", "params": {}}


def _ask(requests: dict[str, Any], state: dict[str, Any] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"resultType": "input_required", "inputRequests": requests}
    if state is not None:
        result["requestState"] = _seal(state)
    return result


def _text(text: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], "resultType": "complete"}


def _content(response: Any, field: str) -> Any:
    content = response.get("content") if isinstance(response, dict) else None
    return content.get(field) if isinstance(content, dict) else None


def _sampled_text(response: Any) -> str | None:
    content = response.get("content") if isinstance(response, dict) else None
    text = content.get("text") if isinstance(content, dict) else None
    return text if isinstance(text, str) else None


Responses = Mapping[str, Any]


def elicitation(responses: Responses, state: str | None) -> dict[str, Any]:
    name = _content(responses.get("user_name"), "name")
    if not isinstance(name, str):
        return _ask({"user_name": _elicit("What is your name?", "name")})
    return _text(f"Hello, {name}!")


def sampling(responses: Responses, state: str | None) -> dict[str, Any]:
    answer = _sampled_text(responses.get("capital_question"))
    if answer is None:
        return _ask({"capital_question": _sample("What is the capital of France?", 100)})
    return _text(f"The LLM answered: {answer}")


def list_roots(responses: Responses, state: str | None) -> dict[str, Any]:
    roots = responses.get("client_roots")
    listed = roots.get("roots") if isinstance(roots, dict) else None
    if not isinstance(listed, list):
        return _ask({"client_roots": ROOTS})
    uris = ", ".join(str(root.get("uri")) for root in listed if isinstance(root, dict))
    return _text(f"The client's roots: {uris}")


def request_state(responses: Responses, state: str | None) -> dict[str, Any]:
    opened = _open(state)
    if opened is None or opened.get("tool") != "request_state" or "confirm" not in responses:
        return _ask({"confirm": _elicit("Please confirm", "ok", "boolean")}, {"tool": "request_state"})
    return _text("state-ok: confirmed")


def multiple_inputs(responses: Responses, state: str | None) -> dict[str, Any]:
    opened = _open(state)
    keys = ("user_name", "greeting", "client_roots")
    if opened is None or not all(key in responses for key in keys):
        questions = {
            "user_name": _elicit("What is your name?", "name"),
            "greeting": _sample("Generate a greeting", 50),
            "client_roots": ROOTS,
        }
        return _ask(questions, {"tool": "multiple_inputs"})
    return _text(f"All inputs received for {_content(responses['user_name'], 'name')}")


def multi_round(responses: Responses, state: str | None) -> dict[str, Any]:
    opened = _open(state) or {}
    if opened.get("round") == 2 and "step2" in responses:
        return _text(f"{opened.get('name')} likes {_content(responses['step2'], 'color')}")
    if opened.get("round") == 1 and "step1" in responses:
        name = _content(responses["step1"], "name")
        step2 = _elicit("Step 2: What is your favorite color?", "color")
        return _ask({"step2": step2}, {"round": 2, "name": name})
    return _ask({"step1": _elicit("Step 1: What is your name?", "name")}, {"round": 1})


def tampered_state(responses: Responses, state: str | None) -> dict[str, Any]:
    opened = _open(state)  # a tampered state is -32602 here
    if opened is None:
        return _ask({"confirm": _elicit("Please confirm", "ok", "boolean")}, {"tool": "tampered_state"})
    return _text("state verified")


TOOLS: dict[str, tuple[str, Callable[[Responses, str | None], dict[str, Any]]]] = {
    "test_input_required_result_elicitation": ("MRTR: asks the user's name, then greets", elicitation),
    "test_input_required_result_sampling": ("MRTR: asks the client's LLM a question", sampling),
    "test_input_required_result_list_roots": ("MRTR: asks for the client's roots", list_roots),
    "test_input_required_result_request_state": ("MRTR: round trip of a sealed requestState", request_state),
    "test_input_required_result_multiple_inputs": ("MRTR: three questions in one round", multiple_inputs),
    "test_input_required_result_multi_round": ("MRTR: two rounds of questions", multi_round),
    "test_input_required_result_tampered_state": ("MRTR: refuses a tampered requestState", tampered_state),
}
PROMPT = "test_input_required_result_prompt"


def _plain(responses: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        key: value.model_dump(mode="json", by_alias=True) if hasattr(value, "model_dump") else value
        for key, value in dict(responses or {}).items()
    }


def call(name: str, responses: Mapping[str, Any] | None, state: str | None) -> dict[str, Any]:
    _description, handler = TOOLS[name]
    return handler(_plain(responses), state)


def prompt(responses: Mapping[str, Any] | None) -> dict[str, Any]:
    context = _content(_plain(responses).get("user_context"), "context")
    if not isinstance(context, str):
        return _ask({"user_context": _elicit("What context should the prompt use?", "context")})
    message = {"role": "user", "content": {"type": "text", "text": f"Use this context: {context}"}}
    return {"messages": [message], "resultType": "complete"}
