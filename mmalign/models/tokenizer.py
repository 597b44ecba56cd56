"""A small word-level tokenizer trained locally, for tiny models built offline.

Real models bring their own tokenizer; this one exists so tests, benchmarks and the demo never need a
download. Its vocabulary is every word of the synthetic world plus any extra words given.
"""

from __future__ import annotations

from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers
from transformers import PreTrainedTokenizerFast

PAD, UNK, BOS, EOS = "<pad>", "<unk>", "<s>", "</s>"
IMAGE_TOKEN, VIDEO_TOKEN = "<image>", "<video>"
SPECIAL_TOKENS = [PAD, UNK, BOS, EOS, IMAGE_TOKEN, VIDEO_TOKEN]

# LLaVA-1.5 style conversation: "USER: <image>\nQuestion ASSISTANT: Answer</s>".
LLAVA_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ message['content'] if message['content'] is string "
    "else message['content'][0]['text'] }}\n"
    "{% else %}{{ 'USER: ' if message['role'] == 'user' else 'ASSISTANT: ' }}"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for item in message['content'] %}"
    "{% if item['type'] == 'image' %}<image>\n{% elif item['type'] == 'video' %}<video>\n"
    "{% elif item['type'] == 'text' %}{{ item['text'] }}{% endif %}"
    "{% endfor %}{% endif %}"
    "{% if message['role'] == 'assistant' %}</s>{% else %} {% endif %}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}ASSISTANT:{% endif %}"
)


def build_word_tokenizer(
    words: list[str],
    chat_template: str = LLAVA_CHAT_TEMPLATE,
    extra_special: list[str] = (),
    image_token: str = IMAGE_TOKEN,
    video_token: str = VIDEO_TOKEN,
    eos: str = EOS,
) -> PreTrainedTokenizerFast:
    """Word-level tokenizer over `words` (case-folded) plus punctuation and the special tokens.

    `extra_special` adds a family's own markers (Qwen's <|im_start|>, <|image_pad|>, ...); `image_token`
    and `video_token` name the placeholders the processor expands; `eos` ends an assistant turn.
    """
    specials = SPECIAL_TOKENS + [t for t in extra_special if t not in SPECIAL_TOKENS]
    punctuation = list(".,?!:;'\"()-/")
    vocab: dict[str, int] = {}
    for token in specials + ["user", "assistant", "system"] + punctuation + sorted({w.lower() for w in words}):
        vocab.setdefault(token, len(vocab))
    # Digits split one by one, so every number is representable.
    for d in "0123456789":
        vocab.setdefault(d, len(vocab))
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    core.normalizer = normalizers.Lowercase()
    core.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Whitespace(), pre_tokenizers.Digits(individual_digits=True)]
    )
    core.decoder = decoders.WordPiece(prefix="##", cleanup=True)
    core.add_special_tokens(specials)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=core,
        pad_token=PAD,
        unk_token=UNK,
        bos_token=BOS,
        eos_token=eos,
        extra_special_tokens={"image_token": image_token, "video_token": video_token},
        chat_template=chat_template,
        model_max_length=4096,
        padding_side="right",
    )
    return tok
