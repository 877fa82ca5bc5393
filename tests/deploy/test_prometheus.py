"""Real Prometheus scraping a real gateway after real calls: the shipped dashboard's and alert rules'
PromQL all evaluate, the key panels show data, and the rule file loads. promtool checks the shipped files and
unit-tests every alert on synthetic series.

The gateway runs in the test's loop in front of a real SDK upstream (and one that is not there, so the
upstream-down series exist); Prometheus scrapes it every second with a generated config that loads the
shipped deploy/prometheus/alerts.yml.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from mcpstead.config_load import load_config
from tests.deploy.prom_harness import (
    ALERTS,
    PROMETHEUS,
    PROMTOOL,
    SCRAPE_CONFIG,
    Expression,
    Prometheus,
    alert_expressions,
    alert_rules,
    dashboard,
    dashboard_expressions,
    eventually,
    free_port,
    run_prometheus,
    run_promtool,
)
from tests.integration.gateway_harness import McpSession, RunningGateway, serving
from tests.integration.upstreams import serve_sdk_upstream

pytestmark = pytest.mark.integration
needs_prometheus = pytest.mark.skipif(
    PROMETHEUS is None, reason="prometheus is not installed (Debian package `prometheus`; .ci/run installs it)"
)
needs_promtool = pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (Debian package `prometheus` ships it; .ci/run installs it)"
)
WAIT = 15.0
"""Upper bound of every wait on Prometheus (scrapes are 1 s apart, rules evaluated every 1 s)."""
ALERT_NAMES = {"McpsteadDown", "McpsteadUpstreamDown", "McpsteadHighErrorRatio", "McpsteadReloadFailed"}
ALLOWED_EMPTY = {
    "panel 'Auth failures and limit hits' A": "no client is refused: auth is off and no limit is reached",
    "panel 'Auth failures and limit hits' B": "no client is refused: auth is off and no limit is reached",
    "alert McpsteadDown": "the gateway answers every scrape (promtool's test below makes it fire)",
}
"""Expressions that may return no series after this test's traffic, and why; every other one must have data."""


def scrape_config(gateway: RunningGateway) -> dict[str, Any]:
    target = gateway.base.removeprefix("http://")
    return {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(ALERTS)],
        "scrape_configs": [
            {"job_name": "mcpstead", "metrics_path": "/metrics", "static_configs": [{"targets": [target]}]}
        ],
    }


async def seen(prometheus: Prometheus, promql: str, expected: float) -> bool:
    """Whether Prometheus' latest sample of `promql` (one series) equals `expected`."""
    values = await prometheus.values(promql)
    return list(values.values()) == [expected]


async def calls(session: McpSession, *calls: tuple[str, dict[str, Any]]) -> None:
    for name, arguments in calls:
        answer = await session.call_tool(name, arguments)
        assert "result" in answer or "error" in answer, answer


