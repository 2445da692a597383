"""Who-does-what: clauses that restate a key point with a sibling term in its place (the real spaCy parser)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.bank import Entry, load_bank
from bot.core.grading import claims

USER_DECK = Path(__file__).resolve().parent / "data" / "user_deck"


@pytest.fixture(scope="module")
def vocabularies() -> claims.Vocabularies:
    return claims.Vocabularies()


def found(vocabularies: claims.Vocabularies, entry: Entry, text: str) -> list[tuple[str, str]]:
    """(quote, expected term) of every swap in a text, every point a candidate."""
    vocabulary = vocabularies.of(entry)
    out = []
    for sentence in [s for s in text.split("\n") if s]:
        out += [(s.quote, s.expected) for s in claims.swaps(sentence, entry.points, vocabulary,
                                                             range(len(entry.points)), claims.terse([sentence]))]
    return out


@pytest.mark.parametrize(("entry_id", "wrong", "quote"), [
    ("gan-adversarial-training", "The discriminator creates fake data that mimics real data.", "discriminator"),
    ("precision-vs-recall", "Recall is true positives divided by all predicted positives.", "Recall"),
    ("lstm-gates", "The forget gate decides how much new information is stored in the cell state.", "forget gate"),
    ("batchnorm-vs-layernorm", "Layer normalization normalizes each feature with the mean and variance across the "
                               "batch.", "Layer normalization"),
    ("learning-rate", "When the learning rate is too low, training can converge to a poor solution or diverge.", "low"),
    ("hardware-impact-training", "CPUs parallelize computation and train much faster than GPUs.", "CPUs"),
    ("ai-ml-dl-relationship", "Machine learning is a subset of deep learning.", "Machine learning"),
    ("momentum-optimization", "The momentum coefficient gamma is a hyperparameter usually set around 0.01.", "0.01"),
    ("dropout-training-vs-inference", "Dropout randomly turns off a fraction of layer outputs at inference.",
     "inference"),
])
def test_a_sibling_term_in_the_points_place_is_caught(vocabularies, real_bank, entry_id, wrong, quote) -> None:
    hits = found(vocabularies, real_bank.get(entry_id), wrong)
    assert hits and hits[0][0] == quote, hits


@pytest.mark.parametrize(("entry_id", "right"), [
    ("gan-adversarial-training", "The generator creates fake data that mimics the real data, while the discriminator "
                                 "evaluates whether the data it is given is real or fake."),
    ("precision-vs-recall", "Precision is the number of true positives divided by everything predicted positive."),
    ("hardware-impact-training", "GPUs are much faster than CPUs for training because they parallelize computation."),
    ("cnn-overview", "In a CNN the convolution filters pick out features like edges and textures."),
    ("bias-variance-experience", "Using a simpler model architecture can also reduce variance."),
    ("dropout-training-vs-inference", "During inference, no dropout is applied and all neurons are used."),
    ("data-preparation-steps", "The validation set tunes the hyperparameters and the test set measures performance on "
                               "unseen data at the end."),
])
def test_right_statements_are_left_alone(vocabularies, real_bank, entry_id, right) -> None:
    assert found(vocabularies, real_bank.get(entry_id), right) == []


def test_what_the_reference_says_is_never_a_swap(vocabularies, real_bank) -> None:
    from bot.core.grading.drafted import unwrap
    from bot.core.text import split_sentences

    flagged = [e.id for e in real_bank.entries.values()
               if found(vocabularies, e, "\n".join(split_sentences(unwrap(e.answer))))]
    assert flagged == []


def test_a_terse_count_against_a_terse_reference(vocabularies) -> None:
    entry = Entry(id="how-many", question="How many constructors can be created for a class?",
                  answer="Unlimited number.", topics=("oop",), difficulty=1)
    assert found(vocabularies, entry, "one") == [("one", "unlimit")]
    assert found(vocabularies, entry, "As many as you like, it is unlimited.") == []


def test_sibling_terms_come_from_the_entry(vocabularies, real_bank) -> None:
    def classes(entry_id: str, *terms: str) -> set[tuple[int, int]]:
        vocabulary = vocabularies.of(real_bank.get(entry_id))
        stems = {tuple(claims.stem(w) for w in t.split()) for t in terms}
        return {(t.group, t.cls) for t in vocabulary.terms if t.stems in stems}

    gates = classes("lstm-gates", "input gate", "forget gate", "output gate")
    assert len(gates) == 3 and len({g for g, _ in gates}) == 1         # one group, three kinds (head noun)
    assert len(classes("hardware-impact-training", "GPUs", "CPUs")) == 2    # compared ("faster than")
    assert len(classes("gan-adversarial-training", "generator", "discriminator")) == 2   # coordinated
    user = load_bank(USER_DECK)
    vocabulary = vocabularies.of(user.get("py-list-vs-tuple"))
    mutable = {(t.group, t.cls) for t in vocabulary.terms if t.stems in {("mutabl",), ("immutabl",)}}
    assert len(mutable) == 2 and len({g for g, _ in mutable}) == 1       # a word and its negative form


def test_clauses_keep_lists_together() -> None:
    sentence = "GRUs add forget, input and output gates that regulate the flow, while LSTMs merge the gates."
    assert [sentence[a:b] for a, b in claims.clauses(sentence)] == [
        "GRUs add forget, input and output gates that regulate the flow", "LSTMs merge the gates."]
    sentence = "ReLU is defined as max(1, x), sigmoid squashes values between -1 and 1."
    assert [sentence[a:b] for a, b in claims.clauses(sentence)] == [
        "ReLU is defined as max(1, x)", "sigmoid squashes values between -1 and 1."]
