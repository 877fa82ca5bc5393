"""RequestContext: everything one downstream request's handler needs, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcpstead import jsonrpc
from mcpstead.errors import RpcError

if TYPE_CHECKING:
    from mcpstead.gateway import Gateway
    from mcpstead.relay import ReplyChannel
    from mcpstead.sessions import DownstreamSession


@dataclass(slots=True)
class RequestContext:
    gateway: Gateway
    session: DownstreamSession | None
    """None for the dashboard's own calls."""
    method: str
    params: dict[str, Any]
    """The request's params (an empty dict when it had none)."""
    message_id: jsonrpc.JsonId
    """The client's id; None for a notification."""
    received_at: float
    """Monotonic time the HTTP request arrived, for the call record's timing split."""
    channel: ReplyChannel | None = None
    """Where messages go before the answer (the POST's own stream); None when nothing can ride along."""

    def text(self, key: str) -> str:
        """A required string parameter, or -32602 naming it."""
        value = self.params.get(key)
        if not isinstance(value, str):
            raise RpcError(jsonrpc.INVALID_PARAMS, f"params.{key} is required (a string)")
        return value


async def forward(ctx: RequestContext, upstream: str, method: str, params: dict[str, Any]) -> Any:
    """Send `method` to `upstream` on behalf of this request, relaying what rides on it."""
    return await ctx.gateway.forward(
        upstream, method, params, session=ctx.session, message_id=ctx.message_id, channel=ctx.channel
    )
