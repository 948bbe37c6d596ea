"""The hypothesis profiles of tests/strategies.py: derandomised under CI, exploring otherwise."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import profile_name


@pytest.mark.parametrize("environ, expected", [
    ({}, "dev"),
    ({"CI": ""}, "dev"),
    ({"CI": "0"}, "dev"),
    ({"CI": "false"}, "dev"),
    ({"CI": "No"}, "dev"),
    ({"CI": "true"}, "ci"),
    ({"CI": "1"}, "ci"),
    ({"CI": "true", "HYPOTHESIS_PROFILE": "dev"}, "dev"),
    ({"HYPOTHESIS_PROFILE": "ci"}, "ci"),
])
def test_profile_selection(environ, expected):
    assert profile_name(environ) == expected


def test_ci_profile_is_derandomised_and_dev_explores():
    ci, dev = settings.get_profile("ci"), settings.get_profile("dev")
    assert ci.derandomize and ci.database is None and ci.deadline is None
    assert not dev.derandomize and dev.deadline is None
    assert ci.max_examples == dev.max_examples

    def draws(profile):
        seen = []

        @settings(profile, database=None)
        @given(st.integers(0, 2**32 - 1))
        def record(x):
            seen.append(x)

        record()
        return seen

    assert draws(ci) == draws(ci)            # the same examples on every run
    assert draws(dev) != draws(dev)          # new examples on every run (2^-32 per draw to collide)
