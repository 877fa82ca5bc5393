"""Downstream bearer auth: the token from MCPSTEAD_BEARER_TOKEN, compared in constant time."""

from __future__ import annotations

from mcpstead.config import GatewayConfig


def auth_failure(config: GatewayConfig, authorization: str | None) -> str | None:
    """None when the request may pass, else the failure reason (missing_header, bad_format, wrong_token)."""
    if config.mcp.auth.mode != "bearer":
        return None
    token = config.bearer_token
    if token is None:
        return "internal"
    if authorization is None:
        return "missing_header"
    scheme, _, credentials = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not credentials:
        return "bad_format"
    return None if token.matches(credentials) else "wrong_token"
