"""MemberOptimizer: member k's weights are the standalone honed.optim optimizer's on the same
gradients, bit for bit; the numba kernel gives the NumPy path's bits; take, copy_member,
state_dict and the hyperparameter changes keep that; bad input is named."""

import numpy as np
import pytest

from honed.autograd import Parameter
from honed.optim import OPTIMIZERS, MemberOptimizer, Optimizer, kernels, population_optimizers
from honed.optim.optimizer import exact_power

#: member shapes: a weight, a bias as stacked by honed.nn ((1, n)), a 3-D array, a scalar
SHAPES = [(5, 3), (1, 3), (2, 3, 4), (1, 1)]

#: every population optimizer, defaults and not, lr's of different sizes
SETTINGS = [
    {"optimizer": "adam", "lr": 0.01},
    {"optimizer": "momentum", "lr": 0.1, "beta": 0.8},
    {"optimizer": "rmsprop", "lr": 0.003, "beta2": 0.9, "eps": 1e-6},
    {"optimizer": "gd", "lr": 0.05},
    {"optimizer": "adam", "lr": 0.002, "beta1": 0.5, "beta2": 0.99, "eps": 1e-4},
    {"optimizer": "Momentum"},  # all defaults (and a name in capitals)
]

KERNELS = ["numpy", pytest.param("numba", marks=pytest.mark.skipif(
    not kernels.available(), reason="numba (the accel extra) is not installed"))]  # fmt: skip


@pytest.fixture(autouse=True)
def compiled_at_any_size(monkeypatch):
    """These populations are tiny: let the kernel run on them (by default it starts at
    COMPILED_FROM numbers) and count its calls."""
    monkeypatch.setattr(MemberOptimizer, "COMPILED_FROM", 0)
    calls = []
    real = kernels.member_update
    monkeypatch.setattr(kernels, "member_update", lambda *a: calls.append(1) or real(*a))
    return calls


def _initial(P, dtype, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((P, *s)).astype(dtype) for s in SHAPES]


def _gradients(P, dtype, steps, seed=1):
    """``steps`` lists of random per-member gradients (some large, some tiny)."""
    rng = np.random.default_rng(seed)
    return [
        [(rng.standard_normal((P, *s)) * 10.0 ** rng.integers(-3, 2)).astype(dtype) for s in SHAPES]
        for _ in range(steps)
    ]


def _members(settings, dtype=np.float64, kernels="numpy", seed=0):
    params = [Parameter(a) for a in _initial(len(settings), dtype, seed)]
    return params, MemberOptimizer(params, settings, kernels=kernels)


def _run(opt, params, grads):
    for step in grads:
        opt.zero_grad()
        for p, g in zip(params, step):
            p.grad = g.copy()
        opt.step()


def _standalone(setting, k, dtype, grads, seed=0):
    """Member ``k``'s weights after ``grads`` with the standalone optimizer of ``setting``."""
    cls = OPTIMIZERS.get(setting["optimizer"])
    own = {o.name for o in cls.options} | {"lr"}
    config = {key: v for key, v in setting.items() if key in own}
    params = [Parameter(a[k].copy()) for a in _initial(len(SETTINGS), dtype, seed)]
    opt = Optimizer.from_config({"name": cls.__name__.lower(), **config}, params)
    for step in grads:
        opt.zero_grad()
        for p, g in zip(params, step):
            p.grad = g[k].copy()
        opt.step()
    return [p.data for p in params]


def _assert_bitwise(a, b, what=""):
    for i, (x, y) in enumerate(zip(a, b)):
        assert x.dtype == y.dtype, (what, i)
        assert np.array_equal(x, y), (what, i, np.max(np.abs(x - y)))


@pytest.mark.parametrize("table_steps", [32, 3])
@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_each_member_is_its_standalone_optimizer_bit_for_bit(
    dtype, kernel, table_steps, monkeypatch, compiled_at_any_size
):
    """20 steps; Adam's t-dependent coefficients come from a table of TABLE_STEPS steps
    (3: rebuilt six times on the way)."""
    monkeypatch.setattr(MemberOptimizer, "TABLE_SIZE", 0)
    monkeypatch.setattr(MemberOptimizer, "TABLE_STEPS", table_steps)
    grads = _gradients(len(SETTINGS), dtype, 20)
    params, opt = _members(SETTINGS, dtype, kernel)
    _run(opt, params, grads)
    assert opt.kernels == kernel and opt.s is not None and list(opt.t) == [20] * len(SETTINGS)
    assert len(compiled_at_any_size) == (20 if kernel == "numba" else 0)
    for k, setting in enumerate(SETTINGS):
        _assert_bitwise([p.data[k] for p in params], _standalone(setting, k, dtype, grads), k)


