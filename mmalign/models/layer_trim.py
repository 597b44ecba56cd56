"""The last decoder layer's output projection and MLP only from a given position on.

Scoring needs logits only at the positions that predict an answer token, and the last decoder layer's
output at an earlier position feeds nothing else (no later layer reads it). Its keys and values are
still needed for every position (answers attend to the prompt), so the attention runs in full; the
attention's output projection, the residual and the MLP run only on positions >= `keep_from`, which for
LLaVA-style prompts (hundreds of image tokens) is most of the layer's work. The model's output is then
`keep_from` positions shorter.

`enable_last_layer_trim` replaces the forward of the last layer *instance* (the module tree and its
state_dict are unchanged, so checkpoints and wrappers see nothing); the trim happens only in a call that
passes `mmalign_keep_from=N` to the model, which transformers hands to every decoder layer. Under
gradient checkpointing the recomputation gets the same keyword, so it recomputes the same trimmed layer.
"""

from __future__ import annotations

import types

KEEP_FROM = "mmalign_keep_from"
# Pre-norm decoder layers (input_layernorm -> self_attn -> residual -> post_attention_layernorm -> mlp ->
# residual) whose attention applies `o_proj` to [batch, length, heads * head_dim] as its last step.
TRIMMABLE_LAYERS = frozenset({"LlamaDecoderLayer", "MistralDecoderLayer", "Qwen2DecoderLayer",
                              "Qwen2VLDecoderLayer", "Qwen2_5_VLDecoderLayer", "Qwen2_5_VLTextDecoderLayer",
                              "Qwen2VLTextDecoderLayer"})


def _trimmed_forward(self, hidden_states, *args, **kwargs):
    keep = kwargs.pop(KEEP_FROM, None)
    if not keep:
        return type(self).forward(self, hidden_states, *args, **kwargs)
    residual = hidden_states[:, keep:]
    normed = self.input_layernorm(hidden_states)
    # The attention sees every position (keys and values); its output projection only the kept ones.
    hook = self.self_attn.o_proj.register_forward_pre_hook(lambda module, inputs: (inputs[0][:, keep:],))
    try:
        attended, _ = self.self_attn(normed, *args, **kwargs)
    finally:
        hook.remove()
    hidden_states = residual + attended
    return hidden_states + self.mlp(self.post_attention_layernorm(hidden_states))


def enable_last_layer_trim(layers) -> bool:
    """Let the last of `layers` (a decoder's ModuleList) trim; False (nothing changed) for layer types not
    known to have the structure above."""
    last = layers[-1]
    if type(last).__name__ not in TRIMMABLE_LAYERS:
        return False
    if not getattr(last, "_mmalign_trims", False):
        last.forward = types.MethodType(_trimmed_forward, last)
        last._mmalign_trims = True
    return True
