"""A throwaway certificate authority for the TLS tests (never used outside tests).

``make_ca(dir)`` writes a CA and a server certificate for 127.0.0.1 / localhost (SAN
IP and DNS), a client certificate, and a PKCS12 keystore of the server pair for
WireMock. Keys are EC P-256: fast to generate on a small machine.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

KEYSTORE_PASSWORD = "mockado-test"


@dataclass(frozen=True)
class ThrowawayCA:
    ca_file: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    server_p12: Path
    keystore_password: str = KEYSTORE_PASSWORD


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)


def _write_cert(cert: x509.Certificate, path: Path) -> None:
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _issue(
    *,
    subject: str,
    public_key: ec.EllipticCurvePublicKey,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey,
    usage: x509.ObjectIdentifier | None,
    server: bool = False,
    uri: str | None = None,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer.subject if issuer else _name(subject))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if issuer is None:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=True, path_length=0), critical=True
        ).add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )  # fmt: skip
    else:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=False, path_length=None), critical=True
        ).add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        if usage is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
    elif uri is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(uri)]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def make_ca(
    directory: Path, *, name: str = "mockado test CA", client_uri: str | None = None
) -> ThrowawayCA:
    """A fresh CA with a server and a client certificate, written under ``directory``.
    ``client_uri``: a URI SAN of the client certificate (a mesh identity, SPIFFE ID)."""
    directory.mkdir(parents=True, exist_ok=True)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _issue(
        subject=name, public_key=ca_key.public_key(), issuer=None, issuer_key=ca_key, usage=None
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = _issue(
        subject="localhost",
        public_key=server_key.public_key(),
        issuer=ca_cert,
        issuer_key=ca_key,
        usage=ExtendedKeyUsageOID.SERVER_AUTH,
        server=True,
    )
    client_key = ec.generate_private_key(ec.SECP256R1())
    client_cert = _issue(
        subject="mockado-client",
        public_key=client_key.public_key(),
        issuer=ca_cert,
        issuer_key=ca_key,
        usage=ExtendedKeyUsageOID.CLIENT_AUTH,
        uri=client_uri,
    )
    out = ThrowawayCA(
        ca_file=directory / "ca.pem",
        server_cert=directory / "server.pem",
        server_key=directory / "server.key",
        client_cert=directory / "client.pem",
        client_key=directory / "client.key",
        server_p12=directory / "server.p12",
    )
    _write_cert(ca_cert, out.ca_file)
    # The chain file carries the CA too, as servers usually send it.
    out.server_cert.write_bytes(
        server_cert.public_bytes(serialization.Encoding.PEM)
        + ca_cert.public_bytes(serialization.Encoding.PEM)
    )
    _write_key(server_key, out.server_key)
    _write_cert(client_cert, out.client_cert)
    _write_key(client_key, out.client_key)
    out.server_p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"server",
            server_key,
            server_cert,
            [ca_cert],
            serialization.BestAvailableEncryption(KEYSTORE_PASSWORD.encode()),
        )
    )
    return out
