from mmalign.augment import lower_first, strip_placeholders


def test_lower_first():
    assert lower_first("What is this?") == "what is this?"
    assert lower_first("OCR the sign.") == "OCR the sign."
    assert lower_first("I see a cat; is it red?") == "I see a cat; is it red?"
    assert lower_first("") == ""


def test_strip_placeholders():
    assert strip_placeholders("<image>\nWhat is it?") == "What is it?"
    assert strip_placeholders("What is it?\n<image>") == "What is it?"
    assert strip_placeholders("Compare <image> with this") == "Compare with this"
