"""The prompt pass of the shared-prefix forward needs two things from the model: every layer's key/value
cache at every prompt position, and the output at the last position (its logits predict the first
answer token). In the last decoder layer, the attention output projection and the MLP at the other
positions feed neither: their results only reach the final norm, whose outputs there are dropped
(`logits_to_keep=1`). `last_position_only` runs those two modules on the last position alone and pads
their output with zeros, so the log-probs, loss and gradients are unchanged and the prompt pass skips
most of a layer. The pad is left padding, so the last position is a real token in every row.
"""

from __future__ import annotations

import contextlib

import torch


def _slice_last(module, args, kwargs):
    x = args[0]
    module._mmalign_width = x.shape[1]
    return (x[:, -1:], *args[1:]), kwargs


def _pad_back(module, args, kwargs, out):
    width = module.__dict__.pop("_mmalign_width")
    if width == 1 or not isinstance(out, torch.Tensor):
        return out
    return torch.cat([out.new_zeros(out.shape[0], width - 1, *out.shape[2:]), out], dim=1)


def _tail_modules(layer) -> list[torch.nn.Module]:
    attn = getattr(layer, "self_attn", None)
    found = [getattr(attn, "o_proj", None), getattr(layer, "mlp", None)]
    return [m for m in found if isinstance(m, torch.nn.Module)]


@contextlib.contextmanager
def last_position_only(adapter, model):
    """While active, the last decoder layer's output projection and MLP see only the last position."""
    try:
        layers = adapter.decoder_layers(model)
    except (NotImplementedError, AttributeError):
        layers = None
    handles = []
    if layers is not None and len(layers):
        for m in _tail_modules(layers[-1]):
            handles.append(m.register_forward_pre_hook(_slice_last, with_kwargs=True))
            handles.append(m.register_forward_hook(_pad_back, with_kwargs=True))
    try:
        yield
    finally:
        for h in handles:
            h.remove()
