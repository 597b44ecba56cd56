"""The generation path: a model behind `mmalign.models.generate` as an `answer_fn` for `run_eval`.

A question's prompt is used as written when it already holds one `<image>`/`<video>` placeholder per
media item (synth-multi's sequence prompts do); otherwise one placeholder per item is put in front of
it ("<image>\\nIs there a cat in the image?"), as the official evaluation scripts do for LLaVA.

Video questions are answered from `video_frames` frames sampled uniformly (`mmalign.data.video.load_clip`):
through the model's own video input when its processor has one (Qwen2-VL: the frames become temporal
patches, as in training), otherwise as that many images (LLaVA-1.5). With `video_frames=0` (the default) a
video benchmark is an error that says so.
"""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image

from ..errors import DataError, MMAlignError
from .base import Question
from .predictions import AnswerFn

PLACEHOLDER = re.compile(r"<(image|video)>")


def _load_image(path: str, qid: str) -> Image.Image:
    from ..data.image_limits import open_image
    from ..data.schema import RecordProblem

    try:
        with open_image(path, path) as img:
            return img.convert("RGB")
    except RecordProblem as exc:
        raise DataError(f"question {qid!r}: {exc.message}") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"question {qid!r}: cannot read image {path}: {exc}") from None


def _load_clip(path: str, qid: str, n: int):
    """[n, H, W, C] uint8 frames sampled uniformly."""
    from ..data.schema import RecordProblem
    from ..data.video import load_clip

    try:
        frames, _, _ = load_clip(path, num_samples=n, strategy="uniform")
    except (RecordProblem, ValueError) as exc:  # missing, corrupt or truncated file
        raise DataError(f"question {qid!r}: cannot read video {path}: {exc}") from None
    return frames


def question_record(question: Question, video_frames: int = 0, native_video: bool = False) -> dict:
    """{"prompt": str with placeholders, "images": [PIL images], "videos": [frames]} for
    `mmalign.models.generate`; a video goes in as a video (`native_video`) or as `video_frames` images."""
    prompt = question.prompt
    found = PLACEHOLDER.findall(prompt)
    if question.media_type == "none" or not question.media:
        return {"prompt": PLACEHOLDER.sub("", prompt).strip(), "images": []}
    if found and len(found) != len(question.media):
        raise DataError(f"question {question.id!r}: {len(found)} placeholder(s) for {len(question.media)} media item(s)")
    if not found:
        prompt = f"<{question.media_type}>\n" * len(question.media) + prompt
    if question.media_type == "image":
        return {"prompt": PLACEHOLDER.sub("<image>", prompt),
                "images": [_load_image(p, question.id) for p in question.media]}
    if video_frames < 1:
        raise MMAlignError(
            f"question {question.id!r} is a video: pass --video-frames N to show the model N uniformly "
            "sampled frames")
    clips = [_load_clip(path, question.id, video_frames) for path in question.media]
    if native_video:
        return {"prompt": PLACEHOLDER.sub("<video>", prompt), "images": [], "videos": clips}
    prompt = re.sub(r"<video>\n?", "<image>\n" * video_frames, prompt)
    return {"prompt": prompt, "images": [Image.fromarray(f) for clip in clips for f in clip]}


def check_media_support(questions: list[Question], *, is_vision: bool, video_frames: int) -> None:
    """Fail early, before any generation, when the model or the installed IO cannot take the media."""
    kinds = {q.media_type for q in questions if q.media}
    if kinds - {"none"} and not is_vision:
        raise MMAlignError("this benchmark shows images or videos, but the model is text-only")
    if "video" not in kinds:
        return
    if video_frames < 1:
        raise MMAlignError(
            "this benchmark's questions are videos: pass --video-frames N to show the model N uniformly "
            "sampled frames (as its video input when it has one, else as N images)")
    try:
        from ..data.video import available_backends
    except ImportError as exc:
        raise MMAlignError(f"video benchmarks need mmalign's video IO: {exc}") from None
    if not available_backends():
        raise MMAlignError("no video decoder installed: install PyAV (`pip install av`) or decord")


def model_answer_fn(model, processor, *, adapter=None, max_new_tokens: int = 32, batch_size: int = 8,
                    video_frames: int = 0, **generate_kwargs) -> AnswerFn:
    """`answer_fn(questions) -> answers` that asks `model` through `mmalign.models.generate` (greedy)."""

    from ..models.generate import takes_videos

    native_video = takes_videos(processor)

    def answer(questions: list[Question]) -> list[str]:
        from .. import models  # looked up at call time, so tests can count calls to models.generate

        records = [question_record(q, video_frames, native_video) for q in questions]
        outs = models.generate(model, processor, records, adapter=adapter, root=Path("."),
                               max_new_tokens=max_new_tokens, batch_size=batch_size, **generate_kwargs)
        return [o.text for o in outs]

    return answer
