"""Delivery metrics from word timestamps: pace, filler words, long pauses, length against the target."""

from __future__ import annotations

from bot.core.speech.base import Transcript, Word
from bot.core.speech.delivery import count_fillers, delivery_text, long_pauses, measure, target_for
from bot.core.testing import fake_transcript


def words(*items: tuple[str, float, float]) -> list[Word]:
    return [Word(text, start, end) for text, start, end in items]


def test_pace_is_words_per_minute_of_speaking_time() -> None:
    text = " ".join(["word"] * 150)
    assert abs(measure(fake_transcript(text, wpm=150))["wpm"] - 150) <= 2
    fast = measure(fake_transcript(text, wpm=210))
    slow = measure(fake_transcript(text, wpm=90))
    assert fast["wpm"] > 200 and "fast" in fast["notes"][0]
    assert slow["wpm"] < 95 and "slow" in slow["notes"][0]
    assert "comfortable" in measure(fake_transcript(text, wpm=140))["notes"][0]


def test_um_and_uh_always_count_and_are_grouped() -> None:
    found = count_fillers(fake_transcript("Um, so the loss, uh, goes down. Umm and erm then uh it converges.").words)
    assert found == {"um": 2, "uh": 3}


def test_like_counts_only_when_set_apart() -> None:
    as_filler = count_fillers(fake_transcript("It's, like, the exponential of each score.").words)
    assert as_filler == {"like": 1}
    # a comparison and a verb, said in one breath: not fillers
    assert count_fillers(fake_transcript("It works like a sieve and I like this model.").words) == {}
    # no commas, but a pause on each side sets it apart
    paused = words(("it's", 0.0, 0.2), ("like", 0.6, 0.8), ("the", 1.2, 1.3), ("sum", 1.3, 1.6))
    assert count_fillers(paused) == {"like": 1}
    assert count_fillers(words(("it's", 0.0, 0.2), ("like", 0.25, 0.4), ("the", 0.45, 0.5))) == {}
    assert count_fillers(fake_transcript("Um like the gradient.").words) == {"um": 1, "like": 1}


def test_you_know_counts_as_filler_but_not_as_a_question() -> None:
    assert count_fillers(fake_transcript("It is, you know, the harmonic mean.").words) == {"you know": 1}
    assert count_fillers(fake_transcript("Together with the cross entropy loss, you know.").words) == {"you know": 1}
    assert count_fillers(fake_transcript("Do you know what a gradient is? If you know, say it.").words) == {}
    assert count_fillers(fake_transcript("Then you know the weights are fine.").words) == {}


def test_long_pauses_are_found_where_they_are() -> None:
    transcript = fake_transcript("Dropout switches off neurons and then at inference it scales", wpm=150,
                                 pauses={4: 3.0, 7: 1.0})
    pauses = long_pauses(transcript.words)
    assert len(pauses) == 1 and pauses[0]["after"] == "neurons" and 3.0 <= pauses[0]["seconds"] <= 3.5
    data = measure(transcript)
    assert data["long_pauses"] == 1 and data["longest_pause"] == pauses[0]["seconds"]
    assert any(n.startswith("Long pauses: 1") for n in data["notes"])


def test_length_is_judged_against_the_question_kind() -> None:
    assert target_for("concept") == (30, 90) and target_for("experience") == (45, 120)
    assert target_for("concept", follow_up=True) == (15, 60) and target_for(None) == (30, 90)
    short = measure(fake_transcript(" ".join(["word"] * 30), wpm=150), target_for("concept"))   # 12 s
    right = measure(fake_transcript(" ".join(["word"] * 150), wpm=150), target_for("concept"))  # 60 s
    long = measure(fake_transcript(" ".join(["word"] * 300), wpm=150), target_for("concept"))   # 120 s
    assert short["seconds"] < 30 and "short" in short["notes"][-1]
    assert 30 <= right["seconds"] <= 90 and "about right" in right["notes"][-1]
    assert long["seconds"] > 90 and "long" in long["notes"][-1]
    assert right["target_seconds"] == [30, 90]


def test_notes_and_text_say_it_is_not_scored() -> None:
    data = measure(fake_transcript("Um, so the softmax turns scores into probabilities, you know.", wpm=150))
    assert data["fillers"] == {"um": 1, "you know": 1} and data["filler_count"] == 2
    text = delivery_text(data)
    assert text.startswith("Delivery") and "not part of the score" in text
    assert "Filler words: 2 (um ×1, you know ×1)" in text


def test_estimated_word_times_are_said_to_be_estimates() -> None:
    base = fake_transcript("The loss goes down as the weights move against the gradient.")
    untimed = Transcript(base.text, base.words, base.duration, timed=False)
    assert any("estimated" in n for n in measure(untimed)["notes"])
    assert not any("estimated" in n for n in measure(base)["notes"])
