"""A point is not credited on the strength of the words that were flagged (bot/core/grading/credit.py).

A new user's LSTM answer swapped two gates' jobs in one sentence and scored 0, yet the forget gate's point still
showed ✓, citing the swapped sentence as "you said". The marks beside a score must agree with it.
"""

from __future__ import annotations

from bot.core.grading.lines import lower_first
from bot.core.render import score_text

LSTM = "lstm-gates"
SWAPPED = ("An LSTM has three gates. The forget gate decides what new information to store in the cell state, and the "
           "output gate picks the next hidden state. The input gate decides what to throw away from the cell state. "
           "Each gate is a sigmoid between 0 and 1.")


def _point(entry, start: str) -> int:
    return next(i for i, p in enumerate(entry.points) if p.startswith(start))


def test_a_point_whose_only_support_is_the_flagged_clause_is_not_ticked(grader, real_bank) -> None:
    entry = real_bank.get(LSTM)
    grade = grader.rubric_grade(entry, SWAPPED)
    assert grade.contradictions and grade.score <= 5
    forget = grade.key_points[_point(entry, "The forget gate")]
    assert not forget.covered
    assert forget.rests_on == "The forget gate decides what new information to store in the cell state"
    text = score_text(grade.view())
    line = next(s for s in text.splitlines() if s.startswith("✗ The forget gate"))
    assert "not credited" in line and "what new information to store" in line
    assert "✓ The forget gate" not in text


def test_a_right_clause_beside_the_flagged_one_keeps_its_tick_and_is_cited_alone(grader, real_bank) -> None:
    entry = real_bank.get(LSTM)
    grade = grader.rubric_grade(entry, SWAPPED)
    output = grade.key_points[_point(entry, "The output gate")]
    assert output.covered and output.rests_on is None
    # the clause that says it, not the flagged sentence nor another sentence
    assert output.evidence == "the output gate picks the next hidden state."
    sigmoid = grade.key_points[_point(entry, "Each gate")]
    assert sigmoid.covered and sigmoid.evidence == "Each gate is a sigmoid between 0 and 1."


def test_an_answer_without_flags_keeps_the_rubrics_marks(grader, real_bank) -> None:
    entry = real_bank.get(LSTM)
    right = ("The forget gate decides how much of the old cell state to keep, the input gate decides what new "
             "information is written to it, and the output gate decides what the next hidden state is.")
    grade = grader.rubric_grade(entry, right)
    assert not grade.contradictions
    assert grade.view()["uncredited"] == {}
    assert [p.covered for p in grade.key_points] == [p.covered for p in grade.result.points]
    assert "not credited" not in score_text(grade.view())


BATCH = ("Bigger batches train faster per step on a GPU but use more memory, and smaller batches often generalize "
         "better.")


def test_a_point_said_only_in_part_is_marked_so_beside_the_score(grader, real_bank) -> None:
    # six ticks beside a 75 read as points taken for nothing: the ones earning only part of their share say so
    entry = real_bank.get("batch-size-tradeoffs")
    grade = grader.rubric_grade(entry, BATCH)
    assert grade.score < 90 and all(p.covered for p in grade.key_points)
    partly = grade.view()["partly"]
    assert partly and len(partly) < len(entry.points)
    text = score_text(grade.view()).splitlines()
    for i, point in enumerate(entry.points):
        line = next(s for s in text if point in s)
        assert line.startswith("~ ") == (i in partly) and line.startswith("✓ ") == (i not in partly)
        assert ("(partly)" in line) == (i in partly)


def test_all_points_touched_is_not_called_all_covered(grader, real_bank) -> None:
    entry = real_bank.get("batch-size-tradeoffs")
    grade = grader.rubric_grade(entry, BATCH)
    weakest = min((p for p in grade.result.points if p.partly), key=lambda p: p.credit)
    assert not any(line.startswith("You covered all") for line in grade.feedback)
    line = next(s for s in grade.feedback if s.startswith("You touched on all 6 key points"))
    assert f"{len(grade.view()['partly'])} of them only in part" in line
    assert line.endswith(f"say this one more fully: {weakest.text[0].lower()}{weakest.text[1:]}")


def test_the_feedback_names_a_point_after_its_article_in_lower_case() -> None:
    assert lower_first("A GAN pairs a generator with a critic.") == "a GAN pairs a generator with a critic."
    assert lower_first("Xavier or Glorot initialization keeps variance stable.").startswith("Xavier")
    # After a colon a name keeps its capital though it reads like a word (a new user's trial: "he initialization").
    assert lower_first("He initialization scales by the square root of 2/n.").startswith("He ")
    assert lower_first("Xavier initialization suits tanh.").startswith("Xavier ")
    assert lower_first("Bayes' rule updates a prior.").startswith("Bayes")
    assert lower_first("Dropout switches neurons off.").startswith("dropout")