def test_parameters_are_views_of_one_joined_buffer():
    params, opt = _members(SETTINGS)
    assert opt.buffer.shape == (len(SETTINGS), sum(int(np.prod(s)) for s in SHAPES))
    for p in params:
        assert np.shares_memory(p.data, opt.buffer)
    opt.buffer[2] = 7.0  # row k is member k's numbers
    assert all((p.data[2] == 7.0).all() and not (p.data[1] == 7.0).any() for p in params)


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_small_populations_gather_their_gradients_bit_for_bit(
    dtype, kernel, monkeypatch, compiled_at_any_size
):
    """Below COMPILED_FROM numbers the gradients are first copied into the joined gradient
    buffer (numba's call with one gradient per parameter costs more than it saves), then one
    compiled pass over it or NumPy's passes: each member its standalone optimizer's bits."""
    monkeypatch.setattr(MemberOptimizer, "COMPILED_FROM", 1 << 16)
    grads = _gradients(len(SETTINGS), dtype, 40)  # past Adam's first table of 32 steps
    params, opt = _members(SETTINGS, dtype, kernel)
    _run(opt, params, grads)
    assert not compiled_at_any_size and opt.grad_buffer is not None
    for k, setting in enumerate(SETTINGS):
        _assert_bitwise([p.data[k] for p in params], _standalone(setting, k, dtype, grads), k)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_blocked_numpy_update_is_the_one_pass_update(dtype, monkeypatch):
    """A large population goes block by block (BLOCK numbers): same numbers."""
    grads = _gradients(len(SETTINGS), dtype, 5)
    whole = _members(SETTINGS, dtype)
    _run(whole[1], whole[0], grads)
    monkeypatch.setattr(MemberOptimizer, "BLOCK", 13)  # blocks of 13 of a member's numbers
    blocked = _members(SETTINGS, dtype)
    _run(blocked[1], blocked[0], grads)
    _assert_bitwise([p.data for p in whole[0]], [p.data for p in blocked[0]])


@pytest.mark.skipif(not kernels.available(), reason="numba (the accel extra) is not installed")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("names", [["adam", "rmsprop", "gd"], ["gd", "momentum"]])
def test_numba_is_the_numpy_path_bit_for_bit(dtype, names):
    """With and without a second moment (only GD and Momentum: the kernel keeps no ``s``)."""
    settings = [s for s in SETTINGS if s["optimizer"].lower() in names]
    grads = _gradients(len(settings), dtype, 20)
    runs = []
    for kernel in ("numpy", "numba"):
        params, opt = _members(settings, dtype, kernel)
        _run(opt, params, grads)
        runs.append((params, opt))
    (pa, a), (pb, b) = runs
    assert (a.s is None) == (b.s is None) == ("adam" not in names)
    _assert_bitwise([p.data for p in pa], [p.data for p in pb])
    _assert_bitwise([a.v] + ([] if a.s is None else [a.s]), [b.v] + ([] if b.s is None else [b.s]))


@pytest.mark.parametrize("kernel", KERNELS)
def test_take_keeps_members_in_the_given_order(kernel):
    grads = _gradients(len(SETTINGS), np.float64, 10)
    params, opt = _members(SETTINGS, kernels=kernel)
    _run(opt, params, grads[:4])
    keep = [4, 0, 3]
    opt.take(keep)
    assert opt.P == 3 and [s["optimizer"] for s in opt.settings] == ["adam", "adam", "gd"]
    assert all(np.shares_memory(p.data, opt.buffer) and p.data.shape[0] == 3 for p in params)
    _run(opt, params, [[g[keep] for g in step] for step in grads[4:]])
    for pos, k in enumerate(keep):
        expected = _standalone(SETTINGS[k], k, np.float64, grads)
        _assert_bitwise([p.data[pos] for p in params], expected, k)
    opt.take([])  # every member gone: steps do nothing
    _run(opt, params, [[g[:0] for g in grads[0]]])
    assert opt.buffer.shape == (0, opt.buffer.shape[1])


def test_take_after_the_model_dropped_the_members_itself():
    """The stacked model's own take re-binds .data first; the optimizer's take follows."""
    params, opt = _members(SETTINGS)
    before = [p.data[[5, 1]].copy() for p in params]
    for p in params:
        p.data = p.data[[5, 1]]
    opt.take([5, 1])
    _assert_bitwise([p.data for p in params], before)
    assert all(np.shares_memory(p.data, opt.buffer) for p in params)


