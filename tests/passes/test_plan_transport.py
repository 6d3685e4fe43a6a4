"""plan_transport: file names for HTTP, the synced S3 URL, and continuousOutputSync."""

from __future__ import annotations

import pytest

from jobc import ir
from jobc.diagnostics import format_path
from jobc.passes.plan_transport import plan_transport

from .helpers import SITE, job


def s3(bucket: str = "s3://bucket", key_path: str = "/") -> ir.S3Transport:
    return ir.S3Transport("r", bucket, key_path, "id", ir.Secret("s", "secretAccessKey"), "https://s3")


@pytest.mark.parametrize(
    "title, url, name",
    [
        ("last path segment", "https://example.org/data/archive.tar.gz", "archive.tar.gz"),
        ("query string is not part of the name", "https://example.org/f.zip?token=abc", "f.zip"),
        ("no path", "https://example.org", "download"),
        ("directory URL", "https://example.org/dir/", "download"),
        (
            "percent-encoding is decoded, unsafe characters replaced",
            "https://example.org/my%20file%3B.txt",
            "my_file_.txt",
        ),
        ("no hidden files", "https://example.org/.bashrc", "bashrc"),
        ("no way out of the directory", "https://example.org/..%2F..%2Fetc", "etc"),
    ],
)
def test_http_input_file_name(title: str, url: str, name: str) -> None:
    out = plan_transport(job(input=ir.HttpTransport(url)), SITE)
    assert out.input.file_name == name
    assert "/" not in out.input.file_name and not out.input.file_name.startswith(".")


@pytest.mark.parametrize(
    "title, url, name",
    [
        ("URL names a file: upload to it as given", "https://example.org/upload/result.tar.gz", ""),
        ("URL without a file: URL/output.tar.gz", "https://transfer.sh", "output.tar.gz"),
        ("URL ending in /", "https://example.org/upload/", "output.tar.gz"),
    ],
)
def test_http_output_file_name(title: str, url: str, name: str) -> None:
    assert plan_transport(job(output=ir.HttpTransport(url)), SITE).output.file_name == name


@pytest.mark.parametrize(
    "title, key_path, url",
    [
        ("bucket root", "/", "s3://bucket/"),
        ("prefix", "/data", "s3://bucket/data/"),
        ("prefix with trailing slash", "/data/", "s3://bucket/data/"),
        ("nested prefix", "/a/b", "s3://bucket/a/b/"),
    ],
)
def test_s3_url(title: str, key_path: str, url: str) -> None:
    out = plan_transport(job(input=s3(key_path=key_path), output=s3(key_path=key_path)), SITE)
    assert out.input.url == url and out.output.url == url


@pytest.mark.parametrize(
    "title, output, continuous, warning",
    [
        ("S3 output keeps continuous sync", s3(), True, None),
        (
            "HTTP output: warning, final upload only (NOTES decision 10)",
            ir.HttpTransport("https://x/y"),
            False,
            "is not available with HTTP output: only the final upload happens",
        ),
        ("no output: warning", None, False, "has no effect without an output"),
    ],
)
def test_continuous_output_sync(title: str, output, continuous: bool, warning: str | None) -> None:
    out = plan_transport(
        job(
            output=output,
            continuous_output_sync=True,
            field_paths=(("continuous_output_sync", ("continuousOutputSync",)),),
        ),
        SITE,
    )
    assert out.continuous_output_sync is continuous
    expected = [("continuousOutputSync", "warning", warning)] if warning else []
    assert [(format_path(w.path), w.severity, w.message) for w in out.warnings] == expected


def test_no_transport() -> None:
    out = plan_transport(job(), SITE)
    assert out.input is None and out.output is None and out.warnings == ()