def test_evidence_quotes_the_clause_that_says_the_point(grader, real_bank) -> None:
    entry = real_bank.get("precision-vs-recall")
    answer = ("Precision tells you how many of the things the model called positive were actually right, while recall "
              "tells you what share of the real positive cases it managed to catch.")
    grade = grader.rubric_grade(entry, answer)
    said = {p.text.split()[0]: p.evidence for p in grade.key_points if p.covered}
    assert said["Precision"] == answer[:answer.index(", while")]
    assert said["Recall"] == "recall tells you what share of the real positive cases it managed to catch."


def test_the_marks_and_the_feedback_call_a_point_the_same(grader, real_bank) -> None:
    # "✗ The output of a convolutional layer is called a feature map" above "Only partly covered: the output ..."
    # said two things of one point
    entry = real_bank.get("cnn-conv-vs-pooling")
    grade = grader.rubric_grade(entry, "Conv layers learn filters that find features, and pooling shrinks the maps.")
    text = score_text(grade.view()).splitlines()
    named = 0
    for line in grade.feedback:
        for verb, mark in (("Only partly covered: ", "~ "), ("Missing: ", "✗ ")):
            if line.startswith(verb):
                said = line.removeprefix(verb).rstrip(".")
                point = next(p for p in entry.points if p.rstrip(".").lower() == said.lower())
                assert next(s for s in text if point in s).startswith(mark), (line, text)
                named += 1
    assert named >= 2


LSTM_RIGHT = ("An LSTM keeps a cell state that runs through the time steps, plus a hidden state. There are three "
              "gates, each a sigmoid of the current input and the previous hidden state. The forget gate decides what "
              "to erase from the cell state, the input gate decides how much of the new candidate values (from a "
              "tanh) get written in, and the output gate decides which part of the cell state, squashed by tanh, "
              "goes out as the hidden state. Because the cell state is updated additively, gradients can flow over "
              "long spans, so it handles long-term dependencies and vanishing gradients much better than a plain RNN.")


def test_the_point_to_say_more_fully_is_never_the_one_praised(grader, real_bank) -> None:
    # a new user read "say this one more fully: LSTMs are RNN units ..." and then "Well explained: LSTMs are ..."
    entry = real_bank.get(LSTM)
    grade = grader.rubric_grade(entry, LSTM_RIGHT)
    fuller = next(s for s in grade.feedback if "say this one more fully: " in s).split("say this one more fully: ")[1]
    praised = [s.removeprefix("Well explained: ") for s in grade.feedback if s.startswith("Well explained: ")]
    assert fuller not in praised
    partly = {lower_first(entry.points[i]) for i in grade.view()["partly"]}
    assert not partly & set(praised)


def test_the_feedback_counts_the_points_it_does_not_name_as_their_marks_show_them() -> None:
    # A new user counted five points short of full credit and four accounted for: "2 more key points missed" left
    # out a point marked "~ (partly)", and a point marked "~" was counted as missed.
    from bot.core.grading.lines import feedback_lines
    from bot.core.grading.rubric import PointMatch, RubricResult

    def point(name: str, similarity: float, credit: float) -> PointMatch:
        evidence = "some words" if similarity >= 0.5 else None
        return PointMatch(f"Step {name.lower()} holds.", similarity, evidence, credit)

    points = (point("A", 0.2, 0.0), point("B", 0.3, 0.0), point("C", 0.3, 0.0), point("D", 0.45, 0.2),
              point("E", 0.55, 0.6), point("F", 0.8, 1.0))
    lines = feedback_lines(RubricResult(points, 0.8, 30), [], injected=False)
    assert lines[:2] == ["Missing: step a holds.", "Missing: step b holds."]
    # C is ✗, D and E are ~: three more, as the marks show them
    assert lines[2] == "3 more key points, 1 missed and 2 only partly covered; compare with the reference answer."
    only_partly = (point("A", 0.2, 0.0), point("B", 0.3, 0.0), point("C", 0.45, 0.2), point("F", 0.8, 1.0))
    assert feedback_lines(RubricResult(only_partly, 0.8, 30), [], injected=False)[2] == \
        "1 more key point only partly covered; compare with the reference answer."


def test_a_contradicted_point_is_never_praised() -> None:
    # A new user read "You wrote ..., but the reference says: X" and then "Well explained: X" (session 18's trial).
    from bot.core.grading.conflicts import Contradiction
    from bot.core.grading.lines import feedback_lines
    from bot.core.grading.rubric import PointMatch, RubricResult

    points = (PointMatch("Pooling downsamples the height and width.", 0.9, "some words", 1.0),
              PointMatch("Convolutions slide filters over the input.", 0.9, "other words", 1.0))
    wrong = Contradiction(0, "pooling reduces the depth", points[0].text, "swap")
    lines = feedback_lines(RubricResult(points, 0.9, 40), [wrong], injected=False)
    assert not any(line.startswith("Well explained: pooling") for line in lines)
    assert "Well explained: convolutions slide filters over the input." in lines
