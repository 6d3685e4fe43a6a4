"""Decide where each container image comes from and which file a step runs.

- A registry image is fetched once per job into the site's image cache
  (`paths.image_cache`): `enroot import` makes a squashfs, `apptainer pull` a
  SIF. The cache file name is readable and unique (image name plus a hash of
  the full reference), so concurrent jobs share it.
- An absolute image path is a file the job already has: `/input/…` is under
  `$DEEPSQUARE_INPUT`, `/output/…` under `$DEEPSQUARE_OUTPUT`, anything else
  under `$STORAGE_PATH` (the reference's rule).
- A DeepSquare-hosted image is a file under the site's `paths.hosted_images`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import replace

from .. import ir
from ..site import Site
from .walk import map_steps

DOCKER_HUB = ("registry-1.docker.io", "docker.io", "index.docker.io")


def plan_containers(job: ir.Job, site: Site) -> ir.Job:
    def plan(step: ir.AnyStep) -> ir.AnyStep:
        if not isinstance(step, ir.RunStep) or step.container is None:
            return step
        return replace(step, container=_plan(step.container))

    return replace(job, steps=map_steps(job.steps, plan))


def _plan(c: ir.Container) -> ir.Container:
    if c.image.startswith("/"):
        for prefix, var in (("/input/", "DEEPSQUARE_INPUT"), ("/output/", "DEEPSQUARE_OUTPUT")):
            if c.image.startswith(prefix):
                return replace(c, image_file=c.image[len(prefix):], image_file_base=var)
        return replace(c, image_file=c.image.lstrip("/"), image_file_base="STORAGE_PATH")
    if c.hosted:
        return replace(c, image_file=c.image, image_file_base="JOBC_HOSTED_IMAGES")
    registry = c.registry or "registry-1.docker.io"
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
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", c.image).strip("._")[:80].rstrip("._") or "image"  # the hash keeps it unique
    return replace(c, image_source=source, image_file=f"{readable}-{digest}{suffix}", image_file_base="JOBC_IMAGE_CACHE")
