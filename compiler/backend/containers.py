"""Containers, for every runtime: fetch the image in the batch script, run the command in it on the nodes.

The batch script fetches a registry image once per step run, before `srun`
(`setup_lines`); the task runs the command in it (`task_wrapper`):

    enroot     jobc_enroot_import SOURCE FILE [REGISTRY USER SECRET]        (batch: netrc credentials, import)
               jobc_enroot IMAGE ENROOT_MOUNT_HOME=y|n [ENROOT_ROOTFS_WRITABLE=n] [--no-entrypoint] [--root] [--rw] \\
                   --mount HOST:DIR[:ro]… [--env=KEY=VALUE]… -- \\
                   [SHELL -c 'cd -- "$JOBC_WORKDIR" && exec "$@"' jobc-workdir] [ENTRYPOINT] COMMAND…
    apptainer  jobc_apptainer_pull SOURCE FILE [USER SECRET]                (batch: credentials in its env)
               apptainer exec|run [--fakeroot] [--no-home] [--writable-tmpfs] [--pwd DIR] \\
                   --bind HOST:DIR[:ro]… IMAGE [ENTRYPOINT] COMMAND…
    docker     jobc_engine docker|podman run [SITE…] [--user U] --rm [--read-only] \\
                   --mount type=bind,source=…,target=…[,readonly]… \\
               [--entrypoint E] [--env K=V]… [--mac-address M] [EXTRA…] [--hostname H] IMAGE COMMAND…

SECRET is the name of the secret (`ir.Secret.field`), never its value: the
value is in the `JOBC_SECRETS` table that templates/task.sh.j2 renders with
`secret()` (so `--redact` covers it), and only builtins (`printf`) and
environment assignments read it. With `mount_storage`, the job's storage is
mounted at the same path in the container, so $STORAGE_PATH and the
DEEPSQUARE_* variables stay valid; the caches ($DEEPSQUARE_*_TMP) are mounted
under /deepsquare, as the grid does, and their variables name those paths.

enroot has no working-directory flag and starts with a clean environment: the
directory travels in $JOBC_WORKDIR (never spliced into the command) and the
variables are passed by name (`--env KEY`): the spec's are listed in
$JOBC_CONTAINER_ENV, and `jobc_enroot` (templates/container.sh.j2) adds the
platform's, Slurm's, the loop's and those loaded from $DEEPSQUARE_ENV at run
time. The container's own variables (`ir.Container.env`) go by value,
`--env=KEY=VALUE`, and win over those. Apptainer keeps the host environment; the container's own variables
reach it as APPTAINERENV_KEY.

docker and podman containers are named `jobc-JOB-STEP-TASK` by `jobc_engine`
(templates/container.sh.j2), which removes the container when the step is
stopped (TERM/INT/HUP): podman's conmon leaves the Slurm step, so without it
a container would outlive a cancelled job. SITE is the profile's
`options.docker_args` / `options.podman_args` (how the engine is set up on
the nodes is the site's business).

On each node the step's enroot container is created once (under a node-local
flock; the lock file counts the node's tasks using it) and removed by the last
task to finish, also when the step is stopped with TERM/INT/HUP; a SIGKILL
leaves it behind (named jobc-JOB-STEP-NODE, so it is recognisable).

The home directory is mounted only when the spec asks (`mount_home`), and the
image's root filesystem is writable unless it asks otherwise (`read_only_root`),
whatever the site's defaults: enroot's settings are given to `enroot start` in
its environment, where they override enroot.conf; Apptainer gets `--no-home`
and `--writable-tmpfs` (a throw-away overlay; without it a SIF is read-only).

Mount values: enroot takes `HOST:DIR[:ro]` (the frontends refuse paths it
cannot mount); Apptainer's `--bind` the same, and its `--mount` where a path
holds `,` or `:` or is only known at run time; docker and podman take
`--mount` values, which they read as CSV (Go's encoding/csv): a field holding
`,` `"` or a newline is quoted, at compile time when the text is literal, by
`jobc_csv` when the step starts otherwise.
"""

from __future__ import annotations

import re

from .. import ir
from ..site import Site
from .quoting import Sh, quote, site_path, words
from .words import CD_WORKDIR, RunTime, glue, render_word, work_dir

SECRETS = "JOBC_SECRETS"
X11_IN_CONTAINER = "/tmp/.X11-unix"
STORAGE_MOUNT = Sh('"$STORAGE_PATH:$STORAGE_PATH"')
ENGINES = ("docker", "podman")
# The caches (templates/script.sh.j2): the host directory's variable, and where the grid mounts it.
CACHE_MOUNTS = (
    ("DEEPSQUARE_SHARED_TMP", "/deepsquare/tmp"),
    ("DEEPSQUARE_SHARED_WORLD_TMP", "/deepsquare/world-tmp"),
    ("DEEPSQUARE_DISK_TMP", "/deepsquare/disk/tmp"),
    ("DEEPSQUARE_DISK_WORLD_TMP", "/deepsquare/disk/world-tmp"),
)
CACHE_ENV = (("DEEPSQUARE_TMP", "/deepsquare/tmp"), *((var, target) for var, target in CACHE_MOUNTS))

