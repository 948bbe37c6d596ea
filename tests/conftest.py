import os
import tempfile

import matplotlib

matplotlib.use("Agg")

from tests import strategies  # noqa: E402  (registers and loads the hypothesis profile)

os.environ.setdefault("MINIVAE_FAST", "1")
# Caches (the KDD loader's parsed copy) go to a temporary directory, never to ~/.cache.
os.environ.setdefault("MINIVAE_CACHE", tempfile.mkdtemp(prefix="minivae-cache-"))


def pytest_report_header(config):
    return f"hypothesis profile: {strategies.profile_name()} (CI=true selects the derandomised 'ci')"
