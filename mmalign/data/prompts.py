"""Prompt encoding, the one way every part turns chat messages into model inputs.

The collator (training), the attention probe (pair selection) and generation (data building, evaluation,
judges) all encode prompts here, so they see the same chat template, padding side and media tokens:

    encoder = PromptEncoder(processor, adapter)
    text = encoder.prompt_text(as_messages("<image>\\nWhat colour is the bus?"))
    inputs = encoder.encode_prompts([text], images=[image])      # left-padded, media processed
    answer = encoder.answer_ids(prompt_messages, answer_messages)  # token ids after the prompt
    ids, mask = pad_rows([answer], encoder.pad_token_id, left=False)
"""

from __future__ import annotations

from typing import Any

import torch

from .schema import Message, RecordProblem


def pad_rows(rows: list[list[int]], pad_id: int, left: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """Token id rows padded to one width: ([N, W] ids, [N, W] 0/1 mask); prompts pad on the left (so they
    end where generation or the answer starts), answers on the right."""
    width = max((len(r) for r in rows), default=0)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        if not r:
            continue
        sl = slice(width - len(r), width) if left else slice(0, len(r))
        ids[i, sl] = torch.tensor(r, dtype=torch.long)
        mask[i, sl] = 1
    return ids, mask


class PromptEncoder:
    """The model's chat template and processor, applied to prompts and answers.

    `adapter` is the model family's adapter (`mmalign.models.adapter_for`); text-only families get string
    message content, as their tokenizers' templates expect.
    """

    def __init__(self, processor, adapter):
        self.processor = processor
        self.adapter = adapter
        self.tokenizer = getattr(processor, "tokenizer", processor)
        if self.tokenizer.pad_token_id is None:
            raise ValueError("the tokenizer has no pad token")

    @property
    def pad_token_id(self) -> int:
        return self.tokenizer.pad_token_id

    def render(self, messages: list[Message], add_generation_prompt: bool) -> str:
        """The chat template applied to `messages`, as text."""
        msgs = messages
        if not self.adapter.is_vision:  # text tokenizers expect string content
            msgs = [{**m, "content": " ".join(i["text"] for i in m["content"] if i["type"] == "text")}
                    for m in messages]
        return self.tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=add_generation_prompt)

    def prompt_text(self, prompt: list[Message]) -> str:
        """The prompt as the model sees it, up to where the assistant's answer starts."""
        return self.render(prompt, add_generation_prompt=True)

    def answer_ids(self, prompt: list[Message], answer: list[Message]) -> list[int]:
        """Token ids of the answer as the chat template renders it after the prompt."""
        head = self.prompt_text(prompt)
        full = self.render(prompt + answer, add_generation_prompt=False)
        if not full.startswith(head):
            raise RecordProblem("template", "the chat template does not render the prompt as a prefix of "
                                            "prompt + answer; cannot locate the answer tokens")
        return self.tokenizer(full[len(head):], add_special_tokens=False)["input_ids"]

    def encode_prompts(self, texts: list[str], images: list | None = None, videos: list | None = None
                       ) -> dict[str, Any]:
        """Prompt texts (from `prompt_text`) with their media, left-padded: input_ids, attention_mask and the
        processor's media tensors. `images` and `videos` are flat lists in prompt order."""
        if self.adapter.is_vision:
            kwargs: dict[str, Any] = {"text": texts, "return_tensors": "pt", "padding": True}
            if images:
                kwargs["images"] = images
            if videos:
                kwargs["videos"] = videos
            self.tokenizer.padding_side = "left"
            try:
                return dict(self.processor(**kwargs))
            finally:
                self.tokenizer.padding_side = "right"
        enc = [self.tokenizer(t)["input_ids"] for t in texts]
        ids, mask = pad_rows(enc, self.tokenizer.pad_token_id, left=True)
        return {"input_ids": ids, "attention_mask": mask}
