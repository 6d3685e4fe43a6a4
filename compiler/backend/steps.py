"""The steps' part of the script: a visitor that writes each step of the IR as bash lines.

The steps are most of a large job's script, and rendering them through Jinja macros cost a macro call per step
and per construct, and a copy of each block per nesting level to indent it. Here every line is written once,
with its indentation, into one list per top-level step. The templates hold everything else; this module writes
nothing but the step tree.

Quoting follows the templates' rule: every value from the spec goes through `quote` (or `words`, `comment`,
`render_word`); what is written as it is was built by jobc (a validated identifier, a number, an `Sh`).
"""

from __future__ import annotations

import re
from typing import Callable, Iterator

from .. import ir
from ..diagnostics import FieldPath, InModule
from ..site import Site
from . import srun
from .features import Features, loop_shellcheck_codes
from .quoting import Sh, comment, quote, words
from .words import render_word

Lines = list[str]
Body = Callable[[str, Lines], None]

TRAP_LAUNCHES = "trap jobc_abort_launches EXIT"
NO_STEPS = "{pad}: # no steps"


class StepWriter:
    """Writes the steps of one job for one site (`render_script` makes one per script)."""

    def __init__(
        self,
        job: ir.Job,
        site: Site,
        found: Features,
        line_of: Callable[[FieldPath], int | None] | None,
        path_text: Callable[[FieldPath], str],
    ) -> None:
        self.job = job
        self.site = site
        self.found = found
        self.line_of = line_of
        self.path_text = path_text

    def top_level(self) -> Iterator[str]:
        """The job's steps, one piece per step (with the blank line between them), then the end of their scope."""
        steps = self.job.steps
        if not steps:
            yield NO_STEPS.format(pad="  ")
        for index, step in enumerate(steps):
            out: Lines = []
            self.step(step, "  ", out)
            text = "\n".join(out)
            yield "\n\n" + text if index else text
        slots = launch_slots(steps)
        if slots:
            yield "\n\n  " + end_scope(slots)

    def scope(self, steps: tuple[ir.AnyStep, ...], pad: str, out: Lines) -> None:
        """A step list, a blank line between steps, then the end of the scope (its launches are signalled)."""
        if not steps:
            out.append(NO_STEPS.format(pad=pad))  # a shell body may not be empty: `( )` is a syntax error
            return
        for index, step in enumerate(steps):
            if index:
                out.append("")
            self.step(step, pad, out)
        slots = launch_slots(steps)
        if slots:
            out.append("")
            out.append(pad + end_scope(slots))

    def step(self, step: ir.AnyStep, pad: str, out: Lines) -> None:
        """Where the step is in the spec, its marker and awaits, then its body (under its `if` test)."""
        name = self.name(step)
        out.append(f"{pad}# {self.origin(step)}")
        note = srun.inherited_note(step)
        if note:
            out.append(f"{pad}# {note}")
        out.append(f"{pad}jobc_step {name}")
        for index, slot in enumerate(step.awaits):
            out.append(f"{pad}jobc_await {slot}  # {comment(step.depends_on[index])}")
        if not step.condition:
            self.body(step, pad, out)
            return
        out.append(f"{pad}if jobc_if {name} {value(step.condition)}; then")
        self.body(step, pad + "  ", out)
        if isinstance(step, ir.LaunchStep):
            out.append(pad + "else")
            out.append(
                f"{pad}  JOBC_LAUNCH_RC[{step.slot}]=0  # a skipped launch counts as ended well for its dependsOn"
            )
        out.append(pad + "fi")

    def name(self, step: ir.AnyStep) -> Sh:
        return quote(step.name or self.path_text(step.path))

    def origin(self, step: ir.AnyStep) -> Sh:
        """`steps[1] "train" (gpu-training.yaml:27)`: where a reviewer finds the step in the spec."""
        text = self.path_text(step.path)
        if step.name:
            text += f' "{step.name}"'
        line = self.line_of(step.path) if self.line_of else None
        if line:
            module = None
            if InModule in map(type, step.path):  # a step of a module (rare): its script's name, not the job's
                module = next(part for part in reversed(step.path) if isinstance(part, InModule))
            text += f" ({module.script_name if module else self.job.source_name or 'spec'}:{line})"
        return comment(text)

    def body(self, step: ir.AnyStep, pad: str, out: Lines) -> None:
        """What the step does; with catch or finally, inside their guard (a launch guards inside its group)."""
        if isinstance(step, ir.LaunchStep):
            self.launch(step, pad, out)
        elif step.catch or step.finally_steps:
            out.append(pad + "(")
            self.guard(step, lambda inner, lines: self.bare_body(step, inner, lines), pad + "  ", out)
            out.append(pad + ")")
        else:
            self.bare_body(step, pad, out)

    def bare_body(self, step: ir.AnyStep, pad: str, out: Lines) -> None:
        if isinstance(step, ir.RunStep):
            self.run(step, pad, out)
        elif isinstance(step, ir.LoopStep):
            if isinstance(step.over, ir.ChunkDirs):
                self.chunk_loop(step, step.over, pad, out)
            else:
                self.loop(step, pad, out)
        elif isinstance(step, ir.GroupStep):
            out.append(pad + "(")
            if launch_slots(step.steps):
                out.append(f"{pad}  {TRAP_LAUNCHES}")
            self.scope(step.steps, pad + "  ", out)
            out.append(pad + ")")
        elif isinstance(step, ir.ModuleStep):
            self.module(step, pad, out)
        else:
            out.append(pad + ":")

    def guard(self, step: ir.AnyStep, body: Body, pad: str, out: Lines) -> None:
        """The body runs with errexit in a subshell of its own; then catch (when it failed, unless the job or the
        group is stopping), then finally (always, once), then the step ends with its status (finally's failure
        wins)."""
        name = self.name(step)
        status_of("JOBC_BODY_RC", body, pad, out)
        out.append(pad + "JOBC_STEP_RC=$JOBC_BODY_RC")
        if step.catch:
            out.append(pad + "if (( JOBC_BODY_RC != 0 )) && ! jobc_stopping; then")
            out.append(f'{pad}  jobc_catching {name} "$JOBC_BODY_RC"')
            catch = step.catch
            status_of(
                "JOBC_STEP_RC",
                lambda inner, lines: self.sub_scope("export DEEPSQUARE_ERROR_CODE=$JOBC_BODY_RC", catch, inner, lines),
                pad + "  ",
                out,
            )
            out.append(f'{pad}  jobc_caught {name} "$JOBC_BODY_RC" "$JOBC_STEP_RC"')
            out.append(pad + "fi")
        if step.finally_steps:
            last = step.finally_steps
            first = "export DEEPSQUARE_ERROR_CODE=$JOBC_BODY_RC JOBC_FINALLY=1 JOBC_GROUPS="
            status_of("JOBC_FINALLY_RC", lambda inner, lines: self.sub_scope(first, last, inner, lines), pad, out)
            out.append(f'{pad}jobc_finally_done {name} "$JOBC_FINALLY_RC"')
        out.append(pad + 'exit "$JOBC_STEP_RC"')

    def sub_scope(self, first: str, steps: tuple[ir.AnyStep, ...], pad: str, out: Lines) -> None:
        """A step list in the subshell of a catch or a finally, after the line that sets its variables."""
        out.append(pad + first)
        if launch_slots(steps):
            out.append(pad + TRAP_LAUNCHES)
        self.scope(steps, pad, out)

    def run(self, step: ir.RunStep, pad: str, out: Lines) -> None:
        """The step's variables and batch-shell setup in a subshell, then its srun line."""
        out.append(pad + "(")
        out.append(pad + "  jobc_load_env")
        for var in step.env:
            out.append(f"{pad}  export {var.key}={value(var.value)}")
        for line in srun.step_setup(step, self.job, self.site):
            write_piece(pad, "  " + line, out)
        write_piece(pad, "  " + srun.srun_line(step, self.job, self.site, self.found), out)
        out.append(pad + ")")

    def loop(self, step: ir.LoopStep, pad: str, out: Lines) -> None:
        """A loop over items or a range; a parallel one runs each iteration as a background group."""
        pids = f"jobc_pids{len(step.path)}"  # one name per depth: an inner parallel loop's list is not the outer one's
        out.append(pad + "(")
        if step.parallel:
            out.append(f"{pad}  {pids}=()")
        codes = loop_shellcheck_codes(step)
        if codes:
            out.append(
                f"{pad}  # shellcheck disable={','.join(codes)} # literal items; an inner loop's $item/$index"
                " shadows this one's"
            )
        over = step.over
        if isinstance(over, ir.ItemsLoop):
            out.append(f"{pad}  for item in {words(over.items)}; do")
        else:
            up = over.increment > 0
            out.append(
                f"{pad}  for (( index = {quote(over.begin)}; index {'<=' if up else '>='} {quote(over.end)};"
                f" index {'+=' if up else '-='} {quote(abs(over.increment))} )); do"
            )
        out.append(f"{pad}    export {step.variable}")
        trap = bool(launch_slots(step.steps))
        if step.parallel:
            out.append(pad + "    {")
            out.append(pad + "      jobc_enter_group")
            if trap:
                out.append(f"{pad}      {TRAP_LAUNCHES}")
            self.scope(step.steps, pad + "      ", out)
            out.append(pad + "    } &")
            out.append(f'{pad}    {pids}+=("$!")')
            out.append(pad + "  done")
            out.append(f'{pad}  jobc_wait_all "${{{pids}[@]}}"')
        else:
            out.append(pad + "    (")
            if trap:
                out.append(f"{pad}      {TRAP_LAUNCHES}")
            self.scope(step.steps, pad + "      ", out)
            out.append(pad + "    )")
            out.append(pad + "  done")
        out.append(pad + ")")

    def launch(self, step: ir.LaunchStep, pad: str, out: Lines) -> None:
        """A group started in the background; its slot keeps the PID for dependsOn and for the scope's end."""
        out.append(pad + "{")
        out.append(pad + "  jobc_enter_group")
        if step.catch or step.finally_steps:
            self.guard(step, lambda inner, lines: self.launch_body(step, inner, lines), pad + "  ", out)
        else:
            self.launch_body(step, pad + "  ", out)
        out.append(pad + "} &")
        handle = quote(step.handle or self.path_text(step.path))
        out.append(f'{pad}jobc_launched {step.slot} "$!" {step.signal} {handle}')

    def launch_body(self, step: ir.LaunchStep, pad: str, out: Lines) -> None:
        if launch_slots(step.steps):
            out.append(pad + TRAP_LAUNCHES)
        self.scope(step.steps, pad, out)

    def chunk_loop(self, step: ir.LoopStep, over: ir.ChunkDirs, pad: str, out: Lines) -> None:
        """bfabric apps (ir.ChunkDirs): the setup steps (dispatch) once in the work directory, then the other
        steps once per chunk directory found there at run time."""
        out.append(pad + "(")
        out.append(f"{pad}  JOBC_WORK_DIR={value(over.directory)}")
        out.append(f'{pad}  mkdir -p -- "$JOBC_WORK_DIR"')
        out.append(f'{pad}  JOBC_WORK_DIR=$(cd -- "$JOBC_WORK_DIR" && pwd -P)')
        out.append("")
        self.scope(step.steps[: over.setup], pad + "  ", out)
        out.append("")
        out.append(f'{pad}  jobc_list_chunks "$JOBC_WORK_DIR"')
        out.append(f'{pad}  for JOBC_CHUNK_DIR in "${{jobc_chunks[@]}}"; do')
        out.append(f'{pad}    jobc_log "chunk $JOBC_CHUNK_DIR"')
        out.append(pad + "    (")
        self.scope(step.steps[over.setup :], pad + "      ", out)
        out.append(pad + "    )")
        out.append(pad + "  done")
        out.append(pad + ")")

    def module(self, step: ir.ModuleStep, pad: str, out: Lines) -> None:
        """DeepSquare `use`: the module's steps as one scope, with its inputs exported and a private
        $DEEPSQUARE_ENV from which only the declared outputs go back to the job's (jobc_module_enter,
        jobc_module_leave)."""
        at_commit = f" at commit {value(step.commit)}" if step.commit else ""
        out.append(f"{pad}# module {comment(step.module)}: {comment(step.file)}")
        out.append(f"{pad}# from {comment(step.source)}{at_commit}, sha256 {value(step.digest)}")
        out.append(pad + "(")
        out.append(f"{pad}  jobc_module_enter" + "".join(" " + var.key for var in step.env))
        for var in step.env:
            out.append(f"{pad}  export {var.key}={value(var.value)}")
        if launch_slots(step.steps):
            out.append(f"{pad}  {TRAP_LAUNCHES}")
        out.append("")
        self.scope(step.steps, pad + "  ", out)
        out.append("")
        out.append(f"{pad}  jobc_module_leave {value(step.export_prefix)}" + "".join(" " + key for key in step.outputs))
        out.append(pad + ")")


