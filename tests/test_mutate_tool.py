"""tools/mutate.py's own bookkeeping, without running mutmut: every test module of the transform's core and
serving pipeline is run on mutants or excluded with a reason, and a re-run of survivors knows when the sources
changed under it."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from tools import mutate

TESTS_DIR = Path(__file__).resolve().parent
MUTATED_PACKAGES = frozenset({"metadata", "serving"})


def imports_mutated_code(source: str) -> bool:
    """Whether a module imports metadata or serving (or something in them)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        else:
            continue
        if any(name.split(".")[0] in MUTATED_PACKAGES for name in names):
            return True
    return False


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import metadata\n", True),
        ("from metadata.formats import gif\n", True),
        ("def f():\n    from serving.errors import Refused\n", True),
        ("import metadata_checks\nfrom stacks import policies\n", False),
        ("from .metadata import x\n", False),
    ],
)
def test_an_import_of_the_mutated_packages_is_recognised(source, expected):
    assert imports_mutated_code(source) is expected


def test_every_test_module_of_the_mutated_packages_is_run_on_mutants_or_excluded_with_a_reason():
    modules = {f"tests/{path.name}" for path in TESTS_DIR.glob("test_*.py") if imports_mutated_code(path.read_text(encoding="utf-8"))}
    assert len(modules) > 20  # the glob found the suite
    listed, excluded = set(mutate.MUTATE_TESTS), set(mutate.NOT_MUTATE_TESTS)
    assert sorted(modules - listed - excluded) == []
    assert sorted(listed & excluded) == []
    assert all(reason.strip() for reason in mutate.NOT_MUTATE_TESTS.values())
    assert sorted(name for name in listed | excluded if not (TESTS_DIR.parent / name).exists()) == []


def _repository(root: Path) -> Path:
    for name in mutate.SOURCE_PATHS:
        folder = root / mutate.TRANSFORM / name if name in mutate.PACKAGES else root / name
        folder.mkdir(parents=True)
        (folder / "module.py").write_text(f"NAME = {name!r}\n")
    (root / "tests").mkdir()
    (root / "tests" / "test_x.py").write_text("def test_x():\n    pass\n")
    (root / "tools").mkdir()
    (root / "tools" / "mutate_order.py").write_text("ORDER = 1\n")
    return root


def test_sources_hash_changes_with_any_source_file_and_not_with_the_tests(tmp_path):
    root = _repository(tmp_path / "repo")
    before = mutate.sources_hash(root)
    (root / "tests" / "test_x.py").write_text("def test_y():\n    pass\n")
    (root / mutate.TRANSFORM / "metadata" / "__pycache__").mkdir()
    (root / mutate.TRANSFORM / "metadata" / "__pycache__" / "module.pyc").write_bytes(b"compiled")
    assert mutate.sources_hash(root) == before
    for folder in mutate.source_dirs(root):
        copy = tmp_path / f"copy-{folder.name}"
        shutil.copytree(root, copy)
        (copy / folder.relative_to(root) / "module.py").write_text("NAME = 'changed'\n")
        assert mutate.sources_hash(copy) != before, folder
    (root / "stacks" / "extra.py").write_text("")
    assert mutate.sources_hash(root) != before


def _staged(tmp_path, monkeypatch, tests):
    root = _repository(tmp_path / "repo")
    work = tmp_path / "work"
    shutil.copytree(root, work)
    for name in mutate.SOURCE_PATHS:  # the transform's packages at the copy's root, as stage() places them
        if name in mutate.PACKAGES:
            shutil.copytree(root / mutate.TRANSFORM / name, work / name)
    (work / "mutants").mkdir()
    (work / "mutants" / "results.meta").write_text("kept")
    monkeypatch.setattr(mutate, "ROOT", root)
    monkeypatch.setattr(mutate, "WORK", work)
    monkeypatch.setattr(mutate, "STAGED", work / "mutate-staged.json")
    mutate.STAGED.write_text(mutate.json.dumps({"sources": mutate.sources_hash(root), "tests": tests, "only_mutate": ["metadata/*"]}))
    mutate.write_config(["metadata/*"], tests)
    return root, work


