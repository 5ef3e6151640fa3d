"""`gradverify.check` and `assert_holds` leave the caller's process as it was: a derivation defined
at the top level of a file is checked in a worker process that imports that file, and only if the
worker finds there the very derivation passed; otherwise the check runs here and says so."""

import dataclasses
import random
import sys
import textwrap
import threading
import warnings

import numpy as np
import pytest

from gradverify.errors import InvalidArgument
from gradverify.testing import assert_holds, check, load_derivations

LOSSES = '''
import numpy as np
from gradverify import Claim, Derivation, Implementation, Real

SCALE = 1.0

def half_square(x):
    np.random.random()  # the code draws from the global generator: the check pins it
    return 0.5 * SCALE * x @ x, SCALE * x

def one(id, claim):
    return Derivation(
        id=id, title="½‖x‖²", citation="test", dims={"n": (1, 3)}, variables={"x": Real("n")},
        function=lambda s: (s.x.T * s.x)[0, 0] / 2,
        claims=[Claim("∂J/∂x", claim, output="g", wrt="x", as_written="x")],
        implementation=Implementation(half_square, args=("x",), returns=("J", "g")),
    )

good = one("good", lambda s: s.x)
wrong = one("wrong", lambda s: -s.x)

def forever(x):
    while True:
        pass

loops = Derivation(
    id="loops", title="½‖x‖²", citation="test", dims={"n": (1, 3)}, variables={"x": Real("n")},
    function=lambda s: (s.x.T * s.x)[0, 0] / 2,
    claims=[Claim("∂J/∂x", lambda s: s.x, output="g", wrt="x", as_written="x")],
    implementation=Implementation(forever, args=("x",), returns=("J", "g")),
)
'''


@pytest.fixture(scope="module")
def losses(tmp_path_factory):
    path = tmp_path_factory.mktemp("isolated") / "isolated_losses.py"
    path.write_text(textwrap.dedent(LOSSES), encoding="utf-8")
    derivations, failures = load_derivations([path])
    assert failures == []
    return {d.id: d for d in derivations}


def test_a_check_in_a_worker_leaves_a_thread_drawing_from_the_global_generators_alone(losses):
    filters, err, hook = list(warnings.filters), np.geterr(), sys.getprofile()
    modules = set(sys.modules)
    np.random.seed(123)
    random.seed(123)
    results = []
    thread = threading.Thread(target=lambda: results.append(check(losses["good"], examples=5)))
    thread.start()
    drawn_np, drawn_py = [], []
    while thread.is_alive():  # drawing all the while the check runs
        drawn_np.append(np.random.random())
        drawn_py.append(random.random())
    thread.join()
    np.random.seed(123)
    random.seed(123)
    expected_np = np.random.random(len(drawn_np))
    expected_py = [random.random() for _ in drawn_py]
    (result,) = results
    assert result.ok and result.notes == ["checked in a worker process"], result.notes
    assert np.array_equal(drawn_np, expected_np) and drawn_py == expected_py  # never seeded, never rewound
    assert warnings.filters == filters and np.geterr() == err and sys.getprofile() is hook
    folder = str(losses["good"].origin).rsplit("/", 1)[0]
    added = [m for m in set(sys.modules) - modules if folder in str(getattr(sys.modules[m], "__file__", ""))]
    assert added == []  # no module of the derivation's folder stays behind


def test_the_worker_and_this_process_give_the_same_verdicts_and_texts(losses):
    for name in ("good", "wrong"):
        there = check(losses[name], examples=5)
        here = check(losses[name], examples=5, in_process=True)
        assert [r.verdict for r in there.rows] == [r.verdict for r in here.rows]
        assert there.text() == here.text()
        assert here.notes[0].startswith("checked in this process (in_process=True)")
    with pytest.raises(AssertionError, match="sign flipped"):
        assert_holds(losses["wrong"], examples=5)


def test_a_variant_the_file_does_not_define_is_checked_here_and_said_so(losses):
    variant = dataclasses.replace(losses["good"], claims=losses["wrong"].claims)
    result = check(variant, examples=5)
    assert not result.ok  # the variant's own (wrong) claim, not the file's right one
    assert "it differs from the derivation 'good' that" in result.notes[0]


def test_a_changed_module_constant_is_seen(losses):
    fn = losses["good"].implementation.fn
    fn.__globals__["SCALE"] = 2.0  # as a test's monkeypatch would
    try:
        result = check(losses["good"], examples=5)
    finally:
        fn.__globals__["SCALE"] = 1.0
    assert not result.ok and "differs" in result.notes[0], result.notes


def test_a_derivation_built_inside_a_function_is_checked_here_and_said_so(losses):
    def build():
        return dataclasses.replace(losses["good"], origin="")
    result = check(build(), examples=5)
    assert result.ok and "not at the top level of a file" in result.notes[0]