# The shell variable each image location is relative to (templates/script.sh.j2 sets them).
IMAGE_BASES = {
    ir.ImageLocation.CACHE: "JOBC_IMAGE_CACHE",
    ir.ImageLocation.HOSTED: "JOBC_HOSTED_IMAGES",
    ir.ImageLocation.STORAGE: "STORAGE_PATH",
    ir.ImageLocation.INPUT: "DEEPSQUARE_INPUT",
    ir.ImageLocation.OUTPUT: "DEEPSQUARE_OUTPUT",
}


def secret_ref(secret: ir.Secret) -> Sh:
    """A double-quoted expansion of the secret's entry in the table (the value itself is not in the code)."""
    return Sh(f'"${{{SECRETS}[{quote(secret.field)}]}}"')


def image_path(c: ir.Container) -> Sh:
    assert c.image_location is not None, "plan_containers must run first"
    if c.image_location is ir.ImageLocation.ENGINE:
        return quote(f"{c.registry}/{c.image}" if c.registry else c.image)
    assert c.image_file is not None
    return Sh(f'"${IMAGE_BASES[c.image_location]}"/{quote(c.image_file)}')


def env_keys(step: ir.RunStep, job: ir.Job) -> list[str]:
    """Variables of the spec that enroot passes by name: the job's and the step's (each once). The container's
    own go by value (`--env=KEY=VALUE`): exported before `srun`, a PATH or HOME meant for the container would
    be the step's, srun's and enroot's."""
    assert step.container is not None
    keys: dict[str, None] = {}
    for var in job.env + step.env:
        keys.setdefault(var.key, None)
    if step.container.x11:
        keys.setdefault("DISPLAY", None)
    return list(keys)


def is_engine(c: ir.Container | None) -> bool:
    return c is not None and c.runtime in ENGINES


def needs_task_function(step: ir.RunStep) -> bool:
    """The runners of enroot, docker and podman are functions of the task library, started through `jobc_task`."""
    return step.container is not None and step.container.runtime != "apptainer"


def enters_work_dir(step: ir.RunStep) -> bool:
    """The container starts the command in the step's work directory itself (so srun need not)."""
    return step.container is not None and step.container.start_in_work_dir


def setup_lines(step: ir.RunStep, job: ir.Job) -> list[Sh]:
    c = step.container
    if c is None:
        return []
    lines: list[Sh] = []
    if c.image_source is not None:
        if c.runtime == "enroot":
            args: list = [Sh("jobc_enroot_import"), c.image_source, image_path(c)]
            if c.password is not None:
                args += [c.registry, c.username or "", c.password.field]
        else:
            args = [Sh("jobc_apptainer_pull"), c.image_source, image_path(c)]
            if c.password is not None:
                args += [c.username or "", c.password.field]
        lines.append(words(args))
    if c.runtime == "apptainer":
        lines += [Sh(f"export APPTAINERENV_{var.key}={render_word(var.value)}") for var in c.env]
    if c.runtime == "enroot":
        if c.start_in_work_dir:
            lines.append(Sh(f"export JOBC_WORKDIR={work_dir(step)}"))
        lines.append(Sh(f"export JOBC_CONTAINER_ENV={quote(' '.join(env_keys(step, job)))}"))
    return lines


def task_wrapper(step: ir.RunStep, site: Site) -> list[Sh]:
    """The words that run the command inside the container (the command's argv follows them)."""
    c = step.container
    if c is None:
        return []
    if c.runtime == "enroot":
        return _enroot(step, c, site)
    if c.runtime == "apptainer":
        return _apptainer(step, c, site)
    return _engine(c, site)


def _enroot(step: ir.RunStep, c: ir.Container, site: Site) -> list[Sh]:
    out: list[Sh] = [Sh("jobc_enroot"), image_path(c), Sh(f"ENROOT_MOUNT_HOME={'y' if c.mount_home else 'n'}")]
    if c.read_only_root:
        out.append(Sh("ENROOT_ROOTFS_WRITABLE=n"))
    if c.entrypoint or not c.keep_entrypoint:
        out.append(Sh("--no-entrypoint"))  # the command (or the given entrypoint) replaces the image's
    if step.map_root:
        out.append(Sh("--root"))
    if not c.read_only_root:
        out.append(Sh("--rw"))
    if c.mount_storage:
        out += [Sh("--mount"), STORAGE_MOUNT]
        out += _cache_options("--mount", "--env")
    for m in c.mounts:
        out += [Sh("--mount"), _colon_mount(m)]
    if c.x11:
        out += [Sh("--mount"), _x11(site)]
    out += [render_word(ir.word(f"--env={var.key}=", var.value)) for var in c.env]
    out.append(Sh("--"))
    if c.start_in_work_dir:
        shell = step.shell if step.argv is None else "/bin/sh"
        out += [quote(shell), Sh("-c"), quote(CD_WORKDIR), Sh("jobc-workdir")]
    if c.entrypoint:
        out.append(quote(c.entrypoint))
    return out


