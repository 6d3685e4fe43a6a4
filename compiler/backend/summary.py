"""The header a reviewer reads first: the jobc version, the spec's SHA-256, and what the job does.

Plain `#` comment lines right after the `#SBATCH` lines. Everything in them comes from the IR, so they
are deterministic; secrets appear only as the names of their fields, so `--redact` changes nothing here.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import chain
from typing import Callable, Iterator

from .. import __version__, ir
from ..diagnostics import FieldPath, format_path
from .quoting import comment
from .srun import resources_text

INDENT = "  "


def header_lines(
    job: ir.Job, secrets: tuple[ir.Secret, ...], digest: str, path_text: Callable[[FieldPath], str] = format_path
) -> Iterator[str]:
    """The comment lines, without their leading `# `, each safe in a comment (`path_text`: `format_path`, or
    the render's memo of it, which the step comments use too). Made as the template takes them: a large job's
    lines (460 bytes each, a line per step) are never all held at once."""
    lines = [
        f"jobc {__version__}, spec sha256 {digest}",
        "",
        "What this job does (generated from the spec: edit the spec, not this script):",
        f"{INDENT}resources: {resources_text(job.resources)}{_job_gpus(job.resources)}",
    ]
    if job.input is not None:
        lines.append(f"{INDENT}input: {_transport(job.input)}")
    if job.output is not None:
        sync = ", synced while the job runs" if job.continuous_output_sync else ""
        lines.append(f"{INDENT}output: {_transport(job.output)}{sync}")
    if job.enable_logging:
        lines.append(f"{INDENT}logging: the job's output is also logged")
    lines.append(f"{INDENT}steps:")
    # A run step's resources in words, once per distinct resources: a large job's steps share a few.
    run_text = lru_cache(maxsize=None)(_run)
    if secrets:
        fields = ", ".join(s.field for s in secrets)
        last = f"{INDENT}secrets: this script holds {len(secrets)} ({fields}): keep it private (jobc -o writes 0600)"
    else:
        last = f"{INDENT}secrets: none"
    for line in chain(lines, _steps(job.steps, 2, path_text, run_text), (last,)):
        yield comment(line)


def _transport(t: ir.Transport) -> str:
    if isinstance(t, ir.HttpTransport):
        return f"HTTP {t.url}"
    return f"S3 {t.url or t.bucket_url} (region {t.region}, endpoint {t.endpoint_url}, key id {t.access_key_id})"


def _steps(
    steps: tuple[ir.AnyStep, ...],
    depth: int,
    path_text: Callable[[FieldPath], str],
    run_text: Callable[["ir.Resources | ir.PartialResources", tuple[str, ...]], str],
) -> Iterator[str]:
    """The lines of `steps` and of their nested steps."""
    pad = INDENT * depth
    for step in steps:
        head = path_text(step.path) + (f' "{step.name}"' if step.name else "")
        if step.depends_on:
            head += f" after {', '.join(step.depends_on)}"
        if step.condition:
            head += f" if [[ {step.condition} ]]"
        if isinstance(step, ir.RunStep):
            yield f"{pad}{head}: {run_text(step.resources, step.inherited)}"
            yield from [f"{pad}{INDENT}{detail}" for detail in _run_details(step)]
        elif isinstance(step, ir.LoopStep):
            yield f"{pad}{head}: {_loop(step)}"
            yield from _steps(step.steps, depth + 1, path_text, run_text)
        elif isinstance(step, ir.LaunchStep):
            signal = "left running" if step.signal == 0 else f"signal {step.signal}"
            handle = f" as {step.handle}" if step.handle else ""
            yield f"{pad}{head}: launched in the background{handle} (when its step list ends: {signal})"
            yield from _steps(step.steps, depth + 1, path_text, run_text)
        elif isinstance(step, ir.GroupStep):
            yield f"{pad}{head}: a group of steps, run in order"
            yield from _steps(step.steps, depth + 1, path_text, run_text)
        elif isinstance(step, ir.ModuleStep):
            yield f"{pad}{head}: {_module(step)}"
            yield from _steps(step.steps, depth + 1, path_text, run_text)
        else:
            yield f"{pad}{head}: prints its name"
        if step.catch:
            yield f"{pad}{INDENT}catch (when it fails):"
            yield from _steps(step.catch, depth + 2, path_text, run_text)
        if step.finally_steps:
            yield f"{pad}{INDENT}finally (always, also when the job is stopped):"
            yield from _steps(step.finally_steps, depth + 2, path_text, run_text)


def _module(step: ir.ModuleStep) -> str:
    at = f" at {step.commit[:12]}" if step.commit else ""
    text = f'module "{step.module}" ({step.file}{at})'
    if step.env:
        text += "; inputs " + ", ".join(var.key for var in step.env)
    if step.outputs:
        text += "; outputs " + ", ".join(f"{step.export_prefix}{key}" for key in step.outputs)
    return text


def _run(res: "ir.Resources | ir.PartialResources", inherited: tuple[str, ...]) -> str:
    text = resources_text(res) if isinstance(res, ir.Resources) else "resources unresolved"
    if inherited and isinstance(res, ir.Resources):
        text += " (the job's " + ", ".join(_INHERITED[name] for name in inherited) + ")"
    return text


def _job_gpus(res: ir.Resources) -> str:
    """A job giving its GPUs as a total (`gpus`) has no per-task figure: say the total."""
    if not res.total_gpus:
        return ""
    return f", {res.total_gpus} GPU{'s' if res.total_gpus != 1 else ''} (steps take them only when they ask)"


_INHERITED = {"cpus_per_task": "CPUs", "mem_per_cpu": "memory", "gpus_per_task": "GPUs"}


def _run_details(step: ir.RunStep) -> list[str]:
    out = []
    c = step.container
    if c is not None:
        image = f"{c.registry}/{c.image}" if c.registry and c.image_location is not ir.ImageLocation.ENGINE else c.image
        traits = [c.runtime]
        traits += ["the image's entrypoint"] if c.keep_entrypoint and not c.entrypoint and step.argv is not None else []
        traits += ["home mounted"] if c.mount_home else []
        traits += ["read-only root filesystem"] if c.read_only_root else []
        out.append(f"container: {image} ({', '.join(traits)})")
        for m in c.mounts:
            out.append(f"mount: {_path(m.host)} -> {_path(m.target)}{' (read-only)' if m.read_only else ''}")
    net = step.network
    if net.mode != "host":
        dns = f", dns {', '.join(net.dns)}" if net.dns else ""
        out.append(f"network: {net.mode}{dns}")
        for nic in net.interfaces:
            if isinstance(nic, ir.Wireguard):
                out.append(
                    f"WireGuard {nic.interface or 'interface'}: {', '.join(nic.addresses)}, "
                    f"{len(nic.peers)} peer{'s' if len(nic.peers) != 1 else ''}"
                )
            elif isinstance(nic, ir.Vnet):
                out.append(f"virtual network {nic.interface or 'interface'}: {nic.address} on {nic.name!r}")
            else:
                secret = ", with a secret" if nic.secret is not None else ""
                out.append(
                    f"{nic.client} tunnel {nic.interface or ''}: {nic.address}:{nic.port} -> local port "
                    f"{nic.target_port}{secret}"
                )
    if step.map_uid is not None or step.map_gid is not None:
        ids = [f"{what} {value}" for what, value in (("uid", step.map_uid), ("gid", step.map_gid)) if value is not None]
        out.append(f"runs as {' and '.join(ids)} in a user namespace")
    elif step.map_root:
        out.append("runs as root in a user namespace")
    return out


def _loop(step: ir.LoopStep) -> str:
    mode = "in parallel" if step.parallel else "one after the other"
    if isinstance(step.over, ir.ItemsLoop):
        n = len(step.over.items)
        return f"for ${step.variable or 'item'} in {n} item{'s' if n != 1 else ''}, {mode}"
    if isinstance(step.over, ir.RangeLoop):
        r = step.over
        return f"for ${step.variable or 'index'} from {r.begin} to {r.end} by {r.increment}, {mode}"
    return "the first step once in the work directory, then the others for each chunk directory it creates"


def _path(path: "str | ir.Word") -> str:
    if isinstance(path, str):
        return path
    return "".join(
        p if isinstance(p, str) else f"<{p.place.value if isinstance(p, ir.Var) else p.which}>" for p in path.parts
    )
