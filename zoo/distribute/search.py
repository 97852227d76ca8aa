"""The networking of a distributed hyperparameter search: keras-tuner's chief / worker mode.

The chief (`zoo tune NAME --chief HOST:PORT`) serves the search's oracle; each worker
(`--worker HOST:PORT`) waits for it, then asks it for trials and reports back. keras-tuner
reads its role from environment variables, which `tuning_role` sets for one search.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator


def wait_for_chief(host: str, port: int, timeout: float) -> None:
    """Returns once the chief at `host:port` accepts connections; raises after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=5):
                return
        except OSError as error:
            if time.monotonic() >= deadline:
                raise ConnectionError(
                    f"No tuning chief answers at {host}:{port} after {timeout:.0f} s "
                    f"({error.strerror or error}). Start `zoo tune NAME --chief {host}:{port}` "
                    "there first, or check the address and the firewall."
                ) from None
            time.sleep(1)


def parse_address(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"Expected HOST:PORT, received {address!r}.")
    if not 1 <= int(port) <= 65535:
        raise ValueError(f"The port of {address!r} must be between 1 and 65535.")
    return host, int(port)


def check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            raise OSError(
                f"Cannot serve the tuning oracle on {host}:{port}: {error.strerror}. "
                "Choose another --chief port."
            ) from None


@contextlib.contextmanager
def tuning_role(role: str | None, address: str | None, worker_id: str | None) -> Iterator:
    """Sets keras-tuner's distribution variables for the duration of the search."""
    if role is None:
        yield
        return
    host, port = parse_address(address)
    if role == "chief":
        check_port_free(host, port)
    tuner_id = (
        "chief" if role == "chief" else worker_id or f"worker-{socket.gethostname()}-{os.getpid()}"
    )
    variables = {
        "KERASTUNER_TUNER_ID": tuner_id,
        "KERASTUNER_ORACLE_IP": host,
        "KERASTUNER_ORACLE_PORT": str(port),
    }
    saved = {k: os.environ.get(k) for k in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
