"""The runner: same rows whatever --jobs or --only; Ctrl-C and SIGTERM stop the run and its workers."""

import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT
from gradverify.cli import main
from gradverify.runner import Progress

from test_bad_inputs import GOOD


def _rows(tmp_path, name, *args):
    out = tmp_path / name
    main(["report", "--derivations", str(_seed_part(tmp_path)), "--examples", "6", "--out", str(out), *args])
    data = json.loads((out / "report.json").read_text())
    return [r for r in data["rows"] if r["derivation"] == "d-vector"]


def _seed_part(tmp_path):
    """The seed's derivations a to d (six of them, in five files with their helper): several run
    beside d-vector, at once with --jobs 2, without e and f, whose refutations take most of the
    seed's time (shrinking) and say nothing about d-vector's rows."""
    folder = tmp_path / "derivations"
    if not folder.exists():
        folder.mkdir()
        for name in ("_word2vec.py", "a_cross_entropy.py", "b_softmax_grad_center.py", "c_softmax_grad_outside.py",
                     "d_sigmoid.py"):
            (folder / name).write_text((ROOT / "derivations" / name).read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def test_jobs_1_jobs_2_and_only_give_the_same_rows(tmp_path, capsys):
    one = _rows(tmp_path, "one", "--jobs", "1")
    assert one and one == _rows(tmp_path, "two", "--jobs", "2") == _rows(tmp_path, "only", "--only", "d-vector")


def test_progress_names_what_is_running_and_clears_its_line():
    stream = io.StringIO()
    progress = Progress(stream, enabled=True, delay=0)
    progress.update("checking", 1, 3, ["e", "f-softmax"])
    progress.finish()
    assert "checking: 1/3 done; running e, f-softmax" in stream.getvalue()
    assert stream.getvalue().endswith("\r\x1b[K")


def test_progress_says_how_many_examples_each_derivation_gets():
    stream = io.StringIO()
    Progress(stream, enabled=True, delay=0, detail="25 hypothesis examples each").update("checking", 0, 2, ["e"])
    assert "checking (25 hypothesis examples each): 0/2 done; running e" in stream.getvalue()


def test_progress_is_off_unless_enabled():
    stream = io.StringIO()
    Progress(stream, enabled=False, delay=0).update("checking", 0, 1, ["e"])
    assert stream.getvalue() == ""


def _wait_for(path, seconds=120):
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return path.exists()


def _gone(pid, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/status") as f:
                if "\nState:\tZ" in f.read():
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to see that the worker is gone")
@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_the_run_and_its_workers(tmp_path, signum, code):
    pid_file = tmp_path / "pid"
    looping = GOOD.replace('id="half-square"', 'id="loops"').replace(
        "return 0.5 * x @ x, x",
        f"import os; open({str(pid_file)!r} + '.tmp', 'w').write(str(os.getpid())); "
        f"os.replace({str(pid_file)!r} + '.tmp', {str(pid_file)!r})\n    while True: pass")
    (tmp_path / "loops.py").write_text(looping)
    (tmp_path / "good.py").write_text(GOOD)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "gradverify", "report", "--derivations", str(tmp_path),
                             "--no-write", "--examples", "5"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert _wait_for(pid_file), "the looping derivation started"
        worker = int(pid_file.read_text())
        os.killpg(proc.pid, signum) if signum == signal.SIGINT else os.kill(proc.pid, signum)  # Ctrl-C: the group
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == code
    assert f"gradverify: interrupted by {signal.Signals(signum).name}; the workers are stopped" in err
    assert "Traceback" not in err
    assert _gone(worker), "no worker is left behind"


def test_what_a_worker_raised_travels_back_as_its_traceback_in_the_users_frames(tmp_path, capsys):
    # KeyboardInterrupt is no Exception: it ends the worker's call, and its traceback comes back as text
    text = GOOD.replace("return 0.5 * x @ x, x", "raise KeyboardInterrupt")
    (tmp_path / "stop.py").write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "raise KeyboardInterrupt" in t)
    code = main(["report", "--derivations", str(tmp_path), "--no-write", "--examples", "5", "--traceback"])
    out = capsys.readouterr().out
    assert code == 2 and "raised KeyboardInterrupt while checking half-square (stop.py)" in out
    shown = out.split("Tracebacks (--traceback):\n", 1)[1]
    assert shown.startswith("  half-square · dJ/dx\n    Traceback (most recent call last):\n"
                            f'      File "{tmp_path / "stop.py"}", line {line}, in loss_and_grad\n')
    assert "isolation.py" not in shown and "runner.py" not in shown


def test_a_worker_that_crashed_says_why_it_has_no_traceback(tmp_path, capsys):
    text = GOOD.replace("return 0.5 * x @ x, x", "import os; os._exit(3)")
    (tmp_path / "gone.py").write_text(text)
    assert main(["report", "--derivations", str(tmp_path), "--no-write", "--examples", "5", "--traceback"]) == 2
    shown = capsys.readouterr().out.split("Tracebacks (--traceback):\n", 1)[1]
    assert "no traceback: the code ended its process without an exception (os._exit)" in " ".join(shown.split())


def test_sys_exit_in_the_code_comes_back_with_its_traceback(tmp_path, capsys):
    text = GOOD.replace("return 0.5 * x @ x, x", "import sys; sys.exit(0)")
    (tmp_path / "leaves.py").write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "sys.exit(0)" in t)
    assert main(["report", "--derivations", str(tmp_path), "--no-write", "--examples", "5", "--traceback"]) == 2
    out = capsys.readouterr().out
    assert "exited with status 0 (sys.exit) while checking half-square" in out
    shown = out.split("Tracebacks (--traceback):\n", 1)[1]
    assert f'File "{tmp_path / "leaves.py"}", line {line}, in loss_and_grad\n' in shown and "SystemExit: 0" in shown


def _spin_forever():  # (module level: sent to a worker)
    while True:
        pass


def test_a_stop_that_comes_while_a_task_takes_its_worker_still_stops_that_task():
    """`stop` between a task's look at the stop flag and its worker's registration would miss the
    worker, and its task would run on with nothing to end it: the two happen in one step."""
    import threading

    from gradverify.runner import Runner, _Task

    runner = Runner(jobs=1)
    take = Runner._worker
    stopper = []

    def worker_while_stop_comes(self):
        stopper.append(threading.Thread(target=self.stop))
        stopper[0].start()
        time.sleep(0.3)  # the stop asks now
        return take(self)

    runner._worker = worker_while_stop_comes.__get__(runner)
    outcome = {}
    t = threading.Thread(target=lambda: outcome.setdefault("o", runner._one(_Task("spins", _spin_forever, ()))),
                         daemon=True)
    t.start()
    t.join(60)
    try:
        assert not t.is_alive(), "the task ran on after stop()"
        assert outcome["o"].kind.name == "KILLED"
    finally:
        runner.stop()
        runner.close()
