"""Warm Jupyter kernels: IPython kernels forked from a process that has already imported the
heavy third-party packages, so a chapter does not pay for them at every execution.

A cold ``python -m ipykernel_launcher`` spends ~3 s starting up and a chapter then ~4 s importing
torch, scipy, matplotlib and scikit-learn before its first line of its own runs: ~40 % of the time
the book's six chapters take. Here one **server** process imports those packages once
(:data:`PRELOAD`; never ``infomech`` itself, so library edits are always seen) and forks a fresh
kernel for every execution. Each kernel is still a separate process with a fresh IPython shell,
its own namespace, the client's working directory and environment, started with the exact
``ipykernel`` arguments Jupyter passes: the chapters' outputs are byte-identical to a cold
kernel's (``tests/test_warm_kernel.py``).

How the pieces fit:

* :func:`write_kernelspec` writes a kernelspec named :data:`KERNEL_NAME` whose command is this
  file run as a small **client** (standard library only, starts in ~30 ms). Jupyter launches the
  client as if it were the kernel; the client hands the server its connection-file arguments, its
  working directory, its environment and its standard streams (passed as file descriptors), then
  relays signals to the forked kernel and exits with the kernel's exit status.
* :func:`start_server` starts the server (``python warm_kernel.py --serve SOCKET``) and sets
  :data:`SOCKET_ENV` so that kernels started from this process (and its children) find it.
* The server forks only for a client whose environment equals its own (apart from the variables
  Jupyter sets per kernel, :data:`PER_KERNEL_ENV`): packages read variables such as
  ``OMP_NUM_THREADS`` or ``ATEN_CPU_CAPABILITY`` when imported. For any other client, or when no
  server answers, the client starts a cold kernel itself (``ipykernel_launcher``) and says why on
  its standard error: a warm kernel is only ever a faster way to the same result.
* Like a kernel Jupyter starts, each kernel leads a session of its own: it gets its own CPU share
  (Linux shares the CPU between sessions first: two chapters executing side by side get two
  shares, not one between them), and a Ctrl-C typed in the terminal is not for it; Jupyter's
  interrupts reach it through the client.
* A kernel dies with its client: the client holds the write end of a pipe whose read end the
  kernel watches (a ``SIGKILL`` of the client ends the kernel), and the kernel holds the write end
  of a pipe the client waits on. The server exits when the process that started it is gone.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys
from pathlib import Path

#: Name of the kernelspec (``--nbval-kernel-name``, ``NotebookClient(kernel_name=...)``).
KERNEL_NAME = "infomech-warm"
#: Environment variable holding the server's socket path.
SOCKET_ENV = "INFOMECH_WARM_KERNEL"
#: Imported by the server before it forks (third-party only; the chapters import the rest).
#: ``matplotlib_inline`` is left out on purpose: it hooks into the running IPython when imported.
PRELOAD = ("numpy", "scipy.special", "scipy.ndimage", "scipy.stats", "torch", "torch.nn.functional",
           "matplotlib", "matplotlib.pyplot", "sklearn.datasets", "PIL.Image", "ipykernel.kernelapp")
#: Variables that may differ between the server and a client: what Jupyter sets for each kernel,
#: and what pytest sets while a test runs (nbval starts kernels inside tests). No package reads
#: them when it is imported; the kernel gets the client's values.
PER_KERNEL_ENV = frozenset({"JPY_PARENT_PID", "JPY_SESSION_NAME", "PYDEVD_DISABLE_FILE_VALIDATION",
                            "KERNEL_LAUNCH_TIMEOUT", "PYTEST_CURRENT_TEST", "COLUMNS", "LINES"})
_HERE = Path(__file__).resolve()


def write_kernelspec(folder: Path) -> Path:
    """Write the :data:`KERNEL_NAME` kernelspec under ``folder/kernels/`` and return ``folder``
    (put it on ``JUPYTER_PATH`` to make the kernel findable by name)."""
    spec = folder / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, str(_HERE), "-f", "{connection_file}"],
        "display_name": "Python 3 (infomech, warm)",
        "language": "python",
        "metadata": {"debugger": True},
    }, indent=1), encoding="utf-8")
    return folder


def start_server(folder: Path | None = None):
    """Start a server with this process's environment (plus :data:`SOCKET_ENV` and the kernelspec
    on ``JUPYTER_PATH``, which are also set here for the kernels to come). Its socket and
    kernelspec go to ``folder``, by default a new temporary folder (short: a socket path has at
    most 107 bytes) that :func:`stop_server` removes. Returns the ``subprocess.Popen``."""
    import subprocess
    import tempfile

    own = folder is None
    folder = Path(tempfile.mkdtemp(prefix="infomech-kernels-")) if own else folder
    folder.mkdir(parents=True, exist_ok=True)
    write_kernelspec(folder)
    path = folder / f"server-{os.getpid()}.sock"
    if path.exists():
        path.unlink()
    paths = [str(folder)] + [p for p in os.environ.get("JUPYTER_PATH", "").split(os.pathsep) if p]
    os.environ["JUPYTER_PATH"] = os.pathsep.join(dict.fromkeys(paths))
    os.environ[SOCKET_ENV] = str(path)
    ready_r, ready_w = os.pipe()
    proc = subprocess.Popen([sys.executable, str(_HERE), "--serve", str(path), str(ready_w)],
                            pass_fds=(ready_w,), stdin=subprocess.DEVNULL)
    proc.infomech_socket, proc.infomech_folder = path, folder if own else None
    os.close(ready_w)
    with os.fdopen(ready_r, "rb") as ready:  # the server writes one byte once it listens
        ok = ready.read(1) == b"1"
    if not ok:
        proc.wait()
        stop_server(proc)
        raise RuntimeError("the warm-kernel server did not start")
    return proc


def stop_server(proc) -> dict:
    """End a server started by :func:`start_server` (running kernels are not affected; ``None``:
    nothing to end); returns how many kernels it forked and how many clients it sent to a cold
    kernel, and why: ``{"warm": n, "refused": m, "why": [reasons]}``."""
    if proc is None:
        return {"warm": 0, "refused": 0, "why": []}
    if os.environ.get(SOCKET_ENV) == str(proc.infomech_socket):
        os.environ.pop(SOCKET_ENV)
    if proc.poll() is None:
        proc.terminate()
        proc.wait()
    stats = proc.infomech_socket.with_suffix(".json")
    try:
        return json.loads(stats.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"warm": 0, "refused": 0, "why": ["the server left no record"]}
    finally:
        stats.unlink(missing_ok=True)
        if proc.infomech_folder is not None:
            import shutil

            shutil.rmtree(proc.infomech_folder, ignore_errors=True)


# ------------------------------------------------------------------------------------ client


def _cold(argv: list[str], why: str) -> None:
    """Replace this process by a cold kernel, exactly as the standard kernelspec starts one."""
    print(f"infomech warm kernel: {why}; starting a cold kernel", file=sys.stderr, flush=True)
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *argv])


def _client(argv: list[str]) -> int:
    path = os.environ.get(SOCKET_ENV)
    if not path:
        _cold(argv, f"${SOCKET_ENV} is not set")
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
    except OSError as exc:
        _cold(argv, f"no server at {path} ({exc.strerror})")
    life_r, life_w = os.pipe()    # the kernel exits when life_w closes (this process died)
    done_r, done_w = os.pipe()    # done_r reads EOF once the kernel has exited
    request = json.dumps({"argv": argv, "cwd": os.getcwd(), "env": dict(os.environ)}).encode()
    socket.send_fds(conn, [request + b"\n"], [0, 1, 2, life_r, done_w])
    os.close(life_r)
    os.close(done_w)
    reader = conn.makefile("rb")
    reply = json.loads(reader.readline() or b'{"refused": "the server closed the connection"}')
    if "refused" in reply:
        conn.close()
        _cold(argv, reply["refused"])
    pid = int(reply["pid"])

    def relay(signum: int, frame: object) -> None:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
                signal.SIGUSR2):
        signal.signal(sig, relay)
    while True:  # until the kernel has exited (EOF on done_r)
        try:
            if not os.read(done_r, 1):
                break
        except InterruptedError:  # pragma: no cover (PEP 475 retries)
            continue
    line = reader.readline()
    status = json.loads(line)["status"] if line else 1
    if status < 0:  # killed by a signal: end the same way
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
    return status


# ------------------------------------------------------------------------------------ server


def _refusal(env: dict[str, str], own: dict[str, str]) -> str | None:
    """Why a client with environment ``env`` cannot have a kernel forked from a server started
    with environment ``own``."""
    mine = {k: v for k, v in own.items() if k not in PER_KERNEL_ENV}
    theirs = {k: v for k, v in env.items() if k not in PER_KERNEL_ENV}
    differ = sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
    if differ:
        return "the environment differs from the server's (" + ", ".join(differ[:5]) + ")"
    relative = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and not os.path.isabs(p)]
    if relative:  # resolved against the working directory, which differs per kernel
        return f"PYTHONPATH holds a relative folder ({relative[0]})"
    return None


def _kernel(request: dict, fds: list[int], keep: list[socket.socket]) -> None:  # pragma: no cover
    """In the forked child: become the kernel the client asked for, then exit."""
    import threading

    for sock in keep:  # the server's sockets
        sock.close()
    stdin, stdout, stderr, life_r, done_w = fds
    for fd, target in ((stdin, 0), (stdout, 1), (stderr, 2)):
        os.dup2(fd, target)
        os.close(fd)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.setsid()  # as Jupyter starts a kernel: a session (CPU share) of its own, no terminal's Ctrl-C
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = [str(Path(sys.modules["ipykernel"].__file__).parent.parent / "ipykernel_launcher.py"),
                *request["argv"]]

    def watch() -> None:  # the client died: so does the kernel
        while True:
            try:
                if not os.read(life_r, 1):
                    break
            except InterruptedError:
                continue
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="infomech-lifeline").start()
    _ = done_w  # held open until this process exits
    code = 0
    try:
        from ipykernel import kernelapp

        # ipykernel reads these two defaults from the environment when imported (by the server)
        kernelapp.launch_new_instance(argv=request["argv"],
                                      parent_handle=int(os.environ.get("JPY_PARENT_PID") or 0),
                                      interrupt=int(os.environ.get("JPY_INTERRUPT_EVENT") or 0))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def _serve(path: str, ready_fd: int) -> None:
    import importlib

    own = dict(os.environ)
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # as ipykernel
    if sys.path and Path(sys.path[0]).resolve() == _HERE.parent:
        del sys.path[0]  # the kernel's path is the interpreter's, as with ``-m ipykernel_launcher``
    parent = os.getppid()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    # ready as soon as it listens: the caller goes on (Sphinx reads pages) while the imports run;
    # a client that connects meanwhile waits in the backlog and is served once they are done
    os.write(ready_fd, b"1")
    os.close(ready_fd)
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    clients: dict[int, socket.socket] = {}  # kernel pid -> its client's connection
    counts: dict = {"warm": 0, "refused": 0, "why": []}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while os.getppid() == parent:
            readable, _, _ = select.select([listener], [], [], 0.5)
            if readable:
                conn, _ = listener.accept()
                why = _accept(conn, listener, clients, own)
                counts["refused" if why else "warm"] += 1
                if why and why not in counts["why"]:
                    counts["why"].append(why)
            while clients:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                conn = clients.pop(pid, None)
                if conn is not None:
                    code = os.waitstatus_to_exitcode(status)
                    try:
                        conn.sendall(json.dumps({"status": code}).encode() + b"\n")
                    except OSError:
                        pass
                    conn.close()
    except SystemExit:  # SIGTERM from stop_server
        pass
    finally:
        listener.close()
        if os.path.exists(path):
            os.unlink(path)
        Path(path).with_suffix(".json").write_text(json.dumps(counts), encoding="utf-8")
    sys.stdout.flush()
    sys.stderr.flush()
    # no interpreter teardown: with torch and the rest imported it takes ~1.5 s, and the build
    # waits for it (its kernels are processes of their own and go on)
    os._exit(0)


def _accept(conn: socket.socket, listener: socket.socket, clients: dict[int, socket.socket],
            own: dict[str, str]) -> str | None:
    """Serve one client: fork its kernel (returns None) or tell it why not (returns why)."""
    data, fds, _, _ = socket.recv_fds(conn, 1 << 20, 5)
    while not data.endswith(b"\n"):
        more = conn.recv(1 << 20)
        if not more:
            break
        data += more
    try:
        request = json.loads(data)
        why = None if len(fds) == 5 else "the client sent no standard streams"
        why = why or _refusal(request["env"], own)
    except (ValueError, KeyError) as exc:
        why = f"bad request ({exc})"
    if why is not None:
        for fd in fds:
            os.close(fd)
        conn.sendall(json.dumps({"refused": why}).encode() + b"\n")
        conn.close()
        return why
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child never returns)
        _kernel(request, fds, [listener, conn, *clients.values()])
    for fd in fds:
        os.close(fd)
    clients[pid] = conn
    conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
    return None


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        _serve(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit(_client(sys.argv[1:]))
