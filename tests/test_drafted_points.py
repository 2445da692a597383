"""Rubric points drafted from a reference answer: one checkable idea per clause, lists and parentheses kept whole."""

from __future__ import annotations

from bot.core.grading.drafted import MAX_POINTS, clause_points, split_clauses


def test_semicolons_split_ideas() -> None:
    points = clause_points("They both involve repetition; they both have termination tests; they can both occur "
                           "infinitely.")
    assert points == ("They both involve repetition.", "They both have termination tests.",
                      "They can both occur infinitely.")


def test_comma_joiners_split_but_keep_each_clause_words() -> None:
    points = clause_points("A constructor is called whenever an object is created, whereas a function needs to be "
                           "called explicitly.")
    assert points == ("A constructor is called whenever an object is created.",
                      "A function needs to be called explicitly.")


def test_serial_list_is_one_point() -> None:
    sentence = "The signature has the name of the function, the return type, and the parameter types."
    assert split_clauses(sentence) == [sentence.rstrip(".")]


def test_parentheses_are_never_split() -> None:
    sentence = "Elements are accessed directly (as opposed to linked lists, which require a traversal)."
    assert len(split_clauses(sentence)) == 1


def test_short_fragments_join_their_neighbour() -> None:
    assert clause_points("Use a stack; push.") == ("Use a stack, push.",)


def test_short_answer_stays_whole() -> None:
    assert clause_points("By reference.") == ("By reference.",)
    assert clause_points("push and pop") == ("Push and pop.",)


def test_long_answer_is_capped_and_loses_nothing() -> None:
    answer = " ".join(f"Point number {i} is a separate idea." for i in range(1, 10))
    points = clause_points(answer)
    assert len(points) == MAX_POINTS
    assert "Point number 9" in points[-1] and "Point number 6" in points[-1]


def test_sentences_still_split() -> None:
    points = clause_points("Dropout switches units off at random. It is turned off at inference time.")
    assert points == ("Dropout switches units off at random.", "It is turned off at inference time.")


def test_wrapped_lines_of_a_yaml_block_are_one_sentence() -> None:
    from bot.core.grading.drafted import drafted_points, unwrap

    answer = ("A generator keeps its local\nstate between calls. It is applied\nlazily.\n\nA new paragraph.\n"
              "- a bullet\n- another bullet\n")
    assert unwrap("It is applied\nlazily.") == "It is applied lazily."
    assert drafted_points(answer) == ("A generator keeps its local state between calls.", "It is applied lazily.",
                                      "A new paragraph.", "a bullet", "another bullet")


def test_decks_without_key_points_are_drafted_from_whole_sentences() -> None:
    from pathlib import Path

    from bot.core.bank import load_bank

    bank = load_bank(Path(__file__).resolve().parent / "data" / "user_deck")
    for entry in bank.entries.values():
        assert entry.key_points is None and len(entry.points) >= 3
        for point in entry.points:
            # a sentence starts with a capital or with a name from code ("copy.copy makes ...")
            starts = point[:1].isupper() or "." in point.split()[0]
            assert starts and point.endswith(".") and "\n" not in point, (entry.id, point)
