#!/bin/bash
# The project's whole test suite, on a fresh machine: installs what the tests need (Debian packages when
# run as root, Python packages in .venv), then runs pytest. The real-Slurm tests start their own
# munge/slurmctld/slurmd on 127.0.0.1 (tests/harness) and stop them by PID; they fail, never skip,
# when Slurm cannot start. They run on the host's Debian Slurm and, for the tests marked slurm_both, on the
# other one (22.05 from Debian 12, 24.11 from Debian 13) in a root filesystem the harness builds with
# mmdebstrap under build/slurm-rootfs/ (tests/harness/rootfs.py). Extra arguments go to pytest (e.g.
# `-m "not slurm"` for a quick loop, `--slurm-other=all|none|only` for more or less of the other Slurm).
# Without arguments it also runs the offline suite (`-m "not slurm"`) on the oldest and the newest Python jobc
# supports, 3.9 and 3.13 from pyenv (in .venv39 and .venv313), one after the other while the main run (mostly
# waiting on Slurm) goes on; a missing one is an error, never a skip. Those runs are lean: the property tests at
# a tenth of their examples (JOBC_HYPOTHESIS_PROFILE=quick), goldens only compared, and the tests whose verdict
# does not depend on the interpreter left to the main run (OTHER_PYTHON_SKIPS below).
# JOBC_PYTHON_OLDEST / JOBC_PYTHON_NEWEST name other interpreters.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

mapfile -t packages < <(grep -v '^#' tests/harness/debian-packages.txt)
# A package counts as there when it is installed or provided by one that is (NodeSource's nodejs provides npm).
provided=$(dpkg-query -W -f='${db:Status-Abbrev} ${Provides}\n' 2>/dev/null | awk '$1 == "ii" { $1 = ""; print }' |
  tr ',' '\n' | sed 's/([^)]*)//; s/^ *//; s/ *$//' | sort -u) || provided=""
missing=()
for pkg in "${packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || grep -qxF "$pkg" <<<"$provided" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [[ $(id -u) != 0 ]]; then
    echo "tests/run.sh: missing Debian packages (${missing[*]}); run as root to install them" >&2
    exit 1
  fi
  echo "tests/run.sh: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The Node tools of the schema tests (ajv-cli, yaml-language-server), pinned by tests/node/package-lock.json,
# in build/node/; npm ci runs again only when the lock file changes.
if ! cmp -s tests/node/package-lock.json build/node/package-lock.json || [[ ! -d build/node/node_modules ]]; then
  mkdir -p build/node
  cp tests/node/package.json tests/node/package-lock.json build/node/
  (cd build/node && npm ci --no-audit --no-fund --loglevel=error)
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[test]"  # editable: the tests run the checkout
export PATH="$PWD/.venv/bin:$PATH"
# Lint and format (ruff, pinned in the test extras, configured in pyproject.toml) before the tests.
.venv/bin/ruff check --quiet .
.venv/bin/ruff format --check --quiet .

# The oldest and the newest supported Python: requires-python in pyproject.toml and docs/contributing.md.
pyenv_python() { # VERSION: the interpreter of its newest pyenv build
  local found
  found=$(printf '%s\n' "${PYENV_ROOT:-/root/.pyenv}"/versions/"$1".*/bin/python"$1" | sort -V | tail -n 1)
  [[ -x $found ]] && echo "$found"
}
# Interpreter-independent verdicts, left to the main run: bash timing races of generated scripts (the same
# bytes on every Python, which the goldens check) and the Node schema tools reading the committed schemas.
OTHER_PYTHON_SKIPS=(--deselect tests/backend/test_runtime_races.py --deselect tests/test_schema_editors.py)
other_pythons=()
if (($#)); then
  echo "tests/run.sh: pytest arguments given, so the suite runs on this Python only (without arguments also on 3.9 and 3.13)" >&2
else
  for spec in "39:3.9:${JOBC_PYTHON_OLDEST:-}" "313:3.13:${JOBC_PYTHON_NEWEST:-}"; do
    IFS=: read -r tag version python <<<"$spec"
    python=${python:-$(pyenv_python "$version" || true)}
    if [[ -z $python || ! -x $python ]]; then
      echo "tests/run.sh: Python $version not found (looked in ${PYENV_ROOT:-/root/.pyenv}/versions/$version.*):" \
        "jobc supports 3.9 to 3.13 and the suite runs on both ends; install it (pyenv install $version)" \
        "or set JOBC_PYTHON_$([[ $tag == 39 ]] && echo OLDEST || echo NEWEST) to its interpreter" >&2
      exit 1
    fi
    "$python" -m venv ".venv$tag"
    ".venv$tag/bin/python" -m pip install -q --disable-pip-version-check -e ".[test]"
    other_pythons+=("$tag")
  done
fi

mkdir -p build/test-logs
others_pid=""
if ((${#other_pythons[@]})); then
  (
    for tag in "${other_pythons[@]}"; do
      # A base directory outside the checkout: a module source under a git work tree resolves differently.
      basetemp=$(mktemp -d "${TMPDIR:-/tmp}/jobc-py$tag.XXXXXX")
      status=0
      JOBC_HYPOTHESIS_PROFILE=quick PATH="$PWD/.venv$tag/bin:$PATH" ".venv$tag/bin/python" -m pytest \
        -m "not slurm" -p no:cacheprovider -q --basetemp="$basetemp/t" "${OTHER_PYTHON_SKIPS[@]}" \
        >"build/test-logs/py$tag.log" 2>&1 || status=$?
      rm -rf "$basetemp"
      echo "$status" >"build/test-logs/py$tag.status"
    done
  ) &
  others_pid=$!
fi

status=0
.venv/bin/python -m pytest "$@" || status=$?
if [[ -n $others_pid ]]; then
  wait "$others_pid"
  for tag in "${other_pythons[@]}"; do
    log="build/test-logs/py$tag.log"
    if [[ $(cat "build/test-logs/py$tag.status") == 0 ]]; then
      echo "tests/run.sh: offline suite on $(".venv$tag/bin/python" --version): $(grep -E '[0-9]+ passed' "$log" | tail -n 1)" >&2
    else
      echo "tests/run.sh: offline suite on .venv$tag failed; the end of $log:" >&2
      tail -n 80 "$log" >&2
      status=1
    fi
  done
fi
exit "$status"
