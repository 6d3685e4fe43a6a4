"""Decide where each container image comes from and which file a step runs, for every runtime.

- A registry image run by enroot or Apptainer is fetched once per job into the
  site's image cache: `enroot import` makes a squashfs, `apptainer pull` a SIF.
  The cache file name is readable and unique (image name plus a hash of the
  runtime and the full reference), so concurrent jobs share it. An image
  without a registry comes from Docker Hub.
- docker and podman keep images in their own store: the reference goes to the
  engine as written.
- An absolute image path is a file the job already has: `/input/…` is in the
  job's input, `/output/…` in its output, anything else in its storage (the
  reference's rule).
- A DeepSquare-hosted image is a file among the site's hosted images.
"""

from __future__ import annotations

import hashlib
import re

from .. import ir
from ..site import Site

DEFAULT_REGISTRY = "registry-1.docker.io"
DOCKER_HUB = (DEFAULT_REGISTRY, "docker.io", "index.docker.io")
ENGINES = ("docker", "podman")


def plan_containers(job: ir.Job, site: Site) -> ir.Job:
    def plan(step: ir.AnyStep) -> ir.AnyStep:
        if not isinstance(step, ir.RunStep) or step.container is None:
            return step
        return ir.evolve(step, container=_plan(step.container))

    return ir.evolve(job, steps=ir.map_steps(job.steps, plan))


def _plan(c: ir.Container) -> ir.Container:
    if c.runtime in ENGINES:
        return ir.evolve(c, image_location=ir.ImageLocation.ENGINE)
    if c.image.startswith("/"):
        for prefix, where in (("/input/", ir.ImageLocation.INPUT), ("/output/", ir.ImageLocation.OUTPUT)):
            if c.image.startswith(prefix):
                return ir.evolve(c, image_file=c.image[len(prefix) :], image_location=where)
        return ir.evolve(c, image_file=c.image.lstrip("/"), image_location=ir.ImageLocation.STORAGE)
    if c.hosted:
        return ir.evolve(c, image_file=c.image, image_location=ir.ImageLocation.HOSTED)
    registry = c.registry or DEFAULT_REGISTRY
    image = c.image
    if registry in DOCKER_HUB and "/" not in image.split(":", 1)[0]:
        image = f"library/{image}"  # Docker Hub's official images: with an explicit registry host, the prefix is needed
    if c.runtime == "enroot":
        user = f"{c.username}@" if c.username else ""
        source = f"docker://{user}{registry}#{image}"
        suffix = ".sqsh"
    else:
        source = f"docker://{registry}/{image}"
        suffix = ".sif"
    digest = hashlib.sha256(f"{c.runtime} {registry}/{image}".encode()).hexdigest()[:12]
    readable = (
        re.sub(r"[^A-Za-z0-9._-]+", "_", c.image).strip("._")[:80].rstrip("._") or "image"
    )  # the hash keeps it unique
    return ir.evolve(
        c,
        registry=registry,
        image_source=source,
        image_file=f"{readable}-{digest}{suffix}",
        image_location=ir.ImageLocation.CACHE,
    )
