"""One batched generation path for every family: data building, evaluation and judges all use it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from tqdm.auto import tqdm

from ..data.collate import load_image
from ..data.prompts import PromptEncoder
from ..data.schema import PreferenceRecord, as_messages


@dataclass
class Generation:
    text: str
    token_ids: list[int]
    logprobs: list[float] | None = None  # per generated token, under the (unprocessed) model distribution


def _prompt_and_media(record: Any, root: Path) -> tuple[list[dict], list[Image.Image], list]:
    """Accept a PreferenceRecord, or a dict with 'prompt' (messages or a string with placeholders),
    'images' (paths relative to root, or PIL images already in memory) and 'videos' (decoded clips as
    [T, H, W, C] uint8 arrays; a record holds the prompt's `<video>` items in order)."""
    if isinstance(record, PreferenceRecord):
        prompt, images, videos = record.prompt, list(record.images), []
        if record.videos:
            raise ValueError(f"record {record.id!r}: pass videos decoded (a dict with 'videos': [frames]), "
                             "so the caller chooses the frames")
    else:
        prompt = as_messages(record["prompt"])
        images, videos = list(record.get("images") or []), list(record.get("videos") or [])
    loaded = [img.convert("RGB") if isinstance(img, Image.Image) else load_image(root, img) for img in images]
    return prompt, loaded, videos


def takes_videos(processor) -> bool:
    """Whether the processor has a video input of its own (Qwen2-VL: pixel_values_videos); LLaVA-1.5 has not."""
    return getattr(processor, "video_processor", None) is not None


@torch.no_grad()
def generate(
    model,
    processor,
    records: Iterable[Any],
    *,
    adapter=None,
    root: str | Path = ".",
    max_new_tokens: int = 32,
    do_sample: bool = False,
    temperature: float = 1.0,
    top_p: float = 1.0,
    batch_size: int = 8,
    return_logprobs: bool = False,
    seed: int | None = None,
    progress: bool = False,
) -> list[Generation]:
    """Generate an answer for each record's prompt, in batches (greedy by default).

    With `return_logprobs=True`, each Generation carries log p(token) for every generated token under the
    model's own distribution (before temperature / top-p), e.g. for perplexity filters.
    """
    if adapter is None:
        from .families import adapter_for

        adapter = adapter_for(model.config, processor)
    encoder = PromptEncoder(processor, adapter)
    root = Path(root)
    tok = encoder.tokenizer
    records = list(records)
    if seed is not None:
        torch.manual_seed(seed)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    results: list[Generation] = []
    eos = [tok.eos_token_id] + ([tok.convert_tokens_to_ids("<|im_end|>")] if "<|im_end|>" in tok.get_vocab() else [])
    for start in tqdm(range(0, len(records), batch_size), disable=not progress, desc="generate", unit="batch"):
        chunk = records[start:start + batch_size]
        prompts, images, videos = [], [], []
        for rec in chunk:
            prompt, imgs, clips = _prompt_and_media(rec, root)
            prompts.append(encoder.prompt_text(prompt))
            images += imgs
            videos += clips
        if videos and not takes_videos(processor):
            raise ValueError("this model's processor has no video input: show the frames as images instead")
        enc = encoder.encode_prompts(prompts, images, videos)
        inputs = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in enc.items()}
        kwargs: dict[str, Any] = {"max_new_tokens": max_new_tokens, "do_sample": do_sample,
                                  "pad_token_id": tok.pad_token_id, "eos_token_id": list(dict.fromkeys(eos))}
        if do_sample:
            kwargs.update(temperature=temperature, top_p=top_p)
        if return_logprobs:
            kwargs.update(return_dict_in_generate=True, output_logits=True)
        out = model.generate(**inputs, **kwargs)
        sequences = out.sequences if return_logprobs else out
        new = sequences[:, inputs["input_ids"].shape[1]:]
        token_lp = None
        if return_logprobs:
            logits = torch.stack(out.logits, dim=1).float()  # [b, T, V], raw model logits
            token_lp = torch.log_softmax(logits, -1).gather(2, new[:, :logits.shape[1], None]).squeeze(-1)
        for i in range(new.shape[0]):
            ids = new[i].tolist()
            n = len(ids)
            for j, t in enumerate(ids):  # cut at the first end-of-turn (kept out of the text)
                if t in eos or t == tok.pad_token_id:
                    n = j
                    break
            text = tok.decode(ids[:n], skip_special_tokens=True).strip()
            lps = None if token_lp is None else token_lp[i, :n].tolist()
            results.append(Generation(text, ids[:n], lps))
    model.train(was_training)
    return results
