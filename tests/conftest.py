import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

# the shared strategies and oracles live beside the tests
sys.path.insert(0, str(Path(__file__).parent))

# CI runs a fixed set of examples so that main stays green deterministically; locally every
# run explores new ones.
settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
