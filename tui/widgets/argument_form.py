"""A form generated from a tool's inputSchema: one row per argument, errors shown under each field."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, OptionList, Select, SelectionList, Static, TextArea
from textual.widgets.select import NoSelection

from tui.forms import MISSING, FieldError, FieldSpec, check_choice, choice_label, parse_text, text_for

_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


Changed = Input.Changed | Select.Changed | Checkbox.Changed | TextArea.Changed | SelectionList.SelectedChanged[int]

OVERLAY_MAX_LINES = 12
"""The most lines Textual's Select dropdown takes (its overlay's max-height)."""


class ArgumentForm(VerticalScroll):
    """Widgets by kind: string/number → Input, boolean → Checkbox, enum → Select, multi → SelectionList,
    anything else → JSON.

    `collect()` turns the widgets into an arguments object (empty optional fields are left out) plus
    an error per field that cannot be sent; nothing is validated against the schema beyond that.
    """

    def __init__(
        self, fields: Sequence[FieldSpec], *, id: str | None = None, empty: str = "This tool takes no arguments."
    ) -> None:
        super().__init__(id=id)
        self.fields = tuple(fields)
        self._empty = empty
        self._widgets: dict[str, Widget] = {}
        self._errors: dict[str, Static] = {}
        for index, spec in enumerate(self.fields):
            key = spec.name if _ID.fullmatch(spec.name) else str(index)
            self._widgets[spec.name] = _widget_for(spec, f"field-{key}")
            self._errors[spec.name] = Static("", classes="field-error", id=f"error-{key}")

    def compose(self) -> ComposeResult:
        if not self.fields:
            yield Static(self._empty, classes="dim")
        for spec in self.fields:
            with Vertical(classes="field"):
                yield Label(_label(spec))
                yield self._widgets[spec.name]
                yield self._errors[spec.name]

    def on_mount(self) -> None:
        if self.app.animation_level == "none":  # steady cursors for screenshots
            for widget in self._widgets.values():
                if isinstance(widget, Input | TextArea):
                    widget.cursor_blink = False
        for widget in self._widgets.values():
            if isinstance(widget, Select):
                self.watch(widget, "expanded", functools.partial(self._make_room, widget))

    def _make_room(self, select: Select[Any], expanded: bool) -> None:
        """An open dropdown draws over what is below it: the form grows by its height meanwhile, so the
        choices stay inside the form's border instead of spilling over it."""
        shown = min(select.query_one(OptionList).option_count, OVERLAY_MAX_LINES) if expanded else 0
        select.styles.margin = (0, 0, shown, 0)
        if expanded:
            self.call_after_refresh(self.scroll_to_widget, select, animate=False)

    @on(Input.Changed)
    @on(Select.Changed)
    @on(Checkbox.Changed)
    @on(TextArea.Changed)
    @on(SelectionList.SelectedChanged)
    def _edited(self, event: Changed) -> None:
        """An edited field loses its error: the message described the old value."""
        for name, widget in self._widgets.items():
            if widget is event.control and self._errors[name].display:
                self._errors[name].display = False
                widget.remove_class("-invalid")

    def widget(self, name: str) -> Widget:
        """The input widget of argument `name`."""
        return self._widgets[name]

    def focus_first(self) -> None:
        if self.fields:
            self._widgets[self.fields[0].name].focus()

    def collect(self) -> tuple[dict[str, Any], dict[str, str]]:
        """The arguments the form describes, and a message for every field that cannot be sent."""
        arguments: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for spec in self.fields:
            try:
                value = _read(spec, self._widgets[spec.name])
            except FieldError as error:
                errors[spec.name] = str(error)
                continue
            if value is not MISSING:
                arguments[spec.name] = value
        return arguments, errors

    def fill(self, arguments: Mapping[str, Any]) -> dict[str, str]:
        """Show `arguments` in the fields (absent ones emptied); return a message per value that does not fit.

        Keys the form has no field for are reported under their own name as well.
        """
        errors = {name: "no field for this argument" for name in arguments if name not in self._widgets}
        for spec in self.fields:
            try:
                _write(spec, self._widgets[spec.name], arguments.get(spec.name, MISSING))
            except FieldError as error:
                errors[spec.name] = str(error)
        return errors

    def show_errors(self, errors: Mapping[str, str]) -> None:
        """Show each field's error under it (and clear the others)."""
        for name, label in self._errors.items():
            message = errors.get(name)
            label.update(Text(f"↳ {message}", style="red") if message else "")
            label.display = message is not None
            self._widgets[name].set_class(message is not None, "-invalid")


