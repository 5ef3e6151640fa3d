"""Loading derivations from files and folders."""

import pytest

from gradverify.errors import InvalidArgument
from gradverify.loading import discover, load, select

ONE = '''
from gradverify import Claim, Derivation, Implementation, Real
derivation = Derivation(id="{id}", title="t", citation="s", dims={{}}, variables={{"x": Real()}},
    function=lambda s: s.x**2, claims=[Claim("d", lambda s: 2*s.x, output="g", wrt="x")],
    implementation=Implementation(lambda x: (x**2, 2*x), args=("x",), returns=("f", "g")))
'''


def test_folder_loads_every_module_but_helpers(tmp_path):
    (tmp_path / "one.py").write_text(ONE.format(id="one"))
    (tmp_path / "_helper.py").write_text("raise RuntimeError('helpers are not derivations')")
    derivations, failures = load([tmp_path])
    assert [d.id for d in derivations] == ["one"] and failures == []
    assert derivations[0].origin.endswith("one.py")


def test_duplicate_ids_are_a_failure_naming_both_files(tmp_path):
    (tmp_path / "a1.py").write_text(ONE.format(id="same"))
    (tmp_path / "a2.py").write_text(ONE.format(id="same"))
    derivations, failures = load([tmp_path])
    assert len(derivations) == 1
    assert "already used by" in failures[0].message and "a1.py" in failures[0].message


def test_a_module_without_derivations_says_how_to_make_one(tmp_path):
    (tmp_path / "empty.py").write_text("x = 1\n")
    _, failures = load([tmp_path])
    assert "defines no Derivation" in failures[0].message and "docs/tutorial/first-derivation.md" in failures[0].message


def test_an_invalid_derivation_in_a_module_is_a_load_failure_with_the_reason(tmp_path):
    (tmp_path / "bad.py").write_text(ONE.format(id="has space"))
    _, failures = load([tmp_path])
    assert "InvalidArgument: Expected a non-empty id without spaces" in failures[0].message


def test_a_module_calling_sys_exit_does_not_stop_the_loader(tmp_path):
    (tmp_path / "exits.py").write_text("import sys\nsys.exit(3)\n")
    (tmp_path / "one.py").write_text(ONE.format(id="one"))
    derivations, failures = load([tmp_path])
    assert [d.id for d in derivations] == ["one"]
    assert "exits.py exited with status 3 during import (sys.exit, line 2)" in failures[0].message


def test_discover_refuses_a_non_python_file(tmp_path):
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(InvalidArgument, match="Expected a .py file or a folder of them"):
        discover([tmp_path / "notes.txt"])


def test_only_selects_an_id_or_its_variants(seed):
    all_ = list(seed.values())
    assert [d.id for d in select(all_, "d")] == ["d-scalar", "d-vector"]
    assert [d.id for d in select(all_, "e")] == ["e"]


def test_an_empty_folder_is_an_error_not_a_silent_pass(tmp_path):
    with pytest.raises(InvalidArgument, match="none there"):
        discover([tmp_path])