def test_copy_member_copies_weights_state_and_settings():
    grads = _gradients(len(SETTINGS), np.float64, 10)
    params, opt = _members(SETTINGS)
    _run(opt, params, grads[:5])
    opt.copy_member(3, 4)  # the GD member becomes a copy of the tuned Adam member
    assert opt.settings[3] == opt.settings[4] and opt.t[3] == opt.t[4]
    assert opt.settings[3] is not opt.settings[4]
    # from now on member 3 sees member 4's gradients: it follows member 4 to the last bit
    rest = [[np.concatenate([g[:3], g[4:5], g[4:]]) for g in step] for step in grads[5:]]
    _run(opt, params, rest)
    _assert_bitwise([p.data[3] for p in params], [p.data[4] for p in params])
    _assert_bitwise([p.data[4] for p in params], _standalone(SETTINGS[4], 4, np.float64, grads))


@pytest.mark.parametrize("kernel", KERNELS)
def test_state_dict_round_trip_resumes_bit_identically(kernel):
    grads = _gradients(len(SETTINGS), np.float64, 10)
    params, opt = _members(SETTINGS, kernels=kernel)
    _run(opt, params, grads[:5])
    saved, weights = opt.state_dict(), [p.data.copy() for p in params]
    _run(opt, params, grads[5:])

    fresh = [Parameter(w.copy()) for w in weights]
    other = MemberOptimizer(fresh, [{"optimizer": "gd", "lr": 1.0}] * len(SETTINGS), kernel)
    other.load_state_dict(saved)
    assert other.settings == opt.settings and list(other.t) == [5] * len(SETTINGS)
    _run(other, fresh, grads[5:])
    _assert_bitwise([p.data for p in fresh], [p.data for p in params])
    saved["v"][:] = 0  # a copy: the optimizer's state is its own
    assert opt.v.any()


def test_members_at_different_steps_keep_their_own_t():
    """A state whose members have had different numbers of updates (each Adam member's bias
    correction follows its own t): member 0 resumes run a, member 1 run b."""
    settings = [{"optimizer": "adam", "lr": 0.01}, {"optimizer": "adam", "lr": 0.03}]
    grads = _gradients(2, np.float64, 12)
    (pa, a), (pb, b) = _members(settings), _members(settings)
    _run(a, pa, grads[:7])
    _run(b, pb, grads[:2])
    sa, sb = a.state_dict(), b.state_dict()
    mixed = {**sa, "t": np.array([7, 2]), "v": np.stack([sa["v"][0], sb["v"][1]])}
    mixed["s"] = np.stack([sa["s"][0], sb["s"][1]])
    params = [Parameter(np.stack([x.data[0], y.data[1]])) for x, y in zip(pa, pb)]
    opt = MemberOptimizer(params, settings)
    opt.load_state_dict(mixed)
    _run(opt, params, grads[7:])
    _run(a, pa, grads[7:])
    _run(b, pb, grads[7:])
    assert list(opt.t) == [12, 7]
    _assert_bitwise([p.data[0] for p in params], [p.data[0] for p in pa])
    _assert_bitwise([p.data[1] for p in params], [p.data[1] for p in pb])


def test_set_lr_and_set_hyperparameters_act_from_the_next_step():
    """Member 0 (Adam) gets a new lr after 4 steps: it equals a standalone Adam whose
    set_lr is called at the same step."""
    settings = [s for s in SETTINGS if s["optimizer"] in ("adam", "gd")]
    grads = _gradients(len(settings), np.float64, 8)
    params, opt = _members(settings)
    _run(opt, params, grads[:4])
    lr = opt.lr
    lr[0] = 0.5
    opt.set_lr(lr)
    assert opt.lr[0] == 0.5 and opt.settings[0]["lr"] == 0.5
    assert opt.s is not None
    _run(opt, params, grads[4:])

    ref = [Parameter(a[0].copy()) for a in _initial(len(settings), np.float64)]
    adam = Optimizer.from_config({"name": "adam", "lr": 0.01}, ref)
    for i, step in enumerate(grads):
        if i == 4:
            adam.set_lr(0.5)
        for p, g in zip(ref, step):
            p.grad = g[0].copy()
        adam.step()
    _assert_bitwise([p.data[0] for p in params], [p.data for p in ref])


