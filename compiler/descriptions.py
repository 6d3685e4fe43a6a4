"""What each field of both spec kinds means, keyed by model (type) and field: the one source of descriptions.

`JOB` holds the DeepSquare Job Reference's field descriptions, `APP` those of the bfabric-app-runner App
Specification (written for jobc where the specification has none). `jobc schema` puts them in the JSON Schema and
`python -m jobc.reference` in docs/reference.md. A field of the models without its line here (or a line of no
field) fails tests/test_schema.py: a new field gets its description here, and nowhere else.

This is data about the specs, not part of a frontend: the texts quote the reference, shell flags included.
"""

JOB: dict[str, dict[str, str]] = {
    "Job": {
        "resources": "Allocated resources for the job.\n\nEach resource is available as environment variables:\n\n- $NTASKS: number of allowed parallel tasks\n- $CPUS_PER_TASK: number of CPUs per task\n- $MEM_PER_CPU: MB of memory per CPU\n- $GPUS_PER_TASK: number of GPUs per task\n- $GPUS: total number of GPUS\n- $CPUS: total number of CPUS\n- $MEM: total number of memory in MB",
        "env": "Environment variables accessible for the entire job.",
        "enableLogging": "EnableLogging enables the DeepSquare GRID Logger.",
        "input": "Pull data at the start of the job.\n\nIt is recommended to set the mode of the data by filling the `inputMode` field.",
        "inputMode": "InputMode takes an integer that will be used to change the mode recursively (chmod -R) of the input data.\n\nThe number shouldn't be in octal but in decimal. A mode over 512 is not accepted.\n\nCommon modes:\n\n- 511 (user:rwx group:rwx world:rwx)\n- 493 (user:rwx group:r-x world:r-x)\n- 448 (user:rwx group:--- world:---)\n\nIf null, the mode won't change and will default to the source.",
        "steps": "The steps of the job, run in order.",
        "output": "Push data at the end of the job.\n\nContinuous sync/push can be enabled using the `continuousOutputSync` flag.",
        "continuousOutputSync": "ContinuousOutputSync will push data during the whole job.\n\nThis is useful when it is not desired to lose data when the job is suddenly stopped.\n\nContinousOutputSync is not available with HTTP.",
        "virtualNetworks": "Virtual networks of the job: WireGuard hubs that steps join with a `vnet` network interface.\n\nFor each network, a WireGuard gateway runs in the batch shell (in its own rootless namespace, connected by pasta), and each `vnet` interface of a step is a peer routing the network's subnet to the gateway. The network does not reach the internet.\n\nIn jobc, the names must be unique (the grid lets the last one win).",
    },
    "JobResources": {
        "tasks": "Number of tasks which are run in parallel.\n\nCan be greater or equal to 1.",
        "cpusPerTask": "Allocated CPUs per task.\n\nCan be greater or equal to 1.",
        "memPerCpu": "Allocated memory (MB) per task.\n\nCan be greater or equal to 1.",
        "gpusPerTask": 'Allocated GPUs per task.\n\nCan be greater or equal to 0.\n\nThe Job Reference\'s form: the steps inherit it. Exclusive with "gpus".',
        "gpus": 'Allocated GPUs for the whole job.\n\nCan be greater or equal to 0.\n\nThe current form, which replaces gpusPerTask: a step gets no GPU unless it asks for some (its resources.gpusPerTask). Exclusive with "gpusPerTask".',
    },
    "EnvVar": {
        "key": "Name of the variable: a POSIX name (letters, digits and underscores, not starting with a digit).",
        "value": "Value of the variable.",
    },
    "TransportData": {
        "http": "Use http to download a file or archive, which will be autoextracted.",
        "s3": "Use s3 to sync a file or directory.",
    },
    "HTTPData": {
        "url": "The http:// or https:// URL of the file or archive.",
    },
    "S3Data": {
        "region": 'S3 region. Example: "us-east-2".',
        "bucketUrl": 'The S3 Bucket URL. Must not end with "/".\n\nExample: "s3://my-bucket".',
        "path": 'The absolute path to a directory/file inside the bucket. Must start with "/".',
        "accessKeyId": "An access key ID for the S3 endpoint.",
        "secretAccessKey": "A secret access key for the S3 endpoint.",
        "endpointUrl": "A S3 Endpoint URL used for authentication. Example: https://s3.us-east-2.amazonaws.com",
        "deleteSync": "DeleteSync removes destination files that doesn't correspond to the source.\n\nThis applies to any type of source to any type of destination (s3 or filesystem).\n\nSee: s5cmd sync --delete.\n\nIf null, defaults to false.",
    },
    "Step": {
        "name": "Name of the instruction.\n\nIs used for debugging.",
        "dependsOn": "Depends on wait for async tasks to end before launching this step.\n\nDependsOn uses the `handleName` property of a `StepAsyncLaunch`.\n\nOnly steps at the same level can be awaited.\n\nBE WARNED: Uncontrolled `dependsOn` may results in dead locks.",
        "if": "Run the step only if this bash test is true.\n\nThe text is evaluated inside `[[ … ]]` in the batch shell, after `dependsOn`. It sees the job's env, the loop variables and what earlier steps wrote to $DEEPSQUARE_ENV; an unset variable is empty. When it is false, the step is skipped (a skipped launch counts as ended well for a later `dependsOn`); a malformed test fails the step.",
        "run": 'Run a command if not null.\n\nIs exclusive with "for", "launch", "use", "steps".',
        "for": 'Run a for loop if not null.\n\nIs exclusive with "run", "launch", "use", "steps".',
        "launch": 'Launch a background process to run a group of commands if not null.\n\nIs exclusive with "run", "for", "use", "steps".',
        "use": 'Use a module: a directory or git repository holding a module.yaml, whose steps are inlined in the script.\n\njobc resolves the module when the job is compiled (the grid: when it is rendered); the script never fetches anything.\n\nIs exclusive with "run", "for", "launch", "steps".',
        "steps": 'A group of steps, run in order.\n\nLaunches started in the group are signalled when the group ends, and `dependsOn` inside the group names its own launches. An empty list counts as absent.\n\nIs exclusive with "run", "for", "launch", "use".',
        "catch": "Steps run only when the step's body failed. They see its exit code in $DEEPSQUARE_ERROR_CODE.\n\nIf they succeed, the step counts as succeeded; if one fails, the step fails with its code. A step stopped by a cancellation is not caught.",
        "finally": "Steps run once after the body and the catch, whatever happened: also when the job is cancelled or reaches its time limit, before the output is pushed.\n\nTheir failure is the step's failure. After a cancellation Slurm starts no new steps, so they then run on the batch host: keep them short.",
    },
    "StepRun": {
        "command": 'Command specifies a shell script.\n\nIf container is used, command automatically overwrite the ENTRYPOINT and CMD. If you want to execute the entrypoint, it MUST be re-specified.\n\nYou can install and use skopeo to inspect an image without having to pull it.\n\nExample: skopeo inspect --config docker://curlimages/curl:latest will gives "/entrypoint.sh" as ENTRYPOINT and "curl" as CMD. Therefore command="/entrypoint.sh curl".',
        "shell": "Shell to use.\n\nAccepted: /bin/bash, /bin/ash, /bin/sh, ENTRYPOINT\nDefault: /bin/sh\n\nENTRYPOINT keeps the image's entrypoint (it needs a container) and gives it the command's words as arguments: split like a shell splits them, with nothing expanded.",
        "resources": "Allocated resources for the command.",
        "container": "Container definition.\n\nIf null, run on the host.",
        "network": 'Type of core networking functionality.\n\nEither: "host" (default), "slirp4netns" (rootless network namespace) or "pasta" (the same namespace, connected by pasta).\n\nUsing "slirp4netns" or "pasta" will automatically enables mapRoot.',
        "dns": 'Configuration for the DNS in "slirp4netns" mode.\n\nONLY enabled if network is "slirp4netns".\n\nA comma-separated list of DNS IP.',
        "customNetworkInterfaces": 'Add custom network interfaces.\n\nONLY enabled if network is "slirp4netns".\n\nDue to the nature of slirp4netns, the user is automatically mapped as root in order to create network namespaces and add new network interfaces.\n\nThe tunnel interfaces will be named net0, net1, ... netX.\n\nThe default network interface is tap0, which is a TAP interface connecting the host and the network namespace.',
        "env": "Environment variables accessible over the command.",
        "mapRoot": 'Remap UID to root. Does not grant elevated system permissions, despite appearances.\n\nIf the "default" (Enroot) container runtime is used, it will use the `--container-remap-root` flags.\n\nIf the "apptainer" container runtime is used, the `--fakeroot` flag will be passed.\n\nIf no container runtime is used, `unshare --user --map-root-user --mount` will be used and a user namespace will be created.\n\nIt is not recommended to use mapRoot with network=slirp4netns, as it will create 2 user namespaces (and therefore will be useless).\n\nIf null, default to false.',
        "mapUid": "Map the current UID to this UID in a user namespace. Does not grant elevated system permissions.\n\nThe current form, which replaces mapRoot (giving both is an error). 0 counts as set.\n\nWith slirp4netns or pasta, it is the UID inside the step's namespace (jobc never nests two user namespaces). WireGuard and vnet interfaces need it to be 0.",
        "mapGid": "Map the current GID to this GID in a user namespace. Does not grant elevated system permissions.\n\nThe current form, which replaces mapRoot (giving both is an error). 0 counts as set.\n\nWith slirp4netns or pasta, it is the GID inside the step's namespace.",
        "workDir": 'Working directory.\n\nIf the "default" (Enroot) container runtime is used, it will use the `--container-workdir` flag.\n\nIf the "apptainer" container runtime is used, the `--pwd` flag will be passed.\n\nIf no container runtime is used, `cd` will be executed first.\n\nIf null, default to use $STORAGE_PATH as working directory.',
        "disableCpuBinding": "DisableCPUBinding disables process affinity binding to tasks.\n\nCan be useful when running MPI jobs.\n\nIf null, defaults to false.",
        "mpi": "MPI selection.\n\nMust be one of: none, pmix_v4, pmi2.\n\nIf null, will default to infrastructure provider settings (which may not be what you want).",
    },
    "StepRunResources": {
        "tasks": "Number of tasks which are run in parallel.\n\nCan be greater or equal to 1.\n\nIf null, default to 1.",
        "cpusPerTask": "Allocated CPUs per task.\n\nCan be greater or equal to 1.\n\nIf null, defaults to the job resources.",
        "memPerCpu": "Allocated memory (MB) per task.\n\nCan be greater or equal to 1.\n\nIf null, defaults to the job resources.",
        "gpusPerTask": "Allocated GPUs per task.\n\nCan be greater or equal to 0.\n\nIf null, defaults to the job resources.",
    },
    "ContainerRun": {
        "image": "Run the command inside a container with Enroot.\n\nFormat: image:tag. Registry and authentication is not allowed on this field.\n\nIf the default container runtime is used:\n\n- Use an absolute path to load a squashfs file. By default, it will search inside $STORAGE_PATH. /input will be equivalent to $DEEPSQUARE_INPUT, /output is $DEEPSQUARE_OUTPUT\n\nIf apptainer=true:\n\n- Use an absolute path to load a sif file or a squashfs file. By default, it will search inside $STORAGE_PATH. /input will be equivalent to $DEEPSQUARE_INPUT, /output is $DEEPSQUARE_OUTPUT\n\nExamples:\n\n- library/ubuntu:latest\n- /my.squashfs",
        "mounts": "Mount decribes a Bind Mount.",
        "username": "Username of a basic authentication.",
        "password": "Password of a basic authentication.",
        "registry": "Container registry host.\n\nDefaults to registry-1.docker.io",
        "apptainer": "Run with Apptainer as Container runtime instead of Enroot.\n\nBy running with apptainer, you get access Deepsquare-hosted images.\n\nWhen running Apptainer, the container file system is read-only.\n\nDefaults to false.",
        "deepsquareHosted": "Use DeepSquare-hosted images.\n\nBy setting to true, apptainer will be set to true.",
        "x11": "X11 mounts /tmp/.X11-unix in the container.",
        "mountHome": "Mount the home directory in the container.\n\nIf null, defaults to false: jobc states it to enroot (ENROOT_MOUNT_HOME=n) and Apptainer (--no-home), whatever the site's configuration.",
        "readOnlyRootFS": "Make the container's root filesystem read-only.\n\nIf null, defaults to false (writable). It does not change the job's storage or the mounts.",
    },
    "Mount": {
        "hostDir": "Directory on the host to mount (an absolute path).",
        "containerDir": "Where the directory is mounted in the container (an absolute path).",
        "options": "Options modifies the mount options.\n\nAccepted: ro, rw",
    },
    "NetworkInterface": {
        "wireguard": "Use the wireguard transport.",
        "bore": "Use the bore transport.",
        "vnet": "Join a virtual network of the job (virtualNetworks) as a peer: the interface vnet<i>.\n\nNeeds mapUid 0 (or none).",
    },
    "Wireguard": {
        "address": "The IP addresses of the wireguard interface.\n\nFormat is a CIDRv4 (X.X.X.X/X) or CIDRv6.\n\nRecommendation is to take one IP from the 10.0.0.0/24 range (example: 10.0.0.2/24).",
        "privateKey": "The client private key.",
        "peers": "The peers connected to the wireguard interface.",
    },
    "WireguardPeer": {
        "publicKey": "The peer public key.",
        "preSharedKey": "The peer pre-shared key.",
        "allowedIPs": "Configuration of wireguard routes.\n\nFormat is a CIDRv4 (X.X.X.X/X) or CIDRv6.\n\n0.0.0.0/0 (or ::/0) would forward all packets to the tunnel. If you plan to use the Wireguard VPN as a gateway, you MUST set this IP range.\n\n<server internal IP>/32 (not the server's public IP) would forward all packets to the tunnel with the server IP as the destination. MUST be set.\n\n<VPN IP range> would forward all packets to the tunnel with the local network as the destination. Useful if you want peers to communicate with each other and want the gateway to act as a router.",
        "endpoint": "The peer endpoint.\n\nFormat is IP:port.\n\nThis would be the Wireguard server.",
        "persistentKeepalive": "Initiate the handshake and re-initiate regularly.\n\nTakes seconds as parameter. 25 seconds is recommended.\n\nYou MUST set the persistent keepalive to enables UDP hole-punching.",
    },
    "Bore": {
        "address": "Bore server IP/Address.\n\nThe Job Reference's form (the bore client), with port; deprecated for boreAddress.",
        "port": "The bore server port.\n\nThe Job Reference's form, with address; deprecated for boreAddress.",
        "boreAddress": "The proxy server, as host:port (an RFC 1123 host name or an IPv4 address, port 1 to 65535).\n\nThe current form (the dpsproxy client), which replaces address and port: give one form.",
        "targetPort": "Target port.",
        "secret": "Authentication secret handed to the proxy client (dpsproxy).\n\ndpsproxy takes it only on its command line: jobc warns that other users of the node can read it while the step runs, and --redact replaces it in the script.",
    },
    "VNet": {
        "name": "The name of the job's virtual network to join (one of virtualNetworks).\n\nIn jobc, a name that no network has is an error (the grid fails when it renders the job).",
        "address": "The IP address of the interface in the network.\n\nFormat is a CIDRv4 (X.X.X.X/X) or CIDRv6. Its subnet must hold the network's gateway address, and not be it (jobc checks it; the grid does not).",
    },
    "VirtualNetwork": {
        "name": "The network's name, which vnet interfaces give.\n\nUnique in the job (jobc checks it; the grid lets the last one win).",
        "gatewayAddress": "The IP address of the network's gateway.\n\nFormat is a CIDRv4 (X.X.X.X/X) or CIDRv6, example: 10.0.0.1/24. The peers' addresses lie in its subnet.",
    },
    "StepFor": {
        "parallel": "Do a parallel for loop. Each iteration is run in parallel.",
        "items": 'Item accessible via the {{ .Item }} variable. Index accessible via the $item variable.\n\nExclusive with "range".',
        "range": 'Index accessible via the $index variable.\n\nExclusive with "items".',
        "steps": "Steps are run sequentially in one iteration.",
    },
    "ForRange": {
        "begin": "Begin is inclusive.",
        "end": "End is inclusive.",
        "increment": "Increment counter by x count. If null, defaults to 1.",
    },
    "StepAsyncLaunch": {
        "handleName": "HandleName is the name used to await (dependsOn field of the Step).\n\nNaming style is snake_case. Case is insensitive. No symbol allowed.",
        "signalOnParentStepExit": 'SignalOnParentStepExit sends a signal to the step and sub-steps when the parent step ends.\n\nThis function can be used as a cleanup function to avoid a zombie process.\n\nZombie processes will continue to run after the main process dies and therefore will not stop the job.\n\nIf null, SIGTERM will be sent. If 0, no signal will be sent.\n\nCurrent signal :\n\n1 SIGHUP Hang-up detected on the control terminal or death of the control process.\n2 SIGINT Abort from keyboard\n3 SIGQUIT Quit the keyboard\n9 SIGKILL If a process receives this signal, it must quit immediately and will not perform any cleaning operations.\n15 SIGTERM Software stop signal\n\nIt is STRONGLY RECOMMENDED to use SIGTERM to gracefully exit a process. SIGKILL is the most abrupt and will certainly work.\n\nIf no signal is sent, the asynchronous step will be considered a fire and forget asynchronous step and will have to terminate itself to stop the job.\n\nWARNING: the "no signal sent" option is subject to removal to avoid undefined behavior. Please refrain from using it.',
        "steps": "Steps are run sequentially.",
    },
    "StepUse": {
        "source": "Where the module comes from: a local directory (relative to the file that names it), host/owner/repo[/subdir][@ref] (the grid's form, cloned over HTTPS), a git URL or a file:// repository.\n\nThe ref is a tag, a branch or a commit (the grid cannot use a branch). Git modules are fetched when the job is compiled, into the module cache.",
        "args": "Values for the module's declared inputs, exported as environment variables for its steps.\n\nIn jobc, an arg that names no input is an error (the grid drops it silently).",
        "exportEnvAs": "Prefix under which the module's declared outputs reach the steps after it: P_KEY=value in $DEEPSQUARE_ENV.\n\nIf null, they come back as KEY=value. Only declared outputs leave the module.",
        "steps": "Steps handed to the module, which its module.yaml may splice in with {{ .Step.Use.Steps | toYaml }}.",
    },
}