def status_of(var: str, body: Body, pad: str, out: Lines) -> None:
    """VAR := the exit status of BODY, run with errexit in a subshell (a `||` would turn errexit off inside it)."""
    out.append(pad + "set +e")
    out.append(pad + "(")
    out.append(pad + "  set -e")
    body(pad + "  ", out)
    out.append(pad + ")")
    out.append(f"{pad}{var}=$?")
    out.append(pad + "set -e")


def launch_slots(steps: tuple[ir.AnyStep, ...]) -> list[int]:
    return [step.slot for step in steps if isinstance(step, ir.LaunchStep)]


def end_scope(slots: list[int]) -> str:
    return "jobc_end_scope " + " ".join(map(str, slots))


def value(word: str | ir.Word) -> Sh:
    """A variable's value as one shell word (an `ir.Word` holds run-time parts)."""
    return render_word(word) if isinstance(word, ir.Word) else quote(word)


def write_piece(pad: str, text: str, out: Lines) -> None:
    """A line that may go on over several (an srun line's wrappers): under `pad`, each line after the first
    keeps the indent it has in `text`."""
    out.append(pad + text if "\n" not in text else indent(text, len(pad)))


def indent(text: str, width: int) -> str:
    """Every line that is not blank (whitespace only) gets `width` spaces in front.

    Scans in C, not a string per line: a line of whitespace ends in whitespace, so a text without a newline
    after whitespace (found by a search that skips to each newline and looks one character back) and without a
    last line of whitespace has none; then every line that is not empty is padded by one substitution. Only a
    text with a line that ends in whitespace takes the expression that keeps such a line as it is."""
    pad = " " * width
    last_line = text[text.rfind("\n") + 1 :]
    if _NEWLINE_AFTER_WHITESPACE.search(text) is None and not last_line.isspace():
        padded = _LINE_AFTER_NEWLINE.sub("\n" + pad, text)
        return padded if text[:1] in ("", "\n") else pad + padded
    if width not in _PADDED_BLANK:
        _PADDED_BLANK[width] = re.compile(r"^ {%d}([^\S\n]*)$" % width, re.MULTILINE)
    return _PADDED_BLANK[width].sub(r"\1", pad + text.replace("\n", "\n" + pad))


# A newline right after whitespace (the literal newline first lets `search` skip ahead fast).
_NEWLINE_AFTER_WHITESPACE = re.compile(r"\n(?<=[^\S\n]\n)")
# A newline that starts a line that is not empty.
_LINE_AFTER_NEWLINE = re.compile(r"\n(?=[^\n])")
_PADDED_BLANK: dict[int, re.Pattern[str]] = {}