def _apptainer(step: ir.RunStep, c: ir.Container, site: Site) -> list[Sh]:
    run = c.keep_entrypoint and not c.entrypoint
    out: list[Sh] = [quote(site.tool("apptainer")), Sh("run" if run else "exec")]
    if step.map_root:
        out.append(Sh("--fakeroot"))
    if not c.mount_home:
        out.append(Sh("--no-home"))
    if not c.read_only_root:
        out.append(Sh("--writable-tmpfs"))
    if c.start_in_work_dir:
        out += [Sh("--pwd"), work_dir(step)]
    if c.mount_storage:
        out += [Sh("--bind"), STORAGE_MOUNT]
        out += _cache_options("--bind", "--env")
    for m in c.mounts:
        if _takes_csv(c, m):
            out += [Sh("--mount"), _csv_mount(m, target_key="destination", read_only="ro")]
        else:
            out += [Sh("--bind"), _colon_mount(m)]
    if c.x11:
        out += [Sh("--bind"), _x11(site)]
    out.append(image_path(c))
    if c.entrypoint:
        out.append(quote(c.entrypoint))
    return out


def _engine(c: ir.Container, site: Site) -> list[Sh]:
    """`jobc_engine ENGINE run …`: the runner names the container and removes it if the step is stopped."""
    out: list[Sh] = [Sh("jobc_engine"), quote(site.tool(c.runtime)), Sh("run")]
    out += [quote(arg) for arg in site.options[f"{c.runtime}_args"]]
    if c.user is not None:
        out += [Sh("--user"), render_word(c.user)]
    out.append(Sh("--rm"))
    if c.read_only_root:
        out.append(Sh("--read-only"))
    for m in _engine_mounts(c):
        out += [Sh("--mount"), _csv_mount(m, target_key="target", read_only="readonly")]
    if c.entrypoint:
        out += [Sh("--entrypoint"), quote(c.entrypoint)]
    for var in c.env:
        out += [Sh("--env"), render_word(ir.word(f"{var.key}=", var.value))]
    if c.mac_address:
        out += [Sh("--mac-address"), quote(c.mac_address)]
    out += [quote(arg) for arg in c.extra_args]
    if c.hostname:
        out += [Sh("--hostname"), quote(c.hostname)]
    out.append(image_path(c))
    return out


HOME = ir.Word((ir.Var(ir.Place.HOME),))


def _cache_options(mount: str, env: str) -> list[Sh]:
    """The caches mounted under /deepsquare, and their variables set to those paths in the container."""
    out: list[Sh] = []
    for var, target in CACHE_MOUNTS:
        out += [Sh(mount), Sh(f'"${var}:{target}"')]
    for var, target in CACHE_ENV:
        out += [Sh(env), Sh(f"{var}={target}")]
    return out


def _engine_mounts(c: ir.Container) -> tuple[ir.Mount, ...]:
    """docker and podman mount nothing of the host by default: the home directory is one more mount."""
    return ((ir.Mount(HOME, HOME, False),) if c.mount_home else ()) + c.mounts


def _x11(site: Site) -> Sh:
    return Sh(f"{site_path(site.paths['x11_socket_dir'])}:{X11_IN_CONTAINER}")


def _colon_mount(m: ir.Mount) -> Sh:
    return render_word(ir.word(m.host, ":", m.target, ":ro" if m.read_only else ""))


def _is_plain(path: "str | ir.Word") -> bool:
    return isinstance(path, str) and not re.search(r"[,:]", path)


def _takes_csv(c: ir.Container, m: ir.Mount) -> bool:
    """Whether the mount is written as a CSV `--mount` value (else as `HOST:DIR[:ro]`)."""
    if c.runtime == "enroot":
        return False
    if c.runtime == "apptainer":
        return not (_is_plain(m.host) and _is_plain(m.target))
    return True


def _csv_mount(m: ir.Mount, *, target_key: str, read_only: str) -> Sh:
    """`type=bind,source=…,target=…[,readonly]`: each field CSV-quoted when it needs it."""
    parts = ["type=bind,", _csv_field(ir.word("source=", m.host)), ",", _csv_field(ir.word(f"{target_key}=", m.target))]
    if m.read_only:
        parts.append("," + read_only)
    return glue(parts)


def csv_field(text: str) -> str:
    """A field of a docker/podman/apptainer --mount value, as Go's encoding/csv reads it."""
    if re.search(r'[,"\r\n]', text):
        return '"' + text.replace('"', '""') + '"'
    return text


def _csv_field(word: "str | ir.Word") -> "str | RunTime":
    if isinstance(word, str):
        return csv_field(word)
    return RunTime(f'"$(jobc_csv {render_word(word)})"')


def uses_csv(c: ir.Container) -> bool:
    """Whether a mount of this container quotes a CSV field at run time (`jobc_csv`)."""
    mounts = _engine_mounts(c) if c.runtime in ENGINES else c.mounts
    return any(_takes_csv(c, m) and not (isinstance(m.host, str) and isinstance(m.target, str)) for m in mounts)
