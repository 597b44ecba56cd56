"""Asking a model to judge: prompt templates, media, and seeded sampling shared by the generative judges.

A template is a text file with placeholders (`{prompt}`, `{response}`, or `{response_a}`/`{response_b}`);
users replace it with `prompt=FILE` in the judge spec. The judged record's media are shown before the
filled template, one `<image>`/`<video>` placeholder each, with the question's own placeholders removed.

Sampling: all the questions about one record go to `mmalign.models.generate` as fixed chunks, each seeded
from (seed, record id, chunk), so the replies do not depend on which records were judged before (a
resumed run gets the same replies). With temperature 0 the judge is greedy and asked once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..data.media_inputs import generation_input
from ..data.schema import as_messages
from ..errors import MMAlignError
from ..io import read_utf8
from .base import derived_seed

PLACEHOLDER = re.compile(r"<(image|video)>\n?")


def load_template(path: str | None, default: str, needs: tuple[str, ...]) -> str:
    """The template at `path`, or the packaged `default` (mmalign/judge/prompts/); it must hold `needs`."""
    if path:
        try:
            text = read_utf8(path)  # not UTF-8: a DataError naming the file and line
        except OSError as exc:
            raise MMAlignError(f"cannot read the judge prompt {path}: {exc}") from None
    else:
        text = resources.files(__package__).joinpath("prompts", default).read_text(encoding="utf-8")
    missing = [n for n in needs if "{" + n + "}" not in text]
    if missing:
        raise MMAlignError(f"judge prompt {path or default} lacks {', '.join('{' + n + '}' for n in missing)}")
    return text


def fill(template: str, **values: str) -> str:
    """Put the values in (plain replacement: braces elsewhere in the template or the values are left alone)."""
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


def question_text(record: dict) -> str:
    """The user's words of the record's prompt, media placeholders removed."""
    messages = as_messages(record["prompt"])
    users = [m for m in messages if m["role"] == "user"] or messages
    words = " ".join(item["text"] for m in users for item in m["content"] if item.get("type") == "text")
    return PLACEHOLDER.sub("", words).strip()


@dataclass
class Asker:
    """A loaded model that answers judge prompts about records (see the module docstring)."""

    model: Any
    processor: Any
    adapter: Any
    root: Path
    samples: int = 1
    temperature: float = 0.0
    top_p: float = 1.0
    max_new_tokens: int = 128
    batch_size: int = 8
    seed: int = 0
    video_frames: int = 0

    def __post_init__(self):
        from ..models.generate import takes_videos

        if self.samples < 1 or self.batch_size < 1 or self.max_new_tokens < 1:
            raise MMAlignError("judge samples, batch_size and max_new_tokens must be at least 1")
        if self.temperature < 0 or not 0 < self.top_p <= 1:
            raise MMAlignError("judge temperature must be >= 0 and top_p in (0, 1]")
        self.native_video = takes_videos(self.processor)

    def _input(self, record: dict, text: str) -> dict:
        images, videos = record.get("images") or [], record.get("videos") or []
        prompt = "<image>\n" * len(images) + "<video>\n" * len(videos) + text
        return generation_input(prompt, images, videos, self.root, video_frames=self.video_frames,
                                native_video=self.native_video)

    def ask(self, record: dict, texts: list[str]) -> list[list[str]]:
        """Replies to each judge prompt about `record`: `samples` of them each (one when greedy)."""
        from .. import models  # looked up at call time, so tests can watch models.generate

        sampling = self.temperature > 0
        repeats = self.samples if sampling else 1
        inputs = [self._input(record, t) for t in texts for _ in range(repeats)]
        replies: list[str] = []
        for chunk, start in enumerate(range(0, len(inputs), self.batch_size)):
            outs = models.generate(
                self.model, self.processor, inputs[start:start + self.batch_size], adapter=self.adapter,
                root=self.root, max_new_tokens=self.max_new_tokens, do_sample=sampling,
                temperature=self.temperature if sampling else 1.0, top_p=self.top_p, batch_size=self.batch_size,
                seed=derived_seed(self.seed, record["id"], chunk) if sampling else None)
            replies += [o.text for o in outs]
        return [replies[i * repeats:(i + 1) * repeats] for i in range(len(texts))]
