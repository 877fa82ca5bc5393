"""Text fields that offer the server's completion/complete values as you type (prompt arguments, template
variables): one field per argument, its suggestions under it, its error under those."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Input, Label, OptionList, Static

from tui.completion import Completer, Completions

DEBOUNCE_SECONDS = 0.2
"""Typing pauses this long before the server is asked, so a word typed fast costs one request."""

_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


@dataclass(frozen=True, slots=True)
class TextField:
    """One string argument as the form shows it."""

    name: str
    required: bool = False
    description: str = ""


class SuggestionList(OptionList, can_focus=False):
    """The values offered for a field; the field's input keeps the focus (up/down move the highlight)."""


class CompletingField(Vertical):
    """An Input whose suggestions are asked for after each pause in typing; a stale answer (the text changed
    since, or a newer request was sent) is dropped."""

    BINDINGS = [
        Binding("down", "next_suggestion", "Suggestions: ask now, or highlight the next", show=False),
        Binding("up", "previous_suggestion", "Highlight the previous suggestion", show=False),
        Binding("escape", "hide_suggestions", "Hide the suggestions", show=False),
    ]

    class Edited(Message):
        """The field's value changed (typed, or a suggestion chosen)."""

    def __init__(self, spec: TextField, complete: Completer, form: CompletingForm, *, id: str) -> None:
        super().__init__(classes="field", id=id)
        self.spec = spec
        self._complete = complete
        self._form = form
        self.input = Input(compact=True, id=f"{id}-input")
        self.suggestions = SuggestionList(markup=False, compact=True, classes="suggestions")
        self.more = Static("", classes="suggestions-more")
        self.error = Static("", classes="field-error")
        self.completions = Completions()
        """The suggestions on show (or the last answer, once hidden)."""
        self._generation = 0
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Label(_label(self.spec))
        yield self.input
        yield self.suggestions
        yield self.more
        yield self.error

    def on_mount(self) -> None:
        if self.app.animation_level == "none":
            self.input.cursor_blink = False
        self._show(Completions())

    @property
    def value(self) -> str:
        return self.input.value

    @property
    def showing(self) -> bool:
        """Whether suggestions are on screen."""
        return self.suggestions.display

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Without suggestions, up, down (once asked) and escape belong to the form and the page.
        if action in ("previous_suggestion", "hide_suggestions"):
            return self.showing
        return True

    # -- asking --------------------------------------------------------------------------------------

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        event.stop()
        self.error.display = False
        self.input.remove_class("-invalid")
        self.post_message(self.Edited())
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(DEBOUNCE_SECONDS, self.ask)

    def ask(self) -> None:
        """Ask for the values that complete the text as it is now."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._generation += 1
        self.run_worker(self._fetch(self._generation, self.value), group="completion", exit_on_error=False)

    async def _fetch(self, generation: int, value: str) -> None:
        completions = await self._complete(self.spec.name, value, self._form.values(without=self.spec.name))
        if generation == self._generation and value == self.value:
            self._show(completions)

    def _show(self, completions: Completions) -> None:
        self.completions = completions
        self.suggestions.set_options(completions.values)
        self.suggestions.display = bool(completions.values)
        if completions.values:
            self.more.update(Text(completions.summary() + " · ↓ ↑ highlight, enter chooses", style="dim"))
        elif completions.error is not None:
            self.more.update(Text(f"no suggestions: {completions.error}", style="dim"))
        self.more.display = bool(completions.values) or completions.error is not None

    # -- choosing ------------------------------------------------------------------------------------

    def action_next_suggestion(self) -> None:
        if not self.showing:
            self.ask()
            return
        current = self.suggestions.highlighted
        self.suggestions.highlighted = 0 if current is None else min(current + 1, self.suggestions.option_count - 1)

    def action_previous_suggestion(self) -> None:
        current = self.suggestions.highlighted
        self.suggestions.highlighted = None if not current else current - 1

    def action_hide_suggestions(self) -> None:
        self._generation += 1  # an answer still on its way must not bring them back
        self._show(Completions())

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        """Enter chooses the highlighted suggestion; with none highlighted it submits the form."""
        index = self.suggestions.highlighted
        if self.showing and index is not None:
            event.stop()
            self.choose(index)

    @on(OptionList.OptionSelected)
    def _clicked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.choose(event.option_index)

    def choose(self, index: int) -> None:
        """Put suggestion `index` in the field (without asking again for it) and hide the list."""
        value = self.completions.values[index]
        with self.input.prevent(Input.Changed):
            self.input.value = value
        self.input.cursor_position = len(value)
        self.action_hide_suggestions()
        self.post_message(self.Edited())
        self.input.focus()

    def show_error(self, message: str | None) -> None:
        self.error.update(Text(f"↳ {message}", style="red") if message else "")
        self.error.display = message is not None
        self.input.set_class(message is not None, "-invalid")


class CompletingForm(VerticalScroll):
    """The fields of a prompt's arguments or a template's variables. Values are strings; an empty one is
    left out, and a required one left empty is an error shown under it."""

    def __init__(self, fields: Sequence[TextField], complete: Completer, *, empty: str, id: str | None = None) -> None:
        super().__init__(id=id, classes="completing-form")
        self.specs = tuple(fields)
        self._empty = empty
        self.fields = {
            spec.name: CompletingField(
                spec, complete, self, id=f"field-{spec.name if _ID.fullmatch(spec.name) else index}"
            )
            for index, spec in enumerate(self.specs)
        }

    def compose(self) -> ComposeResult:
        if not self.specs:
            yield Static(self._empty, classes="dim")
        yield from self.fields.values()

    def field(self, name: str) -> CompletingField:
        return self.fields[name]

    @on(events.DescendantFocus)
    def _moved(self, event: events.DescendantFocus) -> None:
        """Only the field being typed in shows suggestions."""
        for field in self.fields.values():
            if field.input is not event.widget and field.showing:
                field.action_hide_suggestions()

    def focus_first(self) -> bool:
        """Focus the first field; False when there is none."""
        if not self.specs:
            return False
        self.fields[self.specs[0].name].input.focus()
        return True

    def values(self, *, without: str | None = None) -> dict[str, str]:
        """The non-empty values, by name (`without` one of them: a field's context is the others)."""
        return {name: field.value for name, field in self.fields.items() if field.value and name != without}

    def collect(self) -> tuple[dict[str, str], dict[str, str]]:
        """The values, and "required" for each required field left empty (also shown under it)."""
        errors = {spec.name: "required" for spec in self.specs if spec.required and not self.fields[spec.name].value}
        for name, field in self.fields.items():
            field.show_error(errors.get(name))
        return self.values(), errors


def _label(spec: TextField) -> Text:
    label = Text(spec.name, style="bold")
    if spec.required:
        label.append(" *", style="bold red")
    if spec.description:
        label.append(f"  {spec.description}", style="dim italic")
    return label
