"""What the corpus run wrote: hostile strings only ever escaped (HTML, CKL, CKLB, HDF, JSON,
JUnit, terminal), every checklist valid against DISA's schema, and the password nowhere."""

from __future__ import annotations

import html
import json
import re

import lxml.html
import pytest
from lxml import etree

from tests.e2e.audit_run import REPO
from tests.faults.corpus import (
    ALL,
    HOSTILE,
    LAB_ONLY_PASSWORD,
    PYTEST_HTML,
    REFERENCE,
    SECRET,
    corpus_run,
    crash_run,
    html_blob,
    html_fragments,
    html_pages,
    secret_forms,
)

XSD = REPO.parent / "shared" / "schemas" / "U_Checklist_Schema_V2.xsd"
# Hosts whose hostile strings reach the evidence (the HTML must show them, as text).
HOSTILE_HOSTS = ("f-hostile-identity", "f-hostile-evidence", "f-hostile-webconfig",
                 "f-hostile-iis", "f-hostile-netsh", "f-hostile-certificate",
                 "f-hostile-server-header", "f-identity-hostile-stranger")
# Characters a terminal or a log viewer acts on: C0 controls but tab/newline, DEL, C1, and the
# bidirectional overrides that make text display as something else.
# libxml2 stops reading an attribute past 10 MB unless told otherwise, and pytest-html keeps its
# whole data blob in one attribute: a big corpus page would parse as garbage without huge_tree.
HTML_PARSER = lxml.html.HTMLParser(huge_tree=True)
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return corpus_run(tmp_path_factory)


def _markup_problems(fragment: str) -> list[str]:
    """Executable markup carrying the hostile payloads, as a browser would parse `fragment`."""
    problems = ["raw <script>alert(1)"] if "<script>alert(1)" in fragment else []
    if not fragment.strip():
        return problems
    for element in lxml.html.fromstring(fragment, parser=HTML_PARSER).iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag == "script" and "alert(1)" in (element.text or ""):
            problems.append("a <script> element running alert(1)")
        if element.tag == "img" and element.get("src") == "x":
            problems.append("an injected <img src=x>")
        problems += [f"attribute {name}" for name, value in element.attrib.items()
                     if name.lower().startswith("on") and "alert(1)" in value]
    return problems


def test_hostile_strings_are_only_text_in_the_html_pages(run):
    """report.html and every host page: markup from a host is text, and each hostile host's
    page shows its payloads (as text)."""
    pages = html_pages(run.report_dir)
    assert "report.html" in pages and sum(p.startswith("hosts/") for p in pages) == len(
        {r["host"] for r in run.results})
    problems = [(name, problem) for name, text in pages.items() if name != PYTEST_HTML
                for problem in _markup_problems(text)]
    assert not problems
    for host in HOSTILE_HOSTS:
        text = lxml.html.fromstring(pages[f"hosts/{host}.html"]).text_content()
        for payload in HOSTILE if host == "f-hostile-identity" else HOSTILE[:1]:
            assert payload in text, (host, payload)


def test_hostile_strings_are_only_text_in_pytest_htmls_page(run):
    fragments = html_fragments(run.report_dir / PYTEST_HTML)
    problems = [(test_id, problem, fragment[:300]) for test_id, pieces in fragments.items()
                for fragment in pieces for problem in _markup_problems(fragment)]
    assert not problems
    for host in HOSTILE_HOSTS:  # each host's payloads did reach the report, as text
        texts = " ".join(lxml.html.fromstring(f, parser=HTML_PARSER).text_content()
                         for test_id, pieces in fragments.items() if f"[{host}::" in test_id
                         for f in pieces if f.strip())
        for payload in HOSTILE if host == "f-hostile-identity" else HOSTILE[:1]:
            assert payload in texts, (host, payload)


def test_every_ckl_parses_and_validates_against_the_checklist_schema(run):
    if not XSD.exists():
        pytest.skip(f"the DISA checklist schema is not at {XSD} (../shared beside the checkout)")
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    checklists = sorted(run.report_dir.glob("*.ckl"))
    assert len(checklists) == len({r["host"] for r in run.results})
    for path in checklists:
        schema.assertValid(etree.parse(str(path)))


