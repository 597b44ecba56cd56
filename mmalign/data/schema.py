"""The preference record schema (docs/data-format.md): parsing and checking one JSON object.

`parse_record` turns a JSON object into a `PreferenceRecord` or raises `RecordProblem` with a short
reason key (used for per-reason counts in skip mode) and a message for the user.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

Message = dict[str, Any]
PLACEHOLDER = re.compile(r"<(image|video)>")
MEDIA_KINDS = ("image", "video")


class RecordProblem(Exception):
    """What is wrong with one record. `reason` is a stable key for counting."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass
class PreferenceRecord:
    """One preference pair in normalised (conversational) form. `raw` keeps every original field."""

    id: str
    prompt: list[Message]
    chosen: list[Message]
    rejected: list[Message]
    images: list[str] = field(default_factory=list)
    videos: list[str] = field(default_factory=list)
    rejected_images: list[str] | None = None
    rejected_videos: list[str] | None = None
    rejected_list: list[list[Message]] | None = None
    rejected_prompt: list[Message] | None = None
    scores: dict[str, Any] | None = None
    factuality: dict[str, Any] | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # "file:line", for error messages

    def media_paths(self) -> list[str]:
        return list(self.images) + list(self.videos) + list(self.rejected_images or []) + list(
            self.rejected_videos or [])


def _text_to_content(text: str) -> list[dict[str, Any]]:
    """Split a plain string with <image>/<video> placeholders into content items."""
    items: list[dict[str, Any]] = []
    pos = 0
    for m in PLACEHOLDER.finditer(text):
        before = text[pos:m.start()]
        if before.strip():
            items.append({"type": "text", "text": before.strip()})
        items.append({"type": m.group(1)})
        pos = m.end()
    rest = text[pos:]
    if rest.strip() or not items:
        items.append({"type": "text", "text": rest.strip()})
    return items


def as_messages(value: Any, field_name: str = "prompt", default_role: str = "user") -> list[Message]:
    """Accept a plain string or a list of chat messages; return messages with list content."""
    if isinstance(value, str):
        return [{"role": default_role, "content": _text_to_content(value)}]
    if not isinstance(value, list) or not value:
        raise RecordProblem("wrong_type", f"field '{field_name}' must be a string or a non-empty list of "
                                          f"messages, got {type(value).__name__}")
    out = []
    for i, msg in enumerate(value):
        if not isinstance(msg, dict) or "role" not in msg or "content" not in msg:
            raise RecordProblem("wrong_type", f"field '{field_name}[{i}]' must be a message "
                                              "{{\"role\": ..., \"content\": ...}}")
        role, content = msg["role"], msg["content"]
        if role not in ("system", "user", "assistant"):
            raise RecordProblem("wrong_type", f"field '{field_name}[{i}].role' must be system, user or "
                                              f"assistant, got {role!r}")
        if isinstance(content, str):
            content = _text_to_content(content)
        elif isinstance(content, list):
            for j, item in enumerate(content):
                ok = isinstance(item, dict) and item.get("type") in ("text", "image", "video")
                if ok and item["type"] == "text" and not isinstance(item.get("text"), str):
                    ok = False
                if not ok:
                    raise RecordProblem("wrong_type", f"field '{field_name}[{i}].content[{j}]' must be "
                                                      "{'type': 'text', 'text': str}, {'type': 'image'} "
                                                      "or {'type': 'video'}")
            content = [dict(item) for item in content]
        else:
            raise RecordProblem("wrong_type", f"field '{field_name}[{i}].content' must be a string or list")
        out.append({**msg, "content": content})
    return out


def count_placeholders(messages: list[Message], kind: str) -> int:
    return sum(1 for m in messages for item in m["content"] if item.get("type") == kind)


# TRL's single-media columns, which may hold one path string; the plural fields must be lists.
SINGLE_MEDIA = ("image", "video")


def _path_list(obj: dict, key: str) -> list[str] | None:
    if key not in obj or obj[key] is None:
        return None
    value = obj[key]
    if isinstance(value, str) and key in SINGLE_MEDIA:
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        got = f"a string ({value!r}); write [{json.dumps(value)}]" if isinstance(value, str) else \
            type(value).__name__
        raise RecordProblem("wrong_type", f"field '{key}' must be a list of path strings, got {got}")
    return list(value)


def _check_counts(messages: list[Message], images: list[str], videos: list[str], where: str) -> None:
    for kind, media in (("image", images), ("video", videos)):
        n = count_placeholders(messages, kind)
        if n != len(media):
            raise RecordProblem(
                "placeholder_mismatch",
                f"{where} has {n} <{kind}> placeholder(s) but {len(media)} {kind}(s) are listed",
            )