def test_survivors_rerun_copies_the_current_tests_and_keeps_mutmuts_results(tmp_path, monkeypatch):
    root, work = _staged(tmp_path, monkeypatch, ["tests/test_x.py"])
    (root / "tests" / "test_x.py").write_text("def test_sharper():\n    assert True\n")
    (root / "tests" / "helpers.py").write_text("HELP = 1\n")
    (root / "tools" / "mutate_order.py").write_text("ORDER = 2\n")
    assert mutate.restage(["tests/test_x.py"]) == (False, False)
    assert (work / "tests" / "test_x.py").read_text() == "def test_sharper():\n    assert True\n"
    assert (work / "tests" / "helpers.py").read_text() == "HELP = 1\n"
    assert (work / "tools" / "mutate_order.py").read_text() == "ORDER = 2\n"
    assert (work / "mutants" / "results.meta").read_text() == "kept"


def test_survivors_rerun_copies_changed_sources_and_records_them(tmp_path, monkeypatch):
    root, work = _staged(tmp_path, monkeypatch, ["tests/test_x.py"])
    (root / mutate.TRANSFORM / "metadata" / "module.py").write_text("NAME = 'new'\n")
    assert mutate.restage(["tests/test_x.py"]) == (True, False)
    assert (work / "metadata" / "module.py").read_text() == "NAME = 'new'\n"
    assert (work / "stacks" / "module.py").read_text() == "NAME = 'stacks'\n"
    assert (work / "mutants" / "results.meta").read_text() == "kept"
    assert mutate.json.loads(mutate.STAGED.read_text())["sources"] == mutate.sources_hash(root)
    assert mutate.restage(["tests/test_x.py"]) == (False, False)


def test_survivors_rerun_adds_new_test_modules_to_mutmuts_configuration(tmp_path, monkeypatch):
    root, work = _staged(tmp_path, monkeypatch, ["tests/test_x.py"])
    (root / "tests" / "test_y.py").write_text("def test_y():\n    pass\n")
    assert mutate.restage(["tests/test_x.py", "tests/test_y.py"]) == (False, True)
    config = (work / "setup.cfg").read_text()
    selection = config.split("pytest_add_cli_args_test_selection =\n")[1].split("pytest_add_cli_args =")[0]
    assert selection.split() == ["tests/test_x.py", "tests/test_y.py"]
    assert config.split("only_mutate =\n")[1].split("also_copy")[0].split() == ["metadata/*"]
    assert "mutants" not in config.split("also_copy =\n")[1].split("pytest_add_cli_args_test_selection")[0].split()
    assert mutate.json.loads(mutate.STAGED.read_text())["tests"] == ["tests/test_x.py", "tests/test_y.py"]
    assert (work / "mutants" / "results.meta").read_text() == "kept"


def test_survivors_rerun_reports_a_changed_pytest_option_as_a_changed_configuration(tmp_path, monkeypatch):
    _, work = _staged(tmp_path, monkeypatch, ["tests/test_x.py"])
    config = work / "setup.cfg"
    config.write_text(config.read_text().replace("    tools.mutate_order\n", ""))
    assert mutate.restage(["tests/test_x.py"]) == (False, True)
    assert "    -p\n    tools.mutate_order\n" in config.read_text()
    assert mutate.restage(["tests/test_x.py"]) == (False, False)


def test_survivors_rerun_is_refused_when_a_test_module_left_the_selection(tmp_path, monkeypatch):
    _, work = _staged(tmp_path, monkeypatch, ["tests/test_x.py", "tests/test_y.py"])
    with pytest.raises(SystemExit, match=r"tests/test_y.py left the test selection \(MUTATE_TESTS\) since the full run"):
        mutate.restage(["tests/test_x.py"])
    assert (work / "mutants" / "results.meta").read_text() == "kept"


