#!/bin/bash
# The project's whole test suite, on a fresh machine: installs what the tests need (Debian packages when
# run as root, Python packages in .venv), then runs pytest. The real-Slurm tests start their own
# munge/slurmctld/slurmd on 127.0.0.1 (tests/harness) and stop them by PID; they fail, never skip,
# when Slurm cannot start. They run on the host's Debian Slurm and, for the tests marked slurm_both, on the
# other one (22.05 from Debian 12, 24.11 from Debian 13) in a root filesystem the harness builds with
# mmdebstrap under build/slurm-rootfs/ (tests/harness/rootfs.py). Extra arguments go to pytest (e.g.
# `-m "not slurm"` for a quick loop, `--slurm-other=all|none|only` for more or less of the other Slurm).
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
exec .venv/bin/python -m pytest "$@"
