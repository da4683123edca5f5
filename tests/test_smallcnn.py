"""Tests of infomech.smallcnn: reproducible float64 training, the cache and its failure modes."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

pytest.importorskip("sklearn")

from infomech import smallcnn  # noqa: E402

#: Two-epoch fingerprint (sum, sum of squares of every parameter) recorded on an AVX2 CPU and checked
#: identical (to 7e-15) under the SSE4 emulation with 2 threads; retraining anywhere must reproduce
#: it to REPRODUCIBLE_ATOL (1e-9), which is 1e6 times the measured spread and 1e6 times finer than
#: the three decimals the book publishes. float32 training with torch's own init missed this by 1e-3.
FINGERPRINT_2_EPOCHS = {
    "conv1.weight": (7.787814355239908, 7.236525328362783),
    "conv1.bias": (-0.004096145900309434, 0.8417096715754685),
    "conv2.weight": (2.704070551702551, 18.863904523488493),
    "conv2.bias": (0.041610664229483854, 0.1098352351135354),
    "conv3.weight": (4.017621509342346, 13.187976933208908),
    "conv3.bias": (-1.181736183702248, 1.0984092176301865),
    "pw.weight": (0.41431152877625665, 23.810343063870896),
    "pw.bias": (-0.44827413973976193, 0.6773111917121434),
    "fc.weight": (-3.635847086171233, 4.793516011802767),
    "fc.bias": (-0.11212529800453891, 0.0571963119238197),
}
TEST_ACC_2_EPOCHS = 95 / 297

SHORT = smallcnn.Settings(epochs=2)


@pytest.fixture(scope="module")
def short_model() -> tuple[smallcnn.SmallCNN, dict[str, float]]:
    return smallcnn.train(SHORT)


def test_training_reproduces_the_recorded_fingerprint(short_model) -> None:
    model, metrics = short_model
    sd = model.state_dict()
    assert set(sd) == set(FINGERPRINT_2_EPOCHS)
    for name, (s, s2) in FINGERPRINT_2_EPOCHS.items():
        w = sd[name]
        assert w.dtype == torch.float64
        assert float(w.sum()) == pytest.approx(s, abs=smallcnn.REPRODUCIBLE_ATOL), name
        assert float((w * w).sum()) == pytest.approx(s2, abs=smallcnn.REPRODUCIBLE_ATOL), name
    assert metrics["test_acc"] == pytest.approx(TEST_ACC_2_EPOCHS, abs=1e-12)


def test_training_is_deterministic_and_thread_independent(short_model) -> None:
    model, metrics = short_model
    old = torch.get_num_threads()
    try:
        torch.set_num_threads(2)   # train() forces one thread internally and restores this one
        again, metrics2 = smallcnn.train(SHORT)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(old)
    assert metrics == metrics2
    for a, b in zip(model.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_initialisation_is_pytorch_default_distribution() -> None:
    model = smallcnn.initial()
    for mod in (model.conv1, model.conv2, model.conv3, model.pw, model.fc):
        bound = 1 / np.sqrt(mod.weight[0].numel())
        for p in (mod.weight, mod.bias):
            assert p.dtype == torch.float64
            assert float(p.abs().max()) <= bound
            assert float(p.abs().max()) > 0.8 * bound  # actually spread over the interval
    # the same seed gives the same network, another seed another one
    assert torch.equal(smallcnn.initial().conv1.weight, model.conv1.weight)
    other = smallcnn.initial(smallcnn.Settings(seed=1))
    assert not torch.equal(other.conv1.weight, model.conv1.weight)


def test_module_weights_kinds() -> None:
    kinds = [k for _, _, k in smallcnn.module_weights(smallcnn.initial())]
    assert kinds == ["full", "full", "depthwise", "full"]


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError, match="dtype"):
        smallcnn.Settings(dtype="float16")
    with pytest.raises(ValueError, match="epochs"):
        smallcnn.Settings(epochs=0)
    with pytest.raises(ValueError, match="lr"):
        smallcnn.Settings(lr=0.0)


def test_cache_lives_in_the_build_folder_by_default(monkeypatch) -> None:
    monkeypatch.delenv("INFOMECH_CACHE_DIR", raising=False)
    root = Path(smallcnn.__file__).resolve().parents[1]
    assert (root / "pyproject.toml").is_file()
    assert smallcnn.cache_dir() == root / "_build" / "cache"
    monkeypatch.setenv("INFOMECH_CACHE_DIR", "/some/where")
    assert smallcnn.cache_dir() == Path("/some/where")


def test_cache_key_covers_settings_and_code(monkeypatch) -> None:
    k = smallcnn.cache_key(SHORT)
    assert k == smallcnn.cache_key(smallcnn.Settings(epochs=2))
    assert k != smallcnn.cache_key(smallcnn.Settings(epochs=3))
    assert k != smallcnn.cache_key(smallcnn.Settings(epochs=2, dtype="float32"))
    monkeypatch.setattr(smallcnn, "code_digest", lambda: "0" * 16)
    assert smallcnn.cache_key(SHORT) != k


def test_cache_round_trip(tmp_path, monkeypatch, short_model) -> None:
    monkeypatch.setenv("INFOMECH_CACHE_DIR", str(tmp_path))
    calls = []
    monkeypatch.setattr(smallcnn, "train", lambda s: calls.append(s) or short_model)
    m1 = smallcnn.trained(SHORT)
    assert smallcnn.cache_path(SHORT).is_file() and len(calls) == 1
    m2 = smallcnn.trained(SHORT)  # from the cache: no second training
    assert len(calls) == 1
    assert smallcnn.metrics(m2) == smallcnn.metrics(m1)
    for a, b in zip(m1.state_dict().values(), m2.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    # a broken cache file is retrained, not an error
    smallcnn.cache_path(SHORT).write_bytes(b"garbage")
    smallcnn.trained(SHORT)
    assert len(calls) == 2


def test_unwritable_cache_warns_once_and_keeps_the_model(tmp_path, monkeypatch, short_model) -> None:
    blocker = tmp_path / "a-file"           # a cache "folder" below a regular file cannot be created
    blocker.write_text("not a folder")      # (unlike chmod, this also holds when tests run as root)
    monkeypatch.setenv("INFOMECH_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.setattr(smallcnn, "_warned_unwritable", set())
    monkeypatch.setattr(smallcnn, "train", lambda s: short_model)
    with pytest.warns(RuntimeWarning, match="cannot cache the trained SmallCNN"):
        model = smallcnn.trained(SHORT)
    assert torch.equal(model.conv1.weight, short_model[0].conv1.weight)
    assert smallcnn.metrics(model) == short_model[1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")      # the second time: silent
        smallcnn.trained(SHORT)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]  # no partial file left behind


def test_the_default_model_ships_with_the_package(monkeypatch, tmp_path) -> None:
    """The book's model ships, under the key of the current code, settings and pins (after a change
    to smallcnn.py: python tools/ship_smallcnn.py); it is used without training or a cache."""
    path = smallcnn.shipped_path()
    assert path.is_file(), f"no shipped SmallCNN {path.name}: run python tools/ship_smallcnn.py"
    assert sorted(p.name for p in smallcnn.SHIPPED_DIR.glob("smallcnn-*.pt")) == [path.name], \
        "stale shipped models next to the current one"
    monkeypatch.setenv("INFOMECH_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("INFOMECH_RETRAIN", raising=False)
    monkeypatch.setattr(smallcnn, "train", lambda s: pytest.fail("trained although a model ships"))
    model = smallcnn.trained()
    assert smallcnn.metrics(model)["test_acc"] == pytest.approx(288 / 297, abs=1e-12)
    assert list(tmp_path.iterdir()) == []          # nothing written to the cache


def test_retrain_ignores_the_shipped_and_cached_models(monkeypatch, tmp_path, short_model) -> None:
    monkeypatch.setenv("INFOMECH_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(smallcnn, "SHIPPED_DIR", tmp_path / "shipped")
    calls = []
    monkeypatch.setattr(smallcnn, "train", lambda s: calls.append(s) or short_model)
    smallcnn.save_shipped(short_model[0], SHORT)
    smallcnn.trained(SHORT)
    assert calls == []                              # the shipped model is used
    monkeypatch.setattr(smallcnn, "_retrained", {})
    for value in ("1", "yes"):
        monkeypatch.setenv("INFOMECH_RETRAIN", value)
        smallcnn._retrained.clear()
        smallcnn.trained(SHORT)
    assert len(calls) == 2 and smallcnn.cache_path(SHORT).is_file()  # trained, and cached
    again = smallcnn.trained(SHORT)                 # the same process: trained once, not per call
    assert len(calls) == 2
    for a, b in zip(again.state_dict().values(), short_model[0].state_dict().values(), strict=True):
        assert torch.equal(a, b)
    monkeypatch.setenv("INFOMECH_RETRAIN", "0")
    smallcnn.trained(SHORT)
    assert len(calls) == 2


def retrained_problems(shipped: Path, retrained: Path) -> list[str]:
    """How the retrained SmallCNN file differs from the shipped one (empty: bit-identical)."""
    if not retrained.is_file():
        return [f"no retrained model at {retrained} (make nbval-avx2 trains it)"]
    a = torch.load(shipped, map_location="cpu", weights_only=True)
    b = torch.load(retrained, map_location="cpu", weights_only=True)
    out = [] if a["metrics"] == b["metrics"] else [
        f"metrics: shipped {a['metrics']} != retrained {b['metrics']}"]
    if set(a["state_dict"]) != set(b["state_dict"]):
        return out + ["different parameter names"]
    for name, w in a["state_dict"].items():
        if not torch.equal(w, b["state_dict"][name]):
            out.append(f"{name}: max |difference| {float((w - b['state_dict'][name]).abs().max()):.3g}")
    return out


def test_smallcnn_retrained_under_avx2_is_the_shipped_model(tmp_path) -> None:
    """``make nbval-avx2`` (part of ``make test``) retrains the SmallCNN from scratch under the AVX2
    emulation and then runs this test: every weight must equal the shipped model's bit for bit.
    Without a retrained model to check (``INFOMECH_CHECK_RETRAINED`` names its folder) it skips."""
    folder = os.environ.get("INFOMECH_CHECK_RETRAINED")
    if not folder:
        pytest.skip("no retrained SmallCNN to compare (make nbval-avx2 sets INFOMECH_CHECK_RETRAINED)")
    shipped = smallcnn.shipped_path()
    assert shipped.is_file(), f"no shipped SmallCNN {shipped.name}: run python tools/ship_smallcnn.py"
    problems = retrained_problems(shipped, Path(folder) / shipped.name)
    assert not problems, "the retrained SmallCNN is not the shipped one:\n" + "\n".join(problems)
    # negative control: one weight off by one float32 step is reported
    blob = torch.load(shipped, map_location="cpu", weights_only=True)
    w = blob["state_dict"]["conv1.weight"]
    w.view(-1)[0] = torch.nextafter(w.view(-1)[0].float(), torch.tensor(1.0)).double()
    torch.save(blob, tmp_path / "changed.pt")
    changed = retrained_problems(shipped, tmp_path / "changed.pt")
    assert len(changed) == 1 and changed[0].startswith("conv1.weight: max |difference|"), changed
    assert retrained_problems(shipped, tmp_path / "missing.pt")[0].startswith("no retrained model")


def test_initial_needs_no_deterministic_mode_and_keeps_the_global_generator(monkeypatch) -> None:
    # torch.use_deterministic_algorithms imports torch._inductor (~3 s): initial() must not need it
    def refuse(*args, **kwargs):
        raise AssertionError("initial() switched the deterministic mode")

    monkeypatch.setattr(torch, "use_deterministic_algorithms", refuse)
    state = torch.get_rng_state()
    model = smallcnn.initial()
    assert torch.equal(torch.get_rng_state(), state)
    assert model.conv1.weight.dtype == torch.float64


def test_the_ship_tool_trains_under_the_makefiles_avx2_emulation() -> None:
    """``tools/ship_smallcnn.py`` must train on the code path ``make test`` retrains on: its
    ``EMULATE_AVX2`` is the Makefile's (a native AVX-512 or SSE4 run differs in the last bits)."""
    import importlib.util

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("ship_smallcnn", root / "tools" / "ship_smallcnn.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    line = next(line for line in (root / "Makefile").read_text().splitlines()
                if line.startswith("EMULATE_AVX2 :="))
    makefile = dict(item.split("=", 1) for item in line.split(":=", 1)[1].split())
    assert makefile and tool.EMULATE_AVX2 == makefile
