"""Injection tests: the case counter, its summary line, and the hypothesis profiles.

The default (CI) profile is derandomized: every run explores the same examples, so CI passes or fails on
the code, not on luck. `JOBC_HYPOTHESIS_PROFILE=long` runs ten times as many examples from a fresh random
seed each time; run it before a release and whenever an escaping rule changes. `JOBC_HYPOTHESIS_PROFILE=quick`
runs a tenth of them (derandomized too), and the frontend fuzzer a tenth of its hypothesis examples, a third
of its wrong values at each position and every third prefix of each example: what tests/run.sh
uses on the other supported Pythons, where the point is that the code runs there, not a wider search.
"""

from __future__ import annotations

import collections
import os

import pytest
from hypothesis import HealthCheck, settings

_SLOW_OK = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
    HealthCheck.function_scoped_fixture,
]
settings.register_profile(
    "jobc-security-default", max_examples=100, deadline=None, suppress_health_check=_SLOW_OK, derandomize=True
)
settings.register_profile("jobc-security-long", max_examples=1000, deadline=None, suppress_health_check=_SLOW_OK)
settings.register_profile(
    "jobc-security-quick", max_examples=10, deadline=None, suppress_health_check=_SLOW_OK, derandomize=True
)


def profile_name() -> str:
    name = os.environ.get("JOBC_HYPOTHESIS_PROFILE", "default")
    return name if name in ("long", "quick") else "default"


def profile() -> settings:
    return settings.get_profile(f"jobc-security-{profile_name()}")


class Cases:
    """How many hostile values went through compile + bash (one example holds several)."""

    def __init__(self) -> None:
        self.count = 0
        self.rejected = 0
        self.reasons: collections.Counter[str] = collections.Counter()  # SpecError messages (examples)

    def add(self, n: int) -> None:
        self.count += n


CASES = Cases()


@pytest.fixture(scope="session")
def cases() -> Cases:
    return CASES


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if CASES.count or CASES.rejected:
        terminalreporter.write_line(
            f"security: {CASES.count} injection cases explored "
            f"({CASES.rejected} values rejected by jobc with a SpecError)"
        )
        if config.getoption("verbose") > 0:
            for reason, n in CASES.reasons.most_common(8):
                terminalreporter.write_line(f"security:   rejected {n}x: {reason}")
