"""MRTR bridging: a 2025-era upstream's sampling, elicitation and roots requests, for a 2026-07-28 client.

A modern client cannot be sent requests; it gets an `input_required` result instead and retries with its
`inputResponses`. So a modern client's call to a legacy upstream runs in a task of its own (unless the
client declared none of sampling, elicitation and roots: then nothing can be asked of it, and a question
ends the call with -32021 at once, so the call runs in the request's own task). When the
upstream asks something of the client during the call, the client's request is answered at once with
`input_required` (the questions as `inputRequests`, and a `requestState`), while the upstream call stays
open, parked, until the retry brings the answers: they go upstream as the answers to its requests, and the
retry then waits for the call's result (or for the next questions, round after round).

`requestState` names the parked call, its expiry and a digest of the method and params, sealed with an
HMAC under a key made when the process starts: a state that was altered, expired, or is replayed for
another request is refused with -32602. A parked call is bounded by its upstream timeout; a retry that
comes after it ended gets -32602 saying so.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mcpstead import jsonrpc
from mcpstead.errors import RpcError

RETRY_KEYS = ("inputResponses", "requestState")
"""What a retry adds to the original request's params."""
SETTLE_SECONDS = 0.01
"""After the first question, how long to wait for others asked at the same time, so they go in one round."""


@dataclass(eq=False)
class Question:
    key: str
    method: str
    params: Any
    answer: asyncio.Future[Any] = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    """The client's response (the result object), once a retry brings it."""


class InputBridge:
    """The questions one modern call's upstream asked, until the client answers them."""

    def __init__(self, on_refused: Callable[[], object] | None = None) -> None:
        self.questions: dict[str, Question] = {}
        self.missing: str | None = None
        """A capability the upstream needed and the client did not declare (the call then fails, -32021)."""
        self._keys = itertools.count(1)
        self._waiter: asyncio.Future[None] | None = None
        self._on_refused = on_refused
        """A call run without parking (its client can answer nothing) is ended this way at a refusal."""

    async def ask(self, method: str, params: Any, deadline: float) -> Any:
        """From the relay: wait (until `deadline`) for the client's answer to one question."""
        question = Question(f"{method.replace('/', '-')}-{next(self._keys)}", method, params)
        self.questions[question.key] = question
        self.wake()
        try:
            async with asyncio.timeout_at(deadline):
                return await question.answer
        finally:
            self.questions.pop(question.key, None)

    def refuse(self, capability: str) -> None:
        self.missing = capability
        self.wake()
        if self._on_refused is not None:
            self._on_refused()

    def wake(self, _done: object = None) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def open_questions(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for key, question in self.questions.items():
            if not question.answer.done():
                request: dict[str, Any] = {"method": question.method}
                if question.params is not None:
                    request["params"] = question.params
                found[key] = request
        return found

    def answer(self, responses: Mapping[str, Any]) -> None:
        """The retry's `inputResponses`; a response nobody asked for is ignored, as the spec says."""
        for key, response in responses.items():
            question = self.questions.get(key)
            if question is not None and not question.answer.done():
                question.answer.set_result(response)

    async def next_outcome(self, work: asyncio.Task[Any]) -> bool:
        """Wait until the upstream call ends (True) or has questions for the client (False). One future is
        woken by either, so the common case (an answer, no question) costs no extra task."""
        while True:
            if work.done():
                return True
            if self.missing is not None:
                return False
            if self.open_questions():
                await asyncio.sleep(SETTLE_SECONDS)  # questions asked together go in one round
                return work.done()
            self._waiter = asyncio.get_running_loop().create_future()
            work.add_done_callback(self.wake)
            try:
                await self._waiter
            finally:
                work.remove_done_callback(self.wake)
                self._waiter = None


def params_digest(method: str, params: Mapping[str, Any]) -> str:
    """What a retry must repeat: the method and the params, without what the retry adds and without `_meta`."""
    kept = {key: value for key, value in params.items() if key not in (*RETRY_KEYS, "_meta")}
    text = json.dumps([method, kept], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


STATE_PREFIX = "mcpstead1."
"""Marks a requestState mcpstead issued (a 2026-07-28 upstream's own states pass through untouched)."""


class StateSeal:
    """requestState tokens: `mcpstead1.<payload>.<hmac>`, both base64url, the key random per process."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    @staticmethod
    def issued(state: Any) -> bool:
        return isinstance(state, str) and state.startswith(STATE_PREFIX)

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()

    def seal(self, parked: str, method: str, params: Mapping[str, Any], expires: float) -> str:
        payload = json.dumps({"p": parked, "d": params_digest(method, params), "e": round(expires, 3)}).encode()
        return f"{STATE_PREFIX}{_b64(payload)}.{_b64(self._mac(payload))}"

    def open(self, state: Any, method: str, params: Mapping[str, Any], now: float | None = None) -> str:
        """The parked call a requestState names, or -32602 saying what is wrong with it."""
        if not self.issued(state) or state.count(".") != 2:
            raise RpcError(jsonrpc.INVALID_PARAMS, "requestState is not one mcpstead issued")
        payload_text, mac_text = state.removeprefix(STATE_PREFIX).split(".")
        try:
            payload, mac = _unb64(payload_text), _unb64(mac_text)
        except ValueError:
            raise RpcError(jsonrpc.INVALID_PARAMS, "requestState is not one mcpstead issued") from None
        if not hmac.compare_digest(mac, self._mac(payload)):
            raise RpcError(jsonrpc.INVALID_PARAMS, "requestState was altered (its signature does not match)")
        fields = json.loads(payload)
        if (now if now is not None else time.time()) > fields["e"]:
            raise RpcError(jsonrpc.INVALID_PARAMS, "requestState has expired; send the request again without it")
        if fields["d"] != params_digest(method, params):
            raise RpcError(
                jsonrpc.INVALID_PARAMS, "requestState belongs to another request (a retry repeats the same params)"
            )
        return str(fields["p"])


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError(str(exc)) from None
