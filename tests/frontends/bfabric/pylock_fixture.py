"""A tiny wheel built here (no network) and a PEP 751 `pylock.toml` naming it by path, for python_env tests.

The wheel `jobcdemo` has a module (`python -m jobcdemo` prints `module PREFIX ARGS…`) and a console script
(`jobcdemo-tool` prints `tool PREFIX ARGS…`), so a test sees which environment ran the command and how.
"""

from __future__ import annotations

import base64
import hashlib
import os
import sys
import zipfile
from pathlib import Path

WHEEL = "jobcdemo-1.0-py3-none-any.whl"
FILES = {
    "jobcdemo/__init__.py": "import sys\n\n\ndef main():\n    print('tool', sys.prefix, *sys.argv[1:])\n",
    "jobcdemo/__main__.py": "import sys\n\nprint('module', sys.prefix, *sys.argv[1:])\n",
    "jobcdemo-1.0.dist-info/METADATA": "Metadata-Version: 2.1\nName: jobcdemo\nVersion: 1.0\n",
    "jobcdemo-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: jobc-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    "jobcdemo-1.0.dist-info/entry_points.txt": "[console_scripts]\njobcdemo-tool = jobcdemo:main\n",
}
PYTHON_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"  # an interpreter uv finds without downloading
UV = Path(sys.executable).parent / "uv"  # the PyPI package `uv` of the test extras


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build(directory: Path) -> Path:
    """`directory`/jobcdemo-1.0-py3-none-any.whl and `directory`/pylock.toml; returns the lock file."""
    directory.mkdir(parents=True, exist_ok=True)
    record = []
    with zipfile.ZipFile(directory / WHEEL, "w") as wheel:
        for name, text in FILES.items():
            data = text.encode()
            wheel.writestr(name, data)
            record.append(f"{name},sha256={_digest(data)},{len(data)}")
        record.append("jobcdemo-1.0.dist-info/RECORD,,")
        wheel.writestr("jobcdemo-1.0.dist-info/RECORD", "\n".join(record) + "\n")
    sha = hashlib.sha256((directory / WHEEL).read_bytes()).hexdigest()
    lock = directory / "pylock.toml"
    lock.write_text(
        f'lock-version = "1.0"\ncreated-by = "jobc-tests"\n\n[[packages]]\nname = "jobcdemo"\n'
        f'version = "1.0"\n\n[[packages.wheels]]\nname = "{WHEEL}"\npath = "{WHEEL}"\n'
        f'hashes = {{sha256 = "{sha}"}}\n'
    )
    return lock


def uv_env(root: Path) -> dict[str, str]:
    """What a job needs for uv without network: its own cache, offline, no interpreter downloads."""
    return {
        "UV_CACHE_DIR": str(root / "uv-cache"),
        "UV_OFFLINE": "1",
        "UV_PYTHON_DOWNLOADS": "never",
        "XDG_CACHE_HOME": str(root / "cache"),
        # uv skips the interpreters of virtualenvs on PATH: the one this venv is made from is found last, in
        # its base_prefix (a pyenv Python is on no PATH)
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}:{Path(sys.base_prefix) / 'bin'}",
    }
