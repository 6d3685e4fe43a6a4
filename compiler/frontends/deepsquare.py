"""DeepSquare job specs -> IR.

Validation is the models' job (`deepsquare_models`); this module only maps a
valid model onto IR nodes, keeping the field path of every node. Defaults are
left unresolved (`None`) for the passes to decide.
"""

from __future__ import annotations

import shlex
from dataclasses import replace
from typing import Any

from .. import ir
from ..diagnostics import Diagnostic, FieldPath, SpecError, fail, warning
from . import deepsquare_models as m
from .deepsquare_use import UseContext, lower_use, top_context
from .validation import valid_part, validate


def looks_like(data: Any) -> bool:
    return isinstance(data, dict) and ("steps" in data or "resources" in data)


def to_ir(data: Any, *, name: str, spec_file: str = "job.yaml", offline: bool = False, module_cache=None) -> ir.Job:
    context = dict(spec_name=spec_file, offline=offline, cache_root=module_cache)
    lowered = _in_pieces(data, context)
    if lowered is None:
        job, problems = validate(m.Job, data)
        if problems:
            exc = SpecError(problems)
            exc.valid_part = valid_part(m.Job, data, problems)  # for the passes' checks (see compile_spec)
            raise exc
        assert isinstance(job, m.Job)
        ctx = top_context(job, data, **context)
        steps = _steps(job.steps, ("steps",), ctx)
    else:
        job, ctx, steps = lowered
    res = job.resources
    if ctx.problems:
        fail(ctx.problems)
    return ir.Job(
        name=name,
        resources=ir.Resources(res.tasks, res.cpusPerTask, res.memPerCpu, res.gpusPerTask or 0, total_gpus=res.gpus),
        steps=steps,
        warnings=tuple(ctx.warnings),
        env=_env(job.env, ("env",)),
        input=_transport(job.input, ("input",)),
        input_mode=job.inputMode,
        output=_transport(job.output, ("output",)),
        continuous_output_sync=bool(job.continuousOutputSync),
        enable_logging=bool(job.enableLogging),
        virtual_networks=tuple(
            ir.VirtualNetwork(v.name, v.gatewayAddress, ("virtualNetworks", i))
            for i, v in enumerate(job.virtualNetworks or ())
        ),
        field_paths=(("continuous_output_sync", ("continuousOutputSync",)),),
    )


def _in_pieces(data: Any, context: dict) -> tuple[m.Job, UseContext, tuple[ir.AnyStep, ...]] | None:
    """The job's model without its steps, and its steps' IR, each top-level step validated and lowered in turn.

    Validated whole, a job's models all exist at once beside its data: 127 MB for 100,000 flat steps, the peak
    of a large compile. A job is valid if and only if its fields other than `steps` and each of its steps are
    (`Job` checks nothing across them). On the first problem, or any failure while lowering, this gives up
    (None) and the job is validated whole and lowered as always, so that every problem is found, worded and
    ordered as it was.
    """
    steps = data.get("steps") if isinstance(data, dict) else None
    if not isinstance(steps, list):
        return None
    try:
        job = m.Job.model_validate({**data, "steps": []})
        ctx = top_context(job, data, **context)
        validated = m.Step.model_validate
        return job, ctx, tuple(_step(validated(steps[i]), ("steps", i), ctx) for i in range(len(steps)))
    except Exception:  # noqa: BLE001 - validated whole, the job gives its problems (or the failure) as before
        return None


def _env(env: list[m.EnvVar] | None, path: FieldPath) -> tuple[ir.EnvVar, ...]:
    return tuple(ir.EnvVar(e.key, e.value, path + (i,)) for i, e in enumerate(env or ()))


def _transport(data: m.TransportData | None, path: FieldPath) -> ir.Transport | None:
    if data is None:
        return None
    if data.http is not None:
        return ir.HttpTransport(data.http.url, path + ("http",))
    s3 = data.s3
    assert s3 is not None
    return ir.S3Transport(
        region=s3.region,
        bucket_url=s3.bucketUrl,
        key_path=s3.path,
        access_key_id=s3.accessKeyId,
        secret_access_key=ir.Secret(s3.secretAccessKey, format_field(path + ("s3", "secretAccessKey"))),
        endpoint_url=s3.endpointUrl,
        delete_sync=bool(s3.deleteSync),
        path=path + ("s3",),
    )


