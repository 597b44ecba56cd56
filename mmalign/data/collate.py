"""Tokenise preference records with the model's own processor and chat template.

A batch keeps the prompt once per pair (left-padded, media processed once) and each answer on its own
(right-padded). The forward pass decides whether to run the prompt once (shared prefix) or to glue
prompt and answer into one sequence per answer (plain forward).

Sequences are never truncated: a record whose prompt plus longest answer exceeds `max_length` is a bad
record, because cutting through image tokens breaks every LVLM.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from PIL import Image

from .extras import check_extras, record_extras
from .image_limits import open_image
from .prompts import PromptEncoder, pad_rows
from .schema import PreferenceRecord, RecordProblem, resolve_media
from .video import load_clip


def load_image(root: Path, rel: str) -> Image.Image:
    try:
        with open_image(resolve_media(root, rel), rel) as img:
            return img.convert("RGB")
    except RecordProblem:
        raise
    except (OSError, ValueError) as exc:
        raise RecordProblem("bad_media", f"cannot read image {rel!r}: {exc}") from None


class PreferenceCollator(PromptEncoder):
    """Turns a list of PreferenceRecords into a batch of tensors (prompts encoded by `PromptEncoder`).

    Keys: prompt_input_ids / prompt_attention_mask [B, P] (left-padded), chosen_* and rejected_* [B, A]
    (right-padded, ending with the template's end-of-turn), the family's media tensors, and `ids`.
    Videos are decoded with `mmalign.data.video.load_clip` (`num_frames` frames, `frame_strategy`) and
    given to the processor as `videos=` (Qwen2-VL: pixel_values_videos, video_grid_thw).
    """

    def __init__(self, processor, adapter, root: str | Path, max_length: int | None = None,
                 needs: frozenset[str] = frozenset(), *, num_frames: int = 8, frame_strategy: str = "uniform",
                 video_backend: str = "auto", online_rejected: bool = False):
        """`needs` is the loss's: "joint" puts prompt tokens into the scored spans (DOVE, with the
        record's rejected_prompt on the rejected side); "rejected_media" scores the chosen answer under
        the record's rejected_images / rejected_videos on the rejected side (mDPO / VDPO); table extras
        come from fields. `online_rejected`: the rejected media are made later by a pair sampler, so the
        rejected side starts as a copy of the original media and the decoded clips travel in
        `batch["clips"]` (per record, a list of [T, H, W, 3] uint8 arrays)."""
        super().__init__(processor, adapter)
        self.needs = frozenset(needs)
        self.root = Path(root)
        self.max_length = max_length
        self.token_counts: dict[str, int] = {}  # record source -> prompt + longest answer, from check_length
        self.num_frames = num_frames
        self.frame_strategy = frame_strategy
        self.backend = video_backend
        self.online_rejected = online_rejected
        self.backends_used: set[str] = set()

    # -- media + prompt ---------------------------------------------------------------------------
    @property
    def video_backend(self) -> str | None:
        """The decoding backend(s) used so far ("decord", "pyav", "decord+pyav"), None before any video."""
        return "+".join(sorted(self.backends_used)) or None

    def load_video(self, rel: str):
        try:
            frames, _, info = load_clip(resolve_media(self.root, rel), self.num_frames, self.frame_strategy,
                                        seed=0, backend=self.backend)
        except ValueError as exc:
            raise RecordProblem("bad_media", f"cannot read video {rel!r}: {exc}") from None
        self.backends_used.add(info.backend)
        return frames

    def videos_of(self, rec: PreferenceRecord, rejected: bool = False) -> list:
        paths = rec.videos
        if rejected and "rejected_media" in self.needs and paths and not self.online_rejected:
            if rec.rejected_videos is None:
                raise RecordProblem("missing_field", "the objective needs 'rejected_videos' on every video record")
            paths = rec.rejected_videos
        return [self.load_video(p) for p in paths]

    def images_of(self, rec: PreferenceRecord, rejected: bool = False) -> list[Image.Image]:
        paths = rec.images
        if rejected and "rejected_media" in self.needs and not self.online_rejected and (
                paths or not rec.videos):
            if rec.rejected_images is None:
                raise RecordProblem("missing_field", "the objective needs 'rejected_images' on every record")
            paths = rec.rejected_images
        return [load_image(self.root, p) for p in paths]

    def _rejected_prompt(self, rec: PreferenceRecord):
        return rec.rejected_prompt if ("joint" in self.needs and rec.rejected_prompt) else rec.prompt

    def _rejected_answer(self, rec: PreferenceRecord):
        return rec.chosen if "rejected_media" in self.needs else rec.rejected

    def check_length(self, rec: PreferenceRecord) -> None:
        """Raise RecordProblem('too_long') when prompt + longest answer exceeds max_length (and check the
        fields the objective needs)."""
        check_extras(rec, self.needs)
        videos = self.videos_of(rec)  # decoded here so a bad video is a bad record at read time
        if "rejected_media" in self.needs:
            self.images_of(rec, rejected=True)
            if not self.online_rejected:
                self.videos_of(rec, rejected=True)
        if self.max_length is None:
            return
        enc = self.encode_prompts([self.prompt_text(rec.prompt)], self.images_of(rec), videos)
        prompt_len = int(enc["attention_mask"].sum())
        answers = [rec.chosen, rec.rejected] + list(rec.rejected_list or [])
        longest = max(len(self.answer_ids(rec.prompt, a)) for a in answers)
        self.token_counts[rec.source] = prompt_len + longest
        if prompt_len + longest > self.max_length:
            raise RecordProblem("too_long", f"prompt ({prompt_len} tokens, image tokens included) plus answer "
                                            f"({longest} tokens) exceeds max_length={self.max_length}; "
                                            "records are never truncated")

    # -- batch ------------------------------------------------------------------------------------
    def __call__(self, records: list[PreferenceRecord]) -> dict[str, Any]:
        texts = [self.prompt_text(r.prompt) for r in records]
        images = [img for r in records for img in self.images_of(r)]
        clips = [self.videos_of(r) for r in records]
        enc = self.encode_prompts(texts, images, [v for c in clips for v in c])
        pad = self.tokenizer.pad_token_id
        batch: dict[str, Any] = {
            "prompt_input_ids": enc["input_ids"],
            "prompt_attention_mask": enc["attention_mask"],
            "ids": [r.id for r in records],
        }
        for key in self.adapter.token_keys:
            if key in enc:
                batch[f"prompt_{key}"] = enc[key]
        batch.update(self.adapter.media_inputs(enc))
        if self.needs & {"joint", "rejected_media"}:
            # The rejected side has its own prompt (DOVE) or its own media (mDPO/VDPO).
            rej_texts = [self.prompt_text(self._rejected_prompt(r)) for r in records]
            rej_images = [img for r in records for img in self.images_of(r, rejected=True)]
            rej_videos = [v for c in clips for v in c] if self.online_rejected else [
                v for r in records for v in self.videos_of(r, rejected=True)]
            rej = self.encode_prompts(rej_texts, rej_images, rej_videos)
            batch["rejected_prompt_input_ids"] = rej["input_ids"]
            batch["rejected_prompt_attention_mask"] = rej["attention_mask"]
            for key in self.adapter.token_keys:
                if key in rej:
                    batch[f"rejected_prompt_{key}"] = rej[key]
            batch["rejected_media"] = self.adapter.media_inputs(rej)
        if self.online_rejected:
            batch["clips"] = clips
        batch["score_prompt"] = "joint" in self.needs
        chosen_rows = [self.answer_ids(r.prompt, r.chosen) for r in records]
        rejected_rows = [self.answer_ids(self._rejected_prompt(r), self._rejected_answer(r)) for r in records]
        batch["chosen_input_ids"], batch["chosen_attention_mask"] = pad_rows(chosen_rows, pad, left=False)
        batch["rejected_input_ids"], batch["rejected_attention_mask"] = pad_rows(rejected_rows, pad, left=False)
        extras = record_extras(records, self.needs)
        if extras:
            batch["extras"] = extras
        if self.max_length is not None:
            total = batch.get("rejected_prompt_attention_mask", batch["prompt_attention_mask"]).sum(1).maximum(
                batch["prompt_attention_mask"].sum(1)) + torch.maximum(
                batch["chosen_attention_mask"].sum(1), batch["rejected_attention_mask"].sum(1))
            for rec, n in zip(records, total.tolist()):
                if n > self.max_length:
                    raise RecordProblem("too_long", f"{rec.source}: {n} tokens exceed max_length={self.max_length}")
        return batch
