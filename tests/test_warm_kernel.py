"""Warm kernels (book/_ext/warm_kernel.py): forked from a server that imported the heavy packages,
they must give exactly what a cold ``ipykernel`` gives, and die with the process Jupyter started.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import infomech_site  # noqa: E402
import warm_kernel  # noqa: E402

#: What a chapter's kernel can observe: working directory, module path, environment, the
#: matplotlib backend and its inline figures, both streams, a rich result, an error.
CELLS = [
    "import os, sys\nprint(os.getcwd())\nprint([p for p in sys.path if 'site-packages' not in p])\n"
    "print(os.environ.get('INFOMECH_WARM_PROBE'), os.environ.get('MPLBACKEND'))",
    "import matplotlib.pyplot as plt\nimport matplotlib\nprint(matplotlib.get_backend())\n"
    "fig, ax = plt.subplots(figsize=(2, 1.5), dpi=40)\nax.plot([0, 1], [1, 0]);",
    "import torch\ng = torch.Generator().manual_seed(0)\n"
    "print(torch.get_num_threads(), torch.randn(3, generator=g))",
    "import warnings\nwarnings.warn('probe')\nsys.stderr.write('to stderr\\n')\n{'a': 1}",
    "raise ValueError('probe error')",
]


def _notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src, id=f"cell-{i}") for i, src in enumerate(CELLS)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _run(kernel: str, cwd: Path) -> str:
    nb = _notebook()
    # streams merged as the build merges them (infomech_site.execute_notebook): ipykernel sends a
    # stream in pieces on a timer, so on a busy machine one print() can arrive as two outputs
    NotebookClient(nb, kernel_name=kernel, timeout=120, allow_errors=True, coalesce_streams=True,
                   resources={"metadata": {"path": str(cwd)}}).execute()
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    # warnings name the cell's temporary file after the kernel's process id
    return re.sub(r"ipykernel_\d+", "ipykernel_PID", nbformat.writes(nb))


def _has_torch(pid: int) -> bool | None:
    """Whether process ``pid`` has loaded torch's library (None without /proc)."""
    maps = Path(f"/proc/{pid}/maps")
    return "libtorch" in maps.read_text(errors="replace") if maps.exists() else None


@pytest.fixture(scope="module")
def server():
    """The server as the book build starts it (infomech_site.start_warm_kernels)."""
    saved = dict(os.environ)
    os.environ.update(INFOMECH_WARM_PROBE="probe value", OMP_NUM_THREADS="1")
    proc, name = infomech_site.start_warm_kernels(2)
    # ready once it listens, before its imports (the build reads pages meanwhile): torch, seconds
    # to import, is not loaded yet (test_the_server_was_ready_before_its_imports)
    proc.infomech_torch_at_start = _has_torch(proc.pid)
    assert name == warm_kernel.KERNEL_NAME
    try:
        yield proc
    finally:
        folder = proc.infomech_folder
        counts = infomech_site.stop_warm_kernels(proc)
        os.environ.clear()
        os.environ.update(saved)
        assert counts["warm"] >= 3 and counts["refused"] >= 1, counts
        assert not folder.exists()  # its temporary socket and kernelspec folder is removed


def test_one_chapter_or_warm_kernels_off_means_cold_kernels(monkeypatch):
    assert infomech_site.start_warm_kernels(1) == (None, None)  # the server would cost more
    monkeypatch.setenv("INFOMECH_WARM_KERNELS", "0")
    assert infomech_site.start_warm_kernels(6) == (None, None)
    monkeypatch.setenv("INFOMECH_WARM_KERNELS", "maybe")
    with pytest.raises(Exception, match="INFOMECH_WARM_KERNELS must be 0 or 1"):
        infomech_site.start_warm_kernels(6)


