"""``Population``: P members of one architecture, each with its own hyperparameters.

The population owns every member's weights, batch-norm averages and dropout generators (the
trainer works on a stacked copy of the members still training and writes members back when
they stop). Member k starts exactly as ``honed.nn.mlp(sizes, ..., scale=init_scale_k,
keep_prob=keep_prob_k, seed=seed_k)`` does (with ``init=init_k`` for a member that has its
own initializer): the same initial weights (drawn by
``mlp`` itself) and the same dropout generators (``SeedSequence(seed).spawn(2)[1].spawn(L)``,
one per hidden layer), so :meth:`member` gives an ordinary honed model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from honed.nn.layers import BatchNorm, Dense, Dropout
from honed.nn.models import mlp
from honed.population.members import Architecture, Member
from honed.train.metrics import History
from honed.train.status import Status


def _dropout_generators(seed: int, n_hidden: int) -> list[np.random.Generator]:
    # The same spawn tree as honed.nn.models.MLP, so masks match a standalone model's.
    _, dropout_seq = np.random.SeedSequence(seed).spawn(2)
    return [np.random.default_rng(s) for s in dropout_seq.spawn(max(n_hidden, 1))][:n_hidden]


class Population:
    """A population of networks of one architecture.

    Args:
        architecture: :class:`Architecture`, or a dict of its fields (``sizes``,
            ``activation``, ``init``, ``batch_norm``, ``output``).
        members: one dict of hyperparameters per member (keys in
            :mod:`honed.population.members`).
        dtype: float32 (training) or float64 (exact comparisons, gradient checks).

    Attributes:
        members: the validated :class:`Member` of each member (PBT changes them).
        histories: one :class:`honed.train.metrics.History` per member.
        status: per member, a :class:`~honed.train.Status`: ``new``, ``running``,
            ``complete``, ``early_stopped``,
            ``diverged`` or ``pruned``.
    """

    def __init__(self, architecture, members: Sequence[Mapping], dtype=np.float32):
        self.architecture = Architecture.coerce(architecture)
        if isinstance(members, Mapping) or not len(members):
            raise ValueError("members must be a non-empty list of dicts of hyperparameters")
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"dtype must be a float type, got {self.dtype}")
        n_hidden = self.architecture.n_hidden
        self.members = [
            m if isinstance(m, Member) else Member.from_dict(m, n_hidden, i)
            for i, m in enumerate(members)
        ]
        self.states = [self._initial_state(m) for m in self.members]
        self.rngs = [_dropout_generators(m.seed, n_hidden) for m in self.members]
        self.histories = [History() for _ in self.members]
        self.status = [Status.NEW] * len(self.members)

    @classmethod
    def from_members(cls, architecture, members: Sequence[Mapping], dtype=np.float32):
        """``Population(architecture, members, dtype)``: one member per hyperparameter dict."""
        return cls(architecture, members, dtype)

    def __len__(self) -> int:
        return len(self.members)

    @property
    def size(self) -> int:
        return len(self.members)

    def _build(self, member: Member):
        arch = self.architecture
        return mlp(
            arch.sizes,
            activation=arch.activation,
            init=arch.init if member.init is None else member.init,
            scale=member.init_scale,
            batch_norm=arch.batch_norm,
            keep_prob=member.keep_prob if member.keep_prob else 1.0,
            output=arch.output,
            seed=member.seed,
        )

    def _initial_state(self, member: Member) -> dict[str, np.ndarray]:
        model = self._build(member)
        state, dense, bn = {}, 0, 0
        for layer in model.layers:
            if isinstance(layer, Dense):
                state[f"W{dense}"] = layer.W.data.astype(self.dtype)
                if layer.b is not None:
                    state[f"b{dense}"] = layer.b.data.astype(self.dtype)
                dense += 1
            elif isinstance(layer, BatchNorm):
                state[f"gamma{bn}"] = layer.gamma.data.astype(self.dtype)
                state[f"beta{bn}"] = layer.beta.data.astype(self.dtype)
                state[f"rm{bn}"] = layer.running_mean.astype(self.dtype)
                state[f"rv{bn}"] = layer.running_var.astype(self.dtype)
                bn += 1
        return state

    def member(self, k: int):
        """Member ``k`` as an ordinary ``honed.nn`` MLP (in the population's dtype): its
        current weights, batch-norm averages and dropout generators' states. It saves,
        loads, predicts and gradient-checks like any model from :func:`honed.nn.mlp`."""
        if not 0 <= int(k) < len(self.members):
            raise ValueError(f"k must be in [0, {len(self.members)}), got {k}")
        k = int(k)
        m = self.members[k]
        model = self._build(m).to(self.dtype)
        state = self.states[k]
        dense = bn = drop = 0
        # dropout layers exist only where keep_prob < 1: map them to their hidden layer
        hidden_with_dropout = [i for i, kp in enumerate(m.keep_prob) if kp < 1.0]
        for layer in model.layers:
            if isinstance(layer, Dense):
                layer.W.data = np.array(state[f"W{dense}"], dtype=self.dtype)
                if layer.b is not None:
                    layer.b.data = np.array(state[f"b{dense}"], dtype=self.dtype)
                dense += 1
            elif isinstance(layer, BatchNorm):
                layer.gamma.data = np.array(state[f"gamma{bn}"], dtype=self.dtype)
                layer.beta.data = np.array(state[f"beta{bn}"], dtype=self.dtype)
                layer.running_mean[...] = state[f"rm{bn}"]
                layer.running_var[...] = state[f"rv{bn}"]
                bn += 1
            elif isinstance(layer, Dropout):
                source = self.rngs[k][hidden_with_dropout[drop]]
                layer.rng.bit_generator.state = source.bit_generator.state
                drop += 1
        return model

    def hyperparameters(self, k: int) -> dict:
        """Member ``k``'s hyperparameters as a plain dict (after any PBT changes)."""
        return self.members[k].to_dict()

    def best(self, key: str = "dev_error") -> int:
        """The member with the lowest best ``key`` over its history (ties: lowest index)."""
        scores = []
        for k, h in enumerate(self.histories):
            rec = h.best(key)
            scores.append((rec.get(key, np.inf) if rec else np.inf, k))
        return min(scores)[1]

    def summary(self) -> list[dict]:
        """One row per member: id, status, epochs, best and last dev error, hyperparameters."""
        rows = []
        for k, (h, st) in enumerate(zip(self.histories, self.status)):
            best = h.best("dev_error")
            rows.append(
                {
                    "member": k,
                    "status": st,
                    "epochs": len(h),
                    "best_dev_error": best.get("dev_error"),
                    "last_dev_error": h.last.get("dev_error"),
                    **self.hyperparameters(k),
                }
            )
        return rows


__all__ = ["Population"]
