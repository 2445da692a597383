"""Scoring v2: a step placed at a time the reference rules out ("feature importance before training").

The sentences are new, written for these tests; the wrong ones were scored as strong answers before the timeline
check, and the right ones are the shapes that earlier drafts of the check flagged (a thing learned in training and
used at inference, a phrase of when that describes a noun).
"""

from __future__ import annotations

import pytest

from bot.core.grading import parse, timeline
from bot.core.grading.grader import Grader


def flags(grader: Grader, entry, text: str) -> list[tuple[str, str, str]]:
    return [(c.kind, c.quote, c.reason) for c in grader.rubric_grade(entry, text).contradictions]


def test_a_step_the_reference_does_after_training_said_before_it_is_flagged_with_the_reference_words(
        grader, real_bank) -> None:
    entry = real_bank.get("feature-selection-deep-learning")
    found = flags(grader, entry, "CNNs extract features from raw pixels by themselves, so little manual selection "
                                 "is needed. I compute permutation feature importance up front, before the model is "
                                 "trained, and drop the weak inputs.")
    assert [k for k, _, _ in found] == ["phase"]
    _, quote, reason = found[0]
    assert "before the model is trained" in quote
    assert "after training" in reason.lower() or "after model training" in reason.lower()
    # the same step at the reference's time is right
    assert flags(grader, entry, "CNNs extract features from raw pixels by themselves, so little manual selection "
                                "is needed. After training, permutation feature importance tells me which inputs "
                                "the model relies on.") == []


def test_monitoring_placed_before_go_live_contradicts_monitoring_the_deployed_model(grader, real_bank) -> None:
    entry = real_bank.get("model-deployment-steps")
    text = ("I save the trained model, wrap it in a Docker container and serve it behind a REST API. Watching for "
            "concept drift and retraining on fresh data happen before the model goes live.")
    assert "phase" in [k for k, _, _ in flags(grader, entry, text)]
    assert flags(grader, entry, "I save the trained model, wrap it in a Docker container and serve it behind a REST "
                                "API. Once it is live, I watch for concept drift and retrain it on fresh data.") == []


def test_a_sentence_without_a_time_of_its_own_keeps_the_time_of_the_one_before(grader, real_bank) -> None:
    # The reference: "use model diagnostic tools after training ... By analyzing learning curves, confusion
    # matrices, ROC curves ...": the curves are read after training, though their sentence does not say it.
    entry = real_bank.get("dl-model-assumptions")
    wrong = ("The data has to be representative of the problem. I check the confusion matrices and ROC curves "
             "before training starts, to make sure the assumptions hold.")
    assert "phase" in [k for k, _, _ in flags(grader, entry, wrong)]
    right = ("The data has to be representative of the problem. I check the confusion matrices and ROC curves "
             "after training, to see where the model falls short.")
    assert flags(grader, entry, right) == []


@pytest.mark.parametrize(("entry_id", "text"), [
    ("neural-network-how-it-works", "Once trained, the network uses its learned weights to process new input data "
                                    "and produce the output."),
    ("neural-network-how-it-works", "During training, backpropagation adjusts the weights based on the error of the "
                                    "output; the deployed network then just makes predictions with the learned "
                                    "weights."),
    ("embedding-layer-nlp", "At inference time the embedding layer looks up the dense vector of each word in the "
                            "matrix of learned embeddings."),
    ("embedding-layer-nlp", "After training, the embedding matrix can be reused in other models, since similar "
                            "words end up with similar vectors."),
    ("dropout-training-vs-inference", "At inference, the network uses all its neurons, and their outputs are scaled "
                                      "to match what the next layer saw in training."),
    ("batchnorm-vs-layernorm", "At test time batch norm uses running averages of the mean and variance collected "
                               "during training."),
    ("model-deployment-steps", "Before deployment, I serialize the model, and after deployment I monitor its "
                               "performance and retrain it on fresh data."),
])
def test_what_is_learned_in_training_and_used_later_is_no_wrong_time(grader, real_bank, entry_id, text) -> None:
    assert [k for k, _, _ in flags(grader, real_bank.get(entry_id), text)] == []


def test_a_phrase_of_when_that_describes_a_noun_or_is_denied_places_nothing() -> None:
    parser = parse.shared()
    assert timeline.placed("It uses the running averages collected during training.", parser) == []
    assert timeline.placed("Monitoring is not something you do before deployment.", parser) == []
    [step] = timeline.placed("Dropout is applied during training.", parser)
    assert step.places == {timeline.TRAIN}
    [step] = timeline.placed("Once the model is deployed, watch its accuracy.", parser)
    assert step.places == {timeline.DEPLOYED}
    assert timeline.apart(frozenset({timeline.PRE_TRAIN}), frozenset({timeline.POST_TRAIN}))
    assert not timeline.apart(frozenset({timeline.POST_TRAIN}), frozenset({timeline.PRE_DEPLOY}))