def test_a_loop_in_the_code_is_cut_at_the_time_limit_and_named(losses):
    result = check(losses["loops"], examples=2, timeout=3)
    (row,) = result.rows
    assert row.verdict == "error"
    assert "did not return within 3 s (raise check(timeout=…) if it needs longer)" in row.message


@pytest.mark.parametrize("options, phrase", [
    pytest.param({"timeout": 0}, "Expected a positive number of seconds but got timeout=0", id="timeout-zero"),
    pytest.param({"timeout": "5"}, "timeout='5'", id="timeout-text"),
    pytest.param({"max_memory": -1}, "Expected a positive number of bytes", id="memory-negative"),
    pytest.param({"max_memory": 1.5}, "max_memory=1.5", id="memory-float"),
])
def test_bad_limits_are_refused_with_what_was_expected(losses, options, phrase):
    with pytest.raises(InvalidArgument, match=phrase.replace("(", r"\(")):
        check(losses["good"], **options)


def test_a_script_that_calls_check_at_its_top_level_gets_its_verdict_and_the_rule(losses, tmp_path):
    import subprocess

    script = tmp_path / "unguarded.py"
    script.write_text(textwrap.dedent(f'''
        from gradverify.testing import check, load_derivations
        (d, *_), _ = load_derivations([{str(losses["good"].origin)!r}])
        result = check(d, examples=3)
        print(result.ok, result.notes[0])
    '''), encoding="utf-8")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.stdout.startswith("True checked in this process (a worker process could not import"), out
    assert 'put the call under `if __name__ == "__main__":`' in out.stdout
    assert "Traceback" not in out.stderr, out.stderr


def test_a_derivation_imported_the_ordinary_way_is_checked_in_a_worker(tmp_path):
    import subprocess

    (tmp_path / "mypkg").mkdir()
    (tmp_path / "mypkg" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "mypkg" / "losses.py").write_text(textwrap.dedent(LOSSES), encoding="utf-8")
    (tmp_path / "run.py").write_text(textwrap.dedent('''
        from mypkg.losses import good, wrong
        from gradverify import check

        if __name__ == "__main__":
            for d in (good, wrong):
                result = check(d, examples=3)
                print(result.ok, result.notes)
    '''), encoding="utf-8")
    out = subprocess.run([sys.executable, "run.py"], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.stdout.splitlines() == ["True ['checked in a worker process']",
                                       "False ['checked in a worker process']"], (out.stdout, out.stderr)


def test_a_changed_attribute_of_another_module_or_class_is_seen(tmp_path, monkeypatch):
    """The digest reads ``params.SCALE`` and ``params.Cfg.scale`` as they are now, not the module's name
    alone: a test that changes them gets its own derivation checked (here, in its own process)."""
    (tmp_path / "params_for_digest.py").write_text("SCALE = 1.0\n\nclass Cfg:\n    scale = 1.0\n", encoding="utf-8")
    (tmp_path / "uses_params.py").write_text(textwrap.dedent('''
        import params_for_digest as params
        from gradverify import Claim, Derivation, Implementation, Real

        def code(x):
            return 0.5 * params.SCALE * params.Cfg.scale * x @ x, params.SCALE * params.Cfg.scale * x

        d = Derivation(
            id="uses-params", title="t", citation="test", dims={"n": (1, 3)}, variables={"x": Real("n")},
            function=lambda s: (s.x.T * s.x)[0, 0] / 2,
            claims=[Claim("dJ/dx", lambda s: s.x, output="g", wrt="x", as_written="x")],
            implementation=Implementation(code, args=("x",), returns=("J", "g")),
        )
    '''), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    import uses_params

    from gradverify.fingerprint import digest
    before = digest(uses_params.d)
    for owner, name in ((uses_params.params, "SCALE"), (uses_params.params.Cfg, "scale")):
        monkeypatch.setattr(owner, name, 3.0)
        assert digest(uses_params.d) != before, name
        monkeypatch.setattr(owner, name, 1.0)
    assert digest(uses_params.d) == before
    monkeypatch.delitem(sys.modules, "uses_params")
    monkeypatch.delitem(sys.modules, "params_for_digest")


def test_a_value_that_cannot_be_read_makes_no_digest_and_no_traceback():
    from gradverify.fingerprint import digest

    class Mapping:  # keys() and items(), but not a mapping one can index
        def keys(self):
            return ["a"]

        def items(self):
            return [("a", 1)]

        def __getitem__(self, key):
            raise KeyError(key)

    assert digest({"m": Mapping()}) is None
    assert digest({"a": 1.0}.get) != digest({"a": 2.0}.get)  # a bound method is read with its object
