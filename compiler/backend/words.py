"""Single shell words built from literal text and run-time parts (`ir.Word`).

Literal text is single-quoted, run-time parts expand inside double quotes, so a
word never splits and no value becomes shell syntax. Neighbouring literal parts
are quoted together, which keeps words readable (`'type=bind,source=/a b'`).
"""

from __future__ import annotations

from .. import ir
from .quoting import Sh, quote

_USER_IDS = {"uid": '"$(id -u)"', "gid": '"$(id -g)"'}

# The shell variable holding each run-time place (templates/script.sh.j2 and the chunk loop set the jobc ones).
PLACES = {
    ir.Place.STORAGE: "STORAGE_PATH",
    ir.Place.SUBMIT: "SLURM_SUBMIT_DIR",
    ir.Place.HOME: "HOME",
    ir.Place.WORK: "JOBC_WORK_DIR",
    ir.Place.CHUNK: "JOBC_CHUNK_DIR",
}

# workDir is entered with `cd` inside the step, not with `srun --chdir`: srun runs a step whose
# directory is missing in /tmp, with a warning; `cd` fails the step, as the reference describes.
CD_WORKDIR = 'cd -- "$JOBC_WORKDIR" && exec "$@"'


class RunTime(Sh):
    """Shell text that expands when the step starts (part of a glued word)."""


def glue(parts: "list[str | RunTime]") -> Sh:
    """One word from literal text (quoted, neighbours together) and run-time expansions."""
    out: list[str] = []
    literal = ""
    for part in parts:
        if isinstance(part, RunTime):
            if literal:
                out.append(quote(literal))
                literal = ""
            out.append(part)
        else:
            literal += part
    if literal or not out:
        out.append(quote(literal))
    return Sh("".join(out))


def runtime_part(part: "ir.Var | ir.UserId") -> RunTime:
    if isinstance(part, ir.Var):
        return RunTime(f'"${{{PLACES[part.place]}}}"')
    return RunTime(_USER_IDS[part.which])


def render_word(word: "str | ir.Word") -> Sh:
    """One argv word: literal parts quoted, run-time parts expanded inside double quotes (no splitting)."""
    if isinstance(word, str):
        return quote(word)
    return glue([p if isinstance(p, str) else runtime_part(p) for p in word.parts])


def work_dir(step: ir.RunStep) -> Sh:
    """The directory the command starts in: workDir (relative to $STORAGE_PATH), or $STORAGE_PATH."""
    wd = step.work_dir
    if wd is None:
        return Sh('"$STORAGE_PATH"')
    if isinstance(wd, ir.Word) or wd.startswith("/"):
        return render_word(wd)
    return Sh(f'"$STORAGE_PATH"/{quote(wd)}')
