"""A private Dovecot IMAP server for the mailbox tests: its own config, users and maildir under a temp dir.

Debian's ``dovecot-imapd`` (``make test`` installs it where apt works). Run as root, the login process
runs as ``dovenull`` and mail belongs to ``dovecot`` (Dovecot refuses to log in as root); as any other
user everything runs as that user. Plain IMAP on a free 127.0.0.1 port, ``ssl = no``.
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Dovecot:
    root: Path
    port: int
    user: str
    password: str
    process_pid: int | None = None
    tls_port: int | None = None  # implicit TLS (imaps); the plain port then offers STARTTLS
    ca_file: Path | None = None

    def with_user(self, user: str) -> Dovecot:
        """The same server seen as another user (made at start) with an empty maildir: one server, many tests."""
        return Dovecot(
            root=self.root,
            port=self.port,
            user=user,
            password=self.password,
            process_pid=self.process_pid,
            tls_port=self.tls_port,
            ca_file=self.ca_file,
        )

    def client(self):
        from imapclient import IMAPClient

        client = IMAPClient("127.0.0.1", port=self.port, ssl=False, timeout=10)
        client.login(self.user, self.password)
        return client

    def deliver(self, *messages: bytes, folder: str = "INBOX") -> None:
        client = self.client()
        try:
            for raw in messages:
                client.append(folder, raw)
        finally:
            client.logout()

    def count(self, folder: str = "INBOX", criteria: str = "ALL") -> int:
        client = self.client()
        try:
            if not client.folder_exists(folder):
                return 0
            client.select_folder(folder, readonly=True)
            return len(client.search([criteria]))
        finally:
            client.logout()


def self_signed(root: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (its own CA), made with the openssl command."""
    cert, key = root / "tls" / "cert.pem", root / "tls" / "key.pem"
    cert.parent.mkdir()
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def start(
    root: Path, user: str = "support@opsdesk.example", password: str = "secret", extra_users=(), tls: bool = False
) -> Dovecot:
    root.chmod(0o755)  # the login process (another user when run as root) must traverse it
    (root / "run").mkdir()
    (root / "mail").mkdir()
    if os.geteuid() == 0:
        internal, login, uid = "dovecot", "dovenull", "dovecot"
    else:
        internal = login = uid = getpass.getuser()
    port = free_port()
    (root / "users").write_text("".join(f"{name}:{{PLAIN}}{password}\n" for name in [user, *extra_users]))
    tls_port, ssl_lines, imaps = None, "ssl = no", ""
    if tls:
        cert, key = self_signed(root)
        tls_port = free_port()
        ssl_lines = f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}"
        imaps = f"inet_listener imaps {{\n    address = 127.0.0.1\n    port = {tls_port}\n    ssl = yes\n  }}"
    (root / "dovecot.conf").write_text(
        f"""
base_dir = {root}/run
state_dir = {root}/run
listen = 127.0.0.1
protocols = imap
{ssl_lines}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
log_path = {root}/dovecot.log
mail_location = maildir:{root}/mail/%u
default_internal_user = {internal}
default_internal_group = {internal}
default_login_user = {login}
first_valid_uid = 1
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  {imaps}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={uid} home={root}/mail/%u
}}
"""
    )
    if os.geteuid() == 0:
        shutil.chown(root / "mail", "dovecot", "dovecot")
    subprocess.run([DOVECOT, "-c", str(root / "dovecot.conf")], check=True, timeout=30)
    server = Dovecot(
        root=root,
        port=port,
        user=user,
        password=password,
        tls_port=tls_port,
        ca_file=(root / "tls" / "cert.pem") if tls else None,
    )
    deadline = time.monotonic() + 15
    pid_file = root / "run" / "master.pid"
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
            server.process_pid = int(pid_file.read_text().strip())
            return server
        except (OSError, ValueError):
            if time.monotonic() > deadline:
                stop(server)
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                raise RuntimeError(f"Dovecot did not start:\n{log}") from None
            time.sleep(0.1)


def stop(server: Dovecot) -> None:
    pid_file = server.root / "run" / "master.pid"
    pid = server.process_pid or (int(pid_file.read_text().strip()) if pid_file.exists() else None)
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
