"""The shape of the package: imports flow one way with no cycle, and only the backend writes shell.

frontends -> IR <- passes;  backend -> IR;  nothing under frontends/ or passes/ imports the backend,
and no string literal there holds shell text or a runtime tool's command-line flag.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import REPO

PACKAGE = REPO / "compiler"

# Options of the tools the scripts run (srun, enroot, apptainer, docker, podman, curl, s5cmd, slirp4netns, …):
# the backend's business alone.
TOOL_FLAGS = (
    "--mount",
    "--bind",
    "--env",
    "--rm",
    "--entrypoint",
    "--user",
    "--hostname",
    "--mac-address",
    "--pwd",
    "--fakeroot",
    "--root",
    "--rw",
    "--output",
    "--chdir",
    "--ntasks",
    "--cpus-per-task",
    "--mem-per-cpu",
    "--job-name",
    "--export",
    "--retry-count",
    "--configure",
    "--map-root-user",
)
SHELL_TEXT = ("$(", "&&", "||", "exec ", "jobc_", " 2>", " >")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["jobc", *parts])


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """jobc modules that `name` imports anywhere in it (inside functions too: a lazy import is still an edge)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            candidates = [target] + [f"{target}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        found |= {c for c in candidates if c in MODULES and c != name}
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def test_the_package_is_found() -> None:
    assert {"jobc.ir", "jobc.backend.render", "jobc.frontends.bfabric.lower", "jobc.passes"} <= set(MODULES)


def test_no_import_cycle() -> None:
    """A package's __init__ may import its own submodules; apart from that, no module reaches itself again."""

    def edges(name: str) -> set[str]:
        return {t for t in GRAPH[name] if not (MODULES[name].name == "__init__.py" and t.startswith(name + "."))}

    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(name: str) -> None:
        state[name] = 1
        stack.append(name)
        for target in sorted(edges(name)):
            if state.get(target) == 1:
                cycle = stack[stack.index(target) :] + [target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[name] = 2

    for name in sorted(MODULES):
        if name not in state:
            visit(name)


@pytest.mark.parametrize(
    "layer, forbidden",
    [
        ("jobc.frontends", ("jobc.backend", "jobc.passes")),
        ("jobc.passes", ("jobc.backend", "jobc.frontends")),
        ("jobc.backend", ("jobc.frontends", "jobc.passes", "jobc.modules")),
        # DeepSquare `use`: resolved at compile time (git runs here, not in the script); the frontend uses it
        ("jobc.modules", ("jobc.backend", "jobc.frontends", "jobc.passes", "jobc.ir")),
        ("jobc.ir", ("jobc.backend", "jobc.frontends", "jobc.passes", "jobc.site")),
        ("jobc.site", ("jobc.backend", "jobc.frontends", "jobc.passes")),
    ],
)
def test_imports_flow_one_way(layer: str, forbidden: tuple[str, ...]) -> None:
    wrong = sorted(
        f"{name} imports {target}"
        for name, targets in GRAPH.items()
        if name == layer or name.startswith(layer + ".")
        for target in targets
        if target.startswith(forbidden)
    )
    assert not wrong, wrong


def _string_literals(path: Path):
    """Every string constant of a module that is not a docstring."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                docstrings.add(id(first.value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node.lineno, node.value


@pytest.mark.parametrize("name", [n for n in MODULES if n.startswith(("jobc.frontends", "jobc.passes"))])
def test_frontends_and_passes_write_no_shell(name: str) -> None:
    found = [
        f"{MODULES[name].name}:{line}: {text!r}"
        for line, text in _string_literals(MODULES[name])
        if any(flag in text.split() or text.startswith(flag + "=") for flag in TOOL_FLAGS)
        or any(piece in text for piece in SHELL_TEXT)
    ]
    assert not found, found


def test_the_check_finds_shell_text() -> None:
    """The check above can fail: the backend's own modules are full of what it looks for."""
    found = [
        text
        for line, text in _string_literals(MODULES["jobc.backend.containers"])
        if any(flag in text.split() for flag in TOOL_FLAGS) or any(piece in text for piece in SHELL_TEXT)
    ]
    assert found


def test_pydantic_model_modules_give_pydantic_their_annotations_as_objects() -> None:
    """Without `from __future__ import annotations` pydantic reads a model's annotations as they are, instead of
    evaluating each one's string when the models are built (about 10 ms of a cold compile); a forward reference
    is quoted where it is written (docs/contributing.md)."""
    import __future__

    import importlib
    import inspect

    from pydantic import BaseModel

    models = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "__main__.py":
            continue
        name = "jobc." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts).removesuffix(".__init__")
        module = importlib.import_module(name)
        own = [c for c in vars(module).values() if inspect.isclass(c) and c.__module__ == name]
        if any(issubclass(c, BaseModel) for c in own):
            models.append(name)
            assert getattr(module, "annotations", None) is not __future__.annotations, name
    assert {"jobc.frontends.deepsquare_models", "jobc.frontends.bfabric.models"} <= set(models), models