def test_switching_a_member_to_a_second_moment_optimizer_allocates_s():
    params, opt = _members([{"optimizer": "gd", "lr": 0.1}, {"optimizer": "momentum"}])
    assert opt.s is None and not opt.needs_second_moment
    opt.set_hyperparameters(0, {"optimizer": "rmsprop", "beta2": 0.5})
    assert opt.s is not None and not opt.s.any() and opt.needs_second_moment
    assert opt.settings[0]["optimizer"] == "rmsprop" and opt.settings[0]["lr"] == 0.1
    assert opt.settings[0]["beta2"] == 0.5
    grads = _gradients(2, np.float64, 3)
    _run(opt, params, grads)
    ref = [Parameter(a[0].copy()) for a in _initial(2, np.float64)]
    rms = Optimizer.from_config({"name": "rmsprop", "lr": 0.1, "beta2": 0.5}, ref)
    for step in grads:
        for p, g in zip(ref, step):
            p.grad = g[0].copy()
        rms.step()
    _assert_bitwise([p.data[0] for p in params], [p.data for p in ref])


def test_rebound_parameters_are_adopted():
    """Something re-binds a parameter's .data (a model's load): the optimizer copies it in."""
    params, opt = _members(SETTINGS)
    params[0].data = np.full_like(params[0].data, 2.0)
    for p in params:
        p.grad = np.zeros_like(p.data)
    opt.step()
    assert np.shares_memory(params[0].data, opt.buffer)
    assert (opt.buffer[:, :15] == 2.0).all()  # zero gradients: nothing moved


def test_missing_keys_take_the_declared_defaults():
    _, opt = _members([{"optimizer": "adam"}, {"optimizer": "rmsprop", "lr": 0.5}])
    assert opt.settings[0] == {
        "optimizer": "adam", "lr": 0.001, "beta": 0.9, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8
    }  # fmt: skip
    assert list(opt.lr) == [0.001, 0.5]


def test_every_population_optimizer_declares_its_coefficients():
    for name in population_optimizers():
        cls = OPTIMIZERS.get(name)
        assert cls.member_coefficients is not Optimizer.member_coefficients, name
    assert set(MemberOptimizer.names()) == {"gd", "momentum", "rmsprop", "adam"}


def test_exact_power_is_pythons_float_power():
    """NumPy's vectorised power differs from Python's in the last bit for some values; the
    Adam coefficients need Python's (the standalone optimizer's)."""
    rng = np.random.default_rng(0)
    base = rng.uniform(0.5, 0.9999, 2000)
    t = rng.integers(1, 100_000, 2000)
    expected = np.array([b ** int(k) for b, k in zip(base.tolist(), t.tolist())])
    assert np.array_equal(exact_power(base, t), expected)
    assert np.array_equal(exact_power(np.full(3, 0.9), np.full(3, 7)), np.full(3, 0.9**7))


@pytest.mark.parametrize(
    "settings, match",
    [
        ([{"optimizer": "adam"}, {"optimizer": "lbfgs"}], r"settings\[1\]\['optimizer'\] must be one of adam, gd, momentum, rmsprop .*'lbfgs'"),
        ([{"lr": 0.1}], r"settings\[0\] has no 'optimizer'"),
        ([{"optimizer": "adam", "betta": 0.9}], r"settings\[0\] has unknown key 'betta'"),
        ([{"optimizer": "gd"}, {"optimizer": "adam", "beta1": 1.5}], r"settings\[1\]\['beta1'\] must be in \[0, 1\), got 1.5"),
        ([{"optimizer": "gd", "lr": -1}], r"settings\[0\]\['lr'\] must be > 0, got -1"),
        ([{"optimizer": "gd", "lr": lambda e: 0.1}], r"settings\[0\]\['lr'\] must be a number"),
        ([{"optimizer": "gd", "lr": "fast"}], r"settings\[0\]\['lr'\]"),
        ([("optimizer", "gd")], r"settings\[0\] must be a dict"),
        ({"optimizer": "gd"}, r"settings must be a list with one dict per member"),
    ],
)  # fmt: skip
def test_bad_settings_name_the_member_and_key(settings, match):
    P = len(settings) if isinstance(settings, list) else 1
    with pytest.raises(ValueError, match=match):
        MemberOptimizer([Parameter(np.zeros((P, 2)))], settings)


