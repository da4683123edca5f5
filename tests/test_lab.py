"""Python side of the propagation lab (infomech.lab) and its Sphinx extension's helpers.

The browser side is checked against these functions in tests/browser/test_lab.py.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from infomech import kernels, lab, patterns, propagation, speedlaw, sweeps
from infomech.dct import named_basis

ROOT = Path(__file__).resolve().parents[1]


def test_lab_kernels_are_the_library_families() -> None:
    np.testing.assert_array_equal(lab.lab_kernel("dct", 3, 0.3), kernels.dct_beta(0.3, 3))
    np.testing.assert_array_equal(lab.lab_kernel("translation", 5, 0.7), kernels.translation_beta(0.7, 5))
    # the steered family: the library's steered gradient at beta^2 = 1, DCT-beta at theta = 0
    np.testing.assert_allclose(lab.lab_kernel("steered", 3, 1.0, 0.4), kernels.steered_gradient(0.4, 3),
                               atol=1e-15)
    np.testing.assert_allclose(lab.lab_kernel("steered", 5, 0.2, 0.0), kernels.dct_beta(0.2, 5), atol=1e-15)
    k = lab.lab_kernel("steered", 3, 0.36, 1.0)
    np.testing.assert_allclose(k, 0.8 * named_basis("Sigma", 3) + 0.6 * kernels.steered_gradient(1.0, 3),
                               atol=1e-15)


@pytest.mark.parametrize("call, message", [
    (lambda: lab.lab_kernel("random", 3), "random and user kernels are passed as arrays"),
    (lambda: lab.lab_kernel("steered", 3, 1.5), "beta2 must lie in [0, 1]"),
    (lambda: lab.lab_activation("gelu"), "unknown lab activation 'gelu'"),
    (lambda: lab.lab_pattern("square"), "unknown lab pattern 'square'"),
    (lambda: lab.lab_schedule(np.ones((2, 3))), "kernel must be square"),
    (lambda: lab.lab_settings_reference(np.ones((3, 3)), times=()), "times must be non-negative"),
    (lambda: lab.as_js("not-a-name", {}), "not a JavaScript identifier"),
])
def test_bad_input_gets_one_clear_line(call, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        call()


def test_schedule_uses_the_alternating_2x2_placement() -> None:
    k = np.array([[1.0, 2.0], [3.0, 4.0]])
    sched = lab.lab_schedule(k)
    assert len(sched) == 2
    np.testing.assert_array_equal(sched[0], kernels.embed(k, 3, (0, 0)))
    np.testing.assert_array_equal(sched[1], kernels.embed(k, 3, (1, 1)))
    k3 = kernels.dct_beta(0.5, 3)
    assert len(lab.lab_schedule(k3)) == 1


def test_leaky_activation_is_the_registry_leaky_relu() -> None:
    import torch

    t = torch.tensor([-2.0, 0.0, 3.0], dtype=torch.float64)
    assert lab.lab_activation("leaky")(t).tolist() == [-2.0 * lab.LEAKY_SLOPE, 0.0, 3.0]
    assert lab.lab_activation("relu") == "relu"


def test_reference_is_propagate() -> None:
    k = kernels.dct_beta(0.7, 3)
    ref = lab.lab_settings_reference(k, "disc", "abs", times=(3, 10))
    tr = propagation.propagate(patterns.make("disc", lab.LAB_SIZE), [k], 10, activation="abs", rescale=True)
    assert ref[10] == (tr.centre[10, 0, 0], tr.centre[10, 0, 1])
    assert ref[3] == (tr.centre[3, 0, 0], tr.centre[3, 0, 1])


def test_reference_follows_the_exact_drift_of_a_nonnegative_kernel() -> None:
    """Independent check: without negative weights ReLU is inactive and mu moves by the drift law."""
    for n, b in ((3, 0.3), (2, 0.4)):
        k = kernels.dct_beta(b, n)
        ref = lab.lab_settings_reference(k, "delta", "relu", times=(10, 50))
        v = speedlaw.exact_speed("dct", np.array([b]), n)["speed"][0]
        assert ref[10][0] == pytest.approx(10 * v, rel=1e-12)
        assert ref[50][0] == pytest.approx(50 * v, rel=1e-12)
        assert abs(ref[50][1]) < 1e-12


def test_curves_are_speed_sweeps() -> None:
    b = np.array([0.0, 0.5, 1.0])
    data = lab.lab_curves(b, configs=(("dct", 3), ("translation", 3)), activations=("relu", "leaky"),
                          times=(5, 10), size=41)
    assert len(data["curves"]) == 2 * 2 * 2
    assert data["library_hash"] == lab.library_hash()
    json.dumps(data, allow_nan=False)
    cv = next(c for c in data["curves"] if c["family"] == "translation" and c["activation"] == "relu"
              and c["t"] == 10)
    sw = sweeps.speed_sweep("translation", 3, b, pattern="delta", size=41, activation="relu", times=[10])
    np.testing.assert_allclose(cv["v_over_c_sq"], sw["v_over_c_sq"], atol=1e-10)
    assert cv["c"] == 1.0 and cv["beta2_square"] == [0.0, 0.5, 1.0]
    # translation-beta is defined by the square split; its point-split odd share is 2/3 of it
    np.testing.assert_allclose(cv["beta2_point"], [0.0, 1 / 3, 2 / 3], atol=1e-10)


def test_natural_image_payload_decodes_bit_for_bit() -> None:
    p = lab.natural_image_payload(31)
    raw = base64.b64decode(p["float64le_base64"])
    img = np.frombuffer(raw, dtype="<f8").reshape(p["height"], p["width"])
    np.testing.assert_array_equal(img, patterns.natural_image(31))
    assert hashlib.sha256(raw).hexdigest() == p["sha256"]


def test_as_js_sets_a_global() -> None:
    text = lab.as_js("INFOMECH_X", {"a": [1, 2.5]})
    assert text.splitlines()[1] == 'window.INFOMECH_X = {"a":[1,2.5]};'
    with pytest.raises(ValueError):
        lab.as_js("INFOMECH_X", {"a": float("nan")})


def _extension():
    path = ROOT / "book" / "_ext" / "infomech_lab.py"
    spec = importlib.util.spec_from_file_location("infomech_lab_ext", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_directive_option_checks() -> None:
    ext = _extension()
    assert ext.LabDirective.option_spec["beta2"]("0.25") == "0.25"
    assert ext.LabDirective.option_spec["steps"]("50") == "50"
    for key, bad in (("beta2", "1.5"), ("beta2", "x"), ("steps", "0"), ("steps", "2.5"), ("family", "gabor")):
        with pytest.raises(ValueError):
            ext.LabDirective.option_spec[key](bad)


def test_build_cache_is_keyed(tmp_path: Path) -> None:
    ext = _extension()
    calls = []

    def make() -> str:
        calls.append(1)
        return "x"

    assert ext._cached(tmp_path, "f.js", "a" * 64, make) == "x"
    assert ext._cached(tmp_path, "f.js", "a" * 64, make) == "x"
    assert len(calls) == 1
    ext._cached(tmp_path, "f.js", "b" * 64, make)
    assert len(calls) == 2 and len(list(tmp_path.glob("*-f.js"))) == 1  # the stale entry is gone


def _app(tmp_path: Path):
    from types import SimpleNamespace

    out = tmp_path / "_build" / "html"
    out.mkdir(parents=True)
    return SimpleNamespace(outdir=str(out), srcdir=str(ROOT), builder=SimpleNamespace(format="html"))


def test_cached_lab_data_starts_no_process_and_is_written_to_the_site(tmp_path: Path) -> None:
    ext = _extension()
    app = _app(tmp_path)
    cache = ext._cache_dir(app)
    cache.mkdir()
    key = lab.library_hash()
    for name in ext.DATA_FILES:
        (cache / f"{key[:20]}-{name}").write_text(f"// cached {name}\n", encoding="utf-8")
    ext._start_data(app, None)
    assert app.infomech_lab_proc is None
    ext._build_finished(app, None)
    site = Path(app.outdir) / "_static" / "lab"
    for name in ext.DATA_FILES:
        assert (site / name).read_text(encoding="utf-8") == f"// cached {name}\n"
    assert (site / "lab.js").is_file()


def test_a_failed_lab_measurement_fails_the_build_with_its_error(tmp_path: Path) -> None:
    from sphinx.errors import ExtensionError

    ext = _extension()
    app = _app(tmp_path)
    ext._cache_dir(app).write_text("not a folder", encoding="utf-8")  # the process cannot write
    ext._start_data(app, None)
    assert app.infomech_lab_proc is not None  # measured in a process of its own, beside the build
    with pytest.raises(ExtensionError, match=r"infomech-lab: measuring the lab's data failed "
                                             r"\(exit 1\): .*Error"):
        ext._build_finished(app, None)
    assert not (Path(app.outdir) / "_static" / "lab" / "lab-curves.js").exists()
