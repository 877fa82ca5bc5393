"""Slow clients (slowloris) cannot hold connections: headers and bodies that are too slow are cut off."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from tests.integration.gateway_harness import run_gateway

pytestmark = pytest.mark.integration

CONFIG = "limits: {header_read_seconds: 0.5, body_read_seconds: 0.5}\n"


async def read_all(reader: asyncio.StreamReader) -> bytes:
    async with asyncio.timeout(5):  # cut off within the limit plus one sweep, not held open
        return await reader.read()


async def test_slow_headers_a_slow_body_and_a_silent_client_are_cut_off_and_others_are_served() -> None:
    async with run_gateway(CONFIG) as gateway:
        host, port = gateway.base.removeprefix("http://").split(":")
        silent = await asyncio.open_connection(host, int(port))
        slow_headers = await asyncio.open_connection(host, int(port))
        slow_headers[1].write(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: appl")
        slow_body = await asyncio.open_connection(host, int(port))
        slow_body[1].write(
            b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b'Accept: application/json\r\nContent-Length: 100\r\n\r\n{"jsonrpc":'
        )
        async with httpx.AsyncClient() as http:  # meanwhile a well-behaved client is served as usual
            assert (await http.get(f"{gateway.base}/health", timeout=5)).status_code == 200
        for reader, writer in (silent, slow_headers, slow_body):
            answer = await read_all(reader)
            assert answer.startswith(b"HTTP/1.1 408 Request Timeout"), answer
            writer.close()
        async with httpx.AsyncClient() as http:
            metrics = (await http.get(f"{gateway.base}/metrics", timeout=5)).text
        assert 'mcpstead_limit_hits_total{limit="header_read"} 2.0' in metrics
        assert 'mcpstead_limit_hits_total{limit="body_read"} 1.0' in metrics


async def test_a_websocket_upgrade_is_answered_as_plain_http_without_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with run_gateway(CONFIG) as gateway:
        host, port = gateway.base.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
            b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
        )
        async with asyncio.timeout(5):
            head = await reader.readuntil(b"\r\n\r\n")
        writer.close()
        assert head.startswith(b"HTTP/1.1 200 OK"), head
        async with httpx.AsyncClient() as http:  # and the gateway goes on serving
            assert (await http.get(f"{gateway.base}/health", timeout=5)).status_code == 200
    assert not [
        record
        for record in caplog.records
        if record.levelno >= logging.WARNING and "upgrade" in record.getMessage().lower()
    ]
