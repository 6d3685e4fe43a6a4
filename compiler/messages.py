"""The message registry: every diagnostic jobc can emit, with a stable code (as mypy's `errorcodes.py`).

A message is worded where its rule is (`frontends/fields.py`, the models, the passes, the site profile,
the CLI); this registry gives it a code by the text's shape, so adding a rule's message is adding one
`Message` here: a code, a title, the patterns of the texts it covers, an explanation and an incorrect and
a correct example. `jobc explain CODE` prints the entry. Codes are never reused: a retired code stays
retired. `E01xx` the file itself, `E02xx` the shape of a spec, `E03xx` a value, `E04xx` rules across
steps, `E05xx` bfabric app specs, `E06xx` the command line, `E07xx` site profiles, `E08xx` modules,
`Wxxxx` warnings.
tests/test_messages.py fails when an emitted message has no entry, or an entry is never emitted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Message:
    code: str
    title: str
    patterns: tuple[str, ...]  # regular expressions matching the whole message text
    explanation: str
    bad: str
    good: str

    @property
    def severity(self) -> str:
        return "warning" if self.code.startswith("W") else "error"


def _m(code: str, title: str, patterns: tuple[str, ...] | str, explanation: str, bad: str, good: str) -> Message:
    return Message(code, title, (patterns,) if isinstance(patterns, str) else patterns, explanation, bad, good)


_JOB = "resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 1024, gpusPerTask: 0}\n"

MESSAGES: tuple[Message, ...] = (
    # --- E01: the file itself ---------------------------------------------------------------
    _m(
        "E0101",
        "invalid YAML",
        r"invalid YAML: (?!a tab ).*",
        "The file is not valid YAML: the position is where the YAML reader gave up, which is often just after the "
        "real mistake (an unclosed quote or bracket, a wrong indentation).",
        "steps:\n  - run: {command: 'echo hi}\n",
        "steps:\n  - run: {command: 'echo hi'}\n",
    ),
    _m(
        "E0102",
        "tab in YAML",
        r"invalid YAML: a tab character .*",
        "YAML indents with spaces only; a tab character where indentation or a new token is expected is refused. "
        "Replace the tab with spaces (most editors can show tabs).",
        "steps:\n\t- run: {command: x}\n",
        "steps:\n  - run: {command: x}\n",
    ),
    _m(
        "E0103",
        "invalid JSON",
        r"invalid JSON: .*",
        "The file is not valid JSON (a missing comma or quote, a trailing comma, a comment). JSON allows no "
        "comments; write the spec in YAML to have them.",
        '{"steps": [],}\n',
        '{"steps": []}\n',
    ),
    _m(
        "E0104",
        "duplicate key",
        r"duplicate key .*",
        "A key is given twice in one mapping. YAML readers silently keep the last one; jobc refuses to guess.",
        "resources:\n  tasks: 1\n  tasks: 2\n",
        "resources:\n  tasks: 2\n",
    ),
    _m(
        "E0105",
        "spec too large or too deep",
        (r"spec too large: .*", r"spec nested deeper than .*", r"invalid (YAML|JSON): nested too deeply"),
        "The spec has more values or deeper nesting than jobc reads (YAML aliases expand, so a small file can "
        "be huge). A job spec is never this large: look for an alias that refers to itself many times.",
        "a: &a [*b, *b]\n# ... repeated aliases\n",
        _JOB + "steps: []\n",
    ),
    _m(
        "E0106",
        "YAML construct jobc does not read",
        (
            r"recursive YAML alias",
            r"unsupported YAML node",
            r"mapping keys must be plain strings",
            r"a merge key \(<<\) .*",
            r"a key must be valid Unicode text .*",
            r"integer too long .*",
        ),
        "Some YAML constructs have no meaning in a spec: a recursive alias, a key that is itself a list or a "
        "mapping, a merge key (<<) of something that is not a mapping, an integer longer than any field takes.",
        "steps:\n  ? [a, b]\n  : x\n",
        "steps: []\n",
    ),
    _m(
        "E0107",
        "empty spec or not a mapping",
        (
            r"the spec is empty",
            r"the spec must be a mapping of fields at the top level, .*",
            r"an app spec must be a mapping with `versions`",
        ),
        "A spec is a mapping of fields at its top level (resources, steps, ... for a DeepSquare job; versions or "
        "commands for a bfabric app).",
        "- resources: {tasks: 1}\n",
        _JOB + "steps: []\n",
    ),
    # --- E02: the shape of a spec -----------------------------------------------------------
    _m(
        "E0201",
        "unknown field",
        r"unknown field.*",
        "The mapping has a field its spec kind does not know. Field names are case-sensitive (cpusPerTask, not "
        "cpuspertask); jobc suggests the nearest known field, also one level down (a step's command goes under "
        "run).",
        _JOB + "steps:\n  - run:\n      comand: echo hi\n",
        _JOB + "steps:\n  - run:\n      command: echo hi\n",
    ),
    _m(
        "E0202",
        "required field missing",
        (
            r"is required",
            r"give gpus \(the job's GPUs\), or the Job Reference's gpusPerTask",
            r"needs a type: .*",
        ),
        "A field without a default is missing.",
        "resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 1024}\nsteps: []\n",
        _JOB + "steps: []\n",
    ),
    _m(
        "E0203",
        "value not among the choices",
        r"must be one of .*",
        "The field takes one of a fixed list of values, written exactly (case matters).",
        _JOB + "steps:\n  - run: {command: x, shell: bash}\n",
        _JOB + "steps:\n  - run: {command: x, shell: /bin/bash}\n",
    ),
    _m(
        "E0204",
        "wrong type",
        (
            r"must be an integer",
            r"must be a string",
            r"must be a string: YAML reads .*",
            r"must be true or false",
            r"must be a list",
            r"must be a mapping of fields.*",
            r"must be a list of app versions",
        ),
        "The value has the wrong type: a string where a number is expected, a list where a mapping is. Numbers "
        "take no units (memPerCpu is in MB). In YAML, quote a value that must stay a string.",
        "resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 4G, gpusPerTask: 0}\nsteps: []\n",
        "resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 4096, gpusPerTask: 0}\nsteps: []\n",
    ),
    _m(
        "E0205",
        "exclusive or paired fields",
        (
            r".* are exclusive: .*",
            r"give exactly one of .*",
            r"give items or range",
            r".* go together: .*",
            r"\w+ needs \w+: give both, or \w+",
            r"give boreAddress \(host:port\), or address and port",
            r"ENTRYPOINT needs a container: .*",
        ),
        "Some fields exclude each other (a step is a run, a for or a launch; a transport is http or s3) and some "
        "go together (a container's username and password).",
        _JOB + "steps:\n  - run: {command: x}\n    launch: {steps: []}\n",
        _JOB + "steps:\n  - run: {command: x}\n",
    ),
    _m(
        "E0206",
        "env is a list of {key, value}",
        r"must be a list of \{key, value\} mappings.*",
        "env is a list of mappings, each with a key and a value, not a mapping of names to values and not "
        "KEY=value strings.",
        _JOB + "env: {FOO: bar}\nsteps: []\n",
        _JOB + "env:\n  - {key: FOO, value: bar}\nsteps: []\n",
    ),
    _m(
        "E0207",
        "empty value",
        (r"must not be empty.*", r"must list at least one app version"),
        "The field takes a non-empty value.",
        "versions: []\n",
        "versions:\n  - version: 1.0.0\n    commands: {}\n",
    ),
    _m(
        "E0208",
        "needs network: slirp4netns",
        r".* needs? network: slirp4netns .*",
        "dns and customNetworkInterfaces configure the step's own network namespace, which only the "
        "slirp4netns network has.",
        _JOB + "steps:\n  - run: {command: x, dns: [1.1.1.1]}\n",
        _JOB + "steps:\n  - run: {command: x, network: slirp4netns, dns: [1.1.1.1]}\n",
    ),
    _m(
        "E0209",
        "two forms of one setting",
        r".* are two forms of .*",
        "The Job Reference and DeepSquare's current schema name some settings differently (gpusPerTask and "
        "gpus, mapRoot and mapUid/mapGid, bore address/port and boreAddress). jobc takes either form, but "
        "not both in one place: it would have to guess which one you meant.",
        "resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 1024, gpusPerTask: 1, gpus: 1}\nsteps: []\n",
        "resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 1024, gpus: 1}\nsteps: []\n",
    ),
    # --- E03: values --------------------------------------------------------------------------
    _m(
        "E0301",
        "number out of range",
        (
            r"must be at least .*",
            r"must be at most .*",
            r"must be a 32-bit integer .*",
            r"must be a port number .*",
            r"must be a signal number .*",
            r"must be a decimal mode .*",
            r"must not be 0 .*",
            r"must be between 1M and .*",
        ),
        "The number is outside the range the field takes (the message says which).",
        "resources: {tasks: 0, cpusPerTask: 1, memPerCpu: 1024, gpusPerTask: 0}\nsteps: []\n",
        _JOB + "steps: []\n",
    ),
    _m(
        "E0302",
        "leading zero",
        r"must be written in decimal without a leading 0 .*",
        "0755 is octal to some YAML readers and decimal to others: write the mode in decimal.",
        _JOB + "inputMode: 0755\nsteps: []\n",
        _JOB + "inputMode: 493\nsteps: []\n",
    ),
    _m(
        "E0303",
        "bad name",
        (r"must be a POSIX name: .*", r"must be snake_case: .*", r"the name .*"),
        "Environment variable keys are POSIX names (letters, digits, underscores, not starting with a digit); "
        "launch handles and dependsOn entries are snake_case.",
        _JOB + "env:\n  - {key: MY-VAR, value: x}\nsteps: []\n",
        _JOB + "env:\n  - {key: MY_VAR, value: x}\nsteps: []\n",
    ),
    _m(
        "E0304",
        "reserved variable name",
        (
            r"is reserved for the script itself .*",
            r"makes output .*, a name reserved for the script.*",
        ),
        "The generated script sets these variables itself (PATH, STORAGE_PATH, SLURM_*, ...): a spec setting "
        "them would break it.",
        _JOB + "env:\n  - {key: PATH, value: /x}\nsteps: []\n",
        _JOB + "env:\n  - {key: EXTRA_PATH, value: /x}\nsteps: []\n",
    ),
    _m(
        "E0305",
        "characters a value cannot hold",
        (
            r"must not contain NUL characters",
            r"must be valid Unicode text .*",
            r"must not contain newlines or other control characters",
            r"must be non-empty, without spaces or control characters",
            r"must be valid UTF-8 text",
            r"must not contain a backslash .*",
            r"cannot contain both kinds of quotes",
            r"must be non-empty, without control characters",
        ),
        "The value holds characters it cannot carry: NUL, a lone surrogate, a newline where one line is "
        "expected, spaces in a credential.",
        _JOB + 'steps:\n  - name: "a\\0b"\n',
        _JOB + "steps:\n  - name: ab\n",
    ),
    _m(
        "E0306",
        "bad container image reference",
        (r"must be an image reference .*", r"must be an image such as .*"),
        "A container image is a registry reference, [host[:port]/]path[:tag][@digest] with lower-case path "
        "components (library/ubuntu:24.04), or an absolute path to an image file. A DeepSquare step gives the "
        "registry host in registry, not in image.",
        _JOB + "steps:\n  - run: {command: x, container: {image: 'aze:0&az'}}\n",
        _JOB + "steps:\n  - run: {command: x, container: {image: 'library/ubuntu:24.04'}}\n",
    ),
    _m(
        "E0307",
        "bad network value",
        (
            r"must be a CIDR address .*",
            r"must be an IP address .*",
            r"must be host:port, .*",
            r"must be a WireGuard key: .*",
            r"must be a host name .*",
            r"must be a registry host .*",
            r"must be a MAC address .*",
        ),
        "An address, host, port or key is not in the form the field takes (the message gives an example).",
        _JOB + "steps:\n  - run: {command: x, network: slirp4netns, dns: [one.one]}\n",
        _JOB + "steps:\n  - run: {command: x, network: slirp4netns, dns: [1.1.1.1]}\n",
    ),
    _m(
        "E0308",
        "bad URL or path",
        (
            r"must be an http:// or https:// URL .*",
            r"must start with s3://.*",
            r"must not end with /",
            r"must start with /",
            r"must be an absolute path .*",
            r"must not contain spaces, ':' or ',' with --container-runtime enroot .*",
            r"only ~ and ~/… are expanded .*",
            r"must be a pair \[host path, container path\]",
        ),
        "A URL or a path is not in the form the field takes.",
        _JOB + "input: {http: {url: ftp://example.org/x}}\nsteps: []\n",
        _JOB + "input: {http: {url: https://example.org/x}}\nsteps: []\n",
    ),
    _m(
        "E0309",
        "command cannot be split into words",
        r"cannot be split into words \(shell: ENTRYPOINT .*",
        "With shell: ENTRYPOINT the command is not run by a shell: jobc splits it into words as a shell would "
        "(quotes group words) and hands them to the image's entrypoint. An unclosed quote or a trailing "
        "backslash leaves nothing to split.",
        _JOB
        + "steps:\n  - run:\n      container: {image: library/ubuntu:latest}\n      shell: ENTRYPOINT\n"
        + '      command: "serve --name \'my model"\n',
        _JOB
        + "steps:\n  - run:\n      container: {image: library/ubuntu:latest}\n      shell: ENTRYPOINT\n"
        + "      command: \"serve --name 'my model'\"\n",
    ),
    # --- E04: rules across steps ------------------------------------------------------------
    _m(
        "E0401",
        "unknown handle in dependsOn",
        r"no launch with handleName .*",
        "dependsOn names a launch (by its handleName) of the same step list that comes before the step.",
        _JOB + "steps:\n  - name: a\n    dependsOn: [server]\n",
        _JOB + "steps:\n  - launch: {handleName: server, steps: []}\n  - name: a\n    dependsOn: [server]\n",
    ),
    _m(
        "E0402",
        "handle used twice",
        r"handle .* is already used by another launch of this step list",
        "Handles are case-insensitive and unique among the launches of one step list.",
        _JOB + "steps:\n  - launch: {handleName: s, steps: []}\n  - launch: {handleName: S, steps: []}\n",
        _JOB + "steps:\n  - launch: {handleName: s1, steps: []}\n  - launch: {handleName: s2, steps: []}\n",
    ),
    _m(
        "E0403",
        "step asks for more than the job holds",
        r"asks for .* in all, more than the job's .*",
        "A step's tasks x cpusPerTask (or memory, GPUs) must fit in the job's resources.",
        _JOB + "steps:\n  - run: {command: x, resources: {tasks: 4}}\n",
        _JOB + "steps:\n  - run: {command: x, resources: {tasks: 1}}\n",
    ),
    _m(
        "E0404",
        "unknown virtual network",
        r"names no virtual network of the job .*",
        "A vnet interface joins one of the job's virtualNetworks by its name; the name must be declared there.",
        _JOB + "steps:\n  - run:\n      command: x\n      network: slirp4netns\n"
        "      customNetworkInterfaces:\n        - vnet: {name: lab, address: 10.0.0.2/24}\n",
        _JOB + "virtualNetworks:\n  - {name: lab, gatewayAddress: 10.0.0.1/24}\n"
        "steps:\n  - run:\n      command: x\n      network: slirp4netns\n"
        "      customNetworkInterfaces:\n        - vnet: {name: lab, address: 10.0.0.2/24}\n",
    ),
    _m(
        "E0405",
        "vnet address outside its network",
        (r"its subnet .* does not hold the gateway .*", r"is the address of the gateway of .*"),
        "A vnet interface's address must lie in the subnet of its network's gatewayAddress, and must not be "
        "the gateway's own address: the gateway routes between the steps of the network.",
        _JOB + "virtualNetworks:\n  - {name: lab, gatewayAddress: 10.0.0.1/24}\n"
        "steps:\n  - run:\n      command: x\n      network: slirp4netns\n"
        "      customNetworkInterfaces:\n        - vnet: {name: lab, address: 10.9.0.2/24}\n",
        _JOB + "virtualNetworks:\n  - {name: lab, gatewayAddress: 10.0.0.1/24}\n"
        "steps:\n  - run:\n      command: x\n      network: slirp4netns\n"
        "      customNetworkInterfaces:\n        - vnet: {name: lab, address: 10.0.0.2/24}\n",
    ),
    _m(
        "E0406",
        "name given twice",
        (r"'.*' is already the name of .*", r"\S+ is given twice", r"(input|output) \S+ is declared twice"),
        "A virtual network's name, a module's input or output, and a module argument are given once each: a "
        "second one would silently win over the first.",
        _JOB + "virtualNetworks:\n  - {name: lab, gatewayAddress: 10.0.0.1/24}\n"
        "  - {name: lab, gatewayAddress: 10.1.0.1/24}\nsteps: []\n",
        _JOB + "virtualNetworks:\n  - {name: lab, gatewayAddress: 10.0.0.1/24}\n"
        "  - {name: lab2, gatewayAddress: 10.1.0.1/24}\nsteps: []\n",
    ),
    _m(
        "E0407",
        "mapUid with a tunnel",
        r"must be 0 with (vnet|wireguard|vnet and wireguard) interfaces: .*",
        "wireguard and vnet interfaces are brought up by wg-quick as root inside the step's network namespace, "
        "so the step cannot also map the user to another id.",
        _JOB + "virtualNetworks:\n  - {name: lab, gatewayAddress: 10.0.0.1/24}\n"
        "steps:\n  - run:\n      command: x\n      network: slirp4netns\n      mapUid: 1000\n"
        "      customNetworkInterfaces:\n        - vnet: {name: lab, address: 10.0.0.2/24}\n",
        _JOB + "virtualNetworks:\n  - {name: lab, gatewayAddress: 10.0.0.1/24}\n"
        "steps:\n  - run:\n      command: x\n      network: slirp4netns\n"
        "      customNetworkInterfaces:\n        - vnet: {name: lab, address: 10.0.0.2/24}\n",
    ),
    # --- E05: bfabric app specs -------------------------------------------------------------
    _m(
        "E0501",
        "bad command line of an app command",
        (
            r"cannot be split into words with shlex.split: .*",
            r"must name a program to run .*",
            r"must not start with '-' .*",
            r"must not start with a word holding '=' .*",
            r"are \w+ arguments: they have no equivalent with --container-runtime .*",
        ),
        "An app command is split into words with shlex.split and run without a shell: it must name a program "
        "and its quotes must close.",
        'commands:\n  dispatch: {type: exec, command: "python \'x"}\n',
        'commands:\n  dispatch: {type: exec, command: "python x.py"}\n',
    ),
    _m(
        "E0502",
        "bad Slurm value in an app spec",
        (
            r"must be a memory size .*",
            r"must be a Slurm time limit .*",
            r"must be a Python version .*",
        ),
        "A submitter's mem and time and a python_env's python are checked as Slurm and uv read them.",
        "submitter:\n  config: {mem: lots}\n",
        "submitter:\n  config: {mem: 8G}\n",
    ),
    _m(
        "E0503",
        "bad app version",
        (
            r"must be a version such as .*",
            r"lists version .* twice",
            r"version .* is already defined at .*",
        ),
        "Each app version is named once, by a non-empty string or a list of them.",
        "versions:\n  - version: [1.0, 1.0]\n",
        "versions:\n  - version: ['1.0']\n",
    ),
    _m(
        "E0504",
        "bad substitution",
        (
            r"unterminated \$\{ .*",
            r".*: not a substitution; .*",
            r".*unexpected Mako syntax; .*",
            r"cannot substitute: .*",
            r".*: Mako filters are not supported; .*",
            r".*: unknown name .*",
            r".*: not a plain substitution; .*",
        ),
        "App specs may use ${app.id}, ${app.name}, ${app.version} and ${app.dir} only (as bfabric-app-runner "
        "substitutes them), not other Mako expressions.",
        "commands:\n  dispatch: {type: exec, command: 'run ${app.nme}'}\n",
        "commands:\n  dispatch: {type: exec, command: 'run ${app.name}'}\n",
    ),
    _m(
        "E0505",
        "unknown submitter",
        (r"no submitter named .*", r"the submitter file is empty; .*", r"must be a submitter name, not empty"),
        "A version's submitter names an entry of the --submitter file.",
        "submitter: {name: gpu}\n# --submitter file has only cpu\n",
        "submitter: {name: cpu}\n",
    ),
    # --- E08: modules (DeepSquare `use`) -----------------------------------------------------
    _m(
        "E0801",
        "module has no such input",
        r"module '.*' has no input .*",
        "A use step's args set the module's inputs by key: each key must be an input its module.yaml declares.",
        "steps:\n  - use:\n      source: ./greeter\n      args:\n        - {key: HWO, value: world}\n",
        "steps:\n  - use:\n      source: ./greeter\n      args:\n        - {key: WHO, value: world}\n",
    ),
    _m(
        "E0802",
        "module input missing",
        r"module '.*' needs input .* \(it has no default\): give it in args",
        "An input of a module without a default must be given in the use step's args.",
        "steps:\n  - use:\n      source: ./greeter\n",
        "steps:\n  - use:\n      source: ./greeter\n      args:\n        - {key: WHO, value: world}\n",
    ),
    _m(
        "E0803",
        "job too small for the module",
        r"module '.*' needs resources\.\w+ of at least .*",
        "A module's minimumResources say what a job needs to run it; the job's resources hold less.",
        "# trainer/module.yaml: minimumResources: {tasks: 1, cpusPerTask: 1, memPerCpu: 1024}\n"
        "resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 100, gpus: 0}\nsteps:\n  - use: {source: ./trainer}\n",
        "# trainer/module.yaml: minimumResources: {tasks: 1, cpusPerTask: 1, memPerCpu: 1024}\n"
        "resources: {tasks: 1, cpusPerTask: 1, memPerCpu: 4096, gpus: 0}\nsteps:\n  - use: {source: ./trainer}\n",
    ),
    _m(
        "E0804",
        "modules in a cycle or nested too deeply",
        (r"modules use each other in a cycle: .*", r"modules nested deeper than \d+ levels"),
        "A module may use other modules, but not itself (directly or through others), and at most 8 deep.",
        "# a/module.yaml uses ./b, and b/module.yaml uses ../a\nsteps:\n  - use: {source: ./a}\n",
        "# a/module.yaml uses ./b, which uses no module\nsteps:\n  - use: {source: ./a}\n",
    ),
    _m(
        "E0805",
        "module source cannot be used",
        (r"no module\.yaml in .*", r"no module directory .*"),
        "The use step's source names a local directory, a git repository (host/owner/repo[/subdir][@ref] or a "
        "URL) holding a module.yaml, or a git module cache entry (--offline). The message says what is wrong: "
        "the directory or ref does not exist, git could not fetch it, or the source is not written as one.",
        "steps:\n  - use: {source: ./nosuch}\n",
        "steps:\n  - use: {source: ./greeter}\n",
    ),
    _m(
        "E0806",
        "module template error",
        r"template: .*",
        "A module.yaml is a Go template that DeepSquare renders with the job (.Job.Resources, .Step.Use.Args, "
        "...). jobc renders the subset the grid's modules use: field paths, pipelines and a few functions; "
        "{{if}} and {{range}} are refused, with the position in the module file.",
        "# module.yaml\nsteps:\n  - run: {command: 'echo {{ .Job.Resources.Cpus }}'}\n",
        "# module.yaml\nsteps:\n  - run: {command: 'echo {{ .Job.Resources.CpusPerTask }}'}\n",
    ),
    # --- E06: the command line --------------------------------------------------------------
    _m(
        "E0601",
        "bad option value",
        (
            r"--[a-z-]+: must be .*",
            r"--[a-z-]+ .*: must be .*",
            r"--mem .*",
            r"--kind .*",
            r"--sbatch .*",
            r"--app-version .*: no such version .*",
            r"#SBATCH --.*",
            r"completion .*: must be one of .*",
            r"-o: must name a file; .*",
        ),
        "A command-line option has a value it does not take; jobc names the option.",
        "jobc compile --app-id x app.yaml\n",
        "jobc compile --app-id 12 app.yaml\n",
    ),
    _m(
        "E0602",
        "option missing or not for this spec",
        (r"give --.*", r"uses \$\{app\.\w+\}: give --app-\w+", r"--[a-z, -]+: only for bfabric app specs .*"),
        "An option the spec needs is missing (an app with several versions needs --app-version), or an option "
        "given is for the other spec kind.",
        "jobc compile --app-id 1 job.yaml   # a DeepSquare job\n",
        "jobc compile job.yaml\n",
    ),
    _m(
        "E0603",
        "options that do not go together",
        (
            r"-o and --out-dir: .*",
            r"-o .*: names one script, .*",
            r"--out-dir: .*",
            r"--check and --diff .*",
            r"\d+ specs: give --out-dir .*",
        ),
        "-o names one script for one spec; --out-dir writes one per spec; --check and --diff compare with them.",
        "jobc compile a.yaml b.yaml -o out.sh\n",
        "jobc compile a.yaml b.yaml --out-dir out\n",
    ),
    _m(
        "E0604",
        "file cannot be read or written",
        (
            r".*: not UTF-8 text",
            r".*: cannot (read|write|create it).*",
            r".*: (No such file or directory|Permission denied|Is a directory)",
        ),
        "A file named on the command line cannot be read (it does not exist, is not UTF-8 text) or written.",
        "jobc validate nosuch.yaml\n",
        "jobc validate job.yaml\n",
    ),
    _m(
        "E0605",
        "command-line syntax",
        (
            r"\S+: no such (option|command).*",
            r"-\S+: (needs a|takes no) value",
            r"[A-Z]+: is required",
            r".*: unexpected argument .*",
        ),
        "The command line names an option or a command jobc does not have, or leaves out a value or an "
        "argument. See jobc -h and jobc COMMAND -h.",
        "jobc compile --sbtach partition=gpu job.yaml\n",
        "jobc compile --sbatch partition=gpu job.yaml\n",
    ),
    # --- E07: site profiles -----------------------------------------------------------------
    _m(
        "E0701",
        "unknown section or key in a site profile",
        (r"unknown section.*", r"unknown key.*"),
        "A site profile has the sections [sbatch], [tools], [paths] and [options]; unknown sections and keys "
        "are errors, with the nearest known one suggested.",
        "[options]\nsync_intervall = 30\n",
        "[options]\nsync_interval = 30\n",
    ),
    _m(
        "E0702",
        "bad value in a site profile",
        (
            r"must be a table",
            r"must be a string or an integer",
            r"must be a non-negative integer",
            r"must be a list of strings",
            r"must be a non-empty string without NUL",
            r"must be one of .*",
            r"not an sbatch option name",
            r"set by the spec's resources, not by a directive",
            r"expected key=value, .*",
        ),
        "A site profile's value has the wrong type or form (the message says which).",
        '[options]\nsync_interval = "30"\n',
        "[options]\nsync_interval = 30\n",
    ),
    _m(
        "E0703",
        "invalid TOML",
        r"invalid TOML: .*",
        "The site profile is not valid TOML.",
        "[options\n",
        "[options]\n",
    ),
    # --- warnings -----------------------------------------------------------------------------
    _m(
        "W0101",
        "loop runs no iteration",
        r"runs no iteration: .*",
        "A for range whose increment never reaches its end runs no step.",
        _JOB + "steps:\n  - for: {range: {begin: 1, end: 3, increment: -1}, steps: []}\n",
        _JOB + "steps:\n  - for: {range: {begin: 1, end: 3}, steps: []}\n",
    ),
    _m(
        "W0102",
        "Go template not substituted",
        r"\{\{ \.Item \}\} is not substituted by jobc; .*",
        "DeepSquare's {{ .Item }} template is not expanded by jobc; a loop's item is in $item.",
        _JOB + "steps:\n  - for: {items: [a], steps: [{run: {command: 'echo {{ .Item }}'}}]}\n",
        _JOB + "steps:\n  - for: {items: [a], steps: [{run: {command: 'echo \"$item\"'}}]}\n",
    ),
    _m(
        "W0103",
        "field without effect",
        (
            r"is not available with HTTP output: .*",
            r"has no effect without an output",
            r"is ignored with --container-runtime .*",
            r"is empty: without a container, this step runs nothing",
            r"is not used: with enroot, .*",
        ),
        "The field is valid but does nothing here (continuousOutputSync without an s3 output, for instance).",
        _JOB + "continuousOutputSync: true\nsteps: []\n",
        _JOB + "steps: []\n",
    ),
    _m(
        "W0105",
        "secrets printed to a pipe",
        r"this script holds secrets; .*",
        "The script holds secrets (an S3 secret key, a password, a WireGuard key) and goes to standard output, "
        "which is not a terminal: a file written with -o gets mode 0600; --redact replaces them for review.",
        "jobc compile job.yaml > job.sh\n",
        "jobc compile job.yaml -o job.sh\n",
    ),
    _m(
        "W0104",
        "path missing on this machine",
        r".* does not exist here \(the compute nodes may see another file system\)",
        "A python_env's pylock or extra dependency does not exist where jobc runs; it may exist on the compute "
        "nodes, which is why this is a warning.",
        "process: {type: python_env, pylock: nosuch/pylock.toml, command: x}\n",
        "process: {type: python_env, pylock: pylock.toml, command: x}   # next to the spec\n",
    ),
    _m(
        "W0106",
        "misspelt description ignored",
        r"unknown field, ignored \(the grid ignores it too\); did you mean .*",
        "A module's inputs and outputs take a description; a key one typo away from it is left out, as "
        "DeepSquare's grid leaves it out, and jobc says so.",
        "inputs:\n  - {key: WHO, despcription: who to greet}\n",
        "inputs:\n  - {key: WHO, description: who to greet}\n",
    ),
    _m(
        "W0107",
        "secret on a command line",
        r"is handed to dpsproxy on its command line .*",
        "A bore interface's secret can only be given to DeepSquare's dpsproxy client as an argument: while the "
        "step runs, other users of the node can read it with ps. Use a per-job secret.",
        "customNetworkInterfaces:\n  - bore: {boreAddress: bore.example.org:2200, targetPort: 80, secret: s}\n",
        "customNetworkInterfaces:\n  - bore: {boreAddress: bore.example.org:2200, targetPort: 80}\n",
    ),
    _m(
        "W0108",
        "deprecated field",
        r"are deprecated by DeepSquare's current schema: .*",
        "DeepSquare's current schema deprecates container mounts (use the job's storage and caches instead); "
        "jobc still mounts them.",
        "container:\n  image: library/ubuntu:latest\n  mounts: [{hostDir: /data, containerDir: /data}]\n",
        "container:\n  image: library/ubuntu:latest\n",
    ),
)

BY_CODE = {m.code: m for m in MESSAGES}
assert len(BY_CODE) == len(MESSAGES), "a code is given twice"


@lru_cache(maxsize=4096)
def code_of(text: str, severity: str = "error") -> str | None:
    """The code of a message text (None: the registry has no entry for it, which a test catches)."""
    for message in MESSAGES:
        if message.severity == severity and any(re.fullmatch(p, text, re.S) for p in message.patterns):
            return message.code
    return None


def explain(code: str) -> str | None:
    """The text of `jobc explain CODE`, or None for an unknown code."""
    message = BY_CODE.get(code.upper())
    if message is None:
        return None
    indent = "    "

    def block(text: str) -> str:
        return "".join(indent + line + "\n" for line in text.splitlines())

    return (
        f"{message.code}: {message.title}\n\n{message.explanation}\n\n"
        f"Incorrect:\n{block(message.bad)}\nCorrect:\n{block(message.good)}"
    )
