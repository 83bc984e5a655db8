"""Settings of the property-based (Hypothesis) tests, and their profiles.

    deterministic  the default, and what `make test` and CI run: derandomized (the same
                   examples every run, from the test's own name) and no example database,
                   so a failure saved by an earlier run can neither turn a later one red
                   nor hide another failure. Failures found once stay as @example.
    fuzz           `make fuzz`: a long random search with the example database in
                   .hypothesis/, run when a parser changes (FUZZ_EXAMPLES per test,
                   FUZZ_SECONDS for the whole run).

HYPOTHESIS_PROFILE picks one; tests/conftest.py loads it before any test module.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

DETERMINISTIC, FUZZ = "deterministic", "fuzz"
SLOW_INPUTS = [HealthCheck.too_slow]

settings.register_profile(DETERMINISTIC, derandomize=True, database=None, deadline=None, print_blob=True)
settings.register_profile(
    FUZZ, max_examples=int(os.environ.get("FUZZ_EXAMPLES", "5000")), deadline=None, print_blob=True, suppress_health_check=SLOW_INPUTS
)


def load_profile() -> str:
    name = os.environ.get("HYPOTHESIS_PROFILE", DETERMINISTIC)
    settings.load_profile(name)
    return name


def examples(count: int) -> settings:
    """A property test's settings: `count` examples, or the fuzz profile's many."""
    if os.environ.get("HYPOTHESIS_PROFILE") == FUZZ:
        return settings(deadline=None, suppress_health_check=SLOW_INPUTS)
    return settings(max_examples=count, deadline=None, suppress_health_check=SLOW_INPUTS)
