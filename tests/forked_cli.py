"""``infomech`` commands of a shell script, each in its own process, without an import each.

A test that runs a user's shell script (the README's block) pays ~3.5 s of CPU per ``infomech``
command for the imports alone (torch, matplotlib). :func:`forked_infomech` starts one *server*
interpreter that imports them once, and puts an ``infomech`` *client* first on ``PATH``: a few lines
of standard-library Python that hand the server their arguments, working directory, environment and
standard streams (the file descriptors themselves, over a Unix socket), then exit with the status
the server sends back. For each command the server forks; the child takes the client's streams,
directory and environment and runs the real :func:`infomech.cli.main` on the arguments, exactly as
the console script does (``sys.exit(main())``), then reports its exit status.

So each command still runs in a process of its own, writes to the script's own stdout, stderr and
files, and sets ``$?``; what is shared is only the interpreter's start and its imports. The console
script itself is run by ``tests/test_cli.py::test_console_script_and_module_entry_point``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

#: The client: reads nothing but its own arguments, cwd and environment; exits with the status.
CLIENT = textwrap.dedent('''\
    import json, os, socket, sys
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect({path!r})
    msg = json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd(), "env": dict(os.environ)}}).encode()
    socket.send_fds(s, [len(msg).to_bytes(8, "big") + msg], [0, 1, 2])
    reply = b""
    while len(reply) < 4:
        chunk = s.recv(4 - len(reply))
        if not chunk:
            sys.exit("infomech (forked): the server went away")
        reply += chunk
    sys.exit(int.from_bytes(reply, "big", signed=True))
''')


def _recv_exact(conn: socket.socket, n: int, first: bytes = b"") -> bytes:
    data = first
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError("client closed the connection")
        data += chunk
    return data


def _child(argv: list[str], cwd: str, env: dict[str, str], fds: list[int]) -> int:
    """In the forked child: take the client's streams, directory and environment; run main()."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    sys.argv = ["infomech", *argv]
    from infomech.cli import main

    try:
        code = main(argv)
    except SystemExit as exc:  # pragma: no cover - main() returns its status
        code = exc.code if isinstance(exc.code, int) else 1
    sys.stdout.flush()
    sys.stderr.flush()
    return int(code or 0)


def serve(path: str) -> None:
    """Import what the commands need, then fork one child per client connection (one at a time)."""
    import json

    import matplotlib.pyplot  # noqa: F401  (the --plot path)
    import PIL.Image  # noqa: F401  (--image)
    import torch  # noqa: F401

    import infomech.cli
    import infomech.cli.decompose
    import infomech.cli.spectrum
    import infomech.cli.speed
    import infomech.runs
    import infomech.spectrum  # noqa: F401

    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as srv:
        srv.bind(path)
        srv.listen(1)
        print("ready", flush=True)
        while True:
            conn, _ = srv.accept()
            with conn:
                head, fds, _, _ = socket.recv_fds(conn, 1 << 16, 3)
                size = int.from_bytes(_recv_exact(conn, 8, head[:8]), "big")
                msg = json.loads(_recv_exact(conn, size, head[8:]))
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:  # the child: never returns into the loop
                    code = 1
                    try:
                        conn.close()
                        srv.close()
                        code = _child(msg["argv"], msg["cwd"], msg["env"], fds)
                    finally:
                        os._exit(code)
                for fd in fds:
                    os.close(fd)
                _, status = os.waitpid(pid, 0)
                code = os.waitstatus_to_exitcode(status)
                conn.sendall(int(code).to_bytes(4, "big", signed=True))


@contextlib.contextmanager
def forked_infomech(tmp: Path, env: dict[str, str]) -> Iterator[Path]:
    """A folder holding the ``infomech`` client, to put first on ``PATH``, while a server runs."""
    bin_dir = tmp / "forked-bin"
    bin_dir.mkdir()
    sock = str(tmp / "infomech.sock")
    client = bin_dir / "infomech"
    client.write_text(f"#!{sys.executable} -IS\n" + CLIENT.format(path=sock))
    client.chmod(0o755)
    server = subprocess.Popen([sys.executable, __file__, "serve", sock], stdout=subprocess.PIPE,
                              env=env, text=True)
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        yield bin_dir
    finally:
        server.kill()
        server.wait(timeout=60)


if __name__ == "__main__":
    serve(sys.argv[2])
