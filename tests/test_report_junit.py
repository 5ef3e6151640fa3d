"""report.junit.xml: valid against the JUnit schema, one testcase per claim, the verdict as the message."""

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gradverify.report import render
from gradverify.results import Verdict
from test_report import NASTY, claim_row, report

SCHEMA = Path(__file__).parent / "data" / "junit.xsd"


def validate(text: str) -> None:
    xmlschema = pytest.importorskip("xmlschema", reason="xmlschema (pip install -e '.[test]') validates JUnit XML")
    xmlschema.XMLSchema(str(SCHEMA)).validate(text)


def mixed():
    return report(claim_row("holds"), claim_row("wrong", Verdict.REFUTED),
                  claim_row("marked", Verdict.CONDITIONAL, expect=Verdict.CONDITIONAL, reason="repeats",
                            holds_if=["distinct"]),
                  claim_row("broken", Verdict.ERROR, message="boom"), claim_row(NASTY, Verdict.REFUTED))


def test_junit_is_valid_and_has_one_testcase_per_claim():
    text = render(mixed(), "junit")
    validate(text)
    suite = ET.fromstring(text).find("testsuite")
    cases = suite.findall("testcase")
    assert [c.get("name") for c in cases] == ["holds", "wrong", "marked", "broken", NASTY]
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("5", "2", "1",
                                                                                                      "1")
    assert cases[0].find("failure") is None
    assert cases[1].find("failure").get("message") == "REFUTED"
    assert "reproduce: python -m gradverify report --only half" in cases[1].find("failure").text
    assert cases[2].find("skipped").get("message").startswith("expected: REFUTED as stated")
    assert cases[3].find("error").get("message") == "ERROR" and "boom" in cases[3].find("error").text


def test_the_schema_rejects_a_broken_file():
    """The validation can fail: a testcase without its classname is not JUnit."""
    root = ET.fromstring(render(mixed(), "junit"))
    del root.find("testsuite").find("testcase").attrib["classname"]
    with pytest.raises(Exception, match="classname"):
        validate(ET.tostring(root, encoding="unicode"))


def test_text_xml_cannot_hold_is_replaced_not_written():
    text = render(report(claim_row("bell\x07 here", Verdict.REFUTED)), "junit")
    validate(text)
    assert ET.fromstring(text).find("testsuite/testcase").get("name") == "bell\ufffd here"