def _build_executes(tmp_path: Path, source: str, kernel: str = warm_kernel.KERNEL_NAME) -> list:
    """The outputs of a one-cell notebook ``tmp_path/chapter.ipynb`` holding ``source``, executed as
    the book build executes a chapter (``infomech_site.execute_notebook``) in ``kernel``."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    _, text, _, error = infomech_site.execute_notebook(str(path), 60, False, kernel)
    assert error is None
    return nbformat.reads(text, as_version=4).cells[0].outputs


def test_the_build_executes_a_chapter_in_a_warm_kernel(server, tmp_path):
    outputs = _build_executes(tmp_path, "import os\nprint(os.getppid(), os.getcwd())")
    ppid, cwd = outputs[0]["text"].split()
    assert int(ppid) == server.pid and cwd == str(tmp_path)  # forked by the server, in its folder


def test_the_build_merges_a_stream_that_arrives_in_pieces(server, tmp_path):
    """One line written in two pieces, with ipykernel's flush between them, is one output in the
    executed notebook (on a busy machine the timer alone splits a print() this way)."""
    outputs = _build_executes(
        tmp_path, "import sys, time\nsys.stdout.write('first half, '); sys.stdout.flush(); "
        "time.sleep(0.3)\nprint('second half')")
    assert [(o["output_type"], o["name"], o["text"]) for o in outputs] == \
        [("stream", "stdout", "first half, second half\n")]


@pytest.mark.parametrize("kernel", ["python3", warm_kernel.KERNEL_NAME])
def test_the_build_connects_its_kernels_over_private_unix_sockets(server, tmp_path, kernel):
    """Not over TCP ports, which another process can take between the manager picking them and the
    kernel binding them (seen on a busy machine: ``Address already in use``, the build failed), and
    not in the notebook's folder: in a folder of the execution's own, removed afterwards."""
    outputs = _build_executes(
        tmp_path, "import json\nfrom ipykernel.connect import get_connection_info\n"
        "info = json.loads(get_connection_info())\nprint(info['transport'], info['ip'])", kernel)
    transport, ip = outputs[0]["text"].split()
    assert transport == "ipc"
    assert os.path.isabs(ip) and Path(ip).parent.name.startswith("infomech-kernel-")
    assert not Path(ip).parent.exists()  # removed with its sockets
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chapter.ipynb"]


def test_a_warm_kernel_gives_what_a_cold_kernel_gives(server, tmp_path):
    cold = _run("python3", tmp_path)
    warm = _run(warm_kernel.KERNEL_NAME, tmp_path)
    assert '"image/png"' in cold and "probe value" in cold and "probe error" in cold
    assert str(tmp_path) in cold and "module://matplotlib_inline.backend_inline" in cold
    assert warm == cold


def test_a_client_with_another_environment_gets_a_cold_kernel(server, tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # read when torch is imported: no fork may serve it
    km, kc, pid = _started(warm_kernel.KERNEL_NAME, tmp_path)
    try:
        assert pid == km.provisioner.process.pid  # the client became a cold ipykernel itself
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def _started(kernel: str, tmp_path: Path):
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name=kernel)
    km.start_kernel(cwd=str(tmp_path))
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=60)
    reply = kc.execute_interactive("import os; print(os.getpid())", timeout=60,
                                   output_hook=lambda msg: _started.out.append(msg))
    assert reply["content"]["status"] == "ok"
    text = "".join(m["content"].get("text", "") for m in _started.out if m["msg_type"] == "stream")
    _started.out.clear()
    return km, kc, int(text.split()[-1])


_started.out = []


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (exited, not yet reaped by the server) counts as gone
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False


def _wait_gone(pid: int, seconds: float = 15.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_the_kernel_is_forked_and_dies_with_its_client(server, tmp_path):
    km, kc, pid = _started(warm_kernel.KERNEL_NAME, tmp_path)
    try:
        assert pid != km.provisioner.process.pid  # forked by the server, not the client itself
        # a session of its own, as Jupyter starts kernels (its own CPU share, no terminal ^C)
        assert os.getsid(pid) == pid
        assert _alive(pid)
        os.kill(km.provisioner.process.pid, signal.SIGKILL)  # what Jupyter does to a hung kernel
        assert _wait_gone(pid), "the kernel outlived its client"
    finally:
        kc.stop_channels()
        km.cleanup_resources()


def test_interrupt_and_shutdown_reach_the_kernel(server, tmp_path):
    km, kc, pid = _started(warm_kernel.KERNEL_NAME, tmp_path)
    try:
        msg_id = kc.execute("import time; time.sleep(60)")
        time.sleep(0.5)
        km.interrupt_kernel()
        reply = kc.get_shell_msg(timeout=20)
        assert reply["parent_header"]["msg_id"] == msg_id
        assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
        km.shutdown_kernel(now=False)
        assert _wait_gone(pid)
        assert km.provisioner is None or not km.is_alive()
    finally:
        kc.stop_channels()



def test_the_server_was_ready_before_its_imports_and_forks_kernels_that_have_them(server, tmp_path):
    """start_server returns once the server listens, not after its imports; a kernel asked for
    meanwhile waits in the backlog and is forked after them."""
    if server.infomech_torch_at_start is None:
        pytest.skip("needs /proc (Linux)")
    assert server.infomech_torch_at_start is False
    km, kc, pid = _started(warm_kernel.KERNEL_NAME, tmp_path)
    try:
        assert _has_torch(server.pid) and _has_torch(pid)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
