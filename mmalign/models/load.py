"""Load a model, its processor and its family adapter by name or path.

Before anything is downloaded or read, `check_model_path` answers the common mistakes at once: a path
that looks local and does not exist ("not found"), a run folder given instead of its `final/` ("did you
mean ...?"), and a hub name while offline or with the hub out of reach (no retries). A LoRA folder's base
model is found from any working directory (`adapter_base_path`).
"""

from __future__ import annotations

import json
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForImageTextToText,
    AutoProcessor,
    AutoTokenizer,
)
from transformers.utils import logging as hf_logging

from ..errors import MMAlignError
from .adapter import ModelAdapter
from .families import ADAPTERS, adapter_for

hf_logging.disable_progress_bar()

DTYPES = {"fp32": torch.float32, "float32": torch.float32, "bf16": torch.bfloat16,
          "bfloat16": torch.bfloat16, "fp16": torch.float16, "float16": torch.float16}


@dataclass
class Loaded:
    model: Any
    processor: Any
    adapter: ModelAdapter


def load_processor(name_or_path: str | Path, vision: bool, trust_remote_code: bool = False, **hub):
    hub = {**hub, "trust_remote_code": trust_remote_code}
    if vision:
        return AutoProcessor.from_pretrained(str(name_or_path), **hub)
    tok = AutoTokenizer.from_pretrained(str(name_or_path), **hub)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


# What a hub repo id looks like: "name" or "owner/name" (letters, digits, "-", "_", ".").
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?$")
MODEL_FILES = ("config.json", "adapter_config.json")
TRUE = ("1", "on", "yes", "true")


def _is_model_folder(path: Path) -> bool:
    return any((path / f).is_file() for f in MODEL_FILES)


def _model_inside(folder: Path) -> Path | None:
    """The model a run folder holds: its final/, else its newest checkpoint-N/."""
    if _is_model_folder(folder / "final"):
        return folder / "final"
    steps = [(int(m.group(1)), p) for p in folder.glob("checkpoint-*")
             if (m := re.fullmatch(r"checkpoint-(\d+)", p.name)) and _is_model_folder(p)]
    return max(steps)[1] if steps else None


def looks_local(name: str) -> bool:
    """True when `name` can only be a path: not a hub id ("name" or "owner/name"), or its first part is a
    folder here (runs/x, assets/y)."""
    if name.startswith(("/", ".", "~")) or "\\" in name or name.endswith("/") or not HUB_ID.match(name):
        return True
    return "/" in name and Path(name.split("/")[0]).is_dir()