def format_field(path: FieldPath) -> str:
    from ..diagnostics import format_path

    return format_path(path)


def _steps(steps: list[m.Step], path: FieldPath, ctx: UseContext) -> tuple[ir.AnyStep, ...]:
    """The steps' IR; each step's model is let go once lowered (it is read once; the models of a large job
    weigh as much as its IR)."""
    return tuple(_step(_take(steps, i), path + (i,), ctx) for i in range(len(steps)))


def _take(steps: list[m.Step], i: int) -> m.Step:
    step, steps[i] = steps[i], None  # type: ignore[call-overload]
    return step


_LOCATED = (("depends_on", ir.Below(("dependsOn",))), ("condition", ir.Below(("if",))))
_RUN_FIELDS = _LOCATED + tuple(
    (key, ir.Below(("run", name)))
    for key, name in (("resources", "resources"), ("command", "command"), ("map_uid", "mapUid"))
)
_LOOP_FIELDS = {kind: _LOCATED + (("over", ir.Below(("for", kind))),) for kind in ("range", "items")}
_LAUNCH_FIELDS = _LOCATED + (("handle", ir.Below(("launch", "handleName"))),)


def _step(step: m.Step, path: FieldPath, ctx: UseContext) -> ir.AnyStep:
    """One step's IR. Its `field_paths` are relative (`ir.Below`), one tuple shared by every step of a kind."""
    common: dict[str, Any] = dict(
        name=step.name,
        depends_on=tuple(step.dependsOn or ()),
        condition=step.if_ or None,
        catch=_steps(step.catch, path + ("catch",), ctx) if step.catch else (),
        finally_steps=_steps(step.finally_, path + ("finally",), ctx) if step.finally_ else (),
        path=path,
    )
    if step.run is not None:
        common["field_paths"] = _RUN_FIELDS
        return _run(step.run, path + ("run",), common, ctx.warnings)
    if step.for_ is not None:
        loop = step.for_
        common["field_paths"] = _LOOP_FIELDS["range" if loop.range else "items"]
        fpath = path + ("for",)
        if loop.items is not None:
            over: ir.ItemsLoop | ir.RangeLoop = ir.ItemsLoop(tuple(loop.items))
        else:
            assert loop.range is not None
            over = ir.RangeLoop(loop.range.begin, loop.range.end, loop.range.increment or 1)
        return ir.LoopStep(
            over=over, parallel=loop.parallel, steps=_steps(loop.steps, fpath + ("steps",), ctx), **common
        )
    if step.launch is not None:
        common["field_paths"] = _LAUNCH_FIELDS
        launch = step.launch
        signal = 15 if launch.signalOnParentStepExit is None else launch.signalOnParentStepExit
        return ir.LaunchStep(
            handle=launch.handleName,
            signal=signal,
            steps=_steps(launch.steps, path + ("launch", "steps"), ctx),
            **common,
        )
    if step.use is not None:
        return lower_use(step, path, ctx, _steps, dict(common, field_paths=_LOCATED))
    if step.steps:
        return ir.GroupStep(steps=_steps(step.steps, path + ("steps",), ctx), **common, field_paths=_LOCATED)
    return ir.NoteStep(**common, field_paths=_LOCATED)


_NO_RESOURCES = ir.PartialResources()  # frozen: one for every step that gives none
_HOST_NETWORK = ir.Network("host", (), ())


def _run(run: m.StepRun, path: FieldPath, common: dict, notes: list[Diagnostic]) -> ir.RunStep:
    res = run.resources
    resources = (
        ir.PartialResources(res.tasks, res.cpusPerTask, res.memPerCpu, res.gpusPerTask) if res else _NO_RESOURCES
    )
    interfaces: list[ir.NetworkInterface] = []
    for i, nic in enumerate(run.customNetworkInterfaces or ()):
        npath = path + ("customNetworkInterfaces", i)
        if nic.wireguard is not None:
            interfaces.append(_wireguard(nic.wireguard, npath + ("wireguard",)))
        elif nic.bore is not None:
            interfaces.append(_bore(nic.bore, npath + ("bore",)))
        elif nic.vnet is not None:
            interfaces.append(ir.Vnet(nic.vnet.name, nic.vnet.address, npath + ("vnet",)))
    container = _container(run.container, path + ("container",), notes)
    argv, container = _command(run, container, path, notes)
    return ir.RunStep(
        command=run.command,
        shell="/bin/sh" if run.shell in (None, "ENTRYPOINT") else run.shell,
        argv=argv,
        resources=resources,
        env=_env(run.env, path + ("env",)),
        container=container,
        network=ir.Network(run.network or "host", tuple(run.dns or ()), tuple(interfaces))
        if run.network not in (None, "host") or run.dns or interfaces
        else _HOST_NETWORK,
        map_root=bool(run.mapRoot),
        map_uid=run.mapUid,
        map_gid=run.mapGid,
        work_dir=run.workDir,
        disable_cpu_binding=bool(run.disableCpuBinding),
        mpi=run.mpi,
        **common,
    )


