"""pytest plugin for mutation runs: a mutant's tests run fastest first.

mutmut runs each mutant's tests with -x, in the order it lists them (a set's order), so a killed
mutant's run lasts until its first failing test. Most kills come from quick tests; run in a
random order, a HEIF mutant waited on its module's slowest tests (tens of seconds) before it.
The order comes from mutmut's own stats run (mutants/mutmut-stats.json, the working
directory of every mutmut pytest session). A survivor still runs all of its tests.

Tests are ordered by a tier of their measured duration, and within a tier by their module's
place, so a module's fixtures are set up once per tier, not once per test.
"""

import json
from pathlib import Path

STATS = Path("mutmut-stats.json")
# Upper bounds of the duration tiers, in seconds.
TIERS = (0.02, 0.1, 0.5, 2.0)


def tier(seconds: float) -> int:
    return next((i for i, bound in enumerate(TIERS) if seconds <= bound), len(TIERS))


def fastest_first(nodeids: list[str], durations: dict[str, float]) -> list[str]:
    """The node ids in run order: by duration tier, then by module (in first-seen order), then as given."""
    module_place: dict[str, int] = {}
    for nodeid in nodeids:
        module_place.setdefault(nodeid.partition("::")[0], len(module_place))
    ordered = sorted(enumerate(nodeids), key=lambda pair: (tier(durations.get(pair[1], 0.0)), module_place[pair[1].partition("::")[0]], pair[0]))
    return [nodeid for _, nodeid in ordered]


def pytest_collection_modifyitems(session, config, items):
    if not STATS.is_file():
        return  # mutmut's stats run itself: nothing measured yet
    durations = json.loads(STATS.read_text())["duration_by_test"]
    by_id = {}
    for item in items:
        by_id.setdefault(item.nodeid, []).append(item)
    items[:] = [item for nodeid in fastest_first(list(by_id), durations) for item in by_id[nodeid]]
