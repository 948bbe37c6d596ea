import os

import matplotlib

matplotlib.use("Agg")

from tests import strategies  # noqa: E402  (registers and loads the hypothesis profile)

os.environ.setdefault("MINIVAE_FAST", "1")


def pytest_report_header(config):
    return f"hypothesis profile: {strategies.profile_name()} (CI=true selects the derandomised 'ci')"
