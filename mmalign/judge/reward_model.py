"""The reward-model judge: a model trained with `head: value` scores each candidate with one number.

    judge = load_reward("runs/rm/final")          # or `--judge reward-model:model=runs/rm/final`
    judge.score(records)                          # [[score per candidate] per record]

Two saved layouts load (docs/reward-models.md):

- text reward models: a Hugging Face sequence-classification folder (`AutoModelForSequenceClassification`,
  num_labels 1); transformers pools the score at each row's last non-pad token;
- every family: the backbone (full weights or a LoRA adapter) plus `value_head.safetensors` and
  `value_head.json`; the score is the head applied to the backbone's final hidden state at the answer's
  last token.

Each candidate is scored as its own row, [prompt + media | answer] right-padded, the answer rendered by the
model's chat template as in training (end-of-turn token included), so the scores are the ones the trainer
computed for the same prompt and answer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..data.media_inputs import generation_input
from ..errors import MMAlignError
from .base import Score

SEQUENCE_CLASSIFICATION = "ForSequenceClassification"


def reward_layout(path: Path) -> str:
    """'value-head' or 'sequence-classification'; a clear error for a folder that is neither."""
    from ..models.value_head import HEAD_CONFIG

    if not path.is_dir():
        raise MMAlignError(f"reward model {str(path)!r}: no such folder")
    if (path / HEAD_CONFIG).is_file():
        return "value-head"
    try:
        architectures = json.loads((path / "config.json").read_text(encoding="utf-8")).get("architectures") or []
    except (OSError, ValueError):
        architectures = []
    if any(str(a).endswith(SEQUENCE_CLASSIFICATION) for a in architectures):
        return "sequence-classification"
    raise MMAlignError(f"reward model {str(path)!r}: neither {HEAD_CONFIG} nor a sequence-classification "
                       "config.json is there; train one with `head: value` (docs/reward-models.md)")


class RewardModelJudge:
    """Scores candidates with a reward model (see the module docstring); build it with `load_reward`."""

    def __init__(self, model, processor, adapter, head_weight, root: Path, *, video_frames: int = 0,
                 batch_size: int = 8, name: str = "reward-model"):
        from ..data.prompts import PromptEncoder
        from ..models.generate import takes_videos

        if batch_size < 1:
            raise MMAlignError("judge reward-model: batch_size must be at least 1")
        self.name = name
        self.model = model.eval()
        self.adapter = adapter
        self.head_weight = head_weight  # [1, H]; None: the model is a sequence classifier and pools itself
        self.encoder = PromptEncoder(processor, adapter)
        self.root = Path(root)
        self.video_frames = video_frames
        self.batch_size = batch_size
        self.native_video = adapter.is_vision and takes_videos(processor)

    def score(self, records: list[dict]) -> list[list[Score]]:
        return [self.score_record(record) for record in records]

    def score_record(self, record: dict) -> list[Score]:
        from ..data.collate import load_image

        shown = generation_input(record["prompt"], record.get("images") or [], record.get("videos") or [],
                                 self.root, video_frames=self.video_frames, native_video=self.native_video)
        messages = shown["prompt"]
        images = [img if not isinstance(img, str) else load_image(self.root, img) for img in shown["images"]]
        videos = shown.get("videos") or []
        prompt = self.encoder.prompt_text(messages)
        answers = [self.encoder.answer_ids(messages, [{"role": "assistant", "content": [
            {"type": "text", "text": c["text"]}]}]) for c in record["candidates"]]
        scores: list[Score] = []
        for start in range(0, len(answers), self.batch_size):
            chunk = answers[start:start + self.batch_size]
            n = len(chunk)
            enc = self.encoder.encode_prompts([prompt] * n, images * n or None, videos * n or None)
            scores += self._rows(enc, chunk)
        return scores

    def _rows(self, enc: dict[str, Any], answers: list[list[int]]) -> list[float]:
        """Scores of rows [prompt | answer]: every prompt is the same, so no padding sits inside a row."""
        import torch

        from ..data.prompts import pad_rows
        from ..models.families import unwrap_model

        device = next(self.model.parameters()).device
        ids, mask = pad_rows(answers, self.encoder.pad_token_id, left=False)
        inputs = {"input_ids": torch.cat([enc["input_ids"], ids], 1),
                  "attention_mask": torch.cat([enc["attention_mask"], mask], 1),
                  **self.adapter.media_inputs(enc)}
        for key in self.adapter.token_keys:  # per-token media types (Qwen): answers are text (0)
            if key in enc:
                inputs[key] = torch.cat([enc[key], torch.zeros_like(ids)], 1)
        inputs = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in inputs.items()}
        with torch.no_grad():
            if self.head_weight is None:
                return self.model(**inputs).logits[:, 0].float().tolist()
            hidden = unwrap_model(self.model).model(**inputs).last_hidden_state  # after the final norm
            last = enc["input_ids"].shape[1] + mask.sum(1).to(device) - 1
            picked = hidden[torch.arange(len(answers), device=device), last]
            return (picked.float() @ self.head_weight.to(device).float().T)[:, 0].tolist()


def load_reward(path: str | Path, *, root: str | Path = ".", device: str | None = None, dtype: str | None = None,
                video_frames: int = 0, batch_size: int = 8) -> RewardModelJudge:
    """A judge scoring candidates with the reward model saved at `path` (either layout)."""
    path = Path(path).expanduser()
    layout = reward_layout(path)
    name = f"reward-model-{path.absolute().name}"
    common = {"video_frames": video_frames, "batch_size": batch_size, "name": name}
    if layout == "value-head":
        from ..models import load
        from ..models.value_head import read_head, text_config

        loaded = load(path, dtype=dtype, device=device)
        weight, _ = read_head(path)
        hidden = text_config(loaded.model).hidden_size
        if weight.shape[1] != hidden:
            raise MMAlignError(f"{path}: the value head takes {weight.shape[1]} features but the model's hidden "
                               f"size is {hidden}")
        return RewardModelJudge(loaded.model, loaded.processor, loaded.adapter, weight, Path(root), **common)
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from ..models.families import adapter_for
    from ..models.load import DTYPES

    kwargs = {"dtype": DTYPES[dtype]} if dtype else {}
    # No code from the model folder is run (transformers' default would ask on a terminal).
    model = AutoModelForSequenceClassification.from_pretrained(path, trust_remote_code=False, **kwargs)
    if device:
        model.to(device)
    tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=False)
    return RewardModelJudge(model, tokenizer, adapter_for(model.config, tokenizer), None, Path(root), **common)
