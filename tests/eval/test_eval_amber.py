import json

from mmalign.eval import BENCHMARKS, score_predictions

ANNOTATIONS = [
    {"id": 1, "type": "generative", "truth": ["dog", "grass"], "hallu": ["cat", "car"]},
    {"id": 2, "type": "generative", "truth": ["tree"], "hallu": ["dog"]},
    {"id": 3, "type": "discriminative-hallucination", "truth": "no"},
    {"id": 4, "type": "discriminative-hallucination", "truth": "yes"},
    {"id": 5, "type": "discriminative-hallucination", "truth": "no"},
    {"id": 6, "type": "discriminative-attribute-state", "truth": "no"},
    {"id": 7, "type": "discriminative-attribute-number", "truth": "yes"},
    {"id": 8, "type": "discriminative-relation", "truth": "yes"},
    {"id": 9, "type": "discriminative-relation", "truth": "no"},
]
ANSWERS = {
    "1": "puppy grass cat sky animal", "2": "tree tree",
    "3": "No", "4": "Yes.", "5": "No, there is not", "6": "No", "7": "No", "8": "Yes", "9": "yes, there is",
}


def make_amber(tmp_path):
    (tmp_path / "query").mkdir()
    queries = [{"id": a["id"], "image": f"AMBER_{a['id']}.jpg",
                "query": "Describe this image." if a["type"] == "generative" else "Is there a dog?"}
               for a in ANNOTATIONS]
    (tmp_path / "query" / "query_all.json").write_text(json.dumps(queries, indent=1))
    (tmp_path / "annotations.json").write_text(json.dumps(ANNOTATIONS, indent=1))
    association = {"dog": ["puppy"], "cat": ["kitten"], "car": [], "tree": [], "grass": [], "animal": []}
    (tmp_path / "relation.json").write_text(json.dumps(association))
    (tmp_path / "safe_words.txt").write_text("animal\n")
    return BENCHMARKS["amber"].read_questions(tmp_path, tmp_path / "image")


def test_discriminative_with_no_as_positive_class(tmp_path):
    questions = make_amber(tmp_path)
    m = score_predictions("amber", questions, ANSWERS, data_path=tmp_path, noun_extractor=str.split)
    s = m["subsets"]
    # Only exact "Yes"/"No" count. Denominators start at 0.001 and values are rounded to 0.1 (official).
    # existence (3,4,5): correct {3} -> 1/3.001 = 33.3; answered No {3}, right -> P 1/1.001 = 99.9;
    # gold No {3,5}, answered No {3} -> R 1/2.001 = 50.0; F1 = 2*.999*.5/(.999+.5+.001) = 66.6
    assert s["existence"] == {"accuracy": 33.3, "precision": 99.9, "recall": 50.0, "f1": 66.6, "n": 3}
    # state (6): everything 1/1.001 = 99.9; F1 = 2*.999*.999/(1.998+.0001) = 99.9
    assert s["state"] == {"accuracy": 99.9, "precision": 99.9, "recall": 99.9, "f1": 99.9, "n": 1}
    # number (7): wrong "No" -> acc 0, P 0/1.001 = 0, R 0/0.001 = 0, F1 0
    assert s["number"] == {"accuracy": 0.0, "precision": 0.0, "recall": 0.0, "f1": 0.0, "n": 1}
    # attribute = state+number+action, three counters so +0.003: acc 1/2.003 = 49.9, P 1/2.003 = 49.9,
    # R 1/1.003 = 99.7, F1 = 2*.499*.997/(1.496+.0001) = 66.5
    assert s["attribute"] == {"accuracy": 49.9, "precision": 49.9, "recall": 99.7, "f1": 66.5, "n": 2}
    # relation (8,9): acc 1/2.001 = 50.0; nobody answered "No": P 0; gold No {9} missed: R 0; F1 0
    assert s["relation"] == {"accuracy": 50.0, "precision": 0.0, "recall": 0.0, "f1": 0.0, "n": 2}
    # all 7: correct {3,6,8} 3/7.001 = 42.9; answered No {3,6,7}, right {3,6} 2/3.001 = 66.6;
    # gold No {3,5,6,9}, found {3,6} 2/4.001 = 50.0; F1 = 2*.666*.5/(1.166+.0001) = 57.1
    o = m["overall"]
    assert (o["accuracy"], o["precision"], o["recall"], o["f1"]) == (42.9, 66.6, 50.0, 57.1)


def test_generative_chair_cover_hal_cog_with_fixed_nouns(tmp_path):
    questions = make_amber(tmp_path)
    m = score_predictions("amber", questions, ANSWERS, data_path=tmp_path, noun_extractor=str.split)
    g = m["subsets"]["generative"]
    # response 1 nouns in vocabulary: puppy (-> dog, truth), grass (truth), cat (hallu: Cog, and a
    # hallucination), animal (safe word, counted as a mention only); "sky" is outside the vocabulary.
    # response 2: tree, tree (truth). Mentions 6, hallucinated 1 -> CHAIR 1/6.001 = 16.7
    # Cover: truth objects 3, all mentioned -> 3/3.001 = 100.0; Cog: hallu objects 3, "cat" -> 1/3.001 = 33.3
    # Hal: 1 of 2 responses hallucinates -> 100 - 1/2.001*100 = 50.0
    assert g == {"chair": 16.7, "cover": 100.0, "hal": 50.0, "cog": 33.3, "n": 2}
    assert m["overall"]["chair"] == 16.7 and m["overall"]["f1"] == 57.1
    assert "exact match only" in m["scoring"]


def test_similarity_plug_counts_synonyms(tmp_path):
    questions = make_amber(tmp_path)
    answers = dict(ANSWERS, **{"2": "tree kitten"})
    # Without similarity "kitten" (cat's association, not an object of image 2) is a hallucination;
    # a similarity that calls kitten ~ tree makes it a truth mention instead.
    m = score_predictions("amber", questions, answers, data_path=tmp_path, noun_extractor=str.split,
                          similarity=lambda a, b: {a, b} == {"kitten", "tree"})
    # mentions 4 + 2 = 6, hallucinated 1 (cat in response 1) -> 16.7; Hal 50.0 as before
    assert m["subsets"]["generative"]["chair"] == 16.7


def test_without_similarity_the_same_noun_is_a_hallucination(tmp_path):
    answers = dict(ANSWERS, **{"2": "tree kitten"})
    m = score_predictions("amber", make_amber(tmp_path), answers, data_path=tmp_path, noun_extractor=str.split)
    # hallucinated: cat (response 1) and kitten (response 2) -> 2/6.001 = 33.3; both responses
    # hallucinate -> Hal = 100 - 0/2.001 = 100.0
    assert m["subsets"]["generative"]["chair"] == 33.3
    assert m["subsets"]["generative"]["hal"] == 100.0
