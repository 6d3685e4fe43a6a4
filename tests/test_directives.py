"""#SBATCH values follow sbatch's tokenizer; the spec's resources are not directives."""

import pytest

from jobc.directives import DirectiveError, sbatch_value


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        ("gpu", "gpu"),
        ("02:00:00", "02:00:00"),
        ("logs/%x-%j.out", "logs/%x-%j.out"),
        ("my job", '"my job"'),
        ("a#b", '"a#b"'),
        ('say "hi"', "'say \"hi\"'"),
    ],
)
def test_sbatch_values_follow_sbatch_tokenizer(value, rendered):
    assert sbatch_value(value) == rendered


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("a\nb", "must not contain newlines or other control characters"),
        ("a\rb", "must not contain newlines or other control characters"),
        ("a\\b", "must not contain a backslash (sbatch drops them)"),
        ('it\'s "x"', "cannot contain both kinds of quotes"),
    ],
)
def test_sbatch_values_refused(value, message):
    with pytest.raises(DirectiveError, match=message.replace("(", r"\(").replace(")", r"\)")):
        sbatch_value(value)
