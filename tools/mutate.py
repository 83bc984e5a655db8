#!/usr/bin/env python3
"""Mutation testing (mutmut) of the transform's core, its serving pipeline and the IAM policies.

    python tools/mutate.py [PATH ...] [--jobs N] [--show]
    python tools/mutate.py --survivors [MUTANT ...] [--jobs N] [--show]

PATH: files or folders to mutate, as the repository names them (default: all of
lambdas/exif_transform/metadata/, lambdas/exif_transform/serving/ and stacks/policies.py).

--survivors re-checks the last run after tests were added: it copies the repository's
tests/ and sources into build/mutate/ again, keeps mutmut's results, and tests again the
unexplained survivors and the timeouts (or the mutants named: names or globs, as `mutmut
results` prints them), with the mutants of every function that changed since the full run
(mutmut's hash of each function's syntax tree, stored with its results). Mutants the full run
did not reach stay unreached. Test modules added to MUTATE_TESTS are added to the run (they
cannot make an earlier kill stale); it refuses when a module left the selection (its kills
could be): run a full one then. mutmut finds the tests that are new since the full run; an
existing test that was changed to call a function it did not call before is not mapped to
that function's mutants (they stay survivors: a full run settles it).

mutmut names a mutant after the module path of its file, and the tests import the
transform's packages as top-level `metadata` and `serving` (pytest.ini's pythonpath), so
the run happens in a copy of the repository (build/mutate/) in which those packages sit
at the root. The tests run are the fast ones that exercise that code (MUTATE_TESTS), with
Hypothesis in its deterministic profile.

The table gives, per module: mutants killed (a test failed), timed out (mutmut stopped the
tests after 15 times their usual wall-clock time: an endless loop, or a loaded machine), survived (no
test noticed), equivalent (a survivor listed in tools/equivalent_mutants.txt: it cannot
change what the code does, with the reason) and the kill rate, (killed + timeout) /
(killed + timeout + survived). Unexplained survivors are listed by name; `--show` prints their diffs, and
`cd build/mutate && ../../.venv/bin/mutmut show NAME` shows one.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TRANSFORM = Path("lambdas/exif_transform")
WORK = ROOT / "build" / "mutate"
EQUIVALENTS = ROOT / "tools" / "equivalent_mutants.txt"
# What the full run staged: the hash of the sources under mutation and the tests selected.
STAGED = WORK / "mutate-staged.json"
DEFAULT_PATHS = ["lambdas/exif_transform/metadata", "lambdas/exif_transform/serving", "stacks/policies.py"]
# The packages the tests import from lambdas/exif_transform, placed at the copy's root.
PACKAGES = ["metadata", "serving", "olap", "function_url", "audit"]
SOURCE_PATHS = ["metadata", "serving", "stacks"]
# The fast tests of that code: no deploy.sh runs, no Node.js, no servers, no subprocess-only checks.
# Every test module that imports metadata or serving is here or in NOT_MUTATE_TESTS
# (tests/test_mutate_tool.py checks it), so a new format's tests are not forgotten.
MUTATE_TESTS = [
    "tests/test_metadata.py",
    "tests/test_metadata_exif_json.py",
    "tests/test_metadata_lenient.py",
    "tests/test_metadata_limits.py",
    "tests/test_metadata_properties.py",
    "tests/test_av1_payloads.py",
    "tests/test_gif_extensions.py",
    "tests/test_heif.py",
    "tests/test_heif_holes.py",
    "tests/test_heif_pictures.py",
    "tests/test_hevc_payloads.py",
    "tests/test_icc_profile.py",
    "tests/test_item_descriptors.py",
    "tests/test_item_payloads.py",
    "tests/test_jpeg_gain_map.py",
    "tests/test_jxl.py",
    "tests/test_jxl_codestream.py",
    "tests/test_png_chunks.py",
    "tests/test_png_damaged.py",
    "tests/test_tiff_resolution.py",
    "tests/test_xmp_rendering.py",
    "tests/test_webp_chunks.py",
    # The pipeline both modes share and the two handlers over it (stub servers on 127.0.0.1, moto
    # in-process). mutmut runs its stats and its clean run as two pytest sessions in one process:
    # what a test module caches must live in its module-scoped fixtures, not in globals (a handler
    # loaded against the first session's servers wrote to a closed port in the second).
    "tests/test_streaming_strip.py",
    "tests/test_streamed_pipeline.py",
    "tests/test_transform_handler.py",
    "tests/test_url_handler.py",
    "tests/test_audit_row.py",
    "tests/test_readme.py",
    "tests/test_policies.py",
    "tests/test_templates.py",
    "tests/test_audit_template.py",
    "tests/test_cdn_oac_template.py",
    "tests/test_function_url_template.py",
]
# Test modules that import metadata or serving but are not run on mutants, and why.
NOT_MUTATE_TESTS = {
    # The command line run as the installed console script in subprocesses, and `serve`'s local
    # server: mutmut's stats record calls in the test process only, and each test costs seconds.
    "tests/test_cli.py": "the console script in subprocesses, moto's server",
    "tests/test_cli_serve.py": "the console script and its server in a subprocess",
    # moto's server over HTTP and worker threads: with these two selected, a run on
    # metadata/icc_profile.py stopped on a mutant that left a test waiting without using CPU,
    # which mutmut's CPU-time limit never ends (which test waits was not found).
    "tests/test_audit_handler.py": "a mutant left a test waiting on moto's server (see above)",
    "tests/test_cli_audit.py": "a mutant left a test waiting on moto's server or its workers (see above)",
}
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", ".venv-scan", "build", "__pycache__", ".pytest_cache", ".hypothesis", "mutants")
KILLED = {"killed", "segfault", "caught by type check"}
# mutmut stops a mutant's tests after (their measured time + 10 s) x 3 of wall-clock time, so
# on a loaded machine a slow but correct run becomes a timeout: timeouts count as killed,
# as mutmut counts them, but are shown apart and re-run by --survivors.
TIMEOUT = "timeout"
SURVIVED = {"survived", "no tests"}


def staged_path(path: str) -> str:
    """Where a repository path lies in the copy."""
    parts = Path(path).parts
    if parts[: len(TRANSFORM.parts)] == TRANSFORM.parts:
        return str(Path(*parts[len(TRANSFORM.parts) :]))
    return path


def only_mutate(paths: list[str]) -> list[str]:
    patterns = []
    for path in paths:
        staged = staged_path(path.rstrip("/"))
        if not staged.split("/")[0] in SOURCE_PATHS:
            sys.exit(f"mutate: {path} is outside {', '.join(DEFAULT_PATHS)}")
        patterns.append(staged if staged.endswith(".py") else staged + "/*")
    return patterns


def stage(patterns: list[str], tests: list[str]) -> None:
    """A fresh copy of the repository with the transform's packages at its root."""
    shutil.rmtree(WORK, ignore_errors=True)
    shutil.copytree(ROOT, WORK, ignore=COPY_IGNORE, symlinks=True)
    for package in PACKAGES:
        shutil.copytree(ROOT / TRANSFORM / package, WORK / package, ignore=COPY_IGNORE)
    ini = (WORK / "pytest.ini").read_text()
    lines = [("pythonpath = . tests" if line.startswith("pythonpath") else line) for line in ini.splitlines()]
    (WORK / "pytest.ini").write_text("\n".join(lines) + "\n")
    write_config(patterns, tests)
    STAGED.write_text(json.dumps({"sources": sources_hash(ROOT), "tests": tests, "only_mutate": patterns}, indent=1) + "\n")


