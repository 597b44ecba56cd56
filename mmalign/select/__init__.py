"""Deciding which response is the rejection: MIA-DPO's attention probe, thresholds and post-filters.

See docs/build-data.md. The probe reads one decoder layer's attention for the answer tokens only::

    probe = AttentionProbe(model, processor, adapter)           # middle layer, mean over heads
    att = probe.measure([aug.prompt], [aug.images], [gen.token_ids])[0]
    Selector().decide(aug, att, gen.text, ground_truth, gen.logprobs)   # Decision(keep, reason, ratio, ...)
"""

from .filters import MIN_PPL, PostFilter, edit_distance, length_ratio, normalized_edit_distance, perplexity
from .probe import AttentionProbe, ImageAttention, answer_rows, probing
from .ratio import (
    PIP_CENTER_FRACTION,
    RatioOptions,
    attention_ratio,
    center_mask,
    collage_ratio,
    mask_ratio,
    pip_ratio,
    sequence_ratio,
)
from .selector import DROP_REASONS, SELECTORS, Decision, RandomSelector, Selector, build_selector, same_answer
from .thresholds import INCLUSIVE, THRESHOLDS, is_rejection, threshold_for

__all__ = [
    "DROP_REASONS", "INCLUSIVE", "MIN_PPL", "PIP_CENTER_FRACTION", "SELECTORS", "THRESHOLDS",
    "AttentionProbe", "Decision", "ImageAttention", "PostFilter", "RandomSelector", "RatioOptions", "Selector",
    "same_answer",
    "answer_rows", "attention_ratio", "build_selector", "center_mask", "collage_ratio", "edit_distance", "is_rejection",
    "length_ratio", "mask_ratio", "normalized_edit_distance", "perplexity", "pip_ratio", "probing",
    "sequence_ratio", "threshold_for",
]
