"""infomech.inputs: a user's kernels (.npy, .txt, inline) and images (PNG, JPEG, .npy)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from infomech import inputs
from infomech.validate import ParameterError

K = np.array([[0, 1, 0], [0, 1, 1], [0, 0, 0]], float)


# --- kernels ---------------------------------------------------------------------------------

def test_inline_kernel_and_stack():
    np.testing.assert_array_equal(inputs.read_kernels("[[0,1,0],[0,1,1],[0,0,0]]"), K[None])
    two = inputs.read_kernels(" [[[1,0],[0,0]], [[0,.5],[-1e-3,0]]] ")
    assert two.shape == (2, 2, 2) and two[1, 1, 0] == -1e-3


def test_npy_kernel_and_stack(tmp_path):
    np.save(tmp_path / "k.npy", K.astype(np.int16))
    out = inputs.read_kernels(tmp_path / "k.npy")
    assert out.dtype == np.float64 and out.shape == (1, 3, 3)
    np.testing.assert_array_equal(out[0], K)
    np.save(tmp_path / "s.npy", np.stack([K, 2 * K, 3 * K]))
    assert inputs.read_kernels(str(tmp_path / "s.npy")).shape == (3, 3, 3)


def test_text_kernels_spaces_commas_comments_blank_line_stacks(tmp_path):
    (tmp_path / "k.txt").write_text("# my kernel\n0 1 0\n0,1,1\n0 0 0  # last row\n\n\n1 0 0\n0 1 0\n0 0 1\n")
    out = inputs.read_kernels(tmp_path / "k.txt")
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out[0], K)
    np.testing.assert_array_equal(out[1], np.eye(3))
    (tmp_path / "k.csv").write_text("0,1,0\n0,1,1\n0,0,0\n")
    np.testing.assert_array_equal(inputs.read_kernels(tmp_path / "k.csv")[0], K)


def test_kernel_stack_labels_and_sizes(tmp_path):
    np.save(tmp_path / "s.npy", np.stack([K, K]))
    stack, labels = inputs.kernel_stack(["[[0,1,0],[0,1,1],[0,0,0]]", str(tmp_path / "s.npy")])
    assert stack.shape == (3, 3, 3)
    assert labels == ["[[0,1,0],[0,1,1],[0,0,0]]", f"{tmp_path / 's.npy'}[0]", f"{tmp_path / 's.npy'}[1]"]
    with pytest.raises(ParameterError, match=r"kernel kernels of different sizes \(2x2, 3x3\)"):
        inputs.kernel_stack(["[[1,0],[0,0]]", "[[0,1,0],[0,1,1],[0,0,0]]"])
    with pytest.raises(ParameterError, match="no kernel given"):
        inputs.kernel_stack([])


@pytest.mark.parametrize(("make", "match"), [
    (lambda d: "[[0,1,0],[0,1", "cannot parse the inline kernel"),
    (lambda d: "[[1,2],[3]]", "rows of different lengths"),
    (lambda d: "[['a','b'],['c','d']]", "must hold numbers only"),
    (lambda d: "[os.system('true')]", "cannot parse"),
    (lambda d: "[[1+2j, 0], [0, 0]]", "must be real"),
    (lambda d: str(d / "absent.npy"), "does not exist"),
    (lambda d: str(d), "is a directory"),
    (lambda d: "nofile", "neither a file nor an inline kernel"),
    (lambda d: str(d / "k.mat"), "unsupported type '.mat'"),
])
def test_bad_kernel_sources(tmp_path, make, match):
    (tmp_path / "k.mat").write_text("x")
    with pytest.raises(ParameterError, match=match) as info:
        inputs.read_kernels(make(tmp_path))
    assert info.value.parameter == "kernel"


@pytest.mark.parametrize(("name", "write", "match"), [
    ("empty.npy", lambda p: p.write_bytes(b""), "is empty"),
    ("bad.npy", lambda p: p.write_bytes(b"not numpy at all"), "not a readable .npy"),
    ("obj.npy", lambda p: np.save(p, np.array([None, 1], dtype=object), allow_pickle=True), "pickled"),
    ("c.npy", lambda p: np.save(p, np.ones((3, 3), complex)), "must be real"),
    ("s.npy", lambda p: np.save(p, np.array(["ab"])), "array of numbers"),
    ("v.npy", lambda p: np.save(p, np.ones(9)), "n x n kernel or a stack"),
    ("bin.txt", lambda p: p.write_bytes(b"\xff\xfe\x00"), "not a text file"),
    ("blank.txt", lambda p: p.write_text("# nothing\n\n"), "holds no numbers"),
    ("ragged.txt", lambda p: p.write_text("1 2\n3\n"), "rows of different lengths"),
    ("shapes.txt", lambda p: p.write_text("1 2\n3 4\n\n1 2 3\n4 5 6\n7 8 9\n"), "different shapes"),
    ("word.txt", lambda p: p.write_text("1 x\n2 3\n"), "expected numbers"),
    ("zero.txt", lambda p: p.write_text("0 0\n0 0\n"), "all zeros"),
])
def test_bad_kernel_files(tmp_path, name, write, match):
    path = tmp_path / name
    write(path)
    with pytest.raises(ParameterError, match=match) as info:
        inputs.read_kernels(path)
    assert name in str(info.value) or match == "is empty"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
def test_unreadable_kernel_file(tmp_path):
    path = tmp_path / "k.npy"
    np.save(path, K)
    path.chmod(0)
    with pytest.raises(ParameterError, match="permission denied"):
        inputs.read_kernels(path)


# --- images ----------------------------------------------------------------------------------

def test_luminance_uses_bt709_weights():
    rgb = np.zeros((1, 3, 3))
    rgb[0, 0, 0] = rgb[0, 1, 1] = rgb[0, 2, 2] = 1.0
    np.testing.assert_allclose(inputs.luminance(rgb)[0], [0.2126, 0.7152, 0.0722])
    assert sum(inputs.LUMA_BT709) == pytest.approx(1.0)


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_colour_image_files_become_luma(tmp_path, suffix):
    a = np.zeros((8, 12, 3), np.uint8)
    a[:, :4] = [255, 0, 0]
    a[:, 4:8] = [0, 255, 0]
    a[:, 8:] = [0, 0, 255]
    Image.fromarray(a).save(tmp_path / f"c{suffix}", quality=100)
    x = inputs.read_image(tmp_path / f"c{suffix}")
    assert x.shape == (8, 12) and x.dtype == np.float64
    tol = 1e-12 if suffix == ".png" else 0.03  # JPEG is lossy
    np.testing.assert_allclose(x[4, [1, 5, 10]], [0.2126, 0.7152, 0.0722], atol=tol)


def test_grey_16bit_palette_and_alpha_pngs(tmp_path):
    g = (np.arange(16, dtype=np.uint8).reshape(4, 4) * 16)
    Image.fromarray(g, "L").save(tmp_path / "g.png")
    np.testing.assert_allclose(inputs.read_image(tmp_path / "g.png"), g / 255)
    w = (np.arange(16, dtype=np.uint16).reshape(4, 4) * 4000)
    Image.fromarray(w).save(tmp_path / "w.png")
    np.testing.assert_allclose(inputs.read_image(tmp_path / "w.png"), w / 65535)
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 1] = 255
    rgba[..., 3] = 7  # alpha is ignored
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    np.testing.assert_allclose(inputs.read_image(tmp_path / "a.png"), 0.7152)
    Image.fromarray(rgba[..., :3], "RGB").convert("P").save(tmp_path / "p.png")
    np.testing.assert_allclose(inputs.read_image(tmp_path / "p.png"), 0.7152)


def test_npy_images(tmp_path):
    x = np.random.default_rng(0).random((5, 7))
    np.save(tmp_path / "x.npy", x)
    np.testing.assert_array_equal(inputs.read_image(tmp_path / "x.npy"), x)  # floats as they are
    np.save(tmp_path / "c.npy", np.stack([x, x, x], -1))
    np.testing.assert_allclose(inputs.read_image(tmp_path / "c.npy"), x)  # weights sum to 1
    np.save(tmp_path / "u.npy", (x * 255).astype(np.uint8))
    assert inputs.read_image(tmp_path / "u.npy").max() <= 1.0


@pytest.mark.parametrize(("name", "write", "match"), [
    ("absent.png", None, "does not exist"),
    ("x.gif", lambda p: p.write_bytes(b"GIF89a"), "unsupported type '.gif'"),
    ("bad.png", lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n broken"), "not a readable PNG"),
    ("bad.jpg", lambda p: p.write_bytes(b"\xff\xd8 broken"), "not a readable JPG"),
    ("empty.png", lambda p: p.write_bytes(b""), "is empty"),
    ("black.png", lambda p: Image.fromarray(np.zeros((4, 4), np.uint8)).save(p), "all zeros"),
    ("nan.npy", lambda p: np.save(p, np.full((3, 3), np.nan)), "NaN"),
    ("cplx.npy", lambda p: np.save(p, np.ones((3, 3), complex)), "must be real"),
    ("vec.npy", lambda p: np.save(p, np.ones(5)), r"\(H, W\) grey"),
    ("five.npy", lambda p: np.save(p, np.ones((3, 3, 5))), r"\(H, W\) grey"),
])
def test_bad_images(tmp_path, name, write, match):
    path = tmp_path / name
    if write is not None:
        write(path)
    with pytest.raises(ParameterError, match=match) as info:
        inputs.read_image(path)
    assert info.value.parameter == "image" and name in str(info.value)