def write_config(patterns: list[str], tests: list[str]) -> None:
    """mutmut's configuration in the copy: what to mutate, and the tests to run on mutants."""
    also_copy = sorted(p.name for p in WORK.iterdir() if p.name not in SOURCE_PATHS and p.name not in ("setup.cfg", "mutants", STAGED.name))
    config = [
        "[mutmut]",
        "source_paths =",
        *(f"    {p}" for p in SOURCE_PATHS),
        "only_mutate =",
        *(f"    {p}" for p in patterns),
        "also_copy =",
        *(f"    {p}" for p in also_copy),
        # mutmut stops a mutant after (its tests' measured time + this constant) x this
        # multiplier, in wall-clock seconds (twice that in CPU seconds). The measured time
        # leaves out fixtures and collection: of 9,000 mutants run with mutmut's 1 s and x 15,
        # the slowest took 8 x (measured + 1 s), all of them within 3 x (measured + 10 s). At
        # x 15, a mutant that loops forever in a HEIF walk (tests measured at about 50 s) would
        # hold a core for 13 minutes. Timeouts are shown apart, and --survivors runs them again.
        "timeout_constant = 10",
        "timeout_multiplier = 3",
        "pytest_add_cli_args_test_selection =",
        *(f"    {t}" for t in tests),
        "pytest_add_cli_args =",
        "    -p",
        "    no:cacheprovider",
        "    -q",
        # A mutant's tests fastest first: mutmut stops at the first failure (tools/mutate_order.py).
        "    -p",
        "    tools.mutate_order",
        # The first call into the stub servers can outlast the tests' short fetch timeouts
        # while mutmut's trampolines record which tests call what.
        "    --deselect",
        "    tests/test_transform_handler.py::test_image_is_answered_stripped_through_botocore[gif]",
        # 8,000 mdat boxes walked under a call counter: 33 s under mutmut's trampolines, half of
        # what every surviving HEIF mutant costs. `make test` runs it; a mutant only it would
        # kill (work quadratic in the boxes) shows as a survivor here, never as a kill.
        "    --deselect",
        "    tests/test_heif_holes.py::test_inputs_once_slow_take_work_proportional_to_their_size[many-mdat-boxes]",
    ]
    (WORK / "setup.cfg").write_text("\n".join(config) + "\n")


