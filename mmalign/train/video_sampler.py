"""Online (PaMi-)VDPO: candidate clips made and scored inside the trainer, so no rejected video is stored.

Configured by `pair_sampler: {name: pami_vdpo, k: 4, schedule: linear, floor: 0.01, ...}`. Each
micro-batch (collated with `online_rejected`, so the decoded clips travel in `batch["clips"]`):

1. K candidate clips per record (`mmalign.select.video.make_candidates`), seeded by (run seed, step,
   record id, video), so a rerun makes the same candidates;
2. the reference (no gradients) predicts the fixed answer given the original clip and each candidate;
   `prompt_aware_distance` (JS by default) per candidate;
3. the floor drops near-identical candidates and the close-to-far schedule picks one per record
   (progress = step / (steps - 1));
4. the rejected side becomes the chosen answer under the pick (loss aggregation `select`) or under all K
   candidates (other aggregations: K rejected contexts per record, so rejected log-probs `[B, K]`, with extras `rejected_mask` (above the
   floor), `rejected_weights` (schedule weights) and `rejected_select` (the pick)).

`history` keeps, per call, the distances, picks and perturbation names (tests and the experiment read it).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import torch

from ..errors import MMAlignError
from ..select.video import (
    DEFAULT_PERTURBATIONS,
    METRICS,
    SCHEDULES,
    candidate_weights,
    choose,
    derive_seed,
    make_candidates,
    prompt_aware_distance,
)
from .reference import reference_logps
from .scored_tokens import ScoreRequest
from .scoring_batch import ScoringBatch


@dataclass(frozen=True)
class PamiVDPOOptions:
    """Options of the `pami_vdpo` pair sampler (all defaults are our choices; see docs/video.md)."""

    k: int = 4  # candidates per record
    schedule: str = "linear"  # linear | cosine | constant_close | constant_far
    floor: float = 0.01  # distance below which a candidate counts as a false rejection (nats, JS <= ln 2)
    metric: str = "js"  # js | kl | logp_gap
    perturbations: tuple[str, ...] = DEFAULT_PERTURBATIONS
    params: dict = field(default_factory=dict)  # per-perturbation parameters, {name: {param: value}}
    weight_sharpness: float = 4.0  # aggregation 'weighted': how tightly weights follow the schedule

    def __post_init__(self):
        if self.schedule not in SCHEDULES:
            raise MMAlignError(f"pair_sampler.schedule: {self.schedule!r} is not one of {', '.join(SCHEDULES)}")
        if self.metric not in METRICS:
            raise MMAlignError(f"pair_sampler.metric: {self.metric!r} is not one of {', '.join(METRICS)}")
        if self.k < 1:
            raise MMAlignError(f"pair_sampler.k must be >= 1, got {self.k}")


class PamiVDPOSampler:
    def __init__(self, options: PamiVDPOOptions, *, processor, forward, total_steps: int, seed: int,
                 aggregation: str = "select"):
        self.options = options
        self.video_processor = getattr(processor, "video_processor", None)
        if self.video_processor is None:
            raise MMAlignError("pair_sampler pami_vdpo needs a model whose processor handles videos "
                               "(e.g. tiny-qwen2-vl, Qwen2-VL)")
        self.forward = forward  # the run's PairForward: its scoring backend scores the candidates
        self.adapter = forward.adapter
        self.total_steps = total_steps
        self.seed = seed
        self.aggregation = aggregation
        self.history: list[dict[str, Any]] = []

    # -- candidates -------------------------------------------------------------------------------
    def candidates(self, batch, step: int) -> list[list[list]]:
        """[record][candidate] -> list of Candidate (one per video of the record)."""
        o = self.options
        out = []
        for rid, videos in zip(batch["ids"], batch["clips"]):
            per_video = [make_candidates(v, o.k, seed=derive_seed(self.seed, step, rid, j),
                                         perturbations=o.perturbations, params=o.params)
                         for j, v in enumerate(videos)]
            out.append([[pv[c] for pv in per_video] for c in range(o.k)])
        return out

    def encode(self, clips: list[np.ndarray], device) -> dict[str, torch.Tensor]:
        enc = self.video_processor(videos=clips, return_tensors="pt")
        return {"pixel_values_videos": enc["pixel_values_videos"].to(device),
                "video_grid_thw": enc["video_grid_thw"].to(device)}

    # -- scoring ---------------------------------------------------------------------------------
    def distances(self, model, batch, cand_media) -> torch.Tensor:
        """[B, K] prompt-aware distances: the chosen answer's predictive distributions under the original
        clip against those under each candidate, from one scoring call over B + B*K contexts."""
        b, k = len(batch["ids"]), self.options.k
        token_keys = [key for key in self.adapter.token_keys if f"prompt_{key}" in batch]

        def contexts(t):  # each original context, then each record's K candidate contexts
            return torch.cat([t, t.repeat_interleave(k, 0)])

        media = {key: torch.cat([batch[key], cand_media[key]]) for key in ("pixel_values_videos", "video_grid_thw")}
        sb = ScoringBatch(
            context_ids=contexts(batch["prompt_input_ids"]), context_mask=contexts(batch["prompt_attention_mask"]),
            context_tokens={key: contexts(batch[f"prompt_{key}"]) for key in token_keys}, media=media,
            answer_ids=contexts(batch["chosen_input_ids"]), answer_mask=contexts(batch["chosen_attention_mask"]),
            answer_context=torch.arange(b * (k + 1), device=batch["prompt_input_ids"].device))
        logits = self.forward.scores(model, self.forward.cached(model, sb), ScoreRequest(answer_logits=True)).answer_logits
        mask, ids = batch["chosen_attention_mask"].repeat_interleave(k, 0), batch["chosen_input_ids"].repeat_interleave(k, 0)
        d = prompt_aware_distance(logits[:b].repeat_interleave(k, 0), logits[b:], mask, self.options.metric, ids)
        return d.view(b, k)

    # -- the hook ---------------------------------------------------------------------------------
    def __call__(self, batch, *, step: int, policy, reference):
        if "clips" not in batch:
            raise MMAlignError("pair_sampler pami_vdpo needs video records (a 'videos' field) collated online")
        if batch.get("pixel_values") is not None:
            raise MMAlignError("pair_sampler pami_vdpo takes video-only records (this batch also has images)")
        o = self.options
        device = batch["prompt_input_ids"].device
        cands = self.candidates(batch, step)
        flat = [c.frames for rec in cands for cand in rec for c in cand]
        cand_media = self.encode(flat, device)
        per_row = [len(cand) for rec in cands for cand in rec]  # videos per (record, candidate)
        d = reference_logps(reference, policy, lambda m: self.distances(m, batch, cand_media)).float().cpu()
        progress = step / max(1, self.total_steps - 1)
        choices = [choose(row.numpy(), progress, floor=o.floor, schedule=o.schedule) for row in d]
        self.history.append({"step": step, "ids": list(batch["ids"]), "distances": d.numpy(),
                             "picked": [c.index for c in choices], "quantile": choices[0].quantile,
                             "names": [[cand[0].name for cand in rec] for rec in cands]})
        batch = dict(batch)
        if self.aggregation == "select":
            rows = [i * o.k + c.index for i, c in enumerate(choices)]
            batch["rejected_media"] = _take(cand_media, per_row, rows)
            return batch
        batch["rejected_media"] = cand_media
        # K rejected contexts per record, prompt-major, each carrying the chosen answer.
        for key in [k for k in batch if k.startswith("rejected_prompt_") or k.startswith("rejected_")
                    and k.endswith(("_input_ids", "_attention_mask"))]:
            batch[key] = batch[key].repeat_interleave(o.k, 0)
        weights = [candidate_weights(row.numpy(), progress, floor=o.floor, schedule=o.schedule,
                                     sharpness=o.weight_sharpness) for row in d]
        batch["extras"] = {**batch.get("extras", {}),
                           "rejected_mask": torch.tensor(np.stack([c.kept for c in choices]), device=device),
                           "rejected_weights": torch.tensor(np.stack(weights), dtype=torch.float32, device=device),
                           "rejected_select": torch.tensor([c.index for c in choices], device=device)}
        return batch


def _take(media: dict[str, torch.Tensor], per_row: list[int], rows: list[int]) -> dict[str, torch.Tensor]:
    """The videos of the given (record, candidate) rows from a flattened pixel_values_videos batch."""
    thw = media["video_grid_thw"]
    sizes = thw.prod(1).tolist()
    video_start = np.cumsum([0] + per_row)
    patch_start = np.cumsum([0] + sizes)
    vids = [v for r in rows for v in range(video_start[r], video_start[r + 1])]
    pv = torch.cat([media["pixel_values_videos"][patch_start[v]:patch_start[v + 1]] for v in vids])
    return {"pixel_values_videos": pv, "video_grid_thw": thw[vids]}


SAMPLERS = {"pami_vdpo": (PamiVDPOOptions, PamiVDPOSampler)}


def build_pair_sampler(spec: dict, *, loss, processor, forward, total_steps: int, seed: int):
    """A pair sampler from the config's `pair_sampler` mapping ({} = none)."""
    if not spec:
        return None
    spec = dict(spec)
    name = spec.pop("name", None)
    if name not in SAMPLERS:
        raise MMAlignError(f"pair_sampler.name: {name!r} is not one of {', '.join(SAMPLERS)}")
    if "rejected_media" not in loss.needs:
        raise MMAlignError(f"pair_sampler {name!r} makes rejected media; loss {loss.name!r} does not use them "
                           "(use vdpo or mdpo_image)")
    options_cls, sampler_cls = SAMPLERS[name]
    valid = {f.name for f in fields(options_cls)}
    unknown = sorted(set(spec) - valid)
    if unknown:
        raise MMAlignError(f"pair_sampler: unknown key(s) {', '.join(unknown)}; valid: name, {', '.join(sorted(valid))}")
    if "perturbations" in spec:
        spec["perturbations"] = tuple(spec["perturbations"])
    return sampler_cls(options_cls(**spec), processor=processor, forward=forward, total_steps=total_steps, seed=seed,
                       aggregation=getattr(loss, "aggregation", "select"))
