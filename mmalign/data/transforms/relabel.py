"""Reward-augmented preference data (Zhang et al. 2024, `shenao-zhang/reward-augmented-preference`).

Each pair (x, y_w, y_l) with scores (s_w, s_l) becomes two, conditioned on a target score:
    (goal(s_w) + x, y_w, y_l)   and   (goal(s_l) + x, y_l, y_w)
The first half of the output is every "chosen-conditioned" pair, the second every swapped one
(the repository concatenates the two datasets). The goal goes in a system turn (`mode="system"`) or in
front of the first user message followed by a blank line (`mode="user"`, the repository's `_nosys`
variant for models without a system role).
"""

from __future__ import annotations

import copy
from typing import Any

from .pairs import meta, pair_scores, suffixed, swap_pair, where
from .registry import Records, transform

GOAL_TEMPLATE = ("You are an assistant that generates responses for the instruction while implicitly achieving "
                 "the following target scores (on a scale of 1-10, where 1 is lowest and 10 is highest):\n"
                 "Overall score: {score}.")
MODES = ("system", "user")


def format_score(score: float) -> str:
    """Integral scores print without a decimal point, as the repository does."""
    return str(int(score)) if float(score).is_integer() else str(score)


def _prefix_first_text(message: dict[str, Any], text: str) -> None:
    content = message.get("content")
    if isinstance(content, str):
        message["content"] = text + content
        return
    for item in content:
        if item.get("type") == "text":
            item["text"] = text + item.get("text", "")
            return
    content.insert(0, {"type": "text", "text": text.rstrip()})


def add_goal(record: dict[str, Any], goal: str, mode: str, index: int) -> None:
    """Put `goal` in a system turn or in front of the first user message of the record's prompt."""
    prompt = record.get("prompt")
    if isinstance(prompt, str):
        if mode == "system":
            raise ValueError(f"{where(record, index)}: a plain-string prompt has no system turn; "
                             "use mode='user' or message-list prompts")
        record["prompt"] = f"{goal}\n\n{prompt}"
        return
    if not isinstance(prompt, list) or not prompt:
        raise ValueError(f"{where(record, index)}: needs a prompt")
    if mode == "system":
        if prompt[0].get("role") == "system":  # keep the existing system turn, goal first
            _prefix_first_text(prompt[0], goal + "\n\n")
        else:
            prompt.insert(0, {"role": "system", "content": [{"type": "text", "text": goal}]})
        return
    users = [m for m in prompt if m.get("role") == "user"]
    if not users:
        raise ValueError(f"{where(record, index)}: mode='user' needs a user message in the prompt")
    _prefix_first_text(users[0], goal + "\n\n")


@transform("reward_augment")
def reward_augment(records: Records, *, mode: str = "system", template: str = GOAL_TEMPLATE,
                   drop_inverted: bool = True) -> Records:
    """Double every pair into score-conditioned pairs (uses scores.chosen / scores.rejected).

    drop_inverted: drop pairs whose chosen scores below the rejected (the repository keeps pairs with
    chosen >= rejected by its average fine-grained score). Adds `meta.reward_target` ("chosen" or
    "rejected": whose score the goal names) and `meta.target_score`; ids get "#rw" / "#rl".
    """
    if mode not in MODES:
        raise ValueError(f"reward_augment: mode must be one of {', '.join(MODES)}, got {mode!r}")
    if "{score}" not in template:
        raise ValueError("reward_augment: template must contain '{score}'")
    kept = []
    for i, rec in enumerate(records):
        s_w, s_l = pair_scores(rec, i)
        if drop_inverted and s_w < s_l:
            continue
        kept.append((i, rec, s_w, s_l))
    positives, negatives = [], []
    for i, rec, s_w, s_l in kept:
        neg = swap_pair(copy.deepcopy(rec))
        for out, score, target, suffix, bucket in ((rec, s_w, "chosen", "#rw", positives),
                                                   (neg, s_l, "rejected", "#rl", negatives)):
            add_goal(out, template.format(score=format_score(score)), mode, i)
            meta(out).update(reward_target=target, target_score=score)
            suffixed(out, suffix)
            bucket.append(out)
    return positives + negatives