def _bore(bore: m.Bore, path: FieldPath) -> ir.Bore:
    """`boreAddress` (split at its last colon) or `address` + `port`; dpsproxy for the current form or a secret."""
    if bore.boreAddress is not None:
        host, _, port = bore.boreAddress.rpartition(":")
        address, number = host, int(port)
    else:
        assert bore.address is not None and bore.port is not None
        address, number = bore.address, bore.port
    secret = ir.Secret(bore.secret, format_field(path + ("secret",))) if bore.secret is not None else None
    current = bore.boreAddress is not None or secret is not None
    return ir.Bore(address, number, bore.targetPort, secret, "dpsproxy" if current else "bore", path)


def _command(
    run: m.StepRun, container: ir.Container | None, path: FieldPath, notes: list[Diagnostic]
) -> tuple[tuple[str, ...] | None, ir.Container | None]:
    """The argv of `shell: ENTRYPOINT` and of an empty command, which the image's entrypoint receives.

    ENTRYPOINT splits the command into words that arrive literally (empty words too); an empty
    command in a container runs the image's own entrypoint and command. Else `shell -c command`.
    """
    empty = run.command == ""
    if container is None:
        if empty:
            notes.append(warning(path + ("command",), "is empty: without a container, this step runs nothing"))
        return None, None
    if run.shell != "ENTRYPOINT" and not empty:
        return None, container
    start_in_work_dir = container.runtime != "enroot"
    if not start_in_work_dir and run.workDir is not None:
        notes.append(
            warning(
                path + ("workDir",),
                "is not used: with enroot, the image's entrypoint starts in the image's working directory",
            )
        )
    keep = replace(container, keep_entrypoint=True, start_in_work_dir=start_in_work_dir)
    return tuple(shlex.split(run.command)), keep


def _wireguard(wg: m.Wireguard, path: FieldPath) -> ir.Wireguard:
    peers = tuple(
        ir.WireguardPeer(
            public_key=p.publicKey,
            allowed_ips=tuple(p.allowedIPs or ()),
            endpoint=p.endpoint,
            preshared_key=ir.Secret(p.preSharedKey, format_field(path + ("peers", i, "preSharedKey")))
            if p.preSharedKey
            else None,
            persistent_keepalive=p.persistentKeepalive,
        )
        for i, p in enumerate(wg.peers or ())
    )
    return ir.Wireguard(
        tuple(wg.address or ()), ir.Secret(wg.privateKey, format_field(path + ("privateKey",))), peers, path
    )


def _container(c: m.ContainerRun | None, path: FieldPath, notes: list[Diagnostic]) -> ir.Container | None:
    if c is None:
        return None
    if c.mounts is not None:
        notes.append(
            warning(path + ("mounts",), "are deprecated by DeepSquare's current schema: jobc still mounts them")
        )
    hosted = bool(c.deepsquareHosted)
    return ir.Container(
        image=c.image,
        registry=c.registry,
        username=c.username,
        password=ir.Secret(c.password, format_field(path + ("password",))) if c.password else None,
        runtime="apptainer" if (c.apptainer or hosted) else "enroot",
        hosted=hosted,
        x11=bool(c.x11),
        mount_home=bool(c.mountHome),
        read_only_root=bool(c.readOnlyRootFS),
        mounts=tuple(
            ir.Mount(mt.hostDir, mt.containerDir, mt.options == "ro", path + ("mounts", i))
            for i, mt in enumerate(c.mounts or ())
        ),
        path=path,
    )
