#!/usr/bin/python3 -S
"""Fake cluster tools for the injection tests: one file, linked under each tool's name.

Every call appends one JSON line to $SEC_LOG: the tool, its argv (without its own name), the cwd
and the variables that carry values the tests check (AWS_*, APPTAINER_DOCKER_*, registry
credentials). Then the tool does just enough for the generated script to go on:

srun       parses options up to `--`, sets SLURM_* for the step, enters --chdir, execs the rest
unshare    drops its options and execs the command (no namespace)
apptainer  pull creates the image file; exec (and run, as if the runscript were `exec "$@"`) runs the
           command on the host in --pwd
enroot     import creates --output (recording .credentials); start runs the command with --env vars
docker     records, then runs the command after the image (bfabric apps)
probe      (the step command) writes argv, env and cwd to DIR/TAG.PID.json: `probe DIR TAG [ARGS]`
dispatch   a probe that also creates one chunk in its last argument (bfabric dispatch)
slirp4netns  records and reports "ready" on --ready-fd=3 (jobc_netns then goes on, without a namespace)
mount      records (with the text of a --bind source file) and mounts nothing
wg-quick   records, with the text of the config file it is given
others     (s5cmd, curl, scancel, bore) record and succeed; curl writes a small file for --output
"""

import os
import sys
import time

TOOL = os.path.basename(sys.argv[0])
ARGS = sys.argv[1:]


# JSON by hand: importing the json module doubles the start-up time of a shim.
_ESC = {c: f"\\u{c:04x}" for c in list(range(32)) + [0x7F] + list(range(0xD800, 0xE000))}
_ESC.update({ord('"'): '\\"', ord("\\"): "\\\\"})


def to_json(value) -> str:
    if isinstance(value, str):
        return '"' + value.translate(_ESC) + '"'
    if isinstance(value, dict):
        return "{" + ", ".join(f"{to_json(k)}: {to_json(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(to_json(v) for v in value) + "]"
    if value is None:
        return "null"
    return str(value)


def record(**extra):
    env = {k: v for k, v in os.environ.items() if k.startswith(("AWS_", "APPTAINER_DOCKER_", "SLURM_"))}
    entry = {"tool": TOOL, "argv": ARGS, "cwd": os.getcwd(), "env": env, **extra}
    line = (to_json(entry) + "\n").encode()
    fd = os.open(os.environ["SEC_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def _read(path):
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def execvp(argv, env=None):
    sys.stdout.flush()
    if env is None:
        os.execvp(argv[0], argv)
    os.execvpe(argv[0], argv, env)


def split_opts(rest, with_value):
    opts = []
    while rest and rest[0].startswith("-") and rest[0] != "--":
        opt = rest.pop(0)
        opts.append(opt)
        if opt in with_value and rest:
            opts.append(rest.pop(0))
    if rest and rest[0] == "--":
        rest.pop(0)
    return opts, rest


def main():
    if TOOL == "srun":
        record()
        rest = list(ARGS)
        chdir = None
        while rest and rest[0] != "--":
            opt = rest.pop(0)
            if opt.startswith("--chdir="):
                chdir = opt[len("--chdir=") :]
        rest = rest[1:]
        with open(os.environ["SEC_LOG"], "rb") as fh:
            n = fh.read().count(b"\n") - 1
        os.environ.update(SLURM_STEP_ID=str(n), SLURM_PROCID="0", SLURMD_NODENAME="node1")
        if chdir is not None:
            os.chdir(chdir)
        execvp(rest)
    if TOOL == "unshare":
        record()
        _, rest = split_opts(list(ARGS), set())
        execvp(rest)
    if TOOL in ("probe", "dispatch"):
        out, tag = ARGS[0], ARGS[1]
        data = {
            "argv": ARGS[2:],
            "env": dict(os.environ),
            "cwd": os.environ.get("PWD", ""),
            "realcwd": os.getcwd(),
            "t": time.monotonic_ns(),
        }
        with open(os.path.join(out, f"{tag}.{os.getpid()}.json"), "w", encoding="utf-8") as fh:
            fh.write(to_json(data))
        if TOOL == "dispatch":
            chunk = os.path.join(ARGS[-1], "chunk-1")
            os.makedirs(chunk, exist_ok=True)
            open(os.path.join(chunk, "inputs.yml"), "w").close()
        return 0
    if TOOL == "apptainer":
        cmd = ARGS[0] if ARGS else ""
        if cmd == "pull":
            record()
            rest = [a for a in ARGS[1:] if not a.startswith("-")]
            with open(rest[0], "w") as fh:
                fh.write("fake sif\n")
            return 0
        if cmd in ("exec", "run"):  # run: as if the image's runscript were `exec "$@"`
            opts, rest = split_opts(list(ARGS[1:]), {"--pwd", "--bind", "-B", "--env", "--home"})
            record()
            if not os.path.exists(rest[0]):
                return 255
            if "--pwd" in opts:
                os.chdir(opts[opts.index("--pwd") + 1])
            execvp(rest[1:])
        record()
        return 0
    if TOOL == "enroot":
        cmd = ARGS[0] if ARGS else ""
        if cmd == "import":
            config = os.environ.get("ENROOT_CONFIG_PATH")
            creds = None
            if config and os.path.exists(os.path.join(config, ".credentials")):
                with open(os.path.join(config, ".credentials"), encoding="utf-8") as fh:
                    creds = fh.read()
            record(credentials=creds)
            with open(ARGS[ARGS.index("--output") + 1], "w") as fh:
                fh.write("fake sqsh\n")
            return 0
        if cmd == "start":
            opts, rest = split_opts(list(ARGS[1:]), {"--mount", "-m", "--env", "-e", "--conf", "-c", "--rc"})
            keys = [opts[i + 1] for i, o in enumerate(opts) if o in ("--env", "-e")]
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
            env.update({k: os.environ[k] for k in keys if k in os.environ})
            record(env_keys=keys)
            execvp(rest[1:], env)
        record()
        return 0
    if TOOL == "docker":
        record()
        opts, rest = split_opts(
            list(ARGS[1:]),
            {
                "--mount",
                "--env",
                "-e",
                "--user",
                "--entrypoint",
                "--name",
                "--hostname",
                "--mac-address",
                "--shm-size",
                "-v",
                "-w",
            },
        )
        execvp(rest[1:])
    if TOOL == "slirp4netns":
        record()
        if "--ready-fd=3" in ARGS:
            os.write(3, b"1")
        return 0
    if TOOL == "mount":
        source = ARGS[ARGS.index("--bind") + 1] if "--bind" in ARGS else None
        record(content=_read(source) if source else None)
        return 0
    if TOOL == "wg-quick":
        record(config=_read(ARGS[1]))
        return 0
    if TOOL == "curl":
        record()
        if "--output" in ARGS:
            with open(ARGS[ARGS.index("--output") + 1], "w") as fh:
                fh.write("downloaded\n")
        return 0
    record()
    return 0


sys.exit(main())
