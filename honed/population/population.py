"""``Population``: P members of one network, each with its own hyperparameters.

A member is an ordinary ``honed.nn`` model: the population keeps each member's standalone
model (weights, batch-norm averages, dropout generators), and the trainer trains the members
still training as one model with a member axis (:func:`honed.nn.members.stack`), writing a
member back (:func:`honed.nn.members.unstack`) when it stops. Three ways to say what the
members are:

* ``Population(architecture, members)`` (or :meth:`Population.from_members`): an MLP;
  member k starts exactly as ``honed.nn.mlp(sizes, ..., scale=init_scale_k,
  keep_prob=keep_prob_k, seed=seed_k)`` does (with ``init=init_k`` for a member that has its
  own initializer): the same initial weights and dropout generators.
* ``Population(model, members)``: any built ``honed.nn`` model (``Sequential(Dense, Maxout,
  Dense)``, your own ``Module``): every member starts as a copy of it (the same weights and
  dropout generators' states; a member's ``keep_prob``, when given, sets its ``Dropout``
  layers in order).
* ``Population(builder, members)``: ``builder(member_dict) -> Module`` builds member k's
  model from its hyperparameter dict (its ``seed`` for the initial weights, say).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

import numpy as np

from honed.nn.layers import Dropout
from honed.nn.models import mlp
from honed.nn.module import Module
from honed.population.members import Architecture, Member
from honed.train.metrics import History
from honed.train.status import Status


def _dropouts(model) -> list:
    return [m for m in model.modules() if isinstance(m, Dropout)]


class Population:
    """A population of networks of one structure.

    Args:
        model_or_builder: an :class:`Architecture` (or a dict of its fields, or a list of
            sizes) for MLPs; a built ``honed.nn.Module``, copied per member; or a callable
            ``builder(member_dict) -> Module``.
        members: one dict of hyperparameters per member (keys in
            :mod:`honed.population.members`).
        dtype: float32 (training) or float64 (exact comparisons, gradient checks).

    Attributes:
        architecture: the :class:`Architecture`, or None for a model or a builder.
        members: the validated :class:`Member` of each member (PBT changes them).
        models: each member's standalone model (current while it is not training).
        histories: one :class:`honed.train.metrics.History` per member.
        status: per member, a :class:`~honed.train.Status`: ``new``, ``running``,
            ``complete``, ``early_stopped``, ``diverged`` or ``pruned``.
    """

    def __init__(self, model_or_builder, members: Sequence[Mapping], dtype=np.float32):
        if isinstance(members, Mapping) or not len(members):
            raise ValueError("members must be a non-empty list of dicts of hyperparameters")
        self.dtype = np.dtype(dtype)
        if self.dtype.kind != "f":
            raise ValueError(f"dtype must be a float type, got {self.dtype}")
        self.architecture = None
        if isinstance(model_or_builder, Module):
            template = model_or_builder
            self._builder = lambda values: copy.deepcopy(template)
        elif callable(model_or_builder) and not isinstance(model_or_builder, type):
            self._builder = model_or_builder
        else:
            self.architecture = Architecture.coerce(model_or_builder)
            self._builder = None
        # an MLP member's dropout generators, one per hidden layer (honed.nn.mlp's spawn
        # tree), kept here so a Dropout that PBT switches on draws what mlp's would
        self.rngs: list[list[np.random.Generator]] = []
        self.members, self.models = [], []
        for i, values in enumerate(members):
            member, model = self._new_member(values, i)
            self.members.append(member)
            self.models.append(model)
        self.histories = [History() for _ in self.members]
        self.status = [Status.NEW] * len(self.members)

    @classmethod
    def from_members(cls, architecture, members: Sequence[Mapping], dtype=np.float32):
        """``Population(architecture, members, dtype)``: one member per hyperparameter dict."""
        return cls(architecture, members, dtype)

    def _new_member(self, values, index: int) -> tuple[Member, Module]:
        if isinstance(values, Member):
            values, member = values.to_dict(), values
        else:
            member = None
        if self.architecture is not None:
            member = member or Member.from_dict(values, self.architecture.n_hidden, index)
            self.rngs.append(_dropout_generators(member.seed, self.architecture.n_hidden))
            return member, self._build(member, self.rngs[-1])
        model = self._builder(dict(values))
        if not isinstance(model, Module):
            raise TypeError(
                f"the builder must return a honed.nn.Module, got {type(model).__name__} "
                f"for members[{index}]"
            )
        model = model.to(self.dtype)
        dropouts = _dropouts(model)
        member = member or Member.from_dict(values, len(dropouts), index)
        if "keep_prob" in values:
            for layer, keep in zip(dropouts, member.keep_prob):
                layer.keep_prob = keep
        else:
            member.keep_prob = [layer.keep_prob for layer in dropouts]
        return member, model

    def __len__(self) -> int:
        return len(self.members)

    @property
    def size(self) -> int:
        return len(self.members)

    # -- the members' models ------------------------------------------------------------
    def _build(self, member: Member, rngs=None, keep_prob=None):
        """``mlp`` of the architecture for ``member`` (its dropout layers drawing from
        ``rngs``, one per hidden layer)."""
        arch = self.architecture
        keep = member.keep_prob if keep_prob is None else keep_prob
        model = mlp(
            arch.sizes,
            activation=arch.activation,
            init=arch.init if member.init is None else member.init,
            scale=member.init_scale,
            batch_norm=arch.batch_norm,
            keep_prob=keep if keep else 1.0,
            output=arch.output,
            seed=member.seed,
        ).to(self.dtype)
        if rngs is not None:
            hidden = [i for i, k in enumerate(keep) if k < 1.0]
            for i, layer in zip(hidden, _dropouts(model)):
                layer.rng = rngs[i]
        return model

    def dropout_hidden(self, ids: Sequence[int]) -> list[int] | None:
        """The hidden layers of an MLP that :meth:`template` gives a ``Dropout`` (None when
        not an MLP: the model's own)."""
        if self.architecture is None:
            return None
        return [
            i
            for i in range(self.architecture.n_hidden)
            if any(self.members[k].keep_prob[i] < 1.0 for k in ids)
        ]

    def dropout_settings(self, k: int, ids: Sequence[int]) -> tuple[list, list] | None:
        """Member ``k``'s keep_prob and generator for each ``Dropout`` of
        ``template(ids)``; None when its own model's Dropouts are the template's (not an
        MLP)."""
        if self.architecture is None:
            return None
        hidden = self.dropout_hidden(ids)
        member = self.members[k]
        return [member.keep_prob[i] for i in hidden], [self.rngs[k][i] for i in hidden]

    def template(self, ids: Sequence[int]):
        """The structure the members ``ids`` train in together (for
        :func:`honed.nn.members.stack`): for an MLP, ``Dropout`` after every hidden layer
        where one of them drops units; else member ``ids[0]``'s model."""
        if self.architecture is None:
            return self.models[ids[0]]
        hidden = set(self.dropout_hidden(ids))
        keeps = [0.5 if i in hidden else 1.0 for i in range(self.architecture.n_hidden)]
        return self._build(self.members[ids[0]], keep_prob=keeps)

    def model_for(self, k: int):
        """Member ``k``'s model with the structure its hyperparameters ask for now: for an
        MLP whose ``keep_prob`` moved to or from 1 (PBT), a new ``mlp`` holding its
        parameters, buffers and the dropout generators it has."""
        model = self.models[k]
        if self.architecture is None:
            for layer, keep in zip(_dropouts(model), self.members[k].keep_prob):
                layer.keep_prob = keep
            return model
        wanted = [keep for keep in self.members[k].keep_prob if keep < 1.0]
        have = [layer.keep_prob for layer in _dropouts(model)]
        if len(wanted) == len(have):
            for layer, keep in zip(_dropouts(model), wanted):
                layer.keep_prob = keep
            return model
        fresh = self._build(self.members[k], self.rngs[k])
        for p, q in zip(fresh.parameters(), model.parameters()):
            p.data = q.data.copy()
        for (module, attr), value in zip(_buffer_slots(fresh), model.buffers()):
            module.register_buffer(attr, value.copy())
        self.models[k] = fresh
        return fresh

    def member(self, k: int):
        """Member ``k`` as an ordinary ``honed.nn`` model (in the population's dtype, a copy):
        its current weights, batch-norm averages and dropout generators' states. It saves,
        loads, predicts and gradient-checks like any model (for an architecture, one from
        :func:`honed.nn.mlp`)."""
        if not 0 <= int(k) < len(self.members):
            raise ValueError(f"k must be in [0, {len(self.members)}), got {k}")
        return copy.deepcopy(self.model_for(int(k)))

    # -- results ------------------------------------------------------------------------
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


def _buffer_slots(model) -> list[tuple[Module, str]]:
    """(module, attribute) of every buffer, in ``model.buffers()`` order."""
    slots = []
    for module in model.modules():
        for attr in module._buffer_names:
            slots.append((module, attr))
    return slots


def _dropout_generators(seed: int, n_hidden: int) -> list[np.random.Generator]:
    # The same spawn tree as honed.nn.models.MLP, so masks match a standalone model's.
    _, dropout_seq = np.random.SeedSequence(seed).spawn(2)
    return [np.random.default_rng(s) for s in dropout_seq.spawn(max(n_hidden, 1))][:n_hidden]


__all__ = ["Population"]
