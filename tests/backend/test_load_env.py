"""jobc_load_env, run by bash outside Slurm: it exports exactly the `KEY=value` lines of $DEEPSQUARE_ENV whose key
is an identifier and not reserved (compiler/reserved.py, the rule of the spec's `env`), and logs the others.

The script's rule (a regular expression on the line, then a `case` of the reserved names) is checked against
Python's, on tricky lines and on generated ones, in the C and in a UTF-8 locale.
"""

from __future__ import annotations

import re
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobc import compile_spec
from jobc.reserved import is_reserved

SPEC = """
resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 256, gpusPerTask: 0}
steps:
  - name: s
    run: {command: "true"}
"""

TRICKY = [
    "KEY=value",
    "KEY==value",
    "=value",
    "__=x",
    "_a1=y z",
    "1A=x",
    "A-B=x",
    "A B=x",
    " A=x",
    "A =x",
    "#A=x",
    "# a comment",
    "",
    "no equals sign",
    "PATH=/x",
    "PATHX=1",
    "XPATH=1",
    "DEEPSQUARE_FOO=1",
    "DEEPSQUARE_=1",
    "DEEPSQUAREX=1",
    "SLURM_JOB_ID=1",
    "SLURM=1",
    "JOBC_=1",
    "JOBCX=1",
    "MEM=1",
    "MEM_=1",
    "HOME=/h",
    "ENV=1",
    "ENVX=1",
    "Ké=1",
    "é=1",
    "DEEPSQUARE_é=1",
    "A2=é",
    "A3=b=c",
    "LD_PRELOAD=x",
    "UID=0",
    "BASH_VERSINFO=9",
    "FUNCNEST=1",
    "BASHFUL=1",
    "LAST=no newline at the end",
]


def load_env_function() -> str:
    script = compile_spec(SPEC, name="job.yaml").script
    log = re.search(r"^jobc_log\(\) .*$", script, re.M).group(0)
    load = re.search(r"^jobc_load_env\(\) \{\n.*?^\}$", script, re.M | re.S).group(0)
    return log + "\n" + load


FUNCTIONS = load_env_function()
PROBE = """
set -euo pipefail
eval "$1"
for name in $(compgen -e); do
  case $name in PATH|LC_ALL|DEEPSQUARE_ENV) ;; *) unset "$name" ;; esac
done
jobc_load_env
env -0
"""


def expected(lines: list[str]) -> tuple[dict[str, str], list[str]]:
    exported: dict[str, str] = {}
    logged: list[str] = []
    for line in lines:
        if not line or line.startswith("#"):
            continue
        if not re.match(r"[A-Za-z_][A-Za-z0-9_]*=", line):
            logged.append("jobc: DEEPSQUARE_ENV: ignoring a line that is not KEY=value")
            continue
        key, value = line.split("=", 1)
        if is_reserved(key):
            logged.append(f"jobc: DEEPSQUARE_ENV: {key} is reserved, ignoring it")
        elif key != "_":  # exported, but bash sets `_` again before the probe can see it
            exported[key] = value
    return exported, logged


def run_load_env(tmp_path, lines: list[str], locale: str) -> tuple[dict[str, str], list[str]]:
    env_file = tmp_path / "env"
    env_file.write_bytes(("\n".join(lines)).encode("utf-8"))
    proc = subprocess.run(
        ["bash", "-c", PROBE, "probe", FUNCTIONS],
        env={"PATH": "/usr/bin:/bin", "LC_ALL": locale, "DEEPSQUARE_ENV": str(env_file)},
        capture_output=True,
        check=True,
    )
    names = {"PATH", "LC_ALL", "DEEPSQUARE_ENV", "PWD", "SHLVL", "_"}  # bash's own, or kept; `_` is env's path
    pairs = (item.split("=", 1) for item in proc.stdout.decode("utf-8").split("\0") if item)
    exported = {key: value for key, value in pairs if key not in names}
    return exported, proc.stderr.decode("utf-8").splitlines()


@pytest.mark.parametrize("locale", ["C", "C.UTF-8"])
def test_tricky_lines_follow_the_reserved_rule(tmp_path, locale):
    assert run_load_env(tmp_path, TRICKY, locale) == expected(TRICKY)


KEY_CHARS = st.sampled_from(list("AZaz_09=# -é") + ["PATH", "DEEPSQUARE_", "SLURM_", "JOBC_", "MEM", "HOME"])
LINES = st.lists(st.lists(KEY_CHARS, max_size=6).map("".join).map(lambda key: key + "=v"), min_size=1, max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=LINES)
def test_generated_lines_follow_the_reserved_rule(tmp_path, lines):
    assert run_load_env(tmp_path, lines, "C.UTF-8") == expected(lines)
