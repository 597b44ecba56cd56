"""The loss call contract and the registry every objective is built from.

A loss is a frozen dataclass whose fields are its hyper-parameters. It is called with per-sequence
summed log-probabilities and returns a `LossOutput`. What else it needs from the trainer it declares
in `needs`; the trainer supplies those extras by name and nothing more.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from ..config import option_problems

# Every extra a loss may ask for, and the keyword arguments the trainer then passes.
NEED_EXTRAS: dict[str, tuple[str, ...]] = {
    "reference": (),
    "lengths": ("chosen_lengths", "rejected_lengths"),
    "scores": ("chosen_scores", "rejected_scores"),
    "win_probs": ("chosen_win_prob", "rejected_win_prob"),
    "factuality": ("chosen_hallucinated", "rejected_hallucinated"),
    "strength": ("preference_strength",),
    "batch": (),
    # DOVE: log-probs cover the prompt tokens too (joint preference over instruction and response).
    "joint": (),
    # mDPO / VDPO: "rejected" is the chosen answer under the record's rejected media (or a perturbation).
    "rejected_media": (),
}


@dataclass
class LossOutput:
    losses: torch.Tensor  # [B] per pair, unreduced
    chosen_rewards: torch.Tensor  # [B], detached
    rejected_rewards: torch.Tensor  # [B] or [B, K], detached
    metrics: dict[str, torch.Tensor] = field(default_factory=dict)


class Loss:
    """Base for objectives. Subclasses are frozen dataclasses and set `name` and `needs`."""

    name: ClassVar[str] = ""
    needs: ClassVar[frozenset[str]] = frozenset({"reference"})
    # False for objectives that ignore the rejected answer (SFT): the trainer then logs no rewards/*.
    compares_pairs: ClassVar[bool] = True
    # True for objectives that take every rejection of a record at once (policy_rejected [B, K]); the
    # trainer spreads the others over (chosen, rejection) pairs when a record has K > 1 rejections.
    takes_rejection_sets: ClassVar[bool] = False
    # True for reward-model objectives (bt, bt_margin): they read their inputs as scores, so a value head's
    # scores may take the log-probs' place (`head: value`); the others need a policy's log-probs.
    takes_reward_scores: ClassVar[bool] = False

    def __call__(
        self,
        policy_chosen: torch.Tensor,
        policy_rejected: torch.Tensor,
        ref_chosen: torch.Tensor | None = None,
        ref_rejected: torch.Tensor | None = None,
        **extras: Any,
    ) -> LossOutput:
        raise NotImplementedError


_REGISTRY: dict[str, type[Loss]] = {}


def register(cls: type[Loss]) -> type[Loss]:
    """Class decorator: make a loss buildable by its `name`."""
    if not cls.name:
        raise ValueError(f"{cls.__qualname__} has no name")
    if cls.name in _REGISTRY:
        raise ValueError(f"loss {cls.name!r} registered twice")
    unknown = set(cls.needs) - set(NEED_EXTRAS)
    if unknown:
        raise ValueError(f"{cls.name}: unknown needs {sorted(unknown)}")
    _REGISTRY[cls.name] = cls
    return cls


def available_losses() -> list[str]:
    return sorted(_REGISTRY)


def loss_class(name: str) -> type[Loss]:
    if name not in _REGISTRY:
        raise KeyError(f"unknown loss {name!r}; valid losses: {', '.join(available_losses())}")
    return _REGISTRY[name]


def hyperparameters(cls: type[Loss]) -> dict[str, Any]:
    """A loss's hyper-parameters and their defaults."""
    return {
        f.name: (f.default if f.default is not dataclasses.MISSING else f.default_factory())  # type: ignore[misc]
        for f in dataclasses.fields(cls)  # type: ignore[arg-type]
    }


def build_loss(name: str, **hyper: Any) -> Loss:
    """Build a loss by name: `build_loss("ipo", beta=0.1)`. Unknown names, unknown hyper-parameters and values
    of the wrong type raise ValueError naming the loss and the key."""
    if not isinstance(name, str):  # a config mistake: ValueError, as for every other one here
        raise ValueError(  # noqa: TRY004
            f"a loss name is text, got {name!r}; valid losses: {', '.join(available_losses())}")
    try:
        cls = loss_class(name)
    except KeyError as exc:
        raise ValueError(exc.args[0]) from None
    valid = hyperparameters(cls)
    problems = option_problems(hyper, valid)
    if problems:
        raise ValueError(f"loss {name!r}: {'; '.join(problems)}")
    bad = sorted(set(hyper) - set(valid))
    if bad:
        listing = ", ".join(f"{k}={v!r}" for k, v in valid.items()) or "(none)"
        raise ValueError(f"loss {name!r} has no hyper-parameter {', '.join(bad)}; valid: {listing}")
    try:
        return cls(**hyper)
    except TypeError as exc:  # a value its checks did not expect (ValueErrors already say what is wrong)
        raise ValueError(f"loss {name!r}: {exc} (hyper-parameters: {', '.join(sorted(hyper)) or 'none'})") from None


def build_loss_from_config(spec: dict[str, Any] | str) -> Loss:
    """Build from a config entry: `"sigmoid"` or `{"name": "ipo", "beta": 0.1}`."""
    if isinstance(spec, str):
        return build_loss(spec)
    if not isinstance(spec, dict):
        raise ValueError(f"a loss is a name or {{name: NAME, HYPER: VALUE, ...}}, got {spec!r}")  # noqa: TRY004
    spec = dict(spec)
    if "name" not in spec:
        raise ValueError(f"loss config needs a 'name'; valid losses: {', '.join(available_losses())}")
    name = spec.pop("name")
    not_text = [repr(k) for k in spec if not isinstance(k, str)]
    if not_text:
        raise ValueError(f"loss {name!r}: hyper-parameter names are text, got {', '.join(not_text)}")
    return build_loss(name, **spec)