def test_bad_parameters_and_calls_are_named():
    with pytest.raises(ValueError, match=r"params\[1\] has shape \(3, 2\); with 2 members .* 2"):
        MemberOptimizer([Parameter(np.zeros((2, 2))), Parameter(np.zeros((3, 2)))], SETTINGS[:2])
    with pytest.raises(ValueError, match=r"params\[1\] is float32, params\[0\] is float64"):
        MemberOptimizer(
            [Parameter(np.zeros((2, 2))), Parameter(np.zeros((2, 2)), dtype=np.float32)],
            SETTINGS[:2],
        )
    params, opt = _members(SETTINGS)
    with pytest.raises(ValueError, match=r"set_lr needs 6 learning rates .* \(2,\)"):
        opt.set_lr([0.1, 0.2])
    with pytest.raises(ValueError, match=r"lr of member 2 must be a finite number > 0, got nan"):
        opt.set_lr([0.1, 0.1, np.nan, 0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match=r"positions must be in \[0, 6\), got 6"):
        opt.take([0, 6])
    with pytest.raises(ValueError, match=r"dst must be a member position in \[0, 6\), got 9"):
        opt.copy_member(9, 0)
    with pytest.raises(ValueError, match=r"settings\[2\]\['eps'\] must be > 0"):
        opt.set_hyperparameters(2, {"eps": 0})
    with pytest.raises(ValueError, match=r"params\[0\] has no gradient"):
        opt.step()
    for p in params:
        p.grad = np.zeros_like(p.data)
    params[1].grad = np.zeros((6, 3))
    with pytest.raises(ValueError, match=r"params\[1\]\.grad has shape \(6, 3\), .* \(6, 1, 3\)"):
        opt.step()
    params[0].data = np.zeros((6, 5, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"params\[0\] is now float32, .* float64 .*Module.to"):
        opt.step()
    params[0].data = np.zeros((2, 5, 3))
    with pytest.raises(ValueError, match=r"params\[0\] now has shape \(2, 5, 3\).*call take"):
        opt.step()
    saved = opt.state_dict()
    _, small = _members(SETTINGS[:2])
    with pytest.raises(ValueError, match=r"state_dict has 6 members, this optimizer 2"):
        small.load_state_dict(saved)
    with pytest.raises(ValueError, match=r"HONED_KERNELS|kernels must be one of"):
        MemberOptimizer([Parameter(np.zeros((1, 2)))], SETTINGS[:1], kernels="cuda")


def test_a_stacked_least_squares_model_trains_each_member_as_its_own():
    """End to end with honed's autograd: P members of ``X W + b`` (W (P, 5, 3), b (P, 1, 3)
    as honed.nn stacks them), the sum of their costs back-propagated, 20 steps: member k's
    weights are those of a standalone model trained by its own optimizer."""
    from honed.autograd import Tensor

    rng = np.random.default_rng(3)
    X = rng.standard_normal((32, 5))
    Y = rng.standard_normal((32, 3))
    settings = SETTINGS[:5]
    P = len(settings)
    W0, b0 = rng.standard_normal((P, 5, 3)), rng.standard_normal((P, 1, 3))
    W, b = Parameter(W0.copy()), Parameter(b0.copy())
    opt = MemberOptimizer([W, b], settings, kernels="numpy")
    for _ in range(20):
        opt.zero_grad()
        ((Tensor(X) @ W + b - Y) ** 2).mean(axis=(1, 2)).sum().backward()
        opt.step()
    for k, setting in enumerate(settings):
        cls = OPTIMIZERS.get(setting["optimizer"])
        own = {key: v for key, v in setting.items() if key in {o.name for o in cls.options}}
        Wk, bk = Parameter(W0[k].copy()), Parameter(b0[k].copy())
        ref = cls([Wk, bk], lr=setting["lr"], **own)
        for _ in range(20):
            ref.minimize(((Tensor(X) @ Wk + bk - Y) ** 2).mean())
        # the gradients come from a batched matmul here, a 2-D one there: equal on OpenBLAS
        # (bit for bit in practice), within 1e-12 wherever a BLAS sums in another order
        np.testing.assert_allclose(W.data[k], Wk.data, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(b.data[k], bk.data, rtol=1e-12, atol=1e-15)


def test_a_population_optimizer_without_its_update_is_refused_by_name():
    """``population = True`` without ``member_coefficients``: a ValueError naming the
    optimizer and what to define, not the base class's NotImplementedError."""

    class Unfinished(Optimizer):
        population = True

        def update(self, param, grad, state, lr):
            param.data -= lr * grad

    OPTIMIZERS.register("unfinished", Unfinished)
    try:
        with pytest.raises(ValueError, match="'unfinished' declares population = True but not"):
            MemberOptimizer([Parameter(np.ones((2, 3)))], [{"optimizer": "unfinished"}] * 2)
    finally:
        OPTIMIZERS.unregister("unfinished")