APP: dict[str, dict[str, str]] = {
    "AppSpec": {
        "versions": "The versions of the app; each entry gives one version or a list of versions sharing its commands.",
        "bfabric": "bfabric-app-runner's settings for B-Fabric (accepted for compatibility; the script does not use them).",
    },
    "BfabricSection": {
        "app_runner": "The bfabric-app-runner version (or requirement) to run the app with.",
        "workflow_template_step_id": "The B-Fabric workflow template step of the app.",
    },
    "AppVersionMultiTemplate": {
        "version": "The version, or a list of versions that share these commands (each substituted as ${app.version}).",
        "commands": "Defines the commands that are required to execute an app: dispatch, process and (optionally) collect.",
        "submitter": "Reference of a submitter and potential configuration overrides (bfabric-app-runner 0.9 dropped it: the site chooses).",
        "reuse_default_resource": "Whether the app reuses the default resource of the workunit.",
    },
    "CommandsSpec": {
        "dispatch": "Splits the workunit into chunks; called with the workunit definition file and the work directory.",
        "process": "Processes one chunk; called with the chunk directory, once per chunk.",
        "collect": "Collects the results of one chunk; called with the workunit reference and the chunk directory.",
    },
    "CommandShell": {
        "type": "shell: the command is split with shlex.split and run as an argv, not by a shell (deprecated in bfabric-app-runner 0.9).",
        "command": "The command line, split with shlex.split; the runner's arguments are appended.",
    },
    "CommandExec": {
        "type": "exec: the command is split with shlex.split and run with env and prepend_paths.",
        "command": "The command line, split with shlex.split; the runner's arguments are appended.",
        "env": "Environment variables set for the command (values must be strings).",
        "prepend_paths": "Directories put in front of PATH, the first one first (relative to the spec file).",
    },
    "CommandPythonEnv": {
        "type": "python_env: the command runs inside a uv environment made from a pylock file.",
        "pylock": "The pylock.toml file the environment is installed from (relative to the spec file).",
        "command": "The command line, split with shlex.split; a program of the environment's bin, else run by its python.",
        "python_version": "The Python version given to uv venv -p.",
        "local_extra_deps": "Wheels, sdists or directories installed with --no-deps after the pylock file.",
        "env": "Environment variables for the provisioning and the command (values must be strings).",
        "prepend_paths": "Directories put in front of PATH, the first one first (relative to the spec file).",
        "refresh": "Use a throw-away environment, removed after the command, instead of the cached one.",
    },
    "CommandDocker": {
        "type": "docker: the command runs in a container, as bfabric-app-runner's docker command renders it.",
        "image": "The container image, such as registry.example.com/app:1.0.",
        "command": "The command run in the container, split with shlex.split; the runner's arguments are appended.",
        "entrypoint": "Overrides the image's entrypoint.",
        "engine": "The container engine: docker or podman.",
        "env": "Environment variables set in the container.",
        "mac_address": "The container's MAC address.",
        "mounts": "Bind mounts: the work directory, the B-Fabric config, and read-only or writeable lists.",
        "hostname": "The container's host name.",
        "custom_args": "Extra arguments given to the engine's run command, before the image.",
    },
    "MountOptions": {
        "work_dir_target": "Where the work directory is mounted in the container (default: the same path as on the host).",
        "read_only": "Read-only bind mounts, each a pair [host path, container path].",
        "writeable": "Writeable bind mounts, each a pair [host path, container path].",
        "share_bfabric_config": "Mount the B-Fabric configuration (~/.bfabricpy.yml) into the container, read-only.",
    },
    "SubmitterRef": {
        "name": "The name of the submitter (its Slurm parameters come from the --submitter file).",
        "config": "Overrides of the submitter's Slurm parameters.",
    },
    "SubmitterParams": {
        "partition": "The Slurm partition (sbatch --partition), or [default] for the site's default.",
        "nodelist": "The Slurm node list (sbatch --nodelist), or [default] for the site's default.",
        "mem": "The memory of the job (sbatch --mem), such as 8G, 500M or 8000 (megabytes), or [default].",
        "time": "The time limit (sbatch --time), such as 30, 2:00:00 or 1-12:00:00, or [default].",
    },
}