def test_survivors_rerun_without_a_full_run_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(mutate, "ROOT", tmp_path)
    monkeypatch.setattr(mutate, "WORK", tmp_path / "build" / "mutate")
    monkeypatch.setattr(mutate, "STAGED", tmp_path / "build" / "mutate" / "mutate-staged.json")
    with pytest.raises(SystemExit, match="no full run staged in build/mutate"):
        mutate.restage(["tests/test_x.py"])


def test_survivors_named_by_glob_are_matched_as_mutmut_names_them():
    statuses = {"metadata.formats.gif.x__comment__mutmut_1": "survived", "metadata.formats.gif.x__comment__mutmut_12": "killed", "metadata.formats.png.x__comment__mutmut_1": "survived"}
    assert mutate.matching(statuses, ["metadata.formats.gif.*", "metadata.formats.png.x__comment__mutmut_1"]) == sorted(statuses)
    assert mutate.matching(statuses, ["*gif.x__comment__mutmut_1"]) == ["metadata.formats.gif.x__comment__mutmut_1"]


def test_survivors_rerun_takes_the_unexplained_survivors_and_the_timeouts():
    statuses = {"m.a__mutmut_1": "survived", "m.a__mutmut_2": "killed", "m.a__mutmut_3": "no tests", "m.a__mutmut_4": "survived", "m.a__mutmut_5": "timeout"}
    assert mutate.to_recheck(statuses, {"m.a__mutmut_4": "same loop end"}) == ["m.a__mutmut_1", "m.a__mutmut_3", "m.a__mutmut_5"]


def test_table_counts_timeouts_apart_and_in_the_kill_rate(capsys):
    statuses = {"m.a__mutmut_1": "killed", "m.a__mutmut_2": "timeout", "m.a__mutmut_3": "survived", "m.a__mutmut_4": "survived"}
    assert mutate.table(statuses, {"m.a__mutmut_4": "same loop end"}) == ["m.a__mutmut_3"]
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("m "))
    assert row.split() == ["m", "1", "1", "1", "1", "0", "66.7%"]


def test_survivors_rerun_names_the_mutants_of_every_function_changed_since_the_full_run(tmp_path, monkeypatch):
    root, work = _staged(tmp_path, monkeypatch, ["tests/test_x.py"])
    source = root / mutate.TRANSFORM / "metadata" / "module.py"
    source.write_text("def same(a):\n    return a + 1\n\n\ndef edited(a):\n    return a - 1\n\n\nclass Walk:\n    def step(self):\n        return 2\n")
    from mutmut.mutation.file_mutation import compute_function_hashes

    tested = compute_function_hashes(source.read_text())
    (work / "mutants" / "metadata").mkdir()
    (work / "mutants" / "metadata" / "module.py.meta").write_text(mutate.json.dumps({"exit_code_by_key": {}, "hash_by_function_name": tested}))
    assert mutate.changed_functions() == []
    source.write_text(source.read_text().replace("a - 1", "a - 2").replace("return 2", "return 3") + "\n\ndef added():\n    return 0\n")
    assert mutate.changed_functions() == ["metadata.module.x_edited__mutmut_*", "metadata.module.xǁWalkǁstep__mutmut_*", "metadata.module.x_added__mutmut_*"]


def test_a_mutants_tests_run_by_duration_tier_then_by_module():
    from tools.mutate_order import fastest_first

    durations = {"tests/a.py::slow": 30.0, "tests/a.py::quick": 0.01, "tests/b.py::quick": 0.005, "tests/b.py::middling": 0.3, "tests/a.py::middling": 0.2, "tests/a.py::quick2": 0.015}
    given = ["tests/a.py::slow", "tests/b.py::middling", "tests/a.py::quick", "tests/b.py::quick", "tests/a.py::middling", "tests/a.py::quick2", "tests/c.py::unmeasured"]
    assert fastest_first(given, durations) == [
        # up to 0.02 s (unmeasured counts as 0), module a's before b's as a came first, each as given
        "tests/a.py::quick",
        "tests/a.py::quick2",
        "tests/b.py::quick",
        "tests/c.py::unmeasured",
        # up to 0.5 s
        "tests/a.py::middling",
        "tests/b.py::middling",
        # over 2 s
        "tests/a.py::slow",
    ]
