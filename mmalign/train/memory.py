"""A per-device GPU memory estimate for training, component by component (formulas in docs/scaling.md).

Conventions (ZeRO paper's mixed-precision accounting, what DeepSpeed and FSDP2 mixed precision do):
  b = bytes of the compute precision (2 for bf16/fp16, 4 for fp32)
  weights    = P * b                      every parameter held once in the compute precision
  gradients  = T * b                      trainable parameters only
  optimizer  = T * (8 + 4 * (b == 2))     AdamW m and v in fp32, plus an fp32 master copy in mixed precision
  reference  = P * b                      full fine-tuning keeps a frozen copy (none with LoRA: the reference
                                          is the adapter-disabled policy; none with precompute_ref)
  Sharding over N devices: ddp none; zero2 gradients + optimizer / N; zero3 and fsdp2 weights + gradients +
  optimizer / N. mmalign's frozen reference copy is not handed to the engine, so it is never sharded.

Activations (what autograd saves in the decoder; flash/SDPA attention, so nothing quadratic in length), for
S = sequences per micro-batch x tokens per sequence (chosen and rejected run as 2B sequences):
  per token per decoder layer = b * (6h + 2kv + 4i)   (norm in/out x2, q/k/v, attention out, SwiGLU x4)
  no checkpointing   = layers * S * per_token_layer
  with checkpointing = layers * S * b * h  (each layer's input) + S * per_token_layer (one layer recomputed)
  logits             = sequences * answer_tokens * V * (b + 4)   (only answer positions are kept; fp32 softmax)
  vision tower       = counted only when it trains: vision_layers * patches * b * (8 hv + 2 iv)
Not counted: CUDA context and allocator slack (~1-2 GiB), DDP gradient buckets (a second T * b), LoRA
dropout masks, temporary all-gather buffers of FSDP2/ZeRO-3 (about two layers' weights).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

ENGINES = ("ddp", "zero2", "zero3", "fsdp2")
GIB = 1024 ** 3


@dataclass(frozen=True)
class Shapes:
    """What the estimate needs to know about a model."""

    total_params: int
    trainable_params: int
    layers: int
    hidden: int
    intermediate: int
    kv_dim: int          # num_key_value_heads * head_dim
    vocab: int
    vision_layers: int = 0
    vision_hidden: int = 0
    vision_intermediate: int = 0


@dataclass(frozen=True)
class Workload:
    precision: str                  # fp32 | bf16 | fp16
    engine: str                     # ddp | zero2 | zero3 | fsdp2
    devices: int
    sequences: int                  # per micro-batch: 2 x pairs (chosen and rejected)
    tokens_per_sequence: int        # image tokens + prompt + answer
    answer_tokens: int
    gradient_checkpointing: bool
    reference_copy: bool            # full fine-tuning with a reference that is not precomputed
    vision_trains: bool = False
    vision_patches: int = 0         # vision-tower tokens per sequence (all images)


@dataclass(frozen=True)
class Estimate:
    weights: float
    reference: float
    gradients: float
    optimizer: float
    activations: float

    @property
    def total(self) -> float:
        return self.weights + self.reference + self.gradients + self.optimizer + self.activations

    def gib(self) -> dict[str, float]:
        return {**{k: v / GIB for k, v in asdict(self).items()}, "total": self.total / GIB}


def precision_bytes(precision: str) -> int:
    return 2 if precision in ("bf16", "fp16") else 4


def activation_bytes(s: Shapes, w: Workload) -> float:
    b = precision_bytes(w.precision)
    tokens = w.sequences * w.tokens_per_sequence
    per_token_layer = b * (6 * s.hidden + 2 * s.kv_dim + 4 * s.intermediate)
    if w.gradient_checkpointing:
        decoder = s.layers * tokens * b * s.hidden + tokens * per_token_layer
    else:
        decoder = s.layers * tokens * per_token_layer
    logits = w.sequences * w.answer_tokens * s.vocab * (b + 4)
    vision = 0.0
    if w.vision_trains:
        vision = (s.vision_layers * w.sequences * w.vision_patches * b
                  * (8 * s.vision_hidden + 2 * s.vision_intermediate))
    return float(decoder + logits + vision)


def estimate(s: Shapes, w: Workload) -> Estimate:
    if w.engine not in ENGINES:
        raise ValueError(f"engine {w.engine!r}: choose one of {', '.join(ENGINES)}")
    if w.devices < 1:
        raise ValueError("devices must be at least 1")
    b = precision_bytes(w.precision)
    n = w.devices
    weights = s.total_params * b
    gradients = s.trainable_params * b
    optimizer = s.trainable_params * (8 + (4 if b == 2 else 0))
    if w.engine in ("zero2", "zero3", "fsdp2"):
        gradients /= n
        optimizer /= n
    if w.engine in ("zero3", "fsdp2"):
        weights /= n
    reference = s.total_params * b if w.reference_copy else 0
    return Estimate(float(weights), float(reference), float(gradients), float(optimizer), activation_bytes(s, w))
