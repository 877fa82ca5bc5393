"""Messages from upstreams that belong to no call: who among the downstream sessions gets each one.

List changes go to the catalog (which tells every session once the merged list really changed); resource
updates go to the sessions subscribed to that URI on that upstream; log messages to every session the
upstream session serves, at each session's level; task status to the session that created the task. A
server-to-client request outside any call can only be answered by the client that owns the upstream
session (per-client mode); otherwise it is refused at once with a reason, and logged.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mcpstead import jsonrpc
from mcpstead.relay import refusal, relay_to_session
from mcpstead.sessions import DownstreamSession, SessionStore

log = logging.getLogger("mcpstead.fanout")
MAX_TASKS = 10_000
"""Task owners remembered; the oldest are forgotten first (their upstream keeps the task itself)."""


@dataclass(frozen=True, slots=True)
class TaskOwner:
    upstream: str
    session_id: str | None


class TaskBook:
    """Which upstream and which downstream session each task id belongs to, bounded."""

    def __init__(self) -> None:
        self._owners: OrderedDict[str, TaskOwner] = OrderedDict()

    def record(self, result: Any, upstream: str, session: DownstreamSession | None) -> None:
        """Remember the task a CreateTaskResult names (any other result is ignored)."""
        task = result.get("task") if isinstance(result, dict) else None
        task_id = task.get("taskId") if isinstance(task, dict) else None
        if isinstance(task_id, str):
            self._owners[task_id] = TaskOwner(upstream, session.session_id if session else None)
            while len(self._owners) > MAX_TASKS:
                self._owners.popitem(last=False)

    def get(self, task_id: str) -> TaskOwner | None:
        return self._owners.get(task_id)

    def of_session(self, session_id: str | None) -> set[str]:
        return {task_id for task_id, owner in self._owners.items() if owner.session_id == session_id}


class SessionFanout:
    """The gateway's InboundHooks."""

    def __init__(
        self,
        sessions: SessionStore,
        tasks: TaskBook,
        on_list_changed: Callable[[str, str], None],
        timeout_of: Callable[[str], float],
    ) -> None:
        self._sessions = sessions
        self._tasks = tasks
        self._on_list_changed = on_list_changed
        self._timeout_of = timeout_of
        self._unrouted: set[tuple[str, str]] = set()

    def list_changed(self, upstream: str, kind: str) -> None:
        self._on_list_changed(upstream, kind)

    def resource_updated(self, upstream: str, owner: DownstreamSession | None, message: dict[str, Any]) -> None:
        params = message.get("params")
        uri = params.get("uri") if isinstance(params, dict) else None
        for session in [owner] if owner is not None else self._sessions.everyone():
            if (upstream, uri) in session.subscriptions:
                session.notify(message)

    def untied(self, upstream: str, owner: DownstreamSession | None, message: dict[str, Any]) -> None:
        method = str(message.get("method"))
        params = message.get("params")
        params = params if isinstance(params, dict) else {}
        served = [owner] if owner is not None else list(self._sessions.everyone())
        if method == "notifications/message":
            for session in served:
                if session.admits_log(params.get("level")):
                    session.notify(message)
            return
        if method == "notifications/tasks/status":
            task = self._tasks.get(str(params.get("taskId")))
            targets = [s for s in served if task is not None and s.session_id == task.session_id]
        elif method == "notifications/elicitation/complete":
            targets = [s for s in served if params.get("elicitationId") in s.elicitations]
        else:
            targets = [owner] if owner is not None else []
        for session in targets:
            session.notify(message)
        if not targets:
            self._report_once(upstream, method, "it belongs to no client session")

    async def untied_request(
        self, upstream: str, owner: DownstreamSession | None, message: dict[str, Any]
    ) -> dict[str, Any] | None:
        method = str(message["method"])
        if method == "ping":
            return jsonrpc.result_response(message["id"], {})
        if owner is None:
            self._report_once(upstream, method, "it is not tied to any call, and the upstream session is shared")
            return refusal(
                message["id"],
                f"mcpstead cannot tell which client '{method}' is for: it came outside any call on a shared "
                "upstream session (configure this server with session: per_client)",
            )
        deadline = asyncio.get_running_loop().time() + self._timeout_of(upstream)
        return await relay_to_session(
            owner, message, deadline, owner.notify, {}, lambda: "the client has no GET stream open to receive it"
        )

    def _report_once(self, upstream: str, method: str, why: str) -> None:
        if (upstream, method) not in self._unrouted:
            self._unrouted.add((upstream, method))
            log.warning("upstream %s sent %s, which is not relayed: %s", upstream, method, why)
