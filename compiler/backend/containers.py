"""Containers: fetch the image in the batch script, run the step's command in it on the nodes.

The batch script fetches a registry image once per step run, before `srun`
(`step_setup`); the task runs the command in it (`task_wrapper`):

    enroot     jobc_enroot_import SOURCE FILE [REGISTRY USER SECRET]        (batch: netrc credentials, import)
               jobc_enroot IMAGE [--root] --rw --mount HOST:DIR[:ro]… -- \\
                   SHELL -c 'cd -- "$JOBC_WORKDIR" && exec "$@"' jobc-workdir SHELL -c COMMAND
    apptainer  jobc_apptainer_pull SOURCE FILE [USER SECRET]                (batch: credentials in its env)
               apptainer exec [--fakeroot] --pwd DIR --bind HOST:DIR[:ro]… IMAGE SHELL -c COMMAND

SECRET is the name of the secret (`ir.Secret.field`), never its value: the
value is in the `JOBC_SECRETS` table that templates/task.sh.j2 renders with
`secret()` (so `--redact` covers it), and only builtins (`printf`) and
environment assignments read it. The job's storage is mounted at the same path
in the container, so $STORAGE_PATH and the DEEPSQUARE_* variables stay valid.

enroot has no working-directory flag and starts with a clean environment: the
directory travels in $JOBC_WORKDIR (never spliced into the command) and the
variables are passed by name (`--env KEY`): the spec's are listed in
$JOBC_CONTAINER_ENV, and `jobc_enroot` (templates/container.sh.j2) adds the
platform's, Slurm's, the loop's and those loaded from $DEEPSQUARE_ENV at run
time. Apptainer keeps the host environment.

On each node the step's enroot container is created once (under a node-local
flock; the lock file counts the node's tasks using it) and removed by the last
task to finish, also when the step is stopped with TERM/INT/HUP; a SIGKILL
leaves it behind (named jobc-JOB-STEP-NODE, so it is recognisable).
"""

from __future__ import annotations

from .. import ir
from ..site import Site
from .quoting import Sh, quote, site_path, words
from .srun import CD_WORKDIR, work_dir

SECRETS = "JOBC_SECRETS"
X11_IN_CONTAINER = "/tmp/.X11-unix"
STORAGE_MOUNT = Sh('"$STORAGE_PATH:$STORAGE_PATH"')


def secret_ref(secret: ir.Secret) -> Sh:
    """A double-quoted expansion of the secret's entry in the table (the value itself is not in the code)."""
    return Sh(f'"${{{SECRETS}[{quote(secret.field)}]}}"')


def image_path(c: ir.Container) -> Sh:
    assert c.image_file is not None and c.image_file_base, "plan_containers must run first"
    return Sh(f'"${c.image_file_base}"/{quote(c.image_file)}')




def env_keys(step: ir.RunStep, job: ir.Job) -> list[str]:
    """Variables of the spec that enroot passes by name: the job's, then the step's (each once)."""
    keys: dict[str, None] = {}
    for var in job.env + step.env:
        keys.setdefault(var.key, None)
    if step.container is not None and step.container.x11:
        keys.setdefault("DISPLAY", None)
    return list(keys)


def uses_task_library(step: ir.RunStep) -> bool:
    """The secrets table and the fetch functions live in the task library; enroot's runner too."""
    return step.container is not None


def needs_task_function(step: ir.RunStep) -> bool:
    return step.container is not None and step.container.runtime == "enroot"


def setup_lines(step: ir.RunStep, job: ir.Job) -> list[Sh]:
    c = step.container
    if c is None:
        return []
    lines: list[Sh] = []
    if c.image_source is not None:
        if c.runtime == "enroot":
            args: list = [Sh("jobc_enroot_import"), c.image_source, image_path(c)]
            if c.password is not None:
                args += [c.registry or "registry-1.docker.io", c.username or "", c.password.field]
        else:
            args = [Sh("jobc_apptainer_pull"), c.image_source, image_path(c)]
            if c.password is not None:
                args += [c.username or "", c.password.field]
        lines.append(words(args))
    if c.runtime == "enroot":
        lines.append(Sh(f"export JOBC_WORKDIR={work_dir(step)}"))
        lines.append(Sh(f"export JOBC_CONTAINER_ENV={quote(' '.join(env_keys(step, job)))}"))
    return lines


def task_wrapper(step: ir.RunStep, site: Site) -> list[Sh]:
    """The words that run the command inside the container (the command's argv follows them)."""
    c = step.container
    if c is None:
        return []
    x11 = site_path(site.paths["x11_socket_dir"])
    if c.runtime == "enroot":
        out: list[Sh] = [Sh("jobc_enroot"), image_path(c)]
        if step.map_root:
            out.append(Sh("--root"))
        out += [Sh("--rw"), Sh("--mount"), STORAGE_MOUNT]
        for m in c.mounts:
            out += [Sh("--mount"), _mount(m)]
        if c.x11:
            out += [Sh("--mount"), Sh(f"{x11}:{X11_IN_CONTAINER}")]
        shell = step.shell if step.argv is None else "/bin/sh"
        out += [Sh("--"), quote(shell), Sh("-c"), quote(CD_WORKDIR), Sh("jobc-workdir")]
        return out
    out = [quote(site.tool("apptainer")), Sh("exec")]
    if step.map_root:
        out.append(Sh("--fakeroot"))
    out += [Sh("--pwd"), work_dir(step), Sh("--bind"), STORAGE_MOUNT]
    for m in c.mounts:
        out += [Sh("--bind"), _mount(m)]
    if c.x11:
        out += [Sh("--bind"), Sh(f"{x11}:{X11_IN_CONTAINER}")]
    out.append(image_path(c))
    return out


def _mount(m: ir.Mount) -> Sh:
    return quote(f"{m.host_dir}:{m.container_dir}" + (":ro" if m.read_only else ""))
