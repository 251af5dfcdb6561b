"""``PopulationTrainer``: train every member of a population at once, one stream of batched ops.

Each step on mini-batch t, for every member k still training (the Trainer's step, stacked)::

    J_k = (1/m_t) Σ_i L(ŷ_ik, y_i) + λ₁_k/m_t Σ|W_k| + λ₂_k/(2 m_t) Σ‖W_k‖²_F
    dW_k = ∂J_k/∂W_k;  the member's own optimizer update (honed.optim.MemberOptimizer)

The members still training are one ``honed.nn`` model with a member axis
(:mod:`honed.nn.members`), differentiated by honed's autograd and stepped by the Trainer's
own step (:class:`honed.train.step.TrainStep`, captured and replayed).

Mini-batch order: by default all members see the same order (*common random numbers*), drawn
from ``np.random.default_rng(seed)`` exactly as ``honed.train.Trainer(seed=seed)`` draws it:
comparisons between members are then fairer, and the first layer is one wide GEMM. With
``common_order=False`` member k shuffles with its own ``default_rng(shuffle_seed_k)``
(``shuffle_seed`` defaults to the member's ``seed``).

Each member can also have its own training and dev sets (:class:`PerMember`, e.g. a new draw
of the data per seed, as the lab does): the distinct sets are joined once into one array and
member k's mini-batch rows are gathered from its own part (its permutation plus an offset), so
seeds with different data still train as one population.

Member k of a population therefore computes what a standalone ``Trainer`` computes for
``mlp(..., seed=seed_k)`` with the same hyperparameters and ``Trainer(seed=seed)``, to
floating-point rounding (``tests/population`` checks 1e-10 in float64).
"""

from __future__ import annotations

import copy
import math
import sys
import time
from collections.abc import Callable, Iterable

import numpy as np

from honed.autograd import Tensor, no_grad
from honed.data.batches import n_batches
from honed.nn import members
from honed.nn.layers import Dropout
from honed.nn.losses import LOSSES as _LOSS_REGISTRY
from honed.nn.losses import build_loss, population_losses
from honed.nn.regularizers import WeightPenalty
from honed.optim import MemberOptimizer
from honed.population.members import HYPERPARAMETERS
from honed.population.memory import check_memory, estimate_memory
from honed.train.memory import keep_freed_memory
from honed.train.status import Status
from honed.train.step import TrainStep
from honed.train.stopping import PatienceRule, check_monitor

#: the losses a population trains: those of honed.nn that declare population = True
LOSSES = tuple(population_losses())


