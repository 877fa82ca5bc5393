"""The error hierarchy: every failure the gateway reports is one of these, with a message fit for a user."""

from __future__ import annotations


class McpsteadError(Exception):
    """Root of every error mcpstead raises on purpose."""


class ConfigError(McpsteadError):
    """A config file that cannot be used. Holds every problem found, one line each."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class StartupError(McpsteadError):
    """The gateway cannot start (a busy port, a required upstream down); the message is one line for the user."""


class CaptureError(McpsteadError):
    """A capture file that cannot be written or read (the message names the file, and the line when read)."""


class UnknownUpstreamError(McpsteadError):
    """A command (the dashboard's reconnect) named an upstream that is not configured."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        super().__init__(f"no upstream named '{upstream}'")


class UpstreamError(McpsteadError):
    """An upstream could not answer: transport failure, bad answer, timeout, or not connected.

    The message always names the upstream, so it can go to a client or to /health as it is.
    """

    def __init__(
        self,
        upstream: str,
        message: str,
        *,
        reason: str = "upstream_protocol_error",
        status: int | None = None,
        body_error: dict[str, object] | None = None,
    ) -> None:
        self.upstream = upstream
        self.reason = reason
        self.status = status
        """The HTTP status the upstream answered with, when that is what went wrong."""
        self.body_error = body_error
        """The JSON-RPC error object in an HTTP error's body, when it had one (era detection reads it)."""
        super().__init__(message)


class UpstreamTimeoutError(UpstreamError):
    def __init__(self, upstream: str, seconds: float) -> None:
        super().__init__(upstream, f"upstream '{upstream}' timed out after {seconds:g}s", reason="upstream_timeout")


class UpstreamDisconnectedError(UpstreamError):
    def __init__(self, upstream: str, detail: str | None = None) -> None:
        message = f"upstream '{upstream}' is disconnected"
        if detail:
            message += f": {detail}"
        super().__init__(upstream, message, reason="upstream_disconnected")


class UpstreamRpcError(UpstreamError):
    """The upstream answered with a JSON-RPC error; the client gets its code, message and data unchanged."""

    def __init__(self, upstream: str, error: dict[str, object]) -> None:
        self.error = error
        super().__init__(
            upstream,
            f"upstream '{upstream}' JSON-RPC error: {error.get('message')}",
            reason="upstream_rpc_error",
        )


class RpcError(McpsteadError):
    """A JSON-RPC error the gateway answers with, for one request."""

    def __init__(self, code: int, message: str, data: object = None) -> None:
        self.code = code
        self.message = message
        self.data = data
        super().__init__(message)


class GatewayGoneError(McpsteadError):
    """`mcpstead connect` could not reach the gateway within its retry window (the message says since when
    and why); the bridge answers what is waiting and exits."""


class ClientConfigError(McpsteadError):
    """Client config files `mcpstead import` cannot read: every problem, one line each, naming the file and
    the key."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))
