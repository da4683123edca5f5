"""infomech.publish: ledger, figures with provenance, progress bars."""

import json

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from infomech import publish as pub  # noqa: E402


@pytest.fixture()
def book_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("INFOMECH_BOOK_DIR", str(tmp_path))
    monkeypatch.setattr(pub, "_LEDGERS", {})
    return tmp_path


def test_publish_rounds_and_records(book_dir):
    assert pub.publish("demo-x", 0.123456, chapter="demo", digits=3) == 0.123
    assert pub.publish("demo-verdict", "holds", chapter="demo") == "holds"
    data = json.loads((book_dir / "_ledger" / "demo.json").read_text())
    assert data == {"chapter": "demo", "values": {"demo-x": 0.123, "demo-verdict": "holds"}}


def test_save_figure_writes_png_svg_and_provenance(book_dir):
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    pub.save_figure(fig, "demo-fig", chapter="demo", params={"steps": 10}, caption="c")
    out = book_dir / "_static" / "figures"
    assert (out / "demo-fig.png").stat().st_size > 0
    assert b"<svg" in (out / "demo-fig.svg").read_bytes()[:2000]
    prov = json.loads((out / "demo-fig.json").read_text())
    assert prov["params"] == {"steps": 10} and prov["chapter"] == "demo"
    assert prov["code"] == "book/demo.ipynb" and prov["code_url"].endswith("book/demo.ipynb")
    for key in ("git_commit", "infomech_version", "build_date", "caption"):
        assert key in prov
    assert not plt.fignum_exists(fig.number)  # closed after saving (close=True)


def test_save_figure_rejects_bad_names(book_dir):
    fig = plt.figure()
    with pytest.raises(ValueError, match="name"):
        pub.save_figure(fig, "bad name/..", chapter="demo", params={})
    plt.close(fig)


def test_progress_is_quiet_when_asked(monkeypatch):
    monkeypatch.setenv("INFOMECH_QUIET", "1")
    assert not pub.progress_enabled()
    assert list(pub.progress(range(3), desc="x")) == [0, 1, 2]


def test_published_floats_are_stable_to_round_off(tmp_path, monkeypatch):
    from infomech.publish import publish

    monkeypatch.setenv("INFOMECH_BOOK_DIR", str(tmp_path))
    assert publish("t-noise-a", 1.6653345369377348e-16, chapter="t") == 0.0
    assert publish("t-noise-b", 2.220446049250313e-16, chapter="t") == 0.0
    assert str(publish("t-negzero", -0.0, chapter="t")) == "0.0"
    assert publish("t-list", [0.1 + 0.2, -1e-17], chapter="t") == [0.3, 0.0]
    assert publish("t-digits", 0.123456, chapter="t", digits=3) == 0.123
    assert publish("t-int", 7, chapter="t") == 7


def test_rounded_is_numpy_aware_and_has_no_negative_zero():
    import numpy as np

    assert pub.rounded(0.12345) == 0.123 and isinstance(pub.rounded(0.12345), float)
    assert pub.rounded(np.float32(2.0004), 2) == 2.0
    assert str(pub.rounded(-1e-9)) == "0.0"
    arr = pub.rounded([-0.0001, 1.23456, -2.5])
    assert isinstance(arr, np.ndarray)
    assert str(arr) == str(np.array([0.0, 1.235, -2.5]))
    assert "-0." not in str(pub.rounded(np.array([-1e-12, -4e-4])))
    import torch

    assert pub.rounded(torch.tensor([1.23456])).tolist() == [1.235]
