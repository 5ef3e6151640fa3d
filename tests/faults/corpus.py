r"""A corpus of faults in user code, each one derivation file, for every door that runs user code:
the report command, the pytest plugin, and the plugin under ``-n 2``.

Each `Case` is a right derivation (½‖x‖², its gradient x, times a sign its folder's helper
``_common.py`` defines) with one fault planted where user code runs: at import, in the
implementation, or in the spec (which sympy calls). `expect` is what every door must make of it:
``passed`` (the fault stays in its own worker and the claim holds) or ``error`` (one item or row,
failing, whose one line matches `says`). `write_corpus` lays the cases out in two folders whose
helpers share a name (``_common.py``) and differ: a derivation that sees the other folder's
helper is REFUTED, not passed.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

TEMPLATE = '''
import os, signal, subprocess, sys, time
import numpy as np
from gradverify import Claim, Derivation, Implementation, Real
from _common import SIGN

{at_import}


def loss_and_grad(x):
    {in_impl}
    return SIGN * 0.5 * x @ x, SIGN * x


def spec(s):
    {in_spec}
    return SIGN * (s.x.T * s.x)[0, 0] / 2


derivation = Derivation(
    id={id!r}, title={title!r}, citation="fault corpus", dims={{"n": (1, 2)}}, variables={{"x": Real("n")}},
    function=spec,
    claims=[Claim({claim!r}, lambda s: SIGN * s.x, output="g", wrt="x", as_written="x")],
    implementation=Implementation(loss_and_grad, args=("x",), returns=("J", "g")),
)
'''

#: the time limit the doors run the corpus under: the hanging cases cost this each
TIMEOUT = 4
#: the memory limit (the allocating cases ask for far more)
MAX_MEMORY = "1G"


@dataclass(frozen=True)
class Case:
    id: str
    #: "import", "impl" or "spec"
    where: str
    code: str
    #: "passed" or "error"
    expect: str
    #: a regular expression the failing item's (or row's) line matches
    says: str = ""
    #: in the default run (the rest are marked slow)
    smoke: bool = False
    claim: str = "dJ/dx"
    title: str = "half square"
    #: folder: g1 (SIGN = 1) or g2 (SIGN = -1)
    folder: str = "g1"
    #: a whole file instead of the template (a file that does not parse, defines nothing, ...)
    source: str = ""

    def text(self) -> str:
        if self.source:
            return self.source
        slots = {"at_import": "", "in_impl": "pass", "in_spec": "pass"}
        key = {"import": "at_import", "impl": "in_impl", "spec": "in_spec"}[self.where]
        slots[key] = textwrap.indent(self.code, "    ").strip() if key != "at_import" else self.code
        return TEMPLATE.format(id=self.id, title=self.title, claim=self.claim, **slots)


def _three(name: str, code: str, says: str, smoke: tuple[str, ...] = (), expect: str = "error") -> list[Case]:
    """The same fault at import, in the implementation and in the spec."""
    return [Case(f"{name}_{where}", where, code, expect, says, where in smoke) for where in ("import", "impl", "spec")]


SEGFAULT = "import ctypes; ctypes.string_at(0)"

CASES: list[Case] = [
    # --------------------------------------------------------------- the process ends
    *_three("os_exit0", "os._exit(0)", r"exited with status 0", smoke=("import", "impl")),
    *_three("os_exit3", "os._exit(3)", r"exited with status 3"),
    *_three("sys_exit0", "sys.exit(0)", r"exited with status 0 .*sys\.exit", smoke=("impl",)),
    *_three("sys_exit_text", "sys.exit('bye')", r"exited with status 1 .*sys\.exit"),
    *_three("segfault", SEGFAULT, r"crashed with SIGSEGV", smoke=("impl",)),
    *_three("abort", "os.abort()", r"crashed with SIGABRT"),
    *_three("sigkill", "os.kill(os.getpid(), signal.SIGKILL)", r"crashed with SIGKILL"),
    *_three("sigterm", "os.kill(os.getpid(), signal.SIGTERM)", r"crashed with SIGTERM"),
    # --------------------------------------------------------------- BaseExceptions
    *_three("keyboard", "raise KeyboardInterrupt", r"raised KeyboardInterrupt", smoke=("import", "spec")),
    *_three("system_exit", "raise SystemExit", r"exited with status 0"),
    *_three("base_exception", "class Stop(BaseException): pass\nraise Stop('halt')", r"raised Stop: halt"),
    *_three("generator_exit", "raise GeneratorExit", r"GeneratorExit"),
    # --------------------------------------------------------------- hangs and limits
    Case("sleep_impl", "impl", "time.sleep(600)", "error", rf"did not return within {TIMEOUT} s", smoke=True),
    Case("busy_spec", "spec", "while True: pass", "error", rf"did not return within {TIMEOUT} s"),
    Case("sleep_import", "import", "time.sleep(600)", "error", rf"did not return within {TIMEOUT} s.*during import"),
    Case("sigstop_impl", "impl", "os.kill(os.getpid(), signal.SIGSTOP)", "error",
         rf"did not return within {TIMEOUT} s"),
    Case("memory_impl", "impl", "np.ones((60000, 60000))", "error", r"MemoryError.*memory limit, 1 GB", smoke=True),
    Case("memory_import", "import", "big = bytearray(2**40)", "error", r"MemoryError.*memory limit, 1 GB"),
    Case("alarm_impl", "impl", "signal.alarm(1); time.sleep(600)", "error", r"crashed with SIGALRM"),
    Case("huge_dims", "impl", "pass", "error", r"too large to check", source="HUGE"),
    # --------------------------------------------------------------- messages that are not one line
    Case("str_raises", "impl", "class Bad(Exception):\n    def __str__(self): raise RuntimeError('no')\nraise Bad()",
         "error", r"Bad"),
    Case("long_message", "impl", "raise ValueError('first line\\n' + 'more\\n' * 5000)", "error",
         r"raised ValueError: first line"),
    Case("escape_message", "impl", "raise ValueError('\\x1b]0;pwned\\x07\\x1b[2J')", "error", r"ValueError"),
    # --------------------------------------------------------------- state that must not leak
    Case("chdir_import", "import", "os.chdir('/')", "passed", smoke=True),
    Case("seterr_import", "import", "np.seterr(all='raise')", "passed"),
    Case("random_import", "import", "np.random.seed(7); import random; random.seed(7)", "passed"),
    Case("sys_path_import", "import", "sys.path.insert(0, '/nonexistent'); sys.modules['numpy.linalg'] = None",
         "passed"),
    Case("spawn_import", "import", "subprocess.Popen(['sleep', '613'])", "passed", smoke=True),
    Case("thread_import", "import", "import threading\nthreading.Thread(target=time.sleep, args=(600,)).start()",
         "passed"),
    Case("stdin_import", "import", "data = sys.stdin.read()", "passed"),
    Case("print_import", "import", "print('printed at import'); sys.stdout.flush()", "passed"),
    # --------------------------------------------------------------- names a user wrote
    Case("escape_name", "impl", "pass", "passed", claim="dJ/dx \x1b]0;pwned\x07\x1b[2J", smoke=True),
    Case("surrogate_name", "impl", "pass", "passed", claim="dJ/dx \udcff", title="half \udcfe square"),
    Case("link_name", "impl", "pass", "passed", claim="dJ/dx [x](javascript:alert(1)) ![p](http://example.com/p.png)"),
    Case("bidi_name", "impl", "pass", "passed", claim="dJ/dx \u202etxt.exe"),
    # --------------------------------------------------------------- same-named helpers in two folders
    Case("helper_g1", "impl", "pass", "passed", smoke=True),
    Case("helper_g2", "impl", "pass", "passed", folder="g2", smoke=True),
    Case("helper_g2_import", "import", "import _common as c\nassert c.SIGN == -1, c.__file__", "passed", folder="g2"),
    # --------------------------------------------------------------- files that are not derivations
    Case("syntax_error", "import", "", "error", r"SyntaxError", source="def broken(:\n"),
    Case("no_derivation", "import", "", "error", r"defines no Derivation", source="x = 1\n"),
    Case("missing_module", "import", "import not_a_module_anywhere", "error", r"ModuleNotFoundError"),
]

HUGE = TEMPLATE.format(id="huge_dims", title="half square", claim="dJ/dx", at_import="", in_impl="pass",
                       in_spec="pass").replace('dims={"n": (1, 2)}, variables={"x": Real("n")}',
                                               'dims={"n": (1000, 1000), "m": (1000, 1000)}, '
                                               'variables={"x": Real("n"), "y": Real("n", "m")}, '
                                               'symbolic_sizes=[{"n": 1, "m": 2}]')

HELPERS = {"g1": "SIGN = 1\n", "g2": "SIGN = -1\n"}


def write_corpus(root: Path, cases: list[Case]) -> list[Path]:
    """Each case as ``root/<folder>/<id>.py``, beside its folder's ``_common.py``; the folders."""
    folders = []
    for case in cases:
        folder = root / case.folder
        if not folder.exists():
            folder.mkdir(parents=True)
            (folder / "_common.py").write_text(HELPERS[case.folder], encoding="utf-8")
            folders.append(folder)
        text = HUGE if case.source == "HUGE" else case.text()
        (folder / f"{case.id}.py").write_text(text, encoding="utf-8", errors="surrogatepass")
    return sorted(folders)
