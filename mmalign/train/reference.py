"""The reference policy: a frozen copy for full fine-tuning, the adapter-disabled model for LoRA."""

from __future__ import annotations

import contextlib
import copy

import torch


class FrozenCopy:
    """A frozen deep copy of the initial policy (full fine-tuning)."""

    def __init__(self, model):
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    def context(self, policy):
        return self.model, contextlib.nullcontext()


class AdapterDisabled:
    """LoRA: the policy with its adapters switched off is the reference, so no second copy is kept."""

    def context(self, policy):
        inner = policy.module if hasattr(policy, "module") and not hasattr(policy, "disable_adapter") else policy
        return policy, inner.disable_adapter()


def reference_logps(reference, policy, forward):
    """Run `forward(model)` on the reference without gradients."""
    model, ctx = reference.context(policy)
    with torch.no_grad(), ctx:
        return forward(model)
