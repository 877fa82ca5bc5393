"""The merged catalog of every ready upstream: tools, prompts, resources and resource templates.

Built from the upstreams' cached lists whenever one of them changes, never per call. It applies the naming
policy (`<server>__<name>` or names passed through with `prefix: false`, shortened past 64 characters) and
the per-server filters, and holds the routes back from each downstream name, URI or template to its
upstream. Every conflict (two upstreams offering one name or URI, a tool that cannot be called) is kept as a
problem line for the log, /health and the dashboard: nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mcpstead.config import NameFilter, ServerConfig
from mcpstead.protocol import qualify
from mcpstead.state import OfferedView, ToolView
from mcpstead.uritemplates import UriTemplate, compile_template


@dataclass(frozen=True, slots=True)
class UpstreamLists:
    """What one ready upstream offers, as it listed it (in its order)."""

    config: ServerConfig
    lists: Mapping[str, tuple[dict[str, Any], ...]]
    """Kind ("tools", "prompts", "resources", "resourceTemplates": the keys of their list results) -> items."""
    task_augmented_calls: bool = False
    """The upstream declared `tasks.requests.tools.call`: tools that require a task can be called."""
    cut: Mapping[str, int] = field(default_factory=dict)
    """Kinds whose list was cut at limits.items_per_upstream, with the limit."""
    unrelayed: tuple[str, ...] = ()
    """Capabilities the upstream declares that mcpstead does not pass on to its clients."""

    @property
    def name(self) -> str:
        return self.config.name


@dataclass(frozen=True, slots=True)
class Route:
    upstream: str
    name: str
    """The upstream's own name (tool or prompt), or the URI / template as the upstream gave it."""


@dataclass(frozen=True, slots=True)
class TemplateRoute:
    template: UriTemplate
    upstream: str
    uris: NameFilter = field(default_factory=NameFilter)
    """The upstream's `resources.exclude`: an excluded URI is not routed by its templates either (`include`
    already chose the templates; it is not applied to URIs, so `include: ['db://{table}']` keeps working)."""


@dataclass(frozen=True, slots=True)
class Named:
    """One upstream tool or prompt as it is offered, kept so that the next build reuses it while the
    upstream's item and config are the same objects (see `build_catalog`)."""

    item: dict[str, Any]
    config: ServerConfig
    exposed: str
    shortened: bool
    tagged: dict[str, Any]
    route: Route
    view: ToolView | None


@dataclass(frozen=True, slots=True)
class Catalog:
    tools: tuple[dict[str, Any], ...] = ()
    prompts: tuple[dict[str, Any], ...] = ()
    resources: tuple[dict[str, Any], ...] = ()
    templates: tuple[dict[str, Any], ...] = ()
    tool_routes: Mapping[str, Route] = field(default_factory=dict)
    prompt_routes: Mapping[str, Route] = field(default_factory=dict)
    resource_routes: Mapping[str, Route] = field(default_factory=dict)
    template_routes: tuple[TemplateRoute, ...] = ()
    tool_views: Mapping[str, tuple[ToolView, ...]] = field(default_factory=dict)
    offered: tuple[OfferedView, ...] = ()
    """Prompts, resources and templates as clients see them, each with its upstream (for the dashboard)."""
    problems: tuple[str, ...] = ()
    """Conflicts and dropped items, one readable line each, in upstream order."""
    named: Mapping[int, Named] = field(default_factory=dict, compare=False, repr=False)
    """id(upstream item) -> how it was offered, for the next build."""

    def route_uri(self, uri: str) -> Route | None:
        """The upstream that serves `uri`: a listed resource first, else the first template (in config order)
        that matches it."""
        route = self.resource_routes.get(uri)
        if route is not None:
            return route
        for candidate in self.template_routes:
            if candidate.uris.allows(uri) and candidate.template.match(uri) is not None:
                return Route(candidate.upstream, candidate.template.template)
        return None

    def route_template(self, template: str) -> Route | None:
        """The upstream that owns a resource template (for completion's `ref/resource`)."""
        for candidate in self.template_routes:
            if candidate.template.template == template:
                return Route(candidate.upstream, template)
        return None


