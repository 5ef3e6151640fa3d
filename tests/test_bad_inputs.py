"""The corpus of bad inputs: each one becomes one clear line and exit 2, and the
neighbour derivation (a tiny right one) still holds. What gradverify promises
under bad input is listed in the README; each promise is tested here."""


import pytest

from conftest import HALF_SQUARE
from gradverify.cli import main

GOOD = HALF_SQUARE.replace("{claim}", "s.x")
IMPL = "return 0.5 * x @ x, x"
BAD = GOOD.replace('id="half-square"', 'id="bad"')


def bad(old, new, top=""):
    text = BAD.replace(old, new)
    assert text != BAD or not old
    return top + text


def run(folder, *extra, capsys):
    code = main(["report", "--derivations", str(folder), "--no-write", "--examples", "5", *extra])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def neighbour_holds(out):
    return any(line.startswith("half-square") and line.rstrip().endswith("holds") for line in out.splitlines())


# name: (bad.py's text, extra arguments, the one line it becomes)
CASES = {
    # loading
    "os._exit at import": ("import os\nos._exit(0)\n", [], "bad.py exited with status 0 during import"),
    "sys.exit at import": ("import sys\nsys.exit(0)\n", [], "bad.py exited with status 0 during import (sys.exit, line 2)"),
    "KeyboardInterrupt at import": ("raise KeyboardInterrupt\n", [], "bad.py raised KeyboardInterrupt during import"),
    "GeneratorExit at import": ("raise GeneratorExit\n", [], "bad.py failed to import: GeneratorExit"),
    "SystemExit with text": ("raise SystemExit('bye')\n", [], "bad.py exited with status 1 during import (sys.exit('bye')"),
    "segfault at import": ("import ctypes\nctypes.string_at(0)\n", [], "bad.py crashed with SIGSEGV during import"),
    "syntax error": ("def (:\n", [], "bad.py failed to import: SyntaxError"),
    "missing module": ("import no_such_module_here\n", [],
                       "failed to import: ModuleNotFoundError: No module named 'no_such_module_here' (line 1)"),
    "no derivation": ("x = 1\n", [], "bad.py defines no Derivation"),
    "duplicate id": (GOOD, [], "derivation id 'half-square' in"),
    "invalid id": (BAD.replace('id="bad"', 'id="has space"'), [], "Expected a non-empty id without spaces"),
    "loop at import": ("while True:\n    pass\n", ["--timeout", "3"],
                       "bad.py did not return within 3 s (raise --timeout if it needs longer) during import"),
    "memory at import": ("import numpy as np\nx = np.ones(2**31)\n", ["--max-memory", "256M"],
                         "bad.py failed to import: MemoryError: Unable to allocate"),
    # implementation outputs and behaviour
    "implementation sys.exit": (bad(IMPL, "import sys; sys.exit(0)"), [],
                                "exited with status 0 (sys.exit) while checking bad (bad.py)"),
    "implementation os._exit": (bad(IMPL, "import os; os._exit(3)"), [], "exited with status 3 while checking bad"),
    "implementation segfault": (bad(IMPL, "import ctypes; ctypes.string_at(0)"), [],
                                "crashed with SIGSEGV while checking bad (bad.py)"),
    "implementation KeyboardInterrupt": (bad(IMPL, "raise KeyboardInterrupt"), [],
                                         "raised KeyboardInterrupt while checking bad (bad.py)"),
    "implementation GeneratorExit": (bad(IMPL, "raise GeneratorExit"), [], "raised GeneratorExit while checking bad"),
    "implementation raises": (bad(IMPL, "raise ValueError('no good')"), [],
                              "implementation loss_and_grad raised ValueError: no good"),
    "implementation NaN": (bad(IMPL, "return float('nan'), x"), [], "implementation returned J = nan"),
    "implementation None": (bad(IMPL, "return None"), [], "implementation loss_and_grad returned NoneType"),
    "implementation wrong shape": (bad(IMPL, "return 0.5 * x @ x, x[:1]"), [], "implementation returned g with shape"),
    "implementation loops": (bad(IMPL, "while True: pass"), ["--timeout", "3"],
                             "did not return within 3 s (raise --timeout if it needs longer) while checking bad"),
    "implementation memory": (bad(IMPL, "return np.ones(2**31), x"), ["--max-memory", "256M"],
                              "implementation loss_and_grad raised MemoryError"),
    "implementation np.seterr inside": (bad(IMPL, "np.seterr(all='raise'); return 0.5 * x @ x, x"), [],
                                        "raised FloatingPointError"),
    # spec functions
    "spec raises": (bad("function=lambda s: (s.x.T * s.x)[0, 0] / 2", "function=lambda s: 1/0"), [],
                    "spec function raised ZeroDivisionError: division by zero"),
    "spec returns text": (bad("function=lambda s: (s.x.T * s.x)[0, 0] / 2", "function=lambda s: 'text'"), [],
                          "spec function returned str; expected a sympy expression"),
    "claim exits": (bad("lambda s: s.x, output", "lambda s: __import__('sys').exit(4), output"), [],
                    "exited with status 4 (sys.exit) while checking bad"),
    "claim segfaults": (bad("lambda s: s.x, output", "lambda s: __import__('ctypes').string_at(0), output"), [],
                        "crashed with SIGSEGV while checking bad"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_bad_derivation_is_one_error_line_and_the_neighbour_still_holds(name, tmp_path, capsys):
    text, extra, message = CASES[name]
    (tmp_path / "bad.py").write_text(text)
    (tmp_path / "good.py").write_text(GOOD)
    code, out = run(tmp_path, *extra, capsys=capsys)
    assert message in out
    assert code == 2
    assert "Traceback" not in out
    assert neighbour_holds(out)


# state a module changes must not reach its neighbour (nor itself, after import)
LEAKS = {
    "np.seterr at top level": "np.seterr(all='raise')\n",
    "global RNG seeded": "np.random.seed(1)\nimport random\nrandom.seed(1)\n",
    "warnings are errors": "import warnings\nwarnings.simplefilter('error')\n",
    "sys.path and sys.modules": "import sys\nsys.path.insert(0, '/nonexistent')\nsys.modules['tabulate'] = None\n",
    "chdir at import": "import os\nos.chdir('/')\n",
}


@pytest.mark.parametrize("name", list(LEAKS))
def test_state_changed_at_import_stays_in_its_own_derivation(name, tmp_path, capsys):
    (tmp_path / "bad.py").write_text(BAD.replace("import numpy as np\n", "import numpy as np\n" + LEAKS[name]))
    (tmp_path / "good.py").write_text(GOOD)
    out_dir = tmp_path / "out"
    code = main(["report", "--derivations", str(tmp_path), "--out", str(out_dir), "--examples", "5"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2 claims: 2 hold" in out and neighbour_holds(out)
    assert (out_dir / "report.json").is_file()  # where the user asked, whatever the module did to its folder


def test_two_folders_may_each_have_a_helper_of_the_same_name(tmp_path, capsys):
    for folder, factor in (("one", "1.0"), ("two", "2.0")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "_common.py").write_text(f"FACTOR = {factor}\n")
        text = (GOOD.replace('id="half-square"', f'id="{folder}"')
                .replace("import numpy as np\n", "import numpy as np\nfrom _common import FACTOR\n")
                .replace("return 0.5 * x @ x, x", "return 0.5 * FACTOR * x @ x, FACTOR * x")
                .replace("function=lambda s: (s.x.T * s.x)[0, 0] / 2", "function=lambda s: FACTOR * (s.x.T * s.x)[0, 0] / 2")
                .replace("lambda s: s.x, output", "lambda s: FACTOR * s.x, output"))
        (tmp_path / folder / "loss.py").write_text(text) if folder == "one" else \
            (tmp_path / folder / "loss2.py").write_text(text)
    code = main(["report", "--derivations", str(tmp_path / "one"), "--derivations", str(tmp_path / "two"),
                 "--no-write", "--examples", "5"])
    out = capsys.readouterr().out
    assert code == 0 and "2 claims: 2 hold" in out


# the command line: refused before any work, with the flag and a hint
@pytest.mark.parametrize("args, message", [
    (["--examples", str(10**9)], "Expected a positive integer up to 100,000 but got --examples=1000000000. The default"),
    (["--examples", "-3"], "Expected a positive integer up to 100,000 but got --examples=-3"),
    (["--timeout", "0"], "Expected a number of seconds in (0, 604800] but got --timeout=0"),
    (["--timeout", "nan"], "but got --timeout=nan"),
    (["--max-memory", "12"], "Expected a size such as 512M or 4G (at least 1M), or 'none' but got --max-memory=12"),
    (["--jobs", "0"], "Expected a positive integer up to 256 but got --jobs=0"),
    (["--seed", "-1"], "Expected an integer in 0..4294967295 or 'random' but got --seed=-1"),
])
def test_a_bad_argument_is_refused_with_the_flag_and_a_hint(args, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["report", "--no-write", *args])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and message in err and "Traceback" not in err


def test_a_path_with_a_space_is_quoted_in_every_reproduce_command(tmp_path, capsys):
    folder = tmp_path / "my losses"
    folder.mkdir()
    (folder / "good.py").write_text(GOOD.replace("lambda s: s.x, output", "lambda s: -s.x, output"))
    code, out = run(folder, capsys=capsys)
    assert code == 1
    assert f"--derivations '{folder}' --no-write" in out
    assert f"Reproduce: python -m gradverify report --seed 0 --examples 5 --derivations '{folder}'" in out


def test_list_survives_a_module_that_exits_at_import(tmp_path, capsys):
    (tmp_path / "bad.py").write_text("import os\nos._exit(0)\n")
    (tmp_path / "good.py").write_text(GOOD)
    code = main(["list", "--derivations", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 2 and "half-square: half square" in out and "bad.py exited with status 0 during import" in out


def test_mutants_survive_an_implementation_that_exits(tmp_path, capsys):
    (tmp_path / "bad.py").write_text(bad(IMPL, "import sys; sys.exit(0)"))
    code = main(["mutants", "--derivations", str(tmp_path), "--examples", "3"])
    out = capsys.readouterr().out
    assert code == 2 and "bad: ERROR exited with status 0 (sys.exit) while making mutants of bad" in out


SLOW = {"loop at import", "memory at import", "implementation loops", "implementation memory", "duplicate id"}


def test_with_traceback_every_bad_derivation_shows_its_traceback_in_its_own_file_or_why_there_is_none(tmp_path,
                                                                                                     capsys):
    names = [n for n in CASES if n not in SLOW]
    for i, name in enumerate(names):
        (tmp_path / f"case{i}.py").write_text(CASES[name][0].replace('id="bad"', f'id="case{i}"'))
    (tmp_path / "good.py").write_text(GOOD)
    code, out = run(tmp_path, "--traceback", capsys=capsys)
    assert code == 2 and neighbour_holds(out)
    shown = out.split("Tracebacks (--traceback):\n", 1)[1].split("\n\n")[:-1]
    headings = {section.splitlines()[0].split(" · ")[0].strip(): section for section in shown}
    assert sorted(headings) == sorted(f"case{i}" for i in range(len(names)))  # one each, none for good.py
    for i, name in enumerate(names):
        body = headings[f"case{i}"].split("\n", 1)[1]
        assert f'File "{tmp_path / f"case{i}.py"}", line ' in body or body.lstrip().startswith("no traceback: "), \
            (name, body)
