"""TLS and mutual TLS against a real server, with certificates made here."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .helpers import SCHEMA, ServerProcess, run_cli


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write(path: Path, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> None:
    path.with_suffix(".key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    path.with_suffix(".crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def make_pki(directory: Path) -> None:
    """A CA, a server certificate for 127.0.0.1 and a client certificate."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("test ca")).issuer_name(_name("test ca"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(minutes=5))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    _write(directory / "ca", ca_key, ca)
    for name, san in (("server", [x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                  x509.DNSName("localhost")]),
                      ("client", [x509.DNSName("police.example")])):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder().subject_name(_name(name)).issuer_name(ca.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5))
                .not_valid_after(now + dt.timedelta(days=1))
                .add_extension(x509.SubjectAlternativeName(san), critical=False)
                .sign(ca_key, hashes.SHA256()))
        _write(directory / name, key, cert)


def create(server: ServerProcess, *tls: str) -> object:
    return run_cli("project", "create", "--server", server.address, *tls,
                   "--admin-token-file", str(server.data_dir / "admin.token"), "--name", "t",
                   "--schema", str(SCHEMA), "--parties", "a,b")


def test_tls_and_mutual_tls(tmp_path: Path) -> None:
    make_pki(tmp_path)
    ca, srv, cli = tmp_path / "ca.crt", tmp_path / "server", tmp_path / "client"
    server = ServerProcess(tmp_path / "tls", extra_args=[
        "--tls-cert", str(srv.with_suffix(".crt")), "--tls-key", str(srv.with_suffix(".key"))])
    server.tls_ca = ca
    server.start()
    try:
        proc = create(server, "--tls-ca", str(ca))
        assert proc.returncode == 0, proc.stderr
        assert set(json.loads(proc.stdout)["party_tokens"]) == {"a", "b"}
        plain = create(server)  # no TLS: the handshake fails, one-line error
        assert plain.returncode != 0 and "UNAVAILABLE" in plain.stderr
    finally:
        server.stop()

    mtls = ServerProcess(tmp_path / "mtls", extra_args=[
        "--tls-cert", str(srv.with_suffix(".crt")), "--tls-key", str(srv.with_suffix(".key")),
        "--tls-client-ca", str(ca)])
    mtls.tls_ca = ca
    mtls.ready_from_log = True
    try:
        mtls.start()
        without = create(mtls, "--tls-ca", str(ca))
        assert without.returncode != 0 and "UNAVAILABLE" in without.stderr
        with_cert = create(mtls, "--tls-ca", str(ca), "--tls-cert", str(cli.with_suffix(".crt")),
                           "--tls-key", str(cli.with_suffix(".key")))
        assert with_cert.returncode == 0, with_cert.stderr
    finally:
        mtls.stop()


def test_plaintext_refused_off_loopback(tmp_path: Path) -> None:
    proc = run_cli("serve", "--data-dir", str(tmp_path / "d"), "--listen", "0.0.0.0:0",
                   timeout=60)
    assert proc.returncode != 0 and "without TLS" in proc.stderr
    assert "Traceback" not in proc.stderr
