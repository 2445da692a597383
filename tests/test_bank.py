"""Deck validation: a good deck loads; each kind of broken deck gives one clear error naming file, entry, field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.core.bank import load_bank, load_deck
from bot.errors import DeckError

GOOD = {
    "deck": "demo",
    "title": "Demo",
    "topics": ["fundamentals"],
    "questions": [{
        "id": "what-is-x", "question": "What is X, and why does it matter?", "topics": ["fundamentals"],
        "difficulty": 1, "kind": "concept", "key_points": ["X is a thing", "X matters a lot", "X has parts"],
        "answer": "X is a thing that matters.",
    }],
}


def write(folder: Path, name: str, data: object) -> Path:
    path = folder / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def broken(**changes: object) -> dict:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    data["questions"][0].update(changes)
    return data


def test_good_deck_loads(tmp_path: Path) -> None:
    write(tmp_path, "demo.yaml", GOOD)
    bank = load_bank(tmp_path)
    entry = bank.get("what-is-x")
    assert entry.deck == "demo" and entry.key_points == ("X is a thing", "X matters a lot", "X has parts")


@pytest.mark.parametrize("changes, field, words", [
    ({"difficulty": 7}, "difficulty", "less than or equal to 3"),
    ({"kind": "trivia"}, "kind", "concept"),
    ({"key_points": ["only one"]}, "key_points", "3 to 6"),
    ({"question": ""}, "question", ""),
    ({"id": "Bad Id!"}, "id", "pattern"),
    ({"topics": ["astrology"]}, "entry 'what-is-x', field 'topics'", "astrology"),
    ({"answer": None}, "answer", ""),
    ({"surprise": 1}, "surprise", "Extra"),
])
def test_broken_entry_names_file_entry_and_field(tmp_path: Path, changes: dict, field: str, words: str) -> None:
    write(tmp_path, "demo.yaml", broken(**changes))
    with pytest.raises(DeckError) as info:
        load_bank(tmp_path)
    message = str(info.value)
    assert "demo.yaml" in message and field in message and words in message
    assert "\n" not in message


def test_missing_field_is_named(tmp_path: Path) -> None:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    del data["questions"][0]["answer"]
    write(tmp_path, "demo.yaml", data)
    with pytest.raises(DeckError, match=r"demo.yaml, entry 'what-is-x', field 'answer': Field required"):
        load_bank(tmp_path)


def test_invalid_yaml_names_line(tmp_path: Path) -> None:
    write(tmp_path, "bad.yaml", "deck: x\nquestions: [\n  - id: a\n")
    with pytest.raises(DeckError, match=r"bad.yaml is not valid YAML at line \d+"):
        load_bank(tmp_path)


def test_binary_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00\x01garbage")
    with pytest.raises(DeckError, match="bin.yaml"):
        load_bank(tmp_path)


def test_duplicate_id_across_decks(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", GOOD)
    other = yaml.safe_load(yaml.safe_dump(GOOD))
    other["deck"] = "other"
    write(tmp_path, "b.yaml", other)
    with pytest.raises(DeckError, match=r"b.yaml, entry 'what-is-x', field 'id': the id is already used in a.yaml"):
        load_bank(tmp_path)


def test_not_a_mapping(tmp_path: Path) -> None:
    write(tmp_path, "list.yaml", "- just\n- a list\n")
    with pytest.raises(DeckError, match="list.yaml must be a mapping"):
        load_deck(tmp_path / "list.yaml")


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(DeckError, match=r"holds no deck \(\*\.yaml\); set COACH_KNOWLEDGE_DIR"):
        load_bank(tmp_path)
    with pytest.raises(DeckError, match=r"knowledge folder .*/nowhere does not exist; set COACH_KNOWLEDGE_DIR"):
        load_bank(tmp_path / "nowhere")


def test_key_points_may_be_left_out(tmp_path: Path) -> None:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    del data["questions"][0]["key_points"]
    data["questions"][0]["answer"] = "X is a thing. It matters because of Y. It has three parts."
    write(tmp_path, "demo.yaml", data)
    entry = load_bank(tmp_path).get("what-is-x")
    assert entry.key_points is None
    assert entry.points == ("X is a thing.", "It matters because of Y.", "It has three parts.")


def test_real_bank_is_valid(real_bank) -> None:
    assert len(real_bank) >= 75
    for entry in real_bank.entries.values():
        assert entry.key_points and 3 <= len(entry.key_points) <= 6


PROBED = {"point": "X matters a lot", "probe": "Why would anyone care about X?"}


def test_a_point_may_carry_its_probe(tmp_path: Path) -> None:
    write(tmp_path, "demo.yaml", broken(key_points=["X is a thing", PROBED, "X has parts"]))
    entry = load_bank(tmp_path).get("what-is-x")
    assert entry.key_points == ("X is a thing", "X matters a lot", "X has parts")  # points stay plain strings
    assert entry.probes == (None, "Why would anyone care about X?", None)
    assert entry.probe(1) == "Why would anyone care about X?" and entry.probe(0) is None and entry.probe(9) is None


@pytest.mark.parametrize("item, field, words", [
    ({"point": "X matters a lot", "probe": "Tell me why X matters."}, "key_points.2.probe", "question mark"),
    ({"probe": "Why would anyone care about X?"}, "key_points.2.point", "Field required"),
    ({"point": "X matters a lot", "hint": "no"}, "key_points.2.hint", "Extra inputs"),
    ({"point": "X matters a lot", "probe": "Why?"}, "key_points.2.probe", "3 words"),
])
def test_a_broken_probe_names_file_entry_and_field(tmp_path: Path, item: dict, field: str, words: str) -> None:
    write(tmp_path, "demo.yaml", broken(key_points=["X is a thing", item, "X has parts"]))
    with pytest.raises(DeckError) as info:
        load_bank(tmp_path)
    message = str(info.value)
    assert message.startswith(f"Deck demo.yaml, entry 'what-is-x', field '{field}': ") and words in message


def test_every_point_of_the_real_deck_has_a_probe_that_asks_without_telling(real_bank) -> None:
    from bot.core.grading.critique_checks import question_problem, stems

    for entry in real_bank.entries.values():
        assert entry.probes is not None and len(entry.probes) == len(entry.points), entry.id
        for point, probe in zip(entry.points, entry.probes, strict=True):
            assert probe and question_problem(probe) is None, (entry.id, probe)
            # A probe may name the point's subject, never restate the point: most of what the point adds to the
            # question must be absent from it.
            adds = stems(point) - stems(entry.question)
            assert len(adds & stems(probe)) < max(2, 0.75 * len(adds)), (entry.id, probe)
def test_yaml_error_is_reported_where_the_mistake_is(tmp_path: Path) -> None:
    # An unclosed quote on line 5: the parser only gives up at the end of the file, 9 lines later.
    text = ("deck: demo\ntitle: Demo\nquestions:\n  - id: first\n    question: \"What is X, and why\n"
            "    topics: [basics]\n    difficulty: 1\n    answer: X.\n  - id: second\n    question: What is Y?\n"
            "    topics: [basics]\n    difficulty: 1\n    answer: Y.\n")
    (tmp_path / "demo.yaml").write_text(text)
    with pytest.raises(DeckError) as info:
        load_bank(tmp_path)
    assert str(info.value).startswith("Deck demo.yaml is not valid YAML at line 5 (entry 'first')"), info.value
    (tmp_path / "demo.yaml").write_text(text.replace('"What is X, and why', "What is X, and why?").replace(
        "topics: [basics]\n    difficulty: 1\n    answer: Y.", "topics: [basics\n    difficulty: 1\n    answer: Y."))
    with pytest.raises(DeckError, match=r"at line 11 \(entry 'second'\)"):
        load_bank(tmp_path)


def test_topic_outside_the_decks_list_names_the_entry(tmp_path: Path) -> None:
    data = yaml.safe_load(yaml.safe_dump(GOOD))
    data["topics"] = ["basics"]
    data["questions"][0]["topics"] = ["basics"]
    data["questions"].append(dict(data["questions"][0], id="second-entry", topics=["astrology"]))
    write(tmp_path, "demo.yaml", data)
    with pytest.raises(DeckError) as info:
        load_bank(tmp_path)
    assert str(info.value) == ("Deck demo.yaml, entry 'second-entry', field 'topics': 'astrology' is not in the "
                               "deck's topics (basics).")
