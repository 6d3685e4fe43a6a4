"""plan_containers: where each image comes from and which file the step runs."""

from __future__ import annotations

import pytest

from jobc import ir
from jobc.passes.plan_containers import plan_containers

from .helpers import SITE, job, launch, run


def planned(container: ir.Container) -> ir.Container:
    return plan_containers(job(run(container=container)), SITE).steps[0].container


@pytest.mark.parametrize(
    "title, image, base, file",
    [
        ("/input/ is in the job's input", "/input/app.sqsh", ir.ImageLocation.INPUT, "app.sqsh"),
        ("/output/ is in the job's output", "/output/sub/app.sif", ir.ImageLocation.OUTPUT, "sub/app.sif"),
        ("other absolute paths are in the job's storage", "/my.squashfs", ir.ImageLocation.STORAGE, "my.squashfs"),
        ("/inputs is not /input/", "/inputs/x.sqsh", ir.ImageLocation.STORAGE, "inputs/x.sqsh"),
    ],
)
def test_local_image_files(title: str, image: str, base: str, file: str) -> None:
    c = planned(ir.Container(image=image))
    assert (c.image_source, c.image_location, c.image_file) == (None, base, file)


def test_enroot_registry_image() -> None:
    c = planned(ir.Container(image="library/ubuntu:latest", registry="registry-1.docker.io"))
    assert c.image_source == "docker://registry-1.docker.io#library/ubuntu:latest"
    assert c.image_location is ir.ImageLocation.CACHE
    assert c.image_file.startswith("library_ubuntu_latest-") and c.image_file.endswith(".sqsh")


def test_enroot_credentials_name_the_user_only() -> None:
    c = planned(
        ir.Container(
            image="app:1",
            registry="r.example.org",
            username="john",
            password=ir.Secret("pw", "steps[0].run.container.password"),
        )
    )
    assert c.image_source == "docker://john@r.example.org#app:1"
    assert "pw" not in c.image_source


def test_apptainer_registry_image() -> None:
    c = planned(ir.Container(image="library/ubuntu:latest", registry="registry-1.docker.io", runtime="apptainer"))
    assert c.image_source == "docker://registry-1.docker.io/library/ubuntu:latest"
    assert c.image_file.endswith(".sif")


@pytest.mark.parametrize(
    "title, container, source",
    [
        (
            "no registry means Docker Hub; official images get library/",
            ir.Container(image="ubuntu"),
            "docker://registry-1.docker.io#library/ubuntu",
        ),
        (
            "official image with a tag",
            ir.Container(image="ubuntu:22.04", registry="docker.io"),
            "docker://docker.io#library/ubuntu:22.04",
        ),
        (
            "namespaced image is left alone",
            ir.Container(image="nvidia/cuda:12.0"),
            "docker://registry-1.docker.io#nvidia/cuda:12.0",
        ),
        (
            "other registries are left alone",
            ir.Container(image="ubuntu", registry="r.example.org"),
            "docker://r.example.org#ubuntu",
        ),
        (
            "apptainer too",
            ir.Container(image="alpine", runtime="apptainer"),
            "docker://registry-1.docker.io/library/alpine",
        ),
    ],
)
def test_docker_hub_official_images(title: str, container: ir.Container, source: str) -> None:
    assert planned(container).image_source == source


def test_hosted_image() -> None:
    c = planned(ir.Container(image="library/sd:latest", runtime="apptainer", hosted=True))
    assert (c.image_source, c.image_location, c.image_file) == (None, ir.ImageLocation.HOSTED, "library/sd:latest")


@pytest.mark.parametrize(
    "title, a, b",
    [
        ("runtime changes the file", ir.Container(image="u:1"), ir.Container(image="u:1", runtime="apptainer")),
        (
            "registry changes the file",
            ir.Container(image="u:1", registry="a.org"),
            ir.Container(image="u:1", registry="b.org"),
        ),
        ("tag changes the file", ir.Container(image="u:1"), ir.Container(image="u:2")),
        ("names that read the same differ", ir.Container(image="a/b:c"), ir.Container(image="a_b:c")),
    ],
)
def test_cache_file_names_are_unique(title: str, a: ir.Container, b: ir.Container) -> None:
    assert planned(a).image_file != planned(b).image_file


def test_cache_file_name_is_stable() -> None:
    c = ir.Container(image="library/ubuntu:latest")
    assert planned(c).image_file == planned(c).image_file


def test_steps_without_containers_and_nested_steps() -> None:
    inner = run(container=ir.Container(image="/x.sqsh"), path=("steps", 0, "launch", "steps", 0))
    out = plan_containers(job(launch(None, inner), run(path=("steps", 1))), SITE)
    assert out.steps[0].steps[0].container.image_file == "x.sqsh"
    assert out.steps[1].container is None


@pytest.mark.parametrize(
    "title, container, registry",
    [
        (
            "registry image without registry: Docker Hub",
            ir.Container(image="library/ubuntu:latest"),
            "registry-1.docker.io",
        ),
        ("registry given", ir.Container(image="library/ubuntu:latest", registry="r.example.org"), "r.example.org"),
        ("local image file has no registry", ir.Container(image="/images/app.sqsh"), None),
        ("docker keeps the reference as written", ir.Container(image="ubuntu:22.04", runtime="docker"), None),
    ],
)
def test_default_registry(title: str, container: ir.Container, registry: str | None) -> None:
    assert planned(container).registry == registry


@pytest.mark.parametrize("runtime", ["docker", "podman"])
def test_engines_keep_their_own_images(runtime: str) -> None:
    c = planned(ir.Container(image="docker.io/fgcz/app:1", runtime=runtime))
    assert (c.image_source, c.image_file, c.image_location) == (None, None, ir.ImageLocation.ENGINE)
