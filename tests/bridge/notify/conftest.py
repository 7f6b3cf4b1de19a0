"""Fixtures of the email tests: a test certificate authority and a server certificate from it.

The database comes from tests/bridge/conftest.py (`db`); SMTP servers from tests.support.smtp.
"""

from __future__ import annotations

import pytest
import trustme


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server_cert(ca: trustme.CA) -> trustme.LeafCert:
    """For 127.0.0.1 and localhost: what the transports connect to."""
    return ca.issue_cert("127.0.0.1", "localhost")


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path) -> str:
    """The CA's certificate as a PEM file (email.ca_file)."""
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)