@needs_prometheus
async def test_prometheus_scrapes_the_gateway_and_every_dashboard_and_alert_expression_evaluates(
    tmp_path: Path,
) -> None:
    gone = free_port()  # nothing listens there: an upstream that stays down
    config_path = tmp_path / "gateway.yaml"
    async with serve_sdk_upstream(json_response=True) as url:
        config_text = (
            "host: 127.0.0.1\nport: 0\nservers:\n"
            f"  - name: sdk\n    url: {url}\n"
            f"  - name: gone\n    url: http://127.0.0.1:{gone}/mcp\n"
            "    reconnect: {backoff_base_ms: 100, backoff_max_ms: 200}\n"
        )
        config_path.write_text(config_text)
        async with (
            serving(load_config(config_path)) as gateway,
            run_prometheus(tmp_path, scrape_config(gateway)) as prom,
        ):
            await gateway.wait_connected("sdk")

            async def target_up() -> Any:
                targets = (await prom.get("/api/v1/targets"))["activeTargets"]
                return [t for t in targets if t["labels"]["job"] == "mcpstead" and t["health"] == "up"]

            await eventually("the gateway target is up", target_up, WAIT)

            # Calls in two rounds, each seen by a scrape, so that rates (and the quantiles) are not zero.
            session = await gateway.session()
            await calls(session, ("sdk__add", {"a": 1, "b": 2}), ("sdk__explode", {}), ("sdk__guarded", {"word": "x"}))
            ended = await gateway.session()
            async with httpx.AsyncClient() as http:  # a session ends: the terminations series
                response = await http.delete(gateway.url, headers=ended.headers, timeout=5)
                assert response.status_code in (200, 202, 204), response.text
                assert (await http.post(f"{gateway.base}/-/reload", timeout=10)).status_code == 200
            await eventually(
                "round 1 scraped",
                lambda: seen(prom, 'mcpstead_tool_calls_total{server="sdk",tool="add"}', 1),
                WAIT,
            )

            # A relay in flight for 2.5 s (the adds beside it may make it 2 at a scrape: at least 1 is asked).
            nap = asyncio.create_task(session.call_tool("sdk__nap", {"seconds": 2.5}))
            await calls(session, *[("sdk__add", {"a": n, "b": n}) for n in range(10)], *[("sdk__explode", {})] * 3)
            config_path.write_text("servers:\n  - name: 1\n")  # a reload that fails
            async with httpx.AsyncClient() as http:
                assert (await http.post(f"{gateway.base}/-/reload", timeout=10)).status_code == 400
            await eventually(
                "a relay in flight scraped",
                lambda: seen(
                    prom, 'clamp_max(max_over_time(mcpstead_upstream_calls_in_flight{server="sdk"}[1m]), 1)', 1
                ),
                WAIT,
            )
            async with asyncio.timeout(WAIT):
                assert "result" in await nap
            await eventually(
                "round 2 scraped",
                lambda: seen(prom, 'mcpstead_tool_calls_total{server="sdk",tool="add"}', 11),
                WAIT,
            )
            await eventually(
                "the failed reload scraped",
                lambda: seen(prom, 'mcpstead_config_reloads_total{result="error"}', 1),
                WAIT,
            )
            await eventually(
                "the idle counters scraped after round 2",
                lambda: seen(prom, 'mcpstead_upstream_calls_in_flight{server="sdk"}', 0),
                WAIT,
            )
            scrapes = await prom.values('count_over_time(up{job="mcpstead"}[1m])')
            assert min(scrapes.values()) >= 3, scrapes

            names = await prom.get("/api/v1/label/__name__/values")
            assert {"mcpstead_tool_calls_total", "mcpstead_upstream_connected", "mcpstead_build_info"} <= set(names)
            assert "mcpstead_tool_call_duration_seconds_bucket" in names

            await check_every_expression(prom)
            await check_key_panels(prom)
            await check_alerts(prom)


async def check_every_expression(prom: Prometheus) -> None:
    expressions = dashboard_expressions() + alert_expressions()
    assert len(expressions) >= 25
    empty = []
    for expression in expressions:
        data = await prom.query(expression.query)  # fails on any PromQL error
        if not data["result"] and expression.where not in ALLOWED_EMPTY:
            empty.append(f"{expression.where}: {expression.query}")
    assert not empty, "\n".join(["these expressions returned no data:", *empty])


def panel_queries(title: str) -> list[Expression]:
    found = [e for e in dashboard_expressions() if e.where.startswith(f"panel {title!r} ")]
    assert found, f"the dashboard has no panel {title!r}"
    return found


async def check_key_panels(prom: Prometheus) -> None:
    (per_upstream,) = panel_queries("Calls per second by upstream")
    assert (await prom.values(per_upstream.query))["server=sdk"] > 0
    (total,) = panel_queries("Tool calls / s")
    assert next(iter((await prom.values(total.query)).values())) > 0
    quantiles = panel_queries("Tool call latency p50 / p95 / p99")
    assert len(quantiles) == 3
    for quantile in quantiles:
        values = list((await prom.values(quantile.query)).values())
        assert len(values) == 1 and math.isfinite(values[0]) and values[0] > 0, (quantile.where, values)
    (by_upstream,) = panel_queries("Tool call latency p95 by upstream")
    assert math.isfinite((await prom.values(by_upstream.query))["server=sdk"])
    (state,) = panel_queries("Upstream state")
    assert await prom.values(state.query) == {"server=gone": 0.0, "server=sdk": 1.0}
    active, opened = panel_queries("Sessions")
    assert next(iter((await prom.values(active.query)).values())) >= 1
    assert next(iter((await prom.values(opened.query)).values())) > 0
    (errors,) = panel_queries("Errors per second by upstream and reason")
    error_rates = await prom.values(errors.query)
    assert error_rates["reason=upstream_returned_error,server=sdk"] > 0, error_rates
    assert "reason=upstream_rpc_error,server=sdk" in error_rates, error_rates
    (in_flight,) = panel_queries("Relays in flight by upstream")
    assert set(await prom.values(in_flight.query)) == {"server=gone", "server=sdk"}
    (reloads,) = panel_queries("Config reloads")
    assert set(await prom.values(reloads.query)) == {"result=success", "result=error"}