class PerMember:
    """One data set per member (a Dataset or an ``(X, y)`` pair each, in member order), for
    :meth:`PopulationTrainer.fit`'s ``train`` and ``dev``. All sets of one ``PerMember`` have
    the same number of examples; a set given to several members (the same object) is stored
    once.
    """

    def __init__(self, sets):
        self.sets = list(sets)
        if not self.sets:
            raise ValueError("PerMember needs one data set per member, got none")

    def __len__(self) -> int:
        return len(self.sets)

    def joined(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """``(X, y, offsets, m)``: the distinct sets one after another, member k's first row
        in ``X`` (``offsets[k]``) and the examples per set ``m``."""
        parts, where, offsets = [], {}, []
        start = 0
        for i, data in enumerate(self.sets):
            key = id(data)
            if key not in where:
                X, y = _arrays(data)
                if parts and len(X) != len(parts[0][0]):
                    raise ValueError(
                        f"PerMember sets must have the same number of examples, got "
                        f"{len(parts[0][0])} and {len(X)} (set {i})"
                    )
                where[key] = start
                parts.append((X, y))
                start += len(X)
            offsets.append(where[key])
        X = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
        y = np.concatenate([p[1] for p in parts]) if len(parts) > 1 else parts[0][1]
        return X, y, np.asarray(offsets, dtype=np.intp), len(parts[0][0])


def _arrays(data):
    if data is None:
        return None, None
    if hasattr(data, "X") and hasattr(data, "y"):
        return np.asarray(data.X), np.asarray(data.y)
    X, y = data
    return np.asarray(X), np.asarray(y)


class PopulationTrainer:
    """Fit all members of a :class:`~honed.population.Population` together.

    The members still training are one ``honed.nn`` model with a member axis
    (:func:`honed.nn.members.stack` of their models), updated by a
    :class:`~honed.optim.MemberOptimizer` (each member its own optimizer and
    hyperparameters) through the Trainer's own step (:class:`honed.train.step.TrainStep`:
    captured forward, per-member costs, backward of their sum).

    Args:
        population: the members (their models are updated in place).
        loss: ``softmax_cross_entropy`` (integer labels), ``sigmoid_cross_entropy`` (0/1
            labels, one logit), or for regression (linear outputs, float targets (m, k))
            ``mse``, ``mae`` or ``huber``; a member's error is then its RMSE.
        loss_args: ``{"delta": δ}`` for huber.
        batch_size: mini-batch size, shared by all members.
        seed: seeds the common mini-batch order (``default_rng(seed)``, as ``Trainer``).
        common_order: all members see the same batches (default); False: each its own.
        patience: per-member early stopping on ``monitor`` (None: off). A member whose
            ``monitor`` has not improved by more than ``min_delta`` for ``patience`` epochs
            stops, leaves the stacked model and keeps its best weights; at the end of
            :meth:`fit` every member has its best weights (as ``EarlyStopping``; the rule is
            :class:`honed.train.stopping.PatienceRule`).
        callbacks: callables ``callback(trainer, epoch, records)`` run after each epoch with
            ``records = {member: record}``; one may call :meth:`stop` (pruning) or set
            ``trainer.stop_training``.
        progress: a tqdm bar over epochs with best / median dev error and members alive
            (True), one printed line per epoch when not a terminal, or nothing (False).
        memory_limit: bytes the population may use (default: 80 % of the available memory);
            :meth:`fit` refuses with ValueError when the estimate exceeds it.
        augment: a callable ``(X, rng) -> X`` applied to each training mini-batch, as
            ``Trainer(augment=...)`` does: with the common order one augmented batch for all
            members from ``default_rng(seed)``; with ``common_order=False`` each member's
            batch from that member's own generator (the one that shuffles it), so a member
            sees what its standalone ``Trainer(seed=shuffle_seed)`` run sees.
        kernels: the optimizer update's implementation: ``"auto"`` (default: the compiled
            one-pass kernel when the ``accel`` extra, numba, is installed, else NumPy),
            ``"numpy"`` (the reference) or ``"numba"``; None reads ``HONED_KERNELS``. Both
            give the same numbers (:mod:`honed.optim.kernels`).
        capture: record the step once per batch shape and replay it (as ``Trainer``).

    Attributes:
        epoch: epochs completed by the members still training.
        alive: ids of the members still training, in stacked order.
        model: the members still training as one model with a member axis.
        optimizer: their :class:`~honed.optim.MemberOptimizer`.
    """

    def __init__(
        self,
        population,
        loss: str = "softmax_cross_entropy",
        batch_size: int = 128,
        seed: int = 0,
        common_order: bool = True,
        patience: int | None = None,
        min_delta: float = 0.0,
        monitor: str = "dev_error",
        callbacks: Iterable[Callable] = (),
        progress: bool = False,
        eval_batch_size: int = 4096,
        memory_limit: int | None = None,
        augment: Callable | None = None,
        kernels: str | None = None,
        loss_args: dict | None = None,
        capture: bool = True,
    ):
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")
        if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size}")
        if patience is not None and (int(patience) != patience or patience < 1):
            raise ValueError(f"patience must be an integer >= 1 or None, got {patience}")
        if not min_delta >= 0:
            raise ValueError(f"min_delta must be >= 0, got {min_delta}")
        check_monitor(monitor)
        keep_freed_memory()
        self.population = population
        declared = {o.name for o in _LOSS_REGISTRY.options(loss)}
        extra = sorted(set(loss_args or {}) - declared)
        if extra:
            raise ValueError(
                f"loss {loss!r} takes {', '.join(sorted(declared)) or 'no arguments'}, got "
                f"{', '.join(extra)}"
            )
        self.loss = loss
        self._loss = build_loss(loss, {k: v for k, v in (loss_args or {}).items()})
        self.batch_size = int(batch_size)
        self.common_order = bool(common_order)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.patience = None if patience is None else int(patience)
        self.min_delta, self.monitor = float(min_delta), monitor
        self.callbacks = list(callbacks)
        self.progress = progress
        self.eval_batch_size = int(eval_batch_size)
        self.memory_limit = memory_limit
        if augment is not None and not callable(augment):
            raise TypeError(f"augment must be a callable (X, rng) -> X, got {augment!r}")
        self.augment = augment
        self.kernels = kernels
        self.capture = capture
        self.epoch = 0
        self.stop_training = False
        self.alive: list[int] = [
            k
            for k, st in enumerate(population.status)
            if Status.parse(st) in (Status.NEW, Status.RUNNING, Status.COMPLETE)
        ]
        # Members with the same shuffle seed draw the same orders (one permutation of the
        # same m per epoch, as their standalone Trainers would): they share one Generator,
        # which draws once per epoch for them all (_member_orders), until an augment draws
        # from each member's own (_own_generators).
        by_seed: dict = {}
        self._shuffle_rngs = {}
        for k in self.alive:
            member = population.members[k]
            seed = member.shuffle_seed if member.shuffle_seed is not None else member.seed
            if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
                if int(seed) not in by_seed:
                    by_seed[int(seed)] = np.random.default_rng(seed)
                self._shuffle_rngs[k] = by_seed[int(seed)]
            else:  # None (fresh entropy) or a SeedSequence: a Generator of its own
                self._shuffle_rngs[k] = np.random.default_rng(seed)
        # per-member early stopping: the rule's arrays follow self.alive; best weights by id
        self._rule = PatienceRule(len(self.alive), self.patience, self.min_delta)
        self._best: dict[int, tuple[list, list]] = {}
        self._acc = None
        self._dirty = True
        self.model = self.optimizer = self.step = None
        if self.alive:
            self._stack(optimizer_state=None)

    # -- the stacked model --------------------------------------------------------------
    def _settings(self, k: int) -> dict:
        """Member ``k``'s optimizer settings (its lr of the current epoch)."""
        m = self.population.members[k]
        return {
            "optimizer": m.optimizer,
            "lr": m.lr_at(self.epoch),
            **{name: getattr(m, name) for name in HYPERPARAMETERS},
        }

    def _stack(self, optimizer_state) -> None:
        """The stacked model of the members alive, its optimizer (with ``optimizer_state``
        when given) and the step over them."""
        pop, alive = self.population, self.alive
        self._dropout_hidden = pop.dropout_hidden(alive)
        models = [pop.model_for(k) for k in alive]
        self.model = members.stack(pop.template(alive), models)
        # the modules once: switching train/eval mode twice an epoch walks no tree
        self._modules = list(self.model.modules())
        self._set_training(True)
        self._dropouts = [m for m in self._modules if isinstance(m, Dropout)]
        self.optimizer = MemberOptimizer(
            self.model.parameters(), [self._settings(k) for k in alive], self.kernels
        )
        if optimizer_state is not None:
            self.optimizer.load_state_dict(optimizer_state)
        self.step = TrainStep(self.model, self._loss, self.optimizer, None, self.capture)
        self._set_penalty()
        self._set_dropout()

    def _set_training(self, mode: bool) -> None:
        """``model.train(mode)`` without walking the module tree."""
        for module in self._modules:
            module.training = mode

    def _set_penalty(self) -> None:
        """The step's weight penalty with each member's λ₁, λ₂ (none when all are 0)."""
        members_ = [self.population.members[k] for k in self.alive]
        l1 = np.array([m.l1 for m in members_], dtype=np.float64)
        l2 = np.array([m.l2 for m in members_], dtype=np.float64)
        penalised = bool((l1 > 0).any() or (l2 > 0).any())
        self.step.penalty = WeightPenalty(self.model, l1=l1, l2=l2) if penalised else None

    def _set_dropout(self) -> None:
        """Each member's keep_prob (and, for an MLP, its generator) in the stacked Dropouts."""
        pop = self.population
        for pos, k in enumerate(self.alive):
            settings = pop.dropout_settings(k, self.alive)
            if settings is None:
                keeps, rngs = pop.members[k].keep_prob, None
            else:
                keeps, rngs = settings
            for i, layer in enumerate(self._dropouts):
                layer.keep_prob[pos] = keeps[i]
                if rngs is not None:
                    layer.rng[pos] = rngs[i]

    def _write_back(self, k: int, pos: int, best_weights: bool = True) -> None:
        """Member ``k`` (at ``pos``) into its own model: the current state, then its best
        weights under early stopping."""
        model = self.population.models[k]
        members.unstack(self.model, pos, model)
        best = self._best.get(k)
        if best_weights and self.patience is not None and best is not None:
            _load(model, best)

    # -- memory -------------------------------------------------------------------------
    def memory_estimate(self, dev_size: int = 0) -> dict[str, int]:
        """Bytes the population needs (``per_member``, ``shared``, ``total``)."""
        pop = self.population
        template = pop.models[self.alive[0] if self.alive else 0]
        arch = pop.architecture
        return estimate_memory(
            arch.sizes if arch is not None else _widths(template),
            len(self.alive),
            self.batch_size,
            pop.dtype,
            second_moment=self.optimizer is not None and self.optimizer.needs_second_moment,
            early_stopping=self.patience is not None,
            batch_norm=arch.batch_norm if arch is not None else False,
            eval_batch_size=min(self.eval_batch_size, max(dev_size, 1)),
            parameters=template.num_parameters(),
        )

    # -- membership ---------------------------------------------------------------------
    def _positions(self, ids) -> list[int]:
        where = {k: p for p, k in enumerate(self.alive)}
        out = []
        for k in ids:
            if k not in where:
                raise ValueError(f"member {k} is not training (alive: {self.alive})")
            out.append(where[k])
        return out

    def stop(self, ids, status: str = Status.PRUNED, message: str = "") -> None:
        """Take members out of training now: their weights go back to the population (their
        best ones under early stopping) and the stacked model shrinks."""
        ids = list(ids)
        if not ids:
            return
        status = Status.parse(status)  # one vocabulary: ValueError for a word it lacks
        positions = self._positions(ids)
        for k, pos in zip(ids, positions):
            # a diverged member keeps the weights it diverged with (as Trainer's model does)
            self._write_back(k, pos, best_weights=status != Status.DIVERGED)
            self.population.status[k] = status
            h = self.population.histories[k]
            h.status = status
            if message:
                h.message = message
        gone = set(positions)
        self._take([p for p in range(len(self.alive)) if p not in gone])

    def _take(self, keep: list[int]) -> None:
        gone = [self.alive[p] for p in range(len(self.alive)) if p not in set(keep)]
        self.alive = [self.alive[p] for p in keep]
        for k in gone:
            self._shuffle_rngs.pop(k, None)
        self._rule.take(keep)
        if self._acc is not None:
            self._acc = [a[keep] for a in self._acc]
        if not keep:  # every member has stopped: nothing left to stack
            self.model = self.optimizer = self.step = None
            return
        grads = [p.grad for p in self.model.parameters()]
        members.take(self.model, keep)
        self.optimizer.take(keep)
        for p, g in zip(self.model.parameters(), grads):  # mid-step (a divergence)
            p.grad = None if g is None else g[keep]
        self._set_penalty()
        self._changed()

    def _changed(self) -> None:
        """The members or their settings changed: record the step again."""
        if self.step.capture is not None:
            self.step.capture.reset()

    def copy_member(self, dst: int, src: int) -> None:
        """Member ``dst`` takes ``src``'s weights, batch-norm averages, optimizer state and
        hyperparameters (PBT's exploit); its dropout generators stay its own."""
        self._dirty = True
        pd, ps = self._positions([dst, src])
        members.copy_member(self.model, pd, ps)
        self.optimizer.copy_member(pd, ps)
        src_member = self.population.members[src]
        dst_member = self.population.members[dst]
        for name in ("optimizer", "lr", *HYPERPARAMETERS, "l1", "l2", "init_scale"):
            setattr(dst_member, name, getattr(src_member, name))
        dst_member.keep_prob = list(src_member.keep_prob)
        self._rule.copy_member(pd, ps)
        best = self._best.get(src)
        if best is None:
            self._best.pop(dst, None)
        else:
            self._best[dst] = ([a.copy() for a in best[0]], [a.copy() for a in best[1]])

    def refresh(self) -> None:
        """Re-read the members' hyperparameters before the next epoch (call after changing
        ``population.members`` by hand; :meth:`copy_member`, :meth:`stop` and :meth:`fit`
        do it themselves)."""
        self._dirty = True

    def _refresh_hyperparameters(self) -> None:
        """Per-member settings from the members' current values (PBT may have changed them);
        only the learning rates of scheduled members when nothing else changed."""
        pop = self.population
        members_ = [pop.members[k] for k in self.alive]
        if not self._dirty:
            if self._scheduled:
                self.optimizer.set_lr([m.lr_at(self.epoch) for m in members_])
            return
        self._dirty = False
        self._scheduled = [pos for pos, m in enumerate(members_) if callable(m.lr)]
        if pop.dropout_hidden(self.alive) != self._dropout_hidden:
            # a member now drops units where none did (PBT): a stacked model with that Dropout
            for pos, k in enumerate(self.alive):
                members.unstack(self.model, pos, pop.models[k])
            self._stack(self.optimizer.state_dict())
        for pos, k in enumerate(self.alive):
            wanted, have = self._settings(k), self.optimizer.settings[pos]
            if any(have.get(key) != value for key, value in wanted.items()):
                self.optimizer.set_hyperparameters(pos, wanted)  # (each prepares anew)
        self._set_penalty()
        self._set_dropout()
        self._changed()

    # -- training -----------------------------------------------------------------------
    def fit(self, train, dev=None, epochs: int = 10):
        """Train until ``epochs`` epochs are done in total (a second call continues).

        ``train`` and ``dev``: a Dataset or ``(X, y)`` shared by all members, or a
        :class:`PerMember` with each member's own set.

        Returns the population's histories (one :class:`History` per member).
        """
        if int(epochs) != epochs or epochs < 1:
            raise ValueError(f"epochs must be an integer >= 1, got {epochs}")
        X, y, self._offsets, self._m = self._data(train, "train")
        X_dev, y_dev, self._dev_offsets, self._m_dev = self._data(dev, "dev")
        self._dev_rows = None  # the gathered per-member dev sets, for the members alive
        if X is None or self._m == 0:
            raise ValueError("the training set is empty")
        dtype = self.population.dtype
        X = X.astype(dtype, copy=False)
        if X_dev is not None:
            X_dev = X_dev.astype(dtype, copy=False)
        if self.alive:
            check_memory(
                self.memory_estimate(0 if X_dev is None else self._m_dev),
                len(self.alive),
                self.memory_limit,
            )
        self.stop_training = False
        self._dirty = True
        for k in self.alive:
            self.population.status[k] = Status.RUNNING
            self.population.histories[k].status = Status.RUNNING
        bar = self._progress_begin(int(epochs))
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                while self.epoch < epochs and self.alive and not self.stop_training:
                    self._run_epoch(X, y, X_dev, y_dev)
                    self._progress_update(bar, int(epochs))
        finally:
            if bar is not None:
                bar.close()
        for pos, k in enumerate(self.alive):
            self._write_back(k, pos)
            status = Status.EARLY_STOPPED if self.stop_training else Status.COMPLETE
            self.population.status[k] = status
            self.population.histories[k].status = status
        return self.population.histories

    def _data(self, data, what: str):
        """(X, y, per-member offsets or None, examples per member) of ``train`` or ``dev``."""
        if data is None:
            return None, None, None, 0
        if isinstance(data, PerMember):
            if len(data) != len(self.population):
                raise ValueError(
                    f"{what} has {len(data)} per-member sets, the population has "
                    f"{len(self.population)} members"
                )
            X, y, offsets, m = data.joined()
            if len(set(offsets.tolist())) == 1:  # one set for all: the shared-data path
                return X, y, None, m
            return X, y, offsets, m
        X, y = _arrays(data)
        return X, y, None, len(X)

    def _dev_inputs(self, X_dev, y_dev):
        """The dev inputs of the members alive: the shared set, or (P, m_dev, ...) rows of
        each member's own set (gathered once per membership)."""
        if self._dev_offsets is None:
            return X_dev, y_dev
        alive = tuple(self.alive)
        if self._dev_rows is None or self._dev_rows[0] != alive:
            rows = self._dev_offsets[list(alive)][:, None] + np.arange(self._m_dev)[None, :]
            self._dev_rows = (alive, X_dev[rows], y_dev[rows])
        return self._dev_rows[1], self._dev_rows[2]

    def _member_orders(self, m: int) -> np.ndarray:
        """(P, m): row p is ``permutation(m)`` of member ``alive[p]``'s own generator, drawn
        as NumPy draws it (``arange(m)`` shuffled in place), into one array: no P arrays to
        allocate and stack every epoch; members sharing a generator (the same shuffle seed)
        share its one draw."""
        perms = np.empty((len(self.alive), m), dtype=np.intp)
        drawn: dict[int, np.ndarray] = {}
        for row, k in zip(perms, self.alive):
            rng = self._shuffle_rngs[k]
            first = drawn.get(id(rng))
            if first is None:
                row[...] = np.arange(m)
                rng.shuffle(row)
                drawn[id(rng)] = row
            else:
                row[...] = first
        return perms

    def _own_generators(self) -> None:
        """Give every member its own shuffle Generator (a copy of the shared one's state:
        members sharing one are in step), as an augment draws from each member's own."""
        seen: set[int] = set()
        for k in self.alive:
            rng = self._shuffle_rngs[k]
            if id(rng) in seen:
                self._shuffle_rngs[k] = copy.deepcopy(rng)
            seen.add(id(rng))

    def _run_epoch(self, X, y, X_dev, y_dev) -> None:
        self._refresh_hyperparameters()
        epoch = self.epoch + 1
        lr_record = self.optimizer.lr
        m_total = self._m  # examples per member (len(X) unless per-member sets)
        offsets = self._offsets
        B = self.batch_size
        count = n_batches(m_total, B)
        # per-member orders: one (P, m) array of row numbers, row p for self.alive[p] (rows
        # of members that stop mid-epoch are dropped with them)
        if self.common_order:
            perm = self.rng.permutation(m_total)
            if offsets is not None:  # one order, each member's rows of its own set
                perms = perm[None, :] + offsets[self.alive][:, None]
        else:
            if self.augment is not None:
                self._own_generators()
            perms = self._member_orders(m_total)
            if offsets is not None:
                perms += offsets[self.alive][:, None]
        rows_of = list(self.alive)
        P = len(self.alive)
        dtype = X.dtype
        self._acc = [np.zeros(P), np.zeros(P), lr_record]
        self._set_training(True)
        step = self.step
        started = time.perf_counter()
        for batch in range(count):
            if not self.alive:
                break
            sl = slice(batch * B, (batch + 1) * B)
            if self.common_order and offsets is None:
                idx = perm[sl]
                xb, yb = np.take(X, idx, axis=0), np.take(y, idx, axis=0)
                if self.augment is not None:
                    xb = np.asarray(self.augment(xb, self.rng), dtype=dtype)
            else:
                if len(rows_of) != len(self.alive):  # members stopped: keep their rows out
                    where = {k: r for r, k in enumerate(rows_of)}
                    perms = perms[[where[k] for k in self.alive]]
                    rows_of = list(self.alive)
                idx = perms[:, sl]
                xb, yb = np.take(X, idx, axis=0), np.take(y, idx, axis=0)  # (P, B, ...)
                if self.augment is not None:  # each member from its own generator
                    for pos, k in enumerate(self.alive):
                        xb[pos] = self.augment(xb[pos], self._shuffle_rngs[k])
            m = idx.shape[-1]
            forward = step.forward(xb, yb)
            cost = step.costs(forward, m)
            wrong = np.asarray(self._loss.error(forward.outputs, yb)) * m
            if not np.isfinite(cost).all():
                bad = ~np.isfinite(cost)
                step.backward(forward, m)
                for pos in np.flatnonzero(bad):
                    k = self.alive[pos]
                    self.population.histories[k].message = (
                        f"training diverged: the cost became {cost[pos]} at epoch {epoch}, "
                        f"mini-batch {batch + 1}/{count} (lr {lr_record[pos]:.3g})"
                    )
                keep = np.flatnonzero(~bad)
                self.stop([self.alive[p] for p in np.flatnonzero(bad)], status=Status.DIVERGED)
                cost, wrong = cost[keep], wrong[keep]
                if not self.alive:
                    break
                step = self.step
                step.apply()
            else:
                step.update(forward, m)
            self._acc[0] += cost * m
            self._acc[1] += wrong
        seconds = time.perf_counter() - started
        if not self.alive:
            self.epoch = epoch
            return
        total_cost, total_wrong, lr_now = self._acc
        dev_cost = dev_error = [None] * len(self.alive)
        if X_dev is not None:
            xd, yd = self._dev_inputs(X_dev, y_dev)
            dev_cost, dev_error = self._evaluate(xd, yd)
        # Python floats once for all members (tolist), not one float() per value.
        train_costs = (total_cost / m_total).tolist()
        train_errors = (total_wrong / m_total).tolist()
        lrs = np.asarray(lr_now, dtype=np.float64).tolist()
        rate = m_total / max(seconds, 1e-12)
        histories = self.population.histories
        records = {}
        for pos, k in enumerate(self.alive):
            rec = {
                "epoch": epoch,
                "train_cost": train_costs[pos],
                "train_error": train_errors[pos],
                "dev_cost": dev_cost[pos],
                "dev_error": dev_error[pos],
                "lr": lrs[pos],
                "seconds": seconds,
                "samples_per_s": rate,
            }
            histories[k].epochs.append(rec)  # the record itself: callbacks see the same dict
            records[k] = rec
        self.epoch = epoch
        self._acc = None
        if self.patience is not None:
            self._early_stopping(epoch, records)
        for cb in self.callbacks:
            cb(self, epoch, records)

    def _evaluate(self, X, y) -> tuple[list, list]:
        """Each member's mean cost (no penalty) and error on a whole set, in eval mode, in
        chunks of ``eval_batch_size`` rows (as ``Trainer.evaluate``)."""
        model, size = self.model, self.eval_batch_size
        self._set_training(False)
        try:
            with no_grad():
                parts = [
                    model(Tensor(X[..., i : i + size, :])).data for i in range(0, X.shape[-2], size)
                ]
                outputs = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
                cost = np.asarray(self._loss(Tensor(outputs), y).data, dtype=np.float64)
        finally:
            self._set_training(True)
        errors = self._loss.error(outputs, y) if outputs.shape[1] else np.full(len(cost), np.nan)
        return cost.tolist(), np.asarray(errors, dtype=np.float64).tolist()

    def _early_stopping(self, epoch: int, records: dict) -> None:
        values = [records[k].get(self.monitor) for k in self.alive]
        improved, stop = self._rule.update(epoch, values)
        for pos in np.flatnonzero(improved):
            self._best[self.alive[pos]] = self._member_state(pos)
        stopping = [self.alive[pos] for pos in np.flatnonzero(stop)]
        for pos in np.flatnonzero(stop):
            self.population.histories[self.alive[pos]].events.append(
                {
                    "epoch": epoch,
                    "event": "early_stop",
                    "best_epoch": int(self._rule.best_epoch[pos]),
                    "best": float(self._rule.best[pos]),
                }
            )
        self.stop(stopping, status=Status.EARLY_STOPPED)

    def _member_state(self, pos: int) -> tuple[list, list]:
        """Copies of member ``pos``'s parameters and buffers (its weights to keep)."""
        params = [p.data[pos].copy() for p in self.model.parameters()]
        buffers = [b[pos].copy() for b in self.model.buffers()]
        return params, buffers

    # -- progress -----------------------------------------------------------------------
    def summary(self) -> dict:
        """Members alive, best and median last dev error over the members still training."""
        last = [self.population.histories[k].last.get("dev_error") for k in self.alive]
        last = [v for v in last if v is not None and math.isfinite(v)]
        all_best = [
            h.best("dev_error").get("dev_error") for h in self.population.histories if len(h)
        ]
        all_best = [v for v in all_best if v is not None]
        return {
            "alive": len(self.alive),
            "best_dev_error": min(all_best) if all_best else None,
            "median_dev_error": float(np.median(last)) if last else None,
        }

    def _progress_begin(self, epochs: int):
        if not self.progress:
            return None
        if sys.stdout.isatty():
            try:
                from tqdm.auto import tqdm

                return tqdm(
                    total=epochs,
                    initial=self.epoch,
                    desc=f"population of {len(self.alive)}",
                    unit="epoch",
                )
            except ImportError:
                pass
        return None

    def _progress_update(self, bar, epochs: int) -> None:
        if not self.progress:
            return
        s = self.summary()
        best = "-" if s["best_dev_error"] is None else f"{s['best_dev_error']:.4f}"
        median = "-" if s["median_dev_error"] is None else f"{s['median_dev_error']:.4f}"
        if bar is not None:
            bar.update(1)
            bar.set_postfix(alive=s["alive"], best_dev_err=best, median_dev_err=median)
        else:
            print(
                f"epoch {self.epoch}/{epochs}  alive {s['alive']}  best dev error {best}  "
                f"median dev error {median}",
                flush=True,
            )


def _load(model, state: tuple[list, list]) -> None:
    """Parameters and buffers (in ``parameters()`` / ``buffers()`` order) into ``model``."""
    params, buffers = state
    for p, value in zip(model.parameters(), params):
        p.data = value.reshape(p.data.shape).astype(p.data.dtype)
        p.grad = None
    slots = [(m, name) for m in model.modules() for name in m._buffer_names]
    for (module, name), value in zip(slots, buffers):
        current = getattr(module, name)
        module.register_buffer(name, value.reshape(current.shape).astype(current.dtype))


def _widths(model) -> list[int]:
    """The layer widths of a model for the memory estimate: its weight matrices' input
    width, then each one's output width."""
    weights = [w.data for _, w in model.named_weights() if w.data.ndim == 2]
    if not weights:
        return [1, max(model.num_parameters(), 1)]
    return [weights[0].shape[0], *(w.shape[1] for w in weights)]


__all__ = ["LOSSES", "PerMember", "PopulationTrainer"]