def test_ckl_carries_hostile_names_escaped(run):
    path = run.report_dir / "f-hostile-identity.ckl"
    raw = path.read_text(encoding="utf-8")
    assert "<script>alert(1)" not in raw and "&lt;script&gt;alert(1)" in raw
    assert etree.parse(str(path)).findtext("ASSET/HOST_NAME") == HOSTILE[0]
    details = etree.parse(str(run.report_dir / "f-hostile-control-chars.ckl")).xpath(
        "//VULN[STIG_DATA/ATTRIBUTE_DATA='CWH-ACCT-01']/FINDING_DETAILS/text()")
    assert len(details) == 1 and "ctl\\x00\\x01\\x07" in details[0]  # shown, as \xNN
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", details[0])


@pytest.mark.parametrize("pattern", ["results.json", "results.hdf.json", "*.cklb",
                                     "manifest.json"])
def test_json_artifacts_are_valid_json_with_every_control_character_escaped(run, pattern):
    paths = sorted(run.report_dir.glob(pattern))
    assert paths
    for path in paths:
        raw = path.read_text(encoding="utf-8")
        json.loads(raw)
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f]", raw), path.name


@pytest.mark.parametrize("artifact", ["results.json", "results.hdf.json",
                                      "f-hostile-identity.cklb", "junit.xml"])
def test_hostile_strings_survive_into_the_machine_readable_outputs(run, artifact):
    """The strings are kept (escaped by the format), not dropped: the evidence stays true."""
    path = run.report_dir / artifact
    if path.suffix == ".xml":
        text = " ".join(etree.parse(str(path)).getroot().itertext()) + " ".join(
            value for element in etree.parse(str(path)).iter() for value in element.attrib.values())
    else:
        text = json.dumps(json.loads(path.read_text(encoding="utf-8")), ensure_ascii=False)
    for payload in HOSTILE:
        assert payload in text or json.dumps(payload)[1:-1] in text, payload


def test_the_password_appears_in_no_output(run):
    """Successful hosts, a rejected password and every fault logged on with SECRET."""
    assert {r["status"] for r in run.results if r["host"] == REFERENCE} >= {"NotAFinding"}
    for name in ("report.html", "results.json", "ref.ckl", "ref.cklb", "results.hdf.json",
                 "junit.xml", "manifest.json", "lab-requests.jsonl"):
        assert (run.report_dir / name).is_file(), name
    texts = {"stdout": run.stdout, "stderr": run.stderr}
    for path in sorted(run.report_dir.parent.rglob("*")):  # reports, lab state, the run
        if path.is_file() and path.name != "inventory.yml":  # the input names the lab's password
            texts[str(path)] = path.read_text(encoding="utf-8", errors="replace")
    blob = html_blob(run.report_dir / PYTEST_HTML)
    texts["html data blob"] = json.dumps(blob, ensure_ascii=False)
    texts["html fragments"] = "\n".join(
        f for pieces in html_fragments(run.report_dir / PYTEST_HTML).values() for f in pieces)
    for name, page in html_pages(run.report_dir).items():  # as a browser shows the text
        texts[f"{name} as shown"] = html.unescape(page)
    for secret in (SECRET, LAB_ONLY_PASSWORD):
        for form in secret_forms(secret):
            leaks = [where for where, text in texts.items() if form in text]
            assert not leaks, (form, leaks)


def test_host_control_characters_never_reach_the_terminal(run):
    found = sorted({repr(m.group()) for m in CONTROL.finditer(run.output)})
    assert not found, found


def test_the_password_stays_out_of_a_run_the_suite_crashes_in(tmp_path_factory):
    crash = crash_run(tmp_path_factory)
    texts = [crash.output] + [p.read_text(errors="replace")
                              for p in crash.report_dir.parent.rglob("*") if p.is_file()]
    for form in secret_forms(SECRET):
        assert not any(form in text for text in texts), form


def test_facts_of_an_unexpected_type_do_not_crash_the_run(tmp_path_factory):
    crash = crash_run(tmp_path_factory)
    assert "INTERNALERROR" not in crash.output and "Traceback" not in crash.output
    assert crash.exit_code in (0, 6), crash.output[-2000:]
    assert {r["host"] for r in crash.results} == {REFERENCE, "scalar-ip"}
    assert len(crash.results) == 2 * len(ALL)