def source_dirs(root: Path) -> list[Path]:
    """The repository's folders that become the copy's source paths (SOURCE_PATHS)."""
    return [root / TRANSFORM / name if name in PACKAGES else root / name for name in SOURCE_PATHS]


def sources_hash(root: Path) -> str:
    """One hash of every file under the source paths: the code mutated, and the code its mutants run with."""
    digest = hashlib.sha256()
    for folder in source_dirs(root):
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def restage(tests: list[str]) -> tuple[bool, bool]:
    """The repository's tests/, tools/ and sources copied again into the staged copy, mutmut's
    results kept; returns whether the sources changed and whether mutmut's configuration did
    (test modules added to the selection, or its pytest options) since the copy was staged.
    Exits when there is no copy, or when a test module left the selection (results it produced
    could be stale)."""
    if not STAGED.exists():
        sys.exit(f"mutate: no full run staged in {WORK.relative_to(ROOT)}: run `tools/mutate.py` without --survivors first")
    staged = json.loads(STAGED.read_text())
    dropped = sorted(set(staged["tests"]) - set(tests))
    if dropped:
        sys.exit(f"mutate: {', '.join(dropped)} left the test selection (MUTATE_TESTS) since the full run, so its kills may be stale: run `tools/mutate.py` again")
    sources_changed = staged["sources"] != sources_hash(ROOT)
    for folder in ("tests", "tools"):
        shutil.rmtree(WORK / folder, ignore_errors=True)
        shutil.copytree(ROOT / folder, WORK / folder, ignore=COPY_IGNORE, symlinks=True)
    if sources_changed:
        # mutmut compares each function with its hash from the full run: the mutants of a changed
        # function are tested again, the others keep their results.
        for source, copy in zip(source_dirs(ROOT), [WORK / name for name in SOURCE_PATHS]):
            shutil.rmtree(copy)
            shutil.copytree(source, copy, ignore=COPY_IGNORE)
    config_file = WORK / "setup.cfg"
    before = config_file.read_text() if config_file.exists() else ""
    write_config(staged["only_mutate"], tests)
    STAGED.write_text(json.dumps({**staged, "sources": sources_hash(ROOT), "tests": tests}, indent=1) + "\n")
    return sources_changed, config_file.read_text() != before


