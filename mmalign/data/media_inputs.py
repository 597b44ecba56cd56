"""A record's prompt and media as `mmalign.models.generate` takes them, videos decoded.

`generate` takes image paths (relative to the root) as they are, but videos only decoded, so the caller picks
the frames. Here each video becomes `video_frames` uniformly sampled frames: the model's own video input when
its processor has one (`native_video`, Qwen2-VL), otherwise that many images in place of the `<video>`
placeholder (LLaVA-1.5). Used by `mmalign generate` and the generative judges.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image

from ..errors import MMAlignError
from .schema import RecordProblem, as_messages, resolve_media


def decode_clip(root: Path, rel: str, frames: int):
    """[frames, H, W, C] uint8, sampled uniformly; a missing or unreadable file is a RecordProblem."""
    from .video import load_clip

    path = resolve_media(root, rel)
    if not path.is_file():
        raise RecordProblem("missing_media", f"video {rel!r} not found under {str(root)!r}")
    try:
        clip, _, _ = load_clip(path, num_samples=frames, strategy="uniform")
    except (RecordProblem, ValueError, RuntimeError) as exc:
        raise RecordProblem("bad_media", f"cannot read video {rel!r}: {exc}") from None
    return clip


def generation_input(prompt: Any, images: list[str], videos: list[str], root: str | Path, *,
                     video_frames: int = 0, native_video: bool = False) -> dict:
    """{"prompt": messages, "images": [...], "videos": [decoded clips]} for `mmalign.models.generate`."""
    root = Path(root)
    messages = as_messages(prompt)
    if not videos:
        return {"prompt": messages, "images": list(images)}
    if video_frames < 1:
        raise MMAlignError("the data holds videos: pass --video-frames N (frames sampled per video)")
    clips = [decode_clip(root, rel, video_frames) for rel in videos]
    if native_video:
        return {"prompt": messages, "images": list(images), "videos": clips}
    # Frames as images: walk the placeholders in order so images and frames keep the prompt's order.
    pending_images, pending_clips = list(images), list(clips)
    shown: list[Any] = []
    out = []
    for message in messages:
        content = []
        for item in message["content"]:
            if item.get("type") == "video":
                clip = pending_clips.pop(0)
                content += [{"type": "image"}] * len(clip)
                shown += [Image.fromarray(frame) for frame in clip]
            else:
                if item.get("type") == "image":
                    shown.append(pending_images.pop(0))
                content.append(item)
        out.append({**message, "content": content})
    return {"prompt": out, "images": shown}
