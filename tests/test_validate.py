"""infomech.validate and infomech.activations: one validator per parameter, errors name it."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from infomech import activations, validate
from infomech.validate import ParameterError, ParameterTypeError


def test_parameter_error_names_the_parameter_and_is_a_value_error():
    exc = ParameterError("kernel_size", "must be >= 2; got 1")
    assert str(exc) == "kernel_size must be >= 2; got 1"
    assert exc.parameter == "kernel_size" and exc.problem == "must be >= 2; got 1"
    assert isinstance(exc, ValueError)
    assert isinstance(ParameterTypeError("n", "x"), TypeError)
    assert isinstance(ParameterTypeError("n", "x"), ValueError)


@pytest.mark.parametrize(("call", "exc", "match"), [
    (lambda: validate.integer(1.5, "steps"), TypeError, r"steps must be an integer; got 1.5"),
    (lambda: validate.integer(True, "steps"), TypeError, r"steps must be an integer"),
    (lambda: validate.integer("3", "steps"), TypeError, r"steps must be an integer"),
    (lambda: validate.integer(float("inf"), "steps"), TypeError, r"steps must be an integer"),
    (lambda: validate.kernel_size(1, minimum=2), ValueError, r"kernel_size must be >= 2; got 1"),
    (lambda: validate.kernel_size(4, odd=True), ValueError, r"kernel_size must be odd; got 4"),
    (lambda: validate.steps(-1), ValueError, r"steps must be >= 0; got -1"),
    (lambda: validate.steps(10**20), ValueError, r"steps must be <= 1000000"),
    (lambda: validate.times([]), ValueError, r"times must hold at least one"),
    (lambda: validate.times([3, 0]), ValueError, r"times must be >= 1; got 0"),
    (lambda: validate.size(4, odd=True), ValueError, r"size must be odd so that"),
    (lambda: validate.size(10**6), ValueError, r"size must be <= 20001"),
    (lambda: validate.beta2([]), ValueError, r"beta2 must hold at least one value"),
    (lambda: validate.beta2([0.5, np.nan]), ValueError, r"beta2 must be finite"),
    (lambda: validate.beta2(1.5), ValueError, r"beta2 must lie in \[0, 1\]"),
    (lambda: validate.beta2("a"), TypeError, r"beta2 must be numbers"),
    (lambda: validate.finite_number(np.inf, "theta"), ValueError, r"theta must be a finite number"),
    (lambda: validate.odd_basis((1, 1), 3), ValueError, r"odd_basis \(1,1\) is a point-even basis"),
    (lambda: validate.odd_basis((0, 5), 3), ValueError, r"odd_basis \(0,5\) is out of range"),
    (lambda: validate.odd_basis("x", 3), TypeError, r"odd_basis must be two integers"),
    (lambda: validate.real_array(np.ones(3) * 1j), TypeError, r"kernel must be real"),
    (lambda: validate.real_array(torch.ones(3, dtype=torch.complex64)), TypeError, r"kernel must be real"),
    (lambda: validate.real_array(np.array(["a"])), TypeError, r"kernel must be an array of numbers"),
    (lambda: validate.kernels(np.ones(3)), ValueError, r"kernel must be an n x n kernel or a stack"),
    (lambda: validate.kernels(np.ones((3, 4))), ValueError, r"kernel must be square; got 3 x 4"),
    (lambda: validate.kernels(np.ones((0, 3, 3))), ValueError, r"kernel is empty"),
    (lambda: validate.kernels(np.full((3, 3), np.inf)), ValueError, r"kernel contains NaN or Inf"),
    (lambda: validate.kernels(np.stack([np.ones((3, 3)), np.zeros((3, 3))])), ValueError,
     r"kernel number 1 is all zeros"),
    (lambda: validate.image(np.ones((2, 2, 2))), ValueError, r"image must be a 2-D"),
    (lambda: validate.image(np.ones((0, 4))), ValueError, r"image is empty"),
    (lambda: validate.image(np.zeros((4, 4))), ValueError, r"image is all zeros"),
    (lambda: validate.image(np.full((4, 4), np.nan)), ValueError, r"image contains NaN"),
    (lambda: activations.activation("softplus"), ValueError, r"activation must be one of relu, none, abs"),
    (lambda: activations.activation("tanh:2"), ValueError, r"activation 'tanh' takes no parameter"),
    (lambda: activations.activation("leaky_relu:-1"), ValueError, r"leaky_relu slope must lie in \[0, 1\]"),
    (lambda: activations.activation("leaky_relu:nan"), ValueError, r"leaky_relu slope must lie in"),
    (lambda: activations.activation(3), ValueError, r"activation must be a string"),
])
def test_validators_refuse(call, exc, match):
    with pytest.raises(exc, match=match) as info:
        call()
    assert isinstance(info.value, ParameterError)


def test_validators_return_canonical_values():
    assert validate.integer(np.int64(3), "n") == 3 and validate.integer(3.0, "n") == 3
    assert validate.times([5, 1, 5]) == [1, 5]
    assert validate.odd_basis(["1", "2"], 3) == (1, 2)
    b = validate.beta2([0, 0.5, 1])
    assert b.dtype == np.float64 and b.tolist() == [0, 0.5, 1]
    assert validate.real_array(torch.ones(2, dtype=torch.int32)).dtype == torch.float64
    assert validate.real_array(torch.ones(2, dtype=torch.float16)).dtype == torch.float32
    assert validate.real_array(torch.ones(2, dtype=torch.float32)).dtype == torch.float32
    assert validate.real_array([[1, 2], [3, 4]]).dtype == np.float64
    k = validate.kernels(np.eye(3, dtype=np.int8))
    assert k.shape == (1, 3, 3) and k.dtype == np.float64
    assert validate.image(np.eye(3, dtype=bool)).dtype == np.float64


T = torch.tensor([-2.0, -0.5, 0.0, 0.5, 2.0], dtype=torch.float64)


@pytest.mark.parametrize(("spec", "want"), [
    ("relu", torch.relu(T)),
    ("none", T),
    ("abs", T.abs()),
    ("leaky_relu", torch.nn.functional.leaky_relu(T, 0.01)),
    ("leaky_relu:0.25", torch.where(T > 0, T, 0.25 * T)),
    ("gelu", T * 0.5 * (1 + torch.erf(T / 2**0.5))),
    ("tanh", torch.tanh(T)),
    ("elu", torch.where(T > 0, T, torch.expm1(T))),
])
def test_activation_registry_values(spec, want):
    a = activations.parse(spec)
    torch.testing.assert_close(a(T), want, rtol=1e-12, atol=1e-12)
    assert a.fn(torch.zeros(1, dtype=torch.float64)).item() == 0  # light cone stays exact


def test_activation_specs_are_canonical():
    assert activations.parse("leaky_relu").spec == "leaky_relu:0.01"
    assert activations.parse(" Leaky_ReLU:0.5 ").spec == "leaky_relu:0.5"
    assert activations.parse("leaky_relu:0.5").parameter == 0.5
    assert set(activations.NAMES) == {"relu", "none", "abs", "leaky_relu", "gelu", "tanh", "elu"}
    f = activations.resolve(torch.sigmoid)
    assert f is torch.sigmoid
    assert activations.resolve("abs")(torch.tensor([-1.0])).item() == 1.0