def parse_record(obj: Any, index: int = 0) -> PreferenceRecord:
    """Parse and check one record (without touching disk). Raises RecordProblem."""
    if not isinstance(obj, dict):
        raise RecordProblem("wrong_type", f"a record must be a JSON object, got {type(obj).__name__}")
    for key in ("prompt", "chosen", "rejected"):
        if key not in obj:
            raise RecordProblem("missing_field", f"missing required field '{key}'")
    if "id" in obj and not isinstance(obj["id"], str):
        raise RecordProblem("wrong_type", f"field 'id' must be a string, got {type(obj['id']).__name__} "
                                          f"({json.dumps(obj['id'])}); write \"id\": \"{obj['id']}\"")
    prompt = as_messages(obj["prompt"], "prompt", "user")
    chosen = as_messages(obj["chosen"], "chosen", "assistant")
    rejected = as_messages(obj["rejected"], "rejected", "assistant")
    images = _path_list(obj, "images") or _path_list(obj, "image") or []
    videos = _path_list(obj, "videos") or _path_list(obj, "video") or []
    _check_counts(prompt, images, videos, "prompt")
    rec = PreferenceRecord(
        id=str(obj.get("id", index)), prompt=prompt, chosen=chosen, rejected=rejected,
        images=images, videos=videos,
        rejected_images=_path_list(obj, "rejected_images"),
        rejected_videos=_path_list(obj, "rejected_videos"),
        raw=obj,
    )
    if rec.rejected_images is not None and len(rec.rejected_images) != len(images):
        raise RecordProblem("placeholder_mismatch", f"'rejected_images' lists {len(rec.rejected_images)} "
                                                    f"image(s) but 'images' lists {len(images)}")
    if rec.rejected_videos is not None and len(rec.rejected_videos) != len(videos):
        raise RecordProblem("placeholder_mismatch", f"'rejected_videos' lists {len(rec.rejected_videos)} "
                                                    f"video(s) but 'videos' lists {len(videos)}")
    if "rejected_list" in obj and obj["rejected_list"] is not None:
        if not isinstance(obj["rejected_list"], list) or not obj["rejected_list"]:
            raise RecordProblem("wrong_type", "field 'rejected_list' must be a non-empty list of answers")
        rec.rejected_list = [as_messages(a, f"rejected_list[{k}]", "assistant")
                             for k, a in enumerate(obj["rejected_list"])]
    if obj.get("rejected_prompt") is not None:
        rec.rejected_prompt = as_messages(obj["rejected_prompt"], "rejected_prompt", "user")
        _check_counts(rec.rejected_prompt, images, videos, "rejected_prompt")
    for key in ("scores", "factuality", "meta"):
        value = obj.get(key)
        if value is not None and not isinstance(value, dict):
            raise RecordProblem("wrong_type", f"field '{key}' must be an object")
    rec.scores, rec.factuality, rec.meta = obj.get("scores"), obj.get("factuality"), obj.get("meta") or {}
    for key, value in (rec.scores or {}).items():
        if not isinstance(value, (int, float, list)) or isinstance(value, bool):
            raise RecordProblem("wrong_type", f"field 'scores.{key}' must be a number (or a list for "
                                              "rejected_list)")
    return rec


def resolve_media(root: Path, rel: str) -> Path:
    """The absolute path of a media file; refuses absolute paths and paths that escape `root`."""
    p = PurePosixPath(rel)
    if p.is_absolute() or Path(rel).is_absolute():
        raise RecordProblem("path_escapes_root", f"media path {rel!r} is absolute; paths are relative to --root")
    if "\0" in rel:
        raise RecordProblem("bad_path", f"media path {rel!r} holds a NUL character")
    try:
        full = (root / rel).resolve()
    except (OSError, RuntimeError) as exc:  # a name too long for the file system; a symlink loop
        raise RecordProblem("bad_path", f"media path {rel!r} cannot be resolved ({exc})") from None
    root_resolved = root.resolve()
    if full != root_resolved and root_resolved not in full.parents:
        raise RecordProblem("path_escapes_root", f"media path {rel!r} escapes the root folder {str(root)!r}")
    return full


def check_media(rec: PreferenceRecord, root: Path) -> None:
    """Every media path stays inside root and exists."""
    for rel in rec.media_paths():
        full = resolve_media(root, rel)
        try:
            found = full.is_file()
        except OSError as exc:  # a name too long for the file system
            raise RecordProblem("bad_path",
                                f"media path {rel!r} cannot be checked ({exc.strerror or exc})") from None
        if not found:
            raise RecordProblem("missing_media", f"media file {rel!r} not found under {str(root)!r}")