async def check_alerts(prom: Prometheus) -> None:
    # What this run makes true: an upstream down (pending for its minute), a failed reload (firing at once),
    # and 3 failures in the 13 calls of round 2 (pending for its 5 minutes).
    expected = {
        "McpsteadDown": [],
        "McpsteadUpstreamDown": [("gone", "pending")],
        "McpsteadReloadFailed": [(None, "firing")],
        "McpsteadHighErrorRatio": [("sdk", "pending")],
    }
    last: dict[str, Any] = {}

    async def rules_as_expected() -> bool:
        groups = (await prom.get("/api/v1/rules"))["groups"]
        rules = {rule["name"]: rule for group in groups for rule in group["rules"]}
        last.update(rules)
        states = {
            name: sorted((a["labels"].get("server"), a["state"]) for a in rule["alerts"])
            for name, rule in rules.items()
        }
        return set(rules) == ALERT_NAMES and all(r["health"] == "ok" for r in rules.values()) and states == expected

    try:
        await eventually(
            "the shipped alert rules loaded, evaluated and in their expected states", rules_as_expected, WAIT
        )
    except AssertionError as exc:
        seen = {
            name: (r["health"], r.get("lastError"), [(a["labels"], a["state"]) for a in r["alerts"]])
            for name, r in last.items()
        }
        raise AssertionError(f"{exc}\nrules: {seen}") from None
    assert {name: rule["type"] for name, rule in last.items()} == dict.fromkeys(ALERT_NAMES, "alerting")


# -- promtool: the shipped files, and the alerts' logic on synthetic series -------------------------------


@needs_promtool
def test_promtool_accepts_the_shipped_scrape_config_and_rules() -> None:
    config = run_promtool("check", "config", str(SCRAPE_CONFIG))
    assert config.returncode == 0, config.stdout + config.stderr
    rules = run_promtool("check", "rules", str(ALERTS))
    assert rules.returncode == 0, rules.stdout + rules.stderr
    assert f"SUCCESS: {len(ALERT_NAMES)} rules found" in rules.stdout


def test_the_rules_name_the_three_alerts_with_their_thresholds() -> None:
    rules = {rule["alert"]: rule for rule in alert_rules()}
    assert set(rules) == ALERT_NAMES
    assert rules["McpsteadUpstreamDown"]["for"] == "1m"
    assert "mcpstead_upstream_connected" in rules["McpsteadUpstreamDown"]["expr"]
    assert "> 0.05" in rules["McpsteadHighErrorRatio"]["expr"]
    assert 'mcpstead_config_reloads_total{result="error"}' in rules["McpsteadReloadFailed"]["expr"]
    for rule in rules.values():
        assert rule["labels"]["severity"] in {"critical", "warning"} and rule["annotations"]["summary"]


def test_the_dashboard_is_a_grafana_dashboard_on_a_datasource_variable() -> None:
    board = dashboard()
    assert board["uid"] == "mcpstead" and 36 <= board["schemaVersion"] <= 41
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    assert variables["server"]["includeAll"] and variables["server"]["allValue"] == ".*"
    titles = [p["title"] for p in board["panels"] if p["type"] != "row"]
    assert len(titles) == len(set(titles)), "panel titles are unique (the tests find panels by title)"
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
            assert all(t["datasource"] == panel["datasource"] for t in panel["targets"]), panel["title"]
    covered = " ".join(e.promql for e in dashboard_expressions())
    for series in (
        "mcpstead_tool_calls_total",
        "mcpstead_tool_call_errors_total",
        "mcpstead_tool_call_duration_seconds_bucket",
        "mcpstead_upstream_connected",
        "mcpstead_upstream_reconnects_total",
        "mcpstead_downstream_sessions_active",
        "mcpstead_config_reloads_total",
        "mcpstead_upstream_calls_in_flight",
    ):
        assert series in covered, series
    for q in ("0.5", "0.95", "0.99"):
        assert f"histogram_quantile({q}, sum by (le) (rate(mcpstead_tool_call_duration_seconds_bucket" in covered


