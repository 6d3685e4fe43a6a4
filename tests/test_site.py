"""The site profile: documented example, defaults, and its errors."""

from pathlib import Path

import pytest

from jobc.site import Site, SiteError, load_site, site_from_dict

ROOT = Path(__file__).resolve().parents[1]


def test_documented_profile_loads(tmp_path):
    doc = (ROOT / "docs" / "site-profile.md").read_text()
    toml = doc.split("```toml", 1)[1].split("```", 1)[0]
    path = tmp_path / "site.toml"
    path.write_text(toml)
    site = load_site(str(path))
    assert dict(site.sbatch)["partition"] == "gpu"
    assert site.paths["storage_root"] == "${HOME}/.jobc/jobs"
    assert site.options["logger"] == []
    assert site.tools == Site().tools  # the doc lists the defaults
    assert site.paths == Site().paths


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"tool": {}},
            "site profile: tool: unknown section; did you mean tools? (known: options, paths, sbatch, tools)",
        ),
        ({"tools": {"sruns": "x"}}, "site profile: tools.sruns: unknown key"),
        ({"options": {"sync_interval": "30"}}, "site profile: options.sync_interval: must be an integer"),
        ({"options": {"s3_retries": -1}}, "site profile: options.s3_retries: must be a non-negative integer"),
        ({"options": {"logger": ["a", 1]}}, "site profile: options.logger: must be a list of strings"),
        ({"tools": {"srun": ""}}, "site profile: tools.srun: must be a non-empty string without NUL"),
        ({"sbatch": {"Partition": "x"}}, "site profile: sbatch.Partition: not an sbatch option name"),
        ({"sbatch": {"partition": True}}, "site profile: sbatch.partition: must be a string or an integer"),
    ],
)
def test_profile_errors(data, message):
    with pytest.raises(SiteError) as err:
        site_from_dict(data)
    assert str(err.value).startswith(message)


def test_cli_sbatch_overrides_profile():
    site = site_from_dict({"sbatch": {"partition": "cpu", "time": 10}}).with_sbatch(["partition=gpu"])
    assert dict(site.sbatch) == {"partition": "gpu", "time": "10"}


def test_sbatch_flag_needs_key_value():
    with pytest.raises(SiteError, match="expected key=value"):
        Site().with_sbatch(["partition"])


def test_missing_profile_file_is_a_clean_error(tmp_path):
    with pytest.raises(SiteError, match="cannot read site profile"):
        load_site(str(tmp_path / "nope.toml"))
