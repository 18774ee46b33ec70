"""Hypothesis profiles: `dev` explores new examples each run; `ci` is derandomized, so a CI run
is reproducible and a failure seen there replays locally with HYPOTHESIS_PROFILE=ci."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", deadline=None)
settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