# Run with mutmut's internals in the copy (its configuration is read from the working directory).
# A test module added to the selection, or a changed pytest option (the order tests run in),
# changes mutmut's fingerprint of its configuration, and mutmut would then reset every result;
# neither can make an earlier kill stale, so the stored fingerprint is brought up to date
# instead, and mutmut collects the new tests' coverage.
_KEEP_RESULTS = """
import json, sys
sys.argv = ["mutmut"]
from mutmut.configuration import config
with open("mutants/mutmut-stats.json") as f:
    stats = json.load(f)
stats["config_fingerprint"] = config().config_fingerprint()
with open("mutants/mutmut-stats.json", "w") as f:
    json.dump(stats, f, indent=4)
"""
def mutmut_internals(script: str) -> None:
    subprocess.run([sys.executable, "-c", script], cwd=WORK, check=True)


def changed_functions() -> list[str]:
    """A glob naming the mutants of each function whose code differs from the one the staged
    run tested (mutmut's hash of its syntax tree, stored per file): those mutants are new."""
    from mutmut.mutation.file_mutation import compute_function_hashes
    from mutmut.utils.format_utils import get_mutant_name

    globs = []
    for meta in sorted((WORK / "mutants").rglob("*.py.meta")):
        staged = meta.relative_to(WORK / "mutants").with_suffix("")
        repository = ROOT / (TRANSFORM / staged if staged.parts[0] in PACKAGES else staged)
        tested = json.loads(meta.read_text())["hash_by_function_name"]
        current = compute_function_hashes(repository.read_text(encoding="utf-8")) if repository.exists() else {}
        globs += [get_mutant_name(staged, f"{name}__mutmut_*") for name, digest in current.items() if tested.get(name) != digest]
    return globs


def equivalents() -> dict[str, str]:
    """Known equivalent mutants: `name  reason` per line, # comments."""
    known = {}
    for line in EQUIVALENTS.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, reason = line.partition(" ")
            if not reason.strip():
                sys.exit(f"mutate: {EQUIVALENTS.name}: {name} has no reason")
            known[name] = reason.strip()
    return known


def results(mutmut: str) -> dict[str, str]:
    """Every mutant's status, by name."""
    out = subprocess.run([mutmut, "results", "--all", "true"], cwd=WORK, capture_output=True, text=True, check=True).stdout
    statuses = {}
    for line in out.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and "__mutmut_" in name:
            statuses[name] = status
    return statuses


def module_of(name: str) -> str:
    return name.partition("__mutmut_")[0].rpartition(".")[0]


def table(statuses: dict[str, str], known: dict[str, str]) -> list[str]:
    """Prints the per-module table; returns the unexplained survivors."""
    counts: dict[str, Counter] = defaultdict(Counter)
    unexplained = []
    for name, status in statuses.items():
        module = module_of(name)
        if status in KILLED:
            counts[module]["killed"] += 1
        elif status == TIMEOUT:
            counts[module]["timeout"] += 1
        elif name in known:
            counts[module]["equivalent"] += 1
        elif status in SURVIVED:
            counts[module]["survived"] += 1
            unexplained.append(name)
        else:
            counts[module]["other"] += 1  # not checked, interrupted, suspicious
    width = max([len(m) for m in counts] + [len("module")])
    print(f"\n{'module':<{width}}  killed  timeout  survived  equivalent  other  kill rate")
    total: Counter = Counter()
    for module in sorted(counts):
        total.update(counts[module])
        print(_row(module, counts[module], width))
    print(_row("total", total, width))
    return sorted(unexplained)


