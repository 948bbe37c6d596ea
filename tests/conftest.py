import os

import matplotlib

matplotlib.use("Agg")

from tests import strategies  # noqa: F401,E402  (registers the hypothesis profile)

os.environ.setdefault("MINIVAE_FAST", "1")
