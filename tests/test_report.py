"""`tiplink report`: a self-contained HTML page that renders in a real browser."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import assert_one_line_error, run_tiplink
from tiplink.linkage.counts import counts_document
from tiplink.linkage.report import CAVEAT, render_report

SETS = (
    [["ngo"]] * 50
    + [["police"]] * 70
    + [["ngo", "police"]] * 20
    + [["welfare"]] * 30
    + [["police", "welfare"]] * 10
    + [["ngo", "welfare"]] * 6
    + [["ngo", "police", "welfare"]] * 2
    + [["embassy"]] * 12
    + [["embassy", "police"]] * 7
)
PARTIES = ["embassy", "ngo", "police", "welfare"]
RECORDS = {"embassy": 20, "ngo": 80, "police": 120, "welfare": 50}


@pytest.fixture(scope="module")
def counts_doc() -> dict:
    return counts_document(PARTIES, RECORDS, SETS, 5, {"bootstrap": 30})


def test_report_content(counts_doc: dict) -> None:
    page = render_report(counts_doc)
    assert page.startswith("<!DOCTYPE html>")
    # Self-contained: nothing fetched from anywhere.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page and "@import" not in page
    assert '<svg id="upset"' in page
    assert page.count('class="bar"') + page.count('class="bar suppressed"') == len(
        counts_doc["capture_histories"]
    )
    for party in PARTIES:
        assert party in page
    assert "suppressed" in page  # the 2-person cell
    assert counts_doc["estimate"]["model"] in page
    assert "stepwise" in page
    assert "closed" in CAVEAT and "linked perfectly" in CAVEAT
    assert "How to read the estimate" in page


def test_report_escapes_names() -> None:
    doc = counts_document(
        ["<b>x</b>", "y&z"],
        {},
        [["<b>x</b>"]] * 9 + [["y&z"]] * 8 + [["<b>x</b>", "y&z"]] * 6,
        0,
        {"skip": True},
    )
    page = render_report(doc)
    assert "<b>x</b>" not in page
    assert "&lt;b&gt;x&lt;/b&gt;" in page


def test_report_cli_writes_file(tmp_path: Path, counts_doc: dict) -> None:
    counts = tmp_path / "COUNTS.json"
    counts.write_text(json.dumps(counts_doc), encoding="utf-8")
    out = tmp_path / "report.html"
    result = run_tiplink(["report", counts, "--output", out])
    assert result.returncode == 0, result.stderr
    assert out.read_text(encoding="utf-8") == render_report(counts_doc)
    assert not list(tmp_path.glob("*.part"))


def test_report_cli_bad_input_leaves_no_file(tmp_path: Path) -> None:
    counts = tmp_path / "COUNTS.json"
    counts.write_text('{"parties": ["a"], "capture_histories": [{"parties": ["b"], "count": 1}]}')
    out = tmp_path / "report.html"
    result = run_tiplink(["report", counts, "--output", out])
    assert_one_line_error(result, str(counts), "capture_histories[0].parties")
    assert not out.exists()
    assert not list(tmp_path.glob("*.part"))


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.mark.browser
def test_report_renders_in_headless_chromium(tmp_path: Path, counts_doc: dict) -> None:
    browser = _chromium()
    if browser is None:
        if os.environ.get("TIPLINK_REQUIRE_BROWSER"):
            pytest.fail("TIPLINK_REQUIRE_BROWSER is set but chromium is not installed")
        pytest.skip("chromium is not installed")
    counts = tmp_path / "COUNTS.json"
    counts.write_text(json.dumps(counts_doc), encoding="utf-8")
    out = tmp_path / "report.html"
    assert run_tiplink(["report", counts, "--output", out]).returncode == 0
    profile = tmp_path / "profile"
    proc = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--dump-dom",
            out.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    dom = proc.stdout
    assert proc.returncode == 0, proc.stderr[-2000:]
    # The inline script ran after the chart was in the DOM and counted its bars.
    ncells = len(counts_doc["capture_histories"])
    assert f'data-chart-ready="{ncells}"' in dom
    assert dom.count("<rect") >= ncells
    assert dom.count("<circle") == ncells * len(PARTIES)


def test_report_without_estimate_and_with_withheld_totals() -> None:
    sets = [["a"]] * 30 + [["b"]] * 20 + [["a", "b"]] * 2
    doc = counts_document(["a", "b"], {"a": 43, "b": 33}, sets, 5)
    assert "estimate" not in doc
    page = render_report(doc)
    assert "No estimate: withheld" in page
    assert page.count("withheld") >= 3  # the two per-party counts and the estimate
    assert page.count('class="bar suppressed"') == 3