def hub_offline() -> bool:
    from huggingface_hub import constants

    return constants.HF_HUB_OFFLINE or any(os.environ.get(k, "").lower() in TRUE
                                           for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def hub_reachable(timeout: float = 3.0) -> bool:
    """One TCP connection to the hub's endpoint (HF_ENDPOINT) instead of from_pretrained's retries. With a
    proxy configured the answer is left to the hub client (True)."""
    from urllib.parse import urlsplit

    from huggingface_hub import constants

    if any(os.environ.get(k) for k in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY")):
        return True
    url = urlsplit(os.environ.get("HF_ENDPOINT") or constants.ENDPOINT)
    try:
        socket.create_connection((url.hostname, url.port or (443 if url.scheme == "https" else 80)),
                                 timeout=timeout).close()
    except OSError:
        return False
    return True


def _cached(name: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    return any(isinstance(try_to_load_from_cache(name, f), str) for f in MODEL_FILES)


def check_model_path(name_or_path: str | Path) -> bool:
    """Refuse, at once and without a download attempt, a model that cannot load; True when it must load
    from the local files only (a hub name already in the cache, with the hub out of reach).

    A local folder must hold config.json (a model) or adapter_config.json (a LoRA adapter); a run folder
    is answered with the model inside it. A name that looks like a path and does not exist is "not found".
    A hub name is tried only when the hub answers or the model is in the local cache.
    """
    name = str(name_or_path)
    path = Path(name).expanduser()
    if path.is_dir():
        if _is_model_folder(path):
            return False
        inside = _model_inside(path)
        if inside is not None:
            raise MMAlignError(f"model {name!r} is a run folder, not a model (no config.json); "
                               f"did you mean {inside}?")
        raise MMAlignError(f"model {name!r}: the folder has no config.json (a model) or adapter_config.json "
                           "(a LoRA adapter)")
    if path.exists():
        raise MMAlignError(f"model {name!r} is a file; give the model's folder")
    if looks_local(name):
        raise MMAlignError(f"model {name!r} not found: no such folder (relative paths start at {os.getcwd()})")
    if hub_offline():
        if _cached(name):
            return True
        raise MMAlignError(f"model {name!r}: no local folder of that name, and it is not in the Hugging Face "
                           "cache while offline (HF_HUB_OFFLINE is set); give a local folder, or download it "
                           "where a network is available")
    if hub_reachable():
        return False
    if _cached(name):
        return True
    raise MMAlignError(f"model {name!r}: no local folder of that name, and the Hugging Face hub cannot be "
                       "reached (offline?); give a local folder, or download the model where a network is "
                       "available")


_REMOTE_CODE_ALLOWED = False  # --trust-remote-code on a command that loads models (allow_remote_code)


def allow_remote_code(allowed: bool) -> None:
    """What `load` does, for this process, when its caller does not say: the `--trust-remote-code` flag of
    generate, score, eval, build-data, data and rubrics (as `--max-image-pixels` sets the image limit)."""
    global _REMOTE_CODE_ALLOWED
    _REMOTE_CODE_ALLOWED = bool(allowed)


def load(name_or_path: str | Path, *, dtype: str | torch.dtype | None = None, device: str | None = None,
         attn_implementation: str | None = None, trust_remote_code: bool | None = None) -> Loaded:
    """Load `name_or_path` (a local folder or a hub name) with its processor and adapter.
    `attn_implementation` (sdpa, eager, ...) is passed to from_pretrained when given.

    `trust_remote_code` goes to every `from_pretrained`: False (the default) never runs Python code that a
    model folder or hub repo ships (config.json's `auto_map`); such a model is refused with what to set.

    Vision families (see `families.ADAPTERS`) load through AutoModelForImageTextToText and
    AutoProcessor; anything else through AutoModelForCausalLM and AutoTokenizer.
    """
    if trust_remote_code is None:
        trust_remote_code = _REMOTE_CODE_ALLOWED
    name = str(name_or_path)
    local_only = check_model_path(name)
    if (Path(name).expanduser() / "adapter_config.json").is_file():
        return _load_adapter(Path(name).expanduser(), dtype=dtype, device=device,
                             attn_implementation=attn_implementation, trust_remote_code=trust_remote_code)
    hub: dict[str, Any] = {"local_files_only": True} if local_only else {}
    hub["trust_remote_code"] = trust_remote_code
    try:
        config = AutoConfig.from_pretrained(name, **hub)
    except (OSError, ValueError) as exc:
        raise _cannot_load(name, exc) from None
    vision = getattr(config, "model_type", "") in ADAPTERS
    torch_dtype = DTYPES[dtype] if isinstance(dtype, str) else dtype
    kwargs: dict[str, Any] = {"dtype": torch_dtype, **hub} if torch_dtype is not None else dict(hub)
    if attn_implementation:
        kwargs["attn_implementation"] = attn_implementation
    cls = AutoModelForImageTextToText if vision else AutoModelForCausalLM
    try:
        model = cls.from_pretrained(name, **kwargs)
        processor = load_processor(name, vision, **hub)
    except ValueError as exc:
        if not _needs_remote_code(exc):
            raise
        raise _cannot_load(name, exc) from None
    if device is not None:
        model.to(device)
    return Loaded(model, processor, adapter_for(model.config, processor))


def _needs_remote_code(exc: BaseException) -> bool:
    return "trust_remote_code" in str(exc)


def _cannot_load(name: str, exc: BaseException) -> MMAlignError:
    if _needs_remote_code(exc):
        return MMAlignError(f"model {name!r} ships its own Python code (config.json's auto_map), which mmalign does "
                            "not run unless told to: set trust_remote_code: true (mmalign train) or pass --trust-remote-code "
                            "(the other commands) only for a model whose code you have read and trust")
    return MMAlignError(f"cannot load model {name!r}: {exc.__class__.__name__}: {str(exc).splitlines()[0]}")


def _load_adapter(folder: Path, *, dtype, device, attn_implementation=None, trust_remote_code=False) -> Loaded:
    """A LoRA folder written by `mmalign train`: its base, the adapter merged in, the saved processor."""
    from peft import PeftModel

    base = load(adapter_base_path(folder), dtype=dtype, attn_implementation=attn_implementation,
                trust_remote_code=trust_remote_code)
    model = PeftModel.from_pretrained(base.model, str(folder)).merge_and_unload()
    processor = load_processor(folder, base.adapter.is_vision, trust_remote_code=trust_remote_code)
    if device is not None:
        model.to(device)
    return Loaded(model, processor, adapter_for(model.config, processor))


def adapter_base_path(folder: str | Path) -> str:
    """The base model of the LoRA adapter in `folder`, from its adapter_config.json.

    An absolute path (what `mmalign train` writes) or a hub name is used as it is. A relative path (older
    adapters stored it relative to where training ran) is looked for beside the adapter and in each folder
    above it, then from the working directory.
    """
    folder = Path(folder)
    config = folder / "adapter_config.json"
    try:
        base = json.loads(config.read_text(encoding="utf-8")).get("base_model_name_or_path")
    except (OSError, ValueError, AttributeError) as exc:
        raise MMAlignError(f"{config}: cannot read the adapter config ({exc})") from None
    if not base or not isinstance(base, str):
        raise MMAlignError(f"{config} names no base model (base_model_name_or_path)")
    if Path(base).is_absolute():
        if not Path(base).is_dir():
            raise MMAlignError(f"{config}: the base model {base} (base_model_name_or_path) is not found; "
                               "put it back or edit that field to where the base model is now")
        return base
    for above in (folder.absolute(), *folder.absolute().parents):
        if _is_model_folder(above / base):
            return str(above / base)
    if looks_local(base) and not Path(base).is_dir():
        raise MMAlignError(f"{config}: the base model {base!r} (base_model_name_or_path) is not found beside "
                           f"the adapter, in a folder above it, or from {os.getcwd()}")
    return base


def portable_adapter_base(base: str | None) -> str | None:
    """The base path to store in an adapter's config: absolute when it is a local folder (so plain peft
    loads the adapter from any working directory), a hub name unchanged."""
    if base and Path(base).expanduser().is_dir():
        return os.path.abspath(Path(base).expanduser())
    return base