def exposed_name(config: ServerConfig, name: str) -> tuple[str, bool]:
    """The downstream name of an upstream tool or prompt, and whether it had to be shortened."""
    if not config.prefix:
        return name, False
    return qualify(config.name, name)


def _tagged(config: ServerConfig, item: dict[str, Any], name: str) -> dict[str, Any]:
    """The upstream's definition with every field kept and only the name changed; with `describe_prefix`
    the description also starts with the server's name."""
    if not config.describe_prefix:
        return item if item.get("name") == name else {**item, "name": name}
    description = item.get("description")
    tagged = f"[{config.name}] {description}" if isinstance(description, str) else f"From {config.name}"
    return {**item, "name": name, "description": tagged}


class _Builder:
    def __init__(self, previous: Mapping[int, Named]) -> None:
        self.problems: list[str] = []
        self.tool_views: dict[str, list[ToolView]] = {}
        self.template_owners: dict[str, str] = {}
        self.previous = previous
        self.named_now: dict[int, Named] = {}

    def _offer(self, config: ServerConfig, item: dict[str, Any], own: str, kind: str) -> Named:
        known = self.previous.get(id(item))
        if known is None or known.item is not item or known.config is not config:
            exposed, shortened = exposed_name(config, own)
            view = _tool_view(config.name, item, exposed) if kind == "tools" else None
            known = Named(
                item, config, exposed, shortened, _tagged(config, item, exposed), Route(config.name, own), view
            )
        self.named_now[id(item)] = known
        return known

    def named(
        self, upstreams: Iterable[UpstreamLists], kind: str, allow: Any
    ) -> tuple[tuple[dict[str, Any], ...], dict[str, Route]]:
        """Tools or prompts: named, filtered, first configured upstream keeps a contested name."""
        items: list[dict[str, Any]] = []
        routes: dict[str, Route] = {}
        singular = kind[:-1]
        for upstream in upstreams:
            config = upstream.config
            name_filter: NameFilter = config.tools if kind == "tools" else config.prompts
            for item in upstream.lists.get(kind, ()):
                own = item.get("name")
                if not isinstance(own, str) or not name_filter.allows(own) or not allow(upstream, item):
                    continue
                offered = self._offer(config, item, own, kind)
                exposed = offered.exposed
                holder = routes.get(exposed)
                if holder is not None:
                    who = "twice" if holder.upstream == config.name else f"too; upstream '{holder.upstream}' keeps it"
                    self.problems.append(f"upstream '{config.name}' lists {singular} '{exposed}' {who}")
                    continue
                if offered.shortened:
                    self.problems.append(
                        f"{singular} '{config.name}__{own}' is longer than 64 characters; clients see '{exposed}'"
                    )
                routes[exposed] = offered.route
                items.append(offered.tagged)
                if offered.view is not None:
                    self.tool_views.setdefault(config.name, []).append(offered.view)
        return tuple(items), routes

    def resources(self, upstreams: Iterable[UpstreamLists]) -> tuple[tuple[dict[str, Any], ...], dict[str, Route]]:
        items: list[dict[str, Any]] = []
        routes: dict[str, Route] = {}
        for upstream in upstreams:
            for item in upstream.lists.get("resources", ()):
                uri = item.get("uri")
                if not isinstance(uri, str) or not upstream.config.resources.allows(uri):
                    continue
                holder = routes.get(uri)
                if holder is not None:
                    if holder.upstream != upstream.name:
                        self.problems.append(
                            f"resource '{uri}' is listed by upstreams '{holder.upstream}' and '{upstream.name}'; "
                            f"'{holder.upstream}' (configured first) keeps it"
                        )
                    continue
                routes[uri] = Route(upstream.name, uri)
                items.append(item)
        return tuple(items), routes

    def templates(self, upstreams: Iterable[UpstreamLists]) -> tuple[tuple[dict[str, Any], ...], list[TemplateRoute]]:
        items: list[dict[str, Any]] = []
        routes: list[TemplateRoute] = []
        owners = self.template_owners
        for upstream in upstreams:
            for item in upstream.lists.get("resourceTemplates", ()):
                text = item.get("uriTemplate")
                if not isinstance(text, str) or not upstream.config.resources.allows(text):
                    continue
                if text in owners:
                    if owners[text] != upstream.name:
                        self.problems.append(
                            f"resource template '{text}' is listed by upstreams '{owners[text]}' and "
                            f"'{upstream.name}'; '{owners[text]}' (configured first) keeps it"
                        )
                    continue
                template = compile_template(text)
                if template is None:
                    self.problems.append(
                        f"upstream '{upstream.name}' lists resource template '{text}', which is not an RFC 6570 "
                        "template; it is listed but URIs cannot be routed by it"
                    )
                else:
                    excluded = NameFilter(exclude=upstream.config.resources.exclude)
                    routes.append(TemplateRoute(template, upstream.name, excluded))
                owners[text] = upstream.name
                items.append(item)
        return tuple(items), routes


