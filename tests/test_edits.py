"""The edit check: a reference sentence copied with terms exchanged, a sibling, another name or another number put in;
the reference's own sentence, a reordered phrase and a plural name are not flagged."""

from __future__ import annotations

from bot.core.grading import edits
from bot.core.grading.vocabulary import Vocabulary
from tests.flagging import flags

REFERENCE = edits.sentences_of([
    "The client starts by sending a SYN segment that carries its initial sequence number to the server. "
    "I have used EC2 instances with GPU capabilities, and S3 for storing large datasets. "
    "Embeddings capture both semantic (meaning) and syntactic (grammatical) relationships between words. "
    "Containers are built with Docker, which packages the code and all its dependencies. "
    "An RBM has two layers, a visible layer and a hidden layer."])


def _edits(sentence: str) -> list[str]:
    return [e.kind for e in edits.edited(sentence, REFERENCE, Vocabulary(terms=()))]


def test_the_edits_of_a_copied_sentence_by_kind() -> None:
    assert _edits("The server starts by sending a SYN segment that carries its initial sequence number to the "
                  "client.") == ["swap", "swap"]
    assert _edits("Containers are built with Podman, which packages the code and all its dependencies.") == ["entity"]
    assert _edits("An RBM has three layers, a visible layer and a hidden layer.") == ["number"]
    # short names with a digit, two single words with one of their own between them, a sentence that joins two
    assert _edits("I have used S3 instances with GPU capabilities, and EC2 for storing large datasets.") == \
        ["swap", "swap"]
    assert _edits("Embeddings capture both semantic (grammatical) and syntactic (meaning) relationships between "
                  "words.") == ["swap", "swap"]
    assert _edits("An RBM has five layers, a visible layer and a hidden layer, and it uses EC2 instances with GPU "
                  "capabilities for storing large datasets.") == ["number"]
    # the reference's own words, a cut copy, and a paraphrase that puts plain words in are no edits
    assert _edits("The client starts by sending a SYN segment that carries its initial sequence number.") == []
    assert _edits("The client begins by sending a SYN segment that holds its first sequence number to the "
                  "server.") == []
    assert _edits("A client sends a SYN to open the connection.") == []
    # a list said in another order, a name with its parts in another order
    assert _edits("Embeddings capture both syntactic (grammatical) and semantic (meaning) relationships between "
                  "words.") == []


def test_a_list_or_a_name_in_another_order_is_no_edit(grader, real_bank) -> None:
    entry = real_bank.get("imbalanced-dataset-handling")
    assert flags(grader, entry, "Accuracy is misleading, so use recall, precision, F1 or ROC-AUC.") == []


def test_the_opposite_part_of_a_hyphened_word(grader, real_bank) -> None:
    entry = real_bank.get("image-recognition-cnn")
    right = "The initial layers generally learn to identify low-level features, such as edges and textures."
    assert flags(grader, entry, right) == []
    wrong = "The initial layers generally learn to identify high-level features, such as edges and textures."
    assert [kind for kind, _ in flags(grader, entry, wrong)] == ["swap"]


def test_two_terms_exchanged_in_a_copied_sentence(grader, real_bank) -> None:
    entry = real_bank.get("rnn-lstm-gru-comparison")
    right = ("GRUs are the lighter variant. They combine the forget and input gates into a single update gate and "
             "eliminate the output gate, so there is less to train.")
    assert flags(grader, entry, right) == []
    wrong = ("GRUs are the lighter variant. They combine the forget and output gates into a single update gate and "
             "eliminate the input gate, so there is less to train.")
    assert flags(grader, entry, wrong)
    assert grader.rubric_grade(entry, wrong).score <= 30


def test_a_phrase_reordered_exchanges_nothing(grader, real_bank) -> None:
    # "the previous output" is "the output of the previous timestep": the words are close, only reordered
    entry = real_bank.get("rnn-recurrent-loop")
    right = "At each timestep the previous output is fed back in together with the current input."
    assert flags(grader, entry, right) == []


def test_another_service_named_in_a_copied_sentence(grader, real_bank) -> None:
    entry = real_bank.get("cloud-training-experience")
    copied = "I have used EC2 instances with GPU capabilities, and S3 for storing large datasets."
    assert flags(grader, entry, f"{copied} Amazon's SageMaker is also useful for model building, training, and "
                                "deployment.") == []
    wrong = f"{copied} Amazon's Redshift is also useful for model building, training, and deployment."
    assert any(kind == "entity" and "Redshift" in quote for kind, quote in flags(grader, entry, wrong))


def test_a_name_in_the_singular_is_the_same_name(grader, real_bank) -> None:
    # "a GPU" for the reference's "GPUs" names nothing else
    entry = real_bank.get("pytorch-overview")
    assert flags(grader, entry, "PyTorch tensors are like NumPy arrays that can run on a GPU.") == []


def test_another_number_in_a_copied_sentence(grader, real_bank) -> None:
    entry = real_bank.get("restricted-boltzmann-machine")
    assert flags(grader, entry, "An RBM has two layers, a visible layer and a hidden layer.") == []
    wrong = "An RBM has four layers, a visible layer and a hidden layer."
    assert [kind for kind, _ in flags(grader, entry, wrong)] == ["number"]


def test_a_sibling_put_in_a_copied_sentence(grader, real_bank) -> None:
    entry = real_bank.get("common-activation-functions")
    right = "ReLU is by far the most popular due to its simplicity and effectiveness, defined as f(x) = max(0, x)."
    assert flags(grader, entry, right) == []
    wrong = "ReLU is by far the most popular due to its simplicity and effectiveness, defined as f(x) = min(0, x)."
    assert any("min(0, x)" in quote for _, quote in flags(grader, entry, wrong))


def test_two_copied_sentences_that_exchange_their_words() -> None:
    reference = edits.sentences_of(["For regression tasks, we might use mean squared error as the loss. For binary "
                                    "classification problems, we might use binary cross entropy as the loss."])
    seen: list[edits.Trade] = []
    for sentence in ("For binary classification tasks, we might use mean squared error as the loss.",
                     "For regression problems, we might use binary cross entropy as the loss."):
        assert edits.edited(sentence, reference, Vocabulary(terms=()), seen=seen) == []
    assert [e.kind for e in edits.across(seen)] == ["swap", "swap"]
    # each sentence in other words of its own exchanges nothing
    seen = []
    for sentence in ("For regression jobs, we might use mean squared error as the loss.",
                     "For binary classification tasks, we might use binary cross entropy as the loss."):
        edits.edited(sentence, reference, Vocabulary(terms=()), seen=seen)
    assert edits.across(seen) == []


def test_a_loss_given_to_the_other_task(grader, real_bank) -> None:
    entry = real_bank.get("loss-function-role")
    wrong = ("For regression problems, we might use Binary Cross Entropy, and for multi-class classification, we might "
             "use Categorical Cross Entropy. For binary classification tasks, we might use Mean Squared Error (MSE), "
             "which penalizes larger errors more due to the squaring operation.")
    assert flags(grader, entry, wrong)