def _row(module: str, c: Counter, width: int) -> str:
    caught = c["killed"] + c["timeout"]
    tested = caught + c["survived"]
    rate = f"{100 * caught / tested:5.1f}%" if tested else "    -"
    return f"{module:<{width}}  {c['killed']:6}  {c['timeout']:7}  {c['survived']:8}  {c['equivalent']:10}  {c['other']:5}  {rate:>9}"


def run_mutmut(mutmut: str, jobs: int, names: list[str]) -> int:
    """mutmut run in the copy: every mutant without a result, or (re-run) the ones named."""
    env = {**os.environ, "HYPOTHESIS_PROFILE": "deterministic"}
    return subprocess.run([mutmut, "run", "--max-children", str(jobs), *names], cwd=WORK, env=env).returncode


def matching(statuses: dict[str, str], patterns: list[str]) -> list[str]:
    """The mutants named, or matched by globs, as `mutmut results` names them."""
    return sorted(name for name in statuses if any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns))


def to_recheck(statuses: dict[str, str], known: dict[str, str]) -> list[str]:
    """The unexplained survivors, and the timeouts (which a loaded machine can cause)."""
    return sorted(name for name, status in statuses.items() if (status in SURVIVED and name not in known) or status == TIMEOUT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATE_JOBS", os.cpu_count() or 2)))
    parser.add_argument("--show", action="store_true", help="print the diff of every unexplained survivor")
    parser.add_argument("--report-only", action="store_true", help="print the table of the last run in build/mutate")
    parser.add_argument(
        "--survivors",
        nargs="*",
        metavar="MUTANT",
        help="re-run the last run's unexplained survivors and timeouts (or these mutants: names or globs) with the current tests",
    )
    args = parser.parse_args(argv)
    if args.survivors is not None and (args.paths or args.report_only):
        parser.error("--survivors re-runs mutants of the last full run: no PATH, no --report-only")
    mutmut = str(Path(sys.executable).parent / "mutmut")
    known = equivalents()
    if not args.report_only:
        tests = os.environ.get("MUTATE_TESTS", "").split() or MUTATE_TESTS
        tests = [t for t in tests if (ROOT / t).exists()]
        if args.survivors is None:
            stage(only_mutate(args.paths or DEFAULT_PATHS), tests)
            names = []
        else:
            statuses = results(mutmut)
            changed = changed_functions()
            _, config_changed = restage(tests)
            if config_changed:
                mutmut_internals(_KEEP_RESULTS)
            names = matching(statuses, args.survivors) if args.survivors else to_recheck(statuses, known)
            # A changed function's mutants are renumbered: its glob replaces their old names.
            names = [name for name in names if not any(fnmatch.fnmatchcase(name, glob) for glob in changed)] + changed
            if changed:
                print(f"mutate: {len(changed)} functions changed since the full run: their mutants are tested again too")
        returncode = run_mutmut(mutmut, args.jobs, names) if args.survivors is None or names else 0
        if returncode:
            print(f"mutate: mutmut run exited with {returncode}", file=sys.stderr)
            return returncode
    statuses = results(mutmut)
    unexplained = table(statuses, known)
    stale = sorted(name for name in known if name in statuses and statuses[name] in KILLED)
    if stale:
        print("\nListed as equivalent but killed now (remove them from tools/equivalent_mutants.txt):")
        print("\n".join(f"  {name}" for name in stale))
    if unexplained:
        print(f"\n{len(unexplained)} unexplained survivors (kill them with a test, or list them with a reason):")
        for name in unexplained:
            print(f"  {name}")
            if args.show:
                shown = subprocess.run([mutmut, "show", name], cwd=WORK, capture_output=True, text=True).stdout
                print("    " + shown.replace("\n", "\n    "))
    return 0


if __name__ == "__main__":
    sys.exit(main())