def promtool_tests(rules: Path) -> dict[str, Any]:
    """Synthetic series, 15 s apart, and what each alert must do with them (by labels: `rules` is the shipped
    file without its annotations, which `promtool check rules` has checked)."""
    job = {"job": "mcpstead", "instance": "gw:8766"}

    def series(name: str, values: str, **labels: str) -> dict[str, str]:
        text = ",".join(f'{k}="{v}"' for k, v in {**job, **labels}.items())
        return {"series": f"{name}{{{text}}}", "values": values}

    def alert(name: str, at: str, *expected: dict[str, str]) -> dict[str, Any]:
        return {
            "eval_time": at,
            "alertname": name,
            "exp_alerts": [{"exp_labels": {**job, **labels}} for labels in expected],
        }

    down = {"server": "flaky", "severity": "critical"}
    errors = {"server": "bad", "severity": "warning"}
    reload_labels = {"result": "error", "severity": "warning"}
    return {
        "rule_files": [str(rules)],
        "evaluation_interval": "15s",
        "tests": [
            {
                "interval": "15s",
                "input_series": [
                    # the gateway answers scrapes for 1 minute, then not
                    series("up", "1x4 0x40"),
                    # up for 1 minute, then down (from 1m on); "steady" never goes down
                    series("mcpstead_upstream_connected", "1x4 0x40", server="flaky"),
                    series("mcpstead_upstream_connected", "1x44", server="steady"),
                    # 10 calls per step; "bad" fails 1 in 10, "fine" 1 in 50
                    series("mcpstead_tool_calls_total", "0+10x60", server="bad", tool="t"),
                    series(
                        "mcpstead_tool_call_errors_total", "0+1x60", server="bad", tool="t", reason="upstream_timeout"
                    ),
                    series("mcpstead_tool_calls_total", "0+50x60", server="fine", tool="t"),
                    series(
                        "mcpstead_tool_call_errors_total", "0+1x60", server="fine", tool="t", reason="upstream_timeout"
                    ),
                    # the first failed reload makes the series appear at 2m; a second one at 12m
                    series("mcpstead_config_reloads_total", "_x8 1x39 2x20", result="error"),
                ],
                "alert_rule_test": [
                    alert("McpsteadDown", "1m30s"),  # not answering for 30 s: not yet
                    alert("McpsteadDown", "2m15s", {"severity": "critical"}),
                    alert("McpsteadUpstreamDown", "1m30s"),  # down for 30 s: not yet
                    alert("McpsteadUpstreamDown", "2m15s", down),  # down for more than 1 minute
                    alert("McpsteadHighErrorRatio", "3m"),  # above 5%, but not for 5 minutes yet
                    alert("McpsteadHighErrorRatio", "11m", errors),
                    alert("McpsteadReloadFailed", "1m45s"),
                    alert("McpsteadReloadFailed", "3m", reload_labels),  # the series is new: the first failure
                    alert("McpsteadReloadFailed", "10m"),  # 8 minutes later, nothing new
                    alert("McpsteadReloadFailed", "12m30s", reload_labels),  # a second failure
                ],
            }
        ],
    }


@needs_promtool
def test_promtool_unit_tests_every_alert(tmp_path: Path) -> None:
    shipped = yaml.safe_load(ALERTS.read_text())
    for group in shipped["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    rules = tmp_path / "alerts.yml"
    rules.write_text(yaml.safe_dump(shipped, sort_keys=False))
    tests = tmp_path / "alerts_test.yml"
    tests.write_text(yaml.safe_dump(promtool_tests(rules), sort_keys=False))
    result = run_promtool("test", "rules", str(tests), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr
