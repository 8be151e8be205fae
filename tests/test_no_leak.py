"""End to end: no planted identifier, secret or token leaks into any artefact.

Three agencies encode registers that hold a few planted people with
distinctive names, aliases, places and birth dates; they upload to a real
``tiplink serve`` on 127.0.0.1, the analyst and a party fetch results, and
(where ``tiplink link`` is on main) the extracts are linked offline. Then
every artefact is searched: extracts (raw bytes and decoded columns and
metadata), outputs, the server's log and data directory (database files
included), every command's stdout and stderr, and every process's argv,
including the running server's as the kernel reports it. None may hold a
planted value; the secret and the tokens may appear only in their own files
(and the tokens in ``project create``'s reply, which is how they are issued).
"""

from __future__ import annotations

import csv
import json
import os
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.service.helpers import ServerProcess, run_cli, wait_state, write_tokens

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
PARTIES = ("police", "ngo", "welfare")
# Distinctive values no other artefact could hold by chance.
PLANTED_PEOPLE = [
    # given, family, other_names, sex, date of birth, nationality, place
    ("Zorbaxtrel", "Quillonvex", "Yzzabethine", "F", "1917-03-07", "MMR", "Vrelmontyard"),
    ("Xanthipwoq", "Krumbleduff", "", "M", "1923-10-29", "THA", "Oplixtown"),
    ("Jovrquenta", "Vandersnoot", "Blixaforth", "F", "1931-05-16", "LAO", "Glimmerhaz"),
]
# Which planted people each party holds (two agencies share the first).
HOLDERS = {"police": [0, 1], "ngo": [0, 2], "welfare": [1]}


def planted_strings() -> list[str]:
    """Every planted value, in the forms an encoder could write it."""
    values = []
    for given, family, other, _, dob, _, place in PLANTED_PEOPLE:
        for value in (given, family, other, place):
            if value:
                values += [value, value.lower(), value.upper()]
        values += [dob, dob.replace("-", "")]
    return values


def write_register(path: Path, party: str, rows: int = 60) -> None:
    """The first rows of the bundled example register plus the planted people."""
    source = EXAMPLES / f"{party}.csv"
    with source.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        body = [row for _, row in zip(range(rows), reader, strict=False)]
    for n, index in enumerate(HOLDERS[party]):
        given, family, other, sex, dob, nationality, place = PLANTED_PEOPLE[index]
        record = dict(zip(header, [""] * len(header), strict=True))
        record.update(record_id=f"{party.upper()}-PLANT-{n}", given_name=given,
                      family_name=family, other_names=other, sex=sex, date_of_birth=dob,
                      nationality=nationality, place_of_origin=place)
        body.append([record[c] for c in header])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(body)


def artefact_texts(paths: list[Path]) -> dict[str, bytes]:
    """The bytes of every artefact, and decoded Parquet content (columns may be compressed)."""
    texts: dict[str, bytes] = {}
    for root in paths:
        files = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
        for path in files:
            data = path.read_bytes()
            texts[str(path)] = data
            if data[:4] == b"PAR1":
                table = pq.read_table(path)
                decoded = json.dumps(table.to_pydict(), default=repr)
                metadata = repr(table.schema.metadata)
                texts[f"{path} (decoded)"] = (decoded + metadata).encode("utf-8", "replace")
    return texts


def command_available(name: str) -> bool:
    return run_cli(name, "--help").returncode == 0


def server_argv(server: ServerProcess) -> str:
    """The running server's argv as the kernel shows it to every local user."""
    assert server.process is not None
    raw = Path(f"/proc/{server.process.pid}/cmdline").read_bytes()
    return raw.replace(b"\0", b" ").decode()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_no_identifier_secret_or_token_leaks(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    work = tmp_path / "work"
    inputs.mkdir()
    work.mkdir()
    argvs: list[list[str]] = []
    outputs: list[str] = []

    def tiplink(*args: str, ok: bool = True) -> str:
        argvs.append(list(args))
        proc = run_cli(*args)
        outputs.extend([proc.stdout, proc.stderr])
        if ok:
            assert proc.returncode == 0, proc.stderr
        return proc.stdout

    secret_file = work / "secret.key"
    tiplink("keygen", "--output", str(secret_file))
    secret = secret_file.read_text().strip()
    assert len(secret) >= 32

    extracts = {}
    for party in PARTIES:
        register = inputs / f"{party}.csv"
        write_register(register, party)
        extracts[party] = work / f"{party}.extract.parquet"
        tiplink("encode", str(register), "--schema", "victim", "--secret-file", str(secret_file),
                "--party", party, "--output", str(extracts[party]))
        tiplink("encode", str(register), "--schema", "victim", "--secret-file", str(secret_file),
                "--party", party, "--format", "clkhash-json",
                "--output", str(work / f"{party}.clks.json"))

    # A bad value in a planted record: the error names row and column only.
    bad = inputs / "bad.csv"
    write_register(bad, "police", rows=3)
    text = bad.read_text(encoding="utf-8").replace(",1917-03-07,", ",1917-13-07,")
    bad.write_text(text, encoding="utf-8")
    tiplink("encode", str(bad), "--schema", "victim", "--secret-file", str(secret_file),
            "--party", "police", "--output", str(work / "bad.parquet"), ok=False)
    assert not (work / "bad.parquet").exists()
    assert "date_of_birth" in outputs[-1]

    if command_available("link"):
        tiplink("link", *map(str, extracts.values()), "--clusters", str(work / "clusters.csv"),
                "--counts", str(work / "counts.json"))

    data_dir = tmp_path / "server-data"
    server = ServerProcess(data_dir).start()
    try:
        argv_seen = [server_argv(server)]
        admin = data_dir / "admin.token"
        created = json.loads(tiplink(
            "project", "create", "--server", server.address, "--admin-token-file", str(admin),
            "--name", "leak-check", "--schema", "victim", "--parties", ",".join(PARTIES)))
        (work / "tokens").mkdir()
        tokens = write_tokens(work / "tokens", created)
        for party in PARTIES:
            tiplink("upload", "--server", server.address, "--token-file", str(tokens[party]),
                    str(extracts[party]))
        wait_state(server, tokens["analyst"], ["done"])
        tiplink("status", "--server", server.address, "--token-file", str(tokens["police"]))
        tiplink("results", "--server", server.address, "--token-file", str(tokens["analyst"]),
                "--counts", str(work / "service-counts.json"))
        tiplink("results", "--server", server.address, "--token-file", str(tokens["police"]),
                "--clusters", str(work / "police-clusters.csv"))
        # A wrong token: refused, and the refusal does not echo it.
        wrong = work / "wrong.token"
        wrong.write_text("not-a-real-token-0123456789abcdef\n")
        tiplink("status", "--server", server.address, "--token-file", str(wrong), ok=False)
        argv_seen.append(server_argv(server))
    finally:
        server.stop()
    assert server.log_path is not None

    counts = json.loads((work / "service-counts.json").read_text())
    assert counts["unique_entities"] > 0  # the flow did run end to end
    issued = [admin.read_text().strip(), created["analyst_token"],
              *created["party_tokens"].values()]

    token_files = {str(p) for p in (work / "tokens").glob("*")} | {str(admin), str(secret_file)}
    texts = artefact_texts([work, data_dir, server.log_path])
    texts.update({f"command output {i}": o.encode() for i, o in enumerate(outputs)})
    texts.update({f"argv {i}": " ".join(a).encode() for i, a in enumerate(argvs)})
    texts.update({f"server argv {i}": a.encode() for i, a in enumerate(argv_seen)})
    assert any("extract.parquet (decoded)" in name for name in texts)
    assert any(name.endswith("tiplink.db") for name in texts)

    for name, data in texts.items():
        for value in planted_strings():
            assert value.encode() not in data, f"planted value found in {name}"
        if name in token_files:
            continue
        for hidden in (secret, *issued):
            if name == f"command output {project_reply_index(argvs)}" and hidden != secret:
                continue  # project create prints the tokens it issues (CONTRACT)
            assert hidden.encode() not in data, f"secret or token found in {name}"
    assert os.path.getsize(server.log_path) > 0


def project_reply_index(argvs: list[list[str]]) -> int:
    """Index in the outputs list of ``project create``'s stdout."""
    for i, args in enumerate(argvs):
        if args[:2] == ["project", "create"]:
            return 2 * i
    raise AssertionError("project create was not run")
