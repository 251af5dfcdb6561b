"""The Optimizer base: parameters, validation, the loop, schedules, saving and resuming."""

import numpy as np
import pytest

from honed.autograd import Parameter
from honed.optim import GD, Adam, Momentum, Optimizer, RMSprop, inverse_time, manual

from .helpers import least_squares

OPTIMIZERS = [
    (GD, {"lr": 0.05}),
    (Momentum, {"lr": 0.05, "beta": 0.9}),
    (RMSprop, {"lr": 0.01, "beta2": 0.99}),
    (Adam, {"lr": 0.01}),
    (Adam, {"lr": inverse_time(0.01, decay_rate=0.5)}),
    (Momentum, {"lr": manual(0.05, {3: 0.02})}),
]


def _float32_problem():
    init, _, cost = least_squares(dtype=np.float32)
    return init, cost


def _train(opt, params, cost, steps, start=0, steps_per_epoch=4):
    for i in range(start, start + steps):
        if i % steps_per_epoch == 0:
            opt.set_epoch(i // steps_per_epoch)
        opt.minimize(cost(*params))


@pytest.mark.parametrize("cls, kwargs", OPTIMIZERS, ids=lambda x: getattr(x, "__name__", ""))
def test_save_after_10_load_and_continue_is_bit_identical(cls, kwargs):
    init, cost = _float32_problem()
    straight = [Parameter(v.copy()) for v in init]
    opt = cls(straight, **kwargs)
    _train(opt, straight, cost, 20)

    first = [Parameter(v.copy()) for v in init]
    opt1 = cls(first, **kwargs)
    _train(opt1, first, cost, 10)
    saved = opt1.state_dict()
    # Fresh parameters with the same values, a fresh optimizer with other settings.
    resumed = [Parameter(p.data.copy()) for p in first]
    opt2 = cls(resumed, lr=0.5)
    opt2.load_state_dict(saved)
    assert opt2.t == 10 and opt2.epoch == opt1.epoch and opt2.lr == opt1.lr
    _train(opt2, resumed, cost, 10, start=10)

    for a, b in zip(straight, resumed):
        assert a.data.dtype == np.float32
        assert np.array_equal(a.data, b.data)


def test_state_dict_is_a_copy_and_names_everything():
    w = Parameter(np.ones(3))
    w.grad = np.ones(3)
    opt = Adam([w], lr=inverse_time(0.1, 1.0), beta1=0.8)
    opt.step()
    sd = opt.state_dict()
    assert sd["optimizer"] == "Adam"
    assert sd["hyperparameters"] == {"beta1": 0.8, "beta2": 0.999, "eps": 1e-8}
    assert sd["schedule"] == {"name": "inverse_time", "lr": 0.1, "decay_rate": 1.0}
    assert sd["lr"] is None and sd["t"] == 1 and sd["epoch"] == 0
    assert set(sd["state"][0]) == {"t", "m", "u"}  # no scratch buffers
    sd["state"][0]["m"][:] = 123.0
    assert not np.any(opt.state[0]["m"] == 123.0)


def test_load_refuses_mismatched_parameters():
    a, b = Parameter(np.zeros((2, 3))), Parameter(np.zeros(3))
    for p in (a, b):
        p.grad = np.ones_like(p.data)
    opt = Adam([a, b])
    opt.step()
    sd = opt.state_dict()
    with pytest.raises(ValueError, match=r"state for 2 parameters, this optimizer has 1"):
        Adam([a]).load_state_dict(sd)
    other = [Parameter(np.zeros((3, 2))), Parameter(np.zeros(3))]
    with pytest.raises(ValueError, match=r"parameter 0 .*\(2, 3\).*parameter 0 has shape \(3, 2\)"):
        Adam(other).load_state_dict(sd)
    with pytest.raises(ValueError, match="is for optimizer 'Adam', not RMSprop"):
        RMSprop([a, b]).load_state_dict(sd)


def test_zero_grad_step_skips_params_without_grad_and_minimize():
    a, b = Parameter(np.array([1.0, 2.0])), Parameter(np.array([3.0]))
    opt = GD([a, b], lr=0.5)
    a.grad = np.array([1.0, 1.0])
    opt.step()  # b has no gradient: left alone
    np.testing.assert_array_equal(a.data, [0.5, 1.5])
    np.testing.assert_array_equal(b.data, [3.0])
    assert opt.state[1] is None and opt.t == 1
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    # minimize: zero_grad, backward, step -- no accumulation across calls.
    w = Parameter(np.array(1.0))
    opt = GD([w], lr=0.1)
    opt.minimize(w * 2.0)
    opt.minimize(w * 2.0)
    np.testing.assert_allclose(w.data, 1.0 - 0.2 - 0.2)


def test_accepts_a_module_with_parameters():
    class Tiny:
        def __init__(self):
            self.w = Parameter(np.zeros(2))

        def parameters(self):
            return iter([self.w])

    model = Tiny()
    assert Adam(model).params == [model.w]


def test_bad_params():
    with pytest.raises(ValueError, match="params is empty"):
        GD([])
    with pytest.raises(TypeError, match="wrap it in a list"):
        GD(Parameter(1.0))
    with pytest.raises(TypeError, match=r"params\[1\] is a ndarray, not a Parameter"):
        GD([Parameter(1.0), np.zeros(2)])
    w = Parameter(1.0)
    with pytest.raises(ValueError, match=r"params\[1\] appears twice"):
        GD([w, w])


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda p: GD(p, lr=-1), "lr must be > 0, got -1"),
        (lambda p: GD(p, lr=0), "lr must be > 0, got 0"),
        (lambda p: GD(p, lr=float("nan")), "lr must be a finite number, got nan"),
        (lambda p: Momentum(p, beta=1.0), r"beta must be in \[0, 1\), got 1$"),
        (lambda p: Momentum(p, beta=-0.1), r"beta must be in \[0, 1\), got -0.1"),
        (lambda p: RMSprop(p, beta2=1), r"beta2 must be in \[0, 1\), got 1"),
        (lambda p: RMSprop(p, eps=0), "eps must be > 0, got 0"),
        (lambda p: Adam(p, beta1=1.5), r"beta1 must be in \[0, 1\), got 1.5"),
        (lambda p: Adam(p, beta2=-1), r"beta2 must be in \[0, 1\), got -1"),
        (lambda p: Adam(p, eps=-1e-8), "eps must be > 0, got -1e-08"),
    ],
)
def test_hyperparameters_are_validated(make, message):
    with pytest.raises(ValueError, match=message):
        make([Parameter(1.0)])


