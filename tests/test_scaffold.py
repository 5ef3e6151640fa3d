"""gradverify new NAME: the file it writes passes the report as generated."""

import argparse
import io

import pytest

from gradverify.cli import main
from gradverify.errors import InvalidArgument
from gradverify.scaffold import add_command, new, run


def parse(*argv):
    p = argparse.ArgumentParser()
    add_command(p.add_subparsers(dest="command"))
    return p.parse_args(["new", *argv])


def test_new_writes_a_derivation_that_holds_and_prints_the_next_command(tmp_path, capsys):
    out = io.StringIO()
    assert run(parse("My loss", "--dir", str(tmp_path / "mine")), out) == 0
    path = tmp_path / "mine" / "my_loss.py"
    assert f"next: python -m gradverify report --derivations {path} --no-write" in out.getvalue()
    assert main(["report", "--derivations", str(path), "--no-write", "--examples", "5"]) == 0
    assert "1 claim: 1 holds" in capsys.readouterr().out


def test_the_template_is_really_checked(tmp_path, capsys):
    """A wrong claim planted into the generated file is refuted: the scaffold test can fail."""
    path = new("planted", tmp_path)
    path.write_text(path.read_text().replace("(s.W * s.x - s.t) * s.x.T", "s.x * (s.W * s.x - s.t).T"))
    assert main(["report", "--derivations", str(path), "--no-write", "--examples", "5"]) == 1
    capsys.readouterr()


def test_new_never_overwrites(tmp_path):
    new("mine", tmp_path)
    with pytest.raises(InvalidArgument, match="it exists"):
        new("mine", tmp_path)


def test_a_name_without_letters_is_refused(tmp_path):
    with pytest.raises(InvalidArgument, match="NAME"):
        new("___", tmp_path)


@pytest.mark.parametrize("framework", ["torch", pytest.param("jax", marks=pytest.mark.slow)])  # (jax compiles: slow)
def test_new_writes_torch_or_jax_code_that_holds_and_a_planted_mistake_is_refuted(tmp_path, capsys, framework):
    pytest.importorskip(framework, reason=f"{framework} is an optional extra: pip install 'gradverify[{framework}]'")
    assert run(parse("mine", "--dir", str(tmp_path), "--framework", framework), io.StringIO()) == 0
    path = tmp_path / "mine.py"
    assert ("import torch" if framework == "torch" else "import jax.numpy as jnp") in path.read_text()
    assert main(["report", "--derivations", str(path), "--no-write", "--examples", "5"]) == 0
    assert "1 claim: 1 holds" in capsys.readouterr().out
    path.write_text(path.read_text().replace("(r, x)  #", "(-r, x)  #"))  # a flipped sign
    assert main(["report", "--derivations", str(path), "--no-write", "--examples", "5"]) == 1
    capsys.readouterr()