def _widget_for(spec: FieldSpec, widget_id: str) -> Widget:
    default = spec.default
    if spec.kind == "boolean":
        return Checkbox(spec.name, value=default is True, compact=True, id=widget_id)
    if spec.kind == "enum":
        titles = spec.choice_titles or tuple(choice_label(choice) for choice in spec.choices)
        options = [(title, index) for index, title in enumerate(titles)]
        start = spec.choices.index(default) if default is not MISSING and default in spec.choices else None
        return Select(
            options,
            value=start if start is not None else Select.NULL,
            allow_blank=_allows_blank(spec),
            prompt="(not set)",
            compact=True,
            id=widget_id,
        )
    if spec.kind == "multi":
        titles = spec.choice_titles or tuple(choice_label(choice) for choice in spec.choices)
        chosen = default if isinstance(default, list) else []
        return SelectionList[int](*((t, i, spec.choices[i] in chosen) for i, t in enumerate(titles)), id=widget_id)
    text = _safe_text(spec, default)
    if spec.kind == "json":
        return TextArea(text, soft_wrap=True, show_line_numbers=False, tab_behavior="focus", id=widget_id)
    kind: Literal["integer", "number", "text"] = (
        "number" if spec.kind == "number" else "integer" if spec.kind == "integer" else "text"
    )
    return Input(text, type=kind, compact=True, id=widget_id)


def _read(spec: FieldSpec, widget: Widget) -> Any:
    if isinstance(widget, Checkbox):
        return widget.value
    if isinstance(widget, Select):
        value = widget.value
        if isinstance(value, NoSelection):
            if spec.required:
                raise FieldError("required")
            return MISSING
        return spec.choices[int(value)]
    if isinstance(widget, SelectionList):
        chosen = [spec.choices[index] for index in sorted(widget.selected)]
        if not chosen:
            if spec.required:
                raise FieldError("choose at least one")
            return MISSING
        return chosen
    if isinstance(widget, TextArea):
        return parse_text(spec, widget.text)
    assert isinstance(widget, Input)
    return parse_text(spec, widget.value)


def _write(spec: FieldSpec, widget: Widget, value: Any) -> None:
    if isinstance(widget, Checkbox):
        if value is not MISSING and not isinstance(value, bool):
            raise FieldError("expected true or false")
        widget.value = value is True
    elif isinstance(widget, Select):
        if value is not MISSING:
            widget.value = spec.choices.index(check_choice(spec, value))
        elif _allows_blank(spec):
            widget.clear()
        else:
            widget.value = spec.choices.index(spec.default)
    elif isinstance(widget, SelectionList):
        if value is not MISSING and not isinstance(value, list):
            raise FieldError("expected a list")
        indices = [spec.choices.index(check_choice(spec, item)) for item in (value if isinstance(value, list) else [])]
        widget.deselect_all()
        for index in indices:
            widget.select(index)
    elif isinstance(widget, TextArea):
        widget.text = text_for(spec, value)
    else:
        assert isinstance(widget, Input)
        widget.value = text_for(spec, value)


def _allows_blank(spec: FieldSpec) -> bool:
    """An enum may be left unset unless it is required and has a default to fall back on."""
    return not (spec.required and spec.has_default and spec.default in spec.choices)


def _safe_text(spec: FieldSpec, value: Any) -> str:
    try:
        return text_for(spec, value)
    except FieldError:
        return ""  # a default of the wrong type: start empty rather than refuse to open


def _label(spec: FieldSpec) -> Text:
    label = Text(spec.title or spec.name, style="bold")
    if spec.title and spec.title != spec.name:
        label.append(f" ({spec.name})", style="dim")
    if spec.required:
        label.append(" *", style="bold red")
    if spec.type_label:
        label.append(f"  {spec.type_label}", style="dim")
    if spec.description:
        label.append(f"  {spec.description}", style="dim italic")
    return label