def test_type_errors_name_the_argument():
    with pytest.raises(TypeError, match="lr must be a number"):
        GD([Parameter(1.0)], lr="0.1")


def test_schedule_drives_the_rate():
    w = Parameter(np.array(0.0))
    opt = GD([w], lr=inverse_time(0.2, decay_rate=1.0))
    rates = []
    for epoch in range(4):
        opt.set_epoch(epoch)
        rates.append(opt.lr)
        w.grad = np.array(-1.0)
        opt.step()
    assert rates == [0.2, 0.1, 0.2 / 3, 0.05]
    # Each step moved w by exactly the scheduled rate (gradient -1).
    np.testing.assert_allclose(w.data, sum(rates), rtol=1e-15)


def test_bad_schedule_output_is_a_clear_error():
    w = Parameter(1.0)
    opt = GD([w], lr=lambda epoch: 0.1 if epoch < 2 else -0.1)
    opt.set_epoch(1)
    assert opt.lr == 0.1
    opt.set_epoch(2)
    w.grad = np.ones_like(w.data)
    with pytest.raises(ValueError, match=r"gave lr = -0.1 at epoch 2; .* finite and > 0"):
        opt.step()
    with pytest.raises(ValueError, match="not a number"):
        GD([w], lr=lambda epoch: "fast")
    with pytest.raises(ValueError, match="finite"):
        GD([w], lr=lambda epoch: float("inf"))
    with pytest.raises(ValueError, match="epoch must be an integer >= 0, got -1"):
        opt.set_epoch(-1)


def test_manual_table_extended_mid_run_takes_effect_from_that_epoch():
    w = Parameter(np.array(0.0))
    schedule = manual(0.1)
    opt = GD([w], lr=schedule)
    seen = []
    for epoch in range(6):
        opt.set_epoch(epoch)
        if epoch == 2:
            schedule.set(4, 0.01)  # the user decides at epoch 2 to drop the rate at epoch 4
        if epoch == 3:
            opt.set_lr(0.05)  # a "panda" change: from this epoch on
        seen.append(opt.lr)
    assert seen == [0.1, 0.1, 0.1, 0.05, 0.01, 0.01]
    assert schedule.table == {3: 0.05, 4: 0.01}


def test_set_lr_overrides_a_float_or_a_schedule():
    w = Parameter(1.0)
    opt = Adam([w], lr=inverse_time(0.1, 1.0))
    opt.set_epoch(1)
    assert opt.lr == 0.05
    opt.set_lr(0.003)
    assert opt.lr == 0.003 and opt.schedule is None
    opt.set_epoch(5)
    assert opt.lr == 0.003
    with pytest.raises(ValueError, match="lr must be > 0, got 0"):
        opt.set_lr(0)
    opt.set_lr(inverse_time(1.0, 0.0))
    assert opt.lr == 1.0
    assert opt.state_dict()["schedule"]["name"] == "inverse_time"


def test_base_class_needs_update():
    w = Parameter(1.0)
    w.grad = np.ones_like(w.data)
    with pytest.raises(NotImplementedError):
        Optimizer([w], lr=0.1).step()
    assert repr(GD([w], lr=0.1)) == "GD(<1 params>, lr=0.1)"