def _callable(upstream: UpstreamLists, tool: dict[str, Any]) -> bool:
    """A tool that requires task augmentation can only be called when its upstream accepts tasks."""
    execution = tool.get("execution")
    required = isinstance(execution, dict) and execution.get("taskSupport") == "required"
    return upstream.task_augmented_calls or not required


def build_catalog(upstreams: Iterable[UpstreamLists], previous: Catalog | None = None) -> Catalog:
    """The catalog for these upstreams, given in config order (which decides every conflict).

    With the `previous` catalog, the tools and prompts of upstreams whose lists did not change are reused as
    they were offered, not named and copied again: when 50 upstreams with 10,000 tools come up one after
    another, each rebuild walks every tool, and naming them anew made the whole start grow with the square."""
    ordered = tuple(upstreams)
    builder = _Builder(previous.named if previous is not None else {})
    for upstream in ordered:
        if upstream.unrelayed:
            builder.problems.append(
                f"upstream '{upstream.name}' offers capabilities mcpstead does not pass on to its clients: "
                f"{', '.join(upstream.unrelayed)}"
            )
        for kind, limit in upstream.cut.items():
            builder.problems.append(
                f"upstream '{upstream.name}' lists more than {limit:,} {kind}; only the first {limit:,} are offered "
                "(limits.items_per_upstream)"
            )
    for upstream in ordered:
        for tool in upstream.lists.get("tools", ()):
            if isinstance(tool.get("name"), str) and not _callable(upstream, tool):
                builder.problems.append(
                    f"upstream '{upstream.name}' tool '{tool['name']}' requires task augmentation, which the "
                    "upstream does not declare (tasks.requests.tools.call); it is not offered"
                )
    tools, tool_routes = builder.named(ordered, "tools", _callable)
    prompts, prompt_routes = builder.named(ordered, "prompts", lambda upstream, item: True)
    resources, resource_routes = builder.resources(ordered)
    templates, template_routes = builder.templates(ordered)
    return Catalog(
        tools=tools,
        prompts=prompts,
        resources=resources,
        templates=templates,
        tool_routes=tool_routes,
        prompt_routes=prompt_routes,
        resource_routes=resource_routes,
        template_routes=tuple(template_routes),
        tool_views={upstream.name: tuple(builder.tool_views.get(upstream.name, ())) for upstream in ordered},
        offered=(
            *(OfferedView("prompt", prompt_routes[p["name"]].upstream, p["name"], p) for p in prompts),
            *(OfferedView("resource", resource_routes[r["uri"]].upstream, r["uri"], r) for r in resources),
            *(
                OfferedView("template", builder.template_owners[t["uriTemplate"]], t["uriTemplate"], t)
                for t in templates
            ),
        ),
        problems=tuple(builder.problems),
        named=builder.named_now,
    )


def _tool_view(upstream: str, tool: dict[str, Any], exposed: str) -> ToolView:
    """The dashboard's view: the upstream's own definition, under the name clients see."""
    description = tool.get("description")
    return ToolView(
        qualified_name=exposed,
        upstream=upstream,
        name=tool["name"],
        description=description if isinstance(description, str) else "",
        definition=tool,
    )
