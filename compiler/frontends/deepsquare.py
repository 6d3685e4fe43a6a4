"""DeepSquare job specs -> IR.

Validation is the models' job (`deepsquare_models`); this module only maps a
valid model onto IR nodes, keeping the field path of every node. Defaults are
left unresolved (`None`) for the passes to decide.
"""

from __future__ import annotations

from typing import Any

from .. import ir
from ..diagnostics import FieldPath, SpecError
from . import deepsquare_models as m
from .validation import valid_part, validate


def looks_like(data: Any) -> bool:
    return isinstance(data, dict) and ("steps" in data or "resources" in data)


def to_ir(data: Any, *, name: str) -> ir.Job:
    job, problems = validate(m.Job, data)
    if problems:
        exc = SpecError(problems)
        exc.valid_part = valid_part(m.Job, data, problems)  # for the passes' checks (see compile_spec)
        raise exc
    assert isinstance(job, m.Job)
    res = job.resources
    return ir.Job(
        name=name,
        resources=ir.Resources(res.tasks, res.cpusPerTask, res.memPerCpu, res.gpusPerTask),
        steps=_steps(job.steps, ("steps",)),
        env=_env(job.env, ("env",)),
        input=_transport(job.input, ("input",)),
        input_mode=job.inputMode,
        output=_transport(job.output, ("output",)),
        continuous_output_sync=bool(job.continuousOutputSync),
        enable_logging=bool(job.enableLogging),
        field_paths=(("continuous_output_sync", ("continuousOutputSync",)),),
    )


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


def _steps(steps: list[m.Step], path: FieldPath) -> tuple[ir.AnyStep, ...]:
    return tuple(_step(step, path + (i,)) for i, step in enumerate(steps))


def _step(step: m.Step, path: FieldPath) -> ir.AnyStep:
    common: dict[str, Any] = dict(name=step.name, depends_on=tuple(step.dependsOn or ()), path=path)
    depends_on = (("depends_on", path + ("dependsOn",)),)
    if step.run is not None:
        rpath = path + ("run",)
        common["field_paths"] = depends_on + (("resources", rpath + ("resources",)), ("command", rpath + ("command",)))
        return _run(step.run, rpath, common)
    if step.for_ is not None:
        common["field_paths"] = depends_on + (("over", path + ("for", "range" if step.for_.range else "items")),)
        loop = step.for_
        fpath = path + ("for",)
        if loop.items is not None:
            over: ir.ItemsLoop | ir.RangeLoop = ir.ItemsLoop(tuple(loop.items))
        else:
            assert loop.range is not None
            over = ir.RangeLoop(loop.range.begin, loop.range.end, loop.range.increment or 1)
        return ir.LoopStep(over=over, parallel=loop.parallel, steps=_steps(loop.steps, fpath + ("steps",)), **common)
    if step.launch is not None:
        common["field_paths"] = depends_on + (("handle", path + ("launch", "handleName")),)
        launch = step.launch
        signal = 15 if launch.signalOnParentStepExit is None else launch.signalOnParentStepExit
        return ir.LaunchStep(
            handle=launch.handleName, signal=signal, steps=_steps(launch.steps, path + ("launch", "steps")), **common
        )
    return ir.NoteStep(**common, field_paths=depends_on)


def _run(run: m.StepRun, path: FieldPath, common: dict) -> ir.RunStep:
    res = run.resources
    resources = (
        ir.PartialResources(res.tasks, res.cpusPerTask, res.memPerCpu, res.gpusPerTask)
        if res
        else ir.PartialResources()
    )
    interfaces: list[ir.NetworkInterface] = []
    for i, nic in enumerate(run.customNetworkInterfaces or ()):
        npath = path + ("customNetworkInterfaces", i)
        if nic.wireguard is not None:
            interfaces.append(_wireguard(nic.wireguard, npath + ("wireguard",)))
        elif nic.bore is not None:
            interfaces.append(ir.Bore(nic.bore.address, nic.bore.port, nic.bore.targetPort, npath + ("bore",)))
    return ir.RunStep(
        command=run.command,
        shell=run.shell or "/bin/sh",
        resources=resources,
        env=_env(run.env, path + ("env",)),
        container=_container(run.container, path + ("container",)),
        network=ir.Network(run.network or "host", tuple(run.dns or ()), tuple(interfaces)),
        map_root=bool(run.mapRoot),
        work_dir=run.workDir,
        disable_cpu_binding=bool(run.disableCpuBinding),
        mpi=run.mpi,
        **common,
    )


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


def _container(c: m.ContainerRun | None, path: FieldPath) -> ir.Container | None:
    if c is None:
        return None
    hosted = bool(c.deepsquareHosted)
    return ir.Container(
        image=c.image,
        registry=c.registry,
        username=c.username,
        password=ir.Secret(c.password, format_field(path + ("password",))) if c.password else None,
        runtime="apptainer" if (c.apptainer or hosted) else "enroot",
        hosted=hosted,
        x11=bool(c.x11),
        mounts=tuple(
            ir.Mount(mt.hostDir, mt.containerDir, mt.options == "ro", path + ("mounts", i))
            for i, mt in enumerate(c.mounts or ())
        ),
        path=path,
    )
