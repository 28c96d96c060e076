"""Two "hosts" on this machine: network namespaces, each joined to the test's own namespace
by a veth pair, so that each has an address of its own and reaches a server of the test's
(Redis) through its gateway."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

IP = shutil.which("ip")


@dataclass(frozen=True)
class Host:
    """A namespace: ``address`` is its own, ``gateway`` the test's side of the link."""

    namespace: str
    address: str
    gateway: str

    def wrap(self) -> list[str]:
        """The command prefix that runs a command inside the namespace."""
        assert IP is not None
        return [IP, "netns", "exec", self.namespace]


def _ip(*args: str) -> None:
    assert IP is not None
    subprocess.run([IP, *args], check=True, capture_output=True, timeout=20)


def why_not_available() -> str | None:
    """Why namespaces cannot be made here (no ``ip``, not root, no permission), or None."""
    if IP is None:
        return "the ip command (iproute2) is not installed"
    if os.geteuid() != 0:
        return "creating network namespaces needs root"
    probe = f"noprobe{os.getpid()}"
    try:
        _ip("netns", "add", probe)
    except subprocess.CalledProcessError as exc:
        return f"ip netns add is not permitted here: {exc.stderr.decode().strip()}"
    _ip("netns", "del", probe)
    return None


@contextlib.contextmanager
def hosts(count: int = 2) -> Iterator[list[Host]]:
    """``count`` namespaces with addresses 10.213.N.2 (gateway 10.213.N.1); always removed."""
    tag = f"{os.getpid() % 100000}"
    made: list[Host] = []
    try:
        for n in range(count):
            namespace = f"no{tag}h{n}"
            outside, inside = f"no{tag}o{n}", f"no{tag}i{n}"
            subnet = 100 + (os.getpid() + n) % 150
            host = Host(namespace, f"10.213.{subnet}.2", f"10.213.{subnet}.1")
            _ip("netns", "add", namespace)
            made.append(host)
            _ip("link", "add", outside, "type", "veth", "peer", "name", inside)
            _ip("link", "set", inside, "netns", namespace)
            _ip("addr", "add", f"{host.gateway}/30", "dev", outside)
            _ip("link", "set", outside, "up")
            _ip("-n", namespace, "addr", "add", f"{host.address}/30", "dev", inside)
            _ip("-n", namespace, "link", "set", inside, "up")
            _ip("-n", namespace, "link", "set", "lo", "up")
        yield made
    finally:
        for host in made:
            # Deleting the namespace deletes its end of the veth pair, and so the pair.
            with contextlib.suppress(subprocess.CalledProcessError):
                _ip("netns", "del", host.namespace)
