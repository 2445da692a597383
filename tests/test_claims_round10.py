"""Scoring v2, session 10: right answers the claim check flagged, on the seed deck and on a deck without key points.

A purpose clause (", to prototype RNNs") is a clause of its own; a denial in a relative clause without "that" ("a test
set the model never sees") describes a noun; on a deck without key points a reference sentence's leading "It" is the
sentence before's subject, not what the question asks about; a denied comparison ("never has more than") restates a
bound the point sets; a name the question gives need not be repeated; "different parts", as the reference says it,
turns no point around; "much faster" training is "reduced training time"; "never notices" says "barely noticeable"
again; a count set against the point's own ("one round trip versus two") is a comparison; a term after "than"
stands against the point's side of "than". The sentences and the deck were written for these tests, not taken from
the evaluation sets; each right one was flagged before the change.
"""

from __future__ import annotations

import pytest

from bot.core.bank import load_bank
from bot.core.grading.vocabulary import clauses
from tests.flagging import flags

NETWORKS_DECK = """\
deck: networks
title: Networking interview questions
topics: [naming, transport, addressing]
questions:
  - id: nw-dns-lookup
    question: What happens when a laptop looks up the address of shop.example.org?
    topics: [naming]
    difficulty: 2
    kind: concept
    answer: |
      The operating system first checks its own cache, and on a miss it sends the query to the configured
      recursive resolver, usually the one the home router or the ISP hands out. The recursive resolver checks
      its cache and, when it has nothing, walks down the naming tree. It asks a root server, which only points it
      to the name servers of the .org zone. It then asks an .org server, which points it to the authoritative
      name servers of example.org, and finally asks one of those for the A record of shop.example.org. The
      answer is cached for its TTL at the resolver and on the laptop. The laptop then opens a connection to the
      address it got back, and the resolver and the laptop both keep the record until its TTL runs out.
  - id: nw-tcp-window
    question: How does TCP decide how much data a sender may have in flight?
    topics: [transport]
    difficulty: 2
    kind: concept
    answer: |
      The sender keeps a congestion window of its own and the receiver advertises a receive window in every
      acknowledgement. At any moment the sender may have at most the smaller of the two windows of
      unacknowledged data in flight. The congestion window starts small and grows with every acknowledgement
      during slow start, then grows by about one segment per round trip. A loss shrinks the congestion window,
      and a full receive buffer shrinks the advertised window, so the slower of the network and the receiver
      sets the pace.
  - id: nw-port-forwarding
    question: Why does a home router running NAT need port forwarding before you can host a game server?
    topics: [addressing]
    difficulty: 2
    kind: concept
    answer: |
      The router keeps a translation table whose entries are created only by traffic going out from the home
      network. A connection that arrives from outside finds no entry, so the router does not know which inside
      host should get it and drops it. Port forwarding writes a fixed entry that sends a chosen public port to
      one private address and port. Without it, hosts behind NAT are unreachable from outside, and peer-to-peer
      applications need traversal techniques such as STUN or TURN relays instead. Every forwarded port is also
      a door that an attacker can knock on, so only the ports the server needs should be opened.
"""


@pytest.fixture(scope="module")
def networks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("decks")
    (folder / "networks.yaml").write_text(NETWORKS_DECK)
    return load_bank(folder)


def test_a_purpose_clause_is_a_clause_of_its_own(grader, real_bank) -> None:
    sentence = "I mostly use Keras, the high-level API that runs on top of TensorFlow, to prototype RNNs quickly."
    assert [sentence[a:b] for a, b in clauses(sentence)][-1] == "to prototype RNNs quickly."
    # "RNNs" is what the speaker builds, not a replacement for the point's "neural network" API
    assert flags(grader, real_bank.get("tensorflow-keras-experience"), sentence) == []


def test_a_drafted_points_it_is_the_sentence_befores_subject_not_the_questions(grader, networks) -> None:
    # "It asks a root server" follows "The recursive resolver ... walks down the naming tree": the resolver asks,
    # not the laptop the question names.
    entry = networks.get("nw-dns-lookup")
    right = ("The resolver asks a root server and follows the referrals down to the authoritative name servers "
             "for the A record.")
    assert flags(grader, entry, right) == []


def test_a_denied_comparison_restates_the_bound_a_point_sets(grader, networks) -> None:
    entry = networks.get("nw-tcp-window")
    right = "The sender never has more than the smaller of the congestion window and the advertised window in flight."
    assert flags(grader, entry, right) == []
    # still flagged: leaving the receiver's window out, and denying what the point states
    assert flags(grader, entry, "The sender never has more than the congestion window in flight, whatever the "
                                "receiver advertises.") != []
    assert [k for k, _ in flags(grader, entry, "The receiver never advertises a window, so only the congestion "
                                                "window limits the sender.")][:1] == ["negation"]


def test_a_bound_the_point_does_not_set_is_still_a_claim() -> None:
    from bot.core.grading.conflicts import negation_conflict

    bound = "The sender may have at most the smaller of the two windows in flight."
    assert negation_conflict("The sender never has more than the smaller of the two windows in flight.", bound,
                             set()) is None
    point = "Relational databases handle billions of rows efficiently with indexes."
    assert negation_conflict("Relational databases cannot handle more than ten thousand rows efficiently.", point,
                             set()) is not None


def test_the_questions_own_name_need_not_be_repeated(grader, networks) -> None:
    # The answer never says "NAT" (the question does); "VoIP" is an example beside "games", not another entity.
    entry = networks.get("nw-port-forwarding")
    right = ("Without a forwarded port, games and VoIP calls behind the router need STUN or TURN relays, because "
             "inside hosts are unreachable from outside.")
    assert flags(grader, entry, right) == []


def test_a_denial_inside_a_relative_clause_without_that_describes_a_noun(grader, real_bank) -> None:
    entry = real_bank.get("model-validation")
    # "a test set the model never sees": which test set, not a denial of a point
    assert flags(grader, entry, "I keep back a test set the model never sees and measure accuracy, precision and "
                                "recall on it.") == []
    # a denial in the main clause is still one
    assert flags(grader, entry, "I never split the data into training, validation and test sets.") == [
        ("negation", "never split the data")]


def test_a_generic_word_said_with_the_references_own_next_word_is_no_mirror(grader, real_bank) -> None:
    # "different parts" is the reference's own phrase (heads focus on different parts of the sequence); the point
    # "runs several heads in parallel on the same input" is not turned around by it.
    entry = real_bank.get("multi-head-attention")
    for right in ("Multi-head attention runs a few heads in parallel so each one can look at different parts of the "
                  "input.", "Several heads run in parallel so each head attends to different parts of the input."):
        assert flags(grader, entry, right) == [], right
    assert ("mirror", "different") in flags(grader, entry, "All heads run in parallel on different inputs, one input "
                                                           "per head.")


def test_speed_and_time_taken_are_inverse_directions(grader, real_bank) -> None:
    from bot.core.grading.opposites import opposite_conflict

    point = "Reusing already learned knowledge significantly reduces training time."
    # "much faster" training is "reduced training time", not its opposite
    assert opposite_conflict("The main gain: training is much faster since the model does not start from scratch.",
                             point) is None
    assert opposite_conflict("Reusing learned knowledge increases training time a lot.", point) is not None
    # slower training is the opposite of reduced training time, though both words point down (missed before)
    entry = real_bank.get("transfer-learning-benefits")
    assert ("opposite", "training much slower") in flags(
        grader, entry, "Reusing a pretrained model makes training much slower, but it needs far less labelled data.")
    assert opposite_conflict("It increases the training time.", "Pretrained weights make training faster.") is not None


def test_a_denial_agrees_with_a_point_that_hedges_to_almost_nothing() -> None:
    from bot.core.grading.conflicts import negation_conflict

    answer = "A user logging in never notices the few hundred milliseconds a hash takes."
    hedged = "Each hash should take a few hundred milliseconds, which is barely noticeable when a user logs in."
    assert negation_conflict(answer, hedged, set()) is None
    # without the hedge the denial contradicts the point
    assert negation_conflict(answer, hedged.replace("barely ", ""), set()) is not None


def test_a_count_set_against_the_points_own_count_is_a_comparison() -> None:
    from bot.core.grading.bindings import binding_conflict

    point = "HTTP/1.1 needed six connections per host to load resources in parallel;"
    assert binding_conflict("HTTP/2 uses one connection per host versus six in HTTP/1.1.", point) is None
    # still a wrong count: the point's value is not what the answer sets against its own
    assert binding_conflict("HTTP/1.1 used two connections per host versus one in HTTP/2.", point) is not None
    assert binding_conflict("HTTP/1.1 used one connection per host.", point) is not None


def test_the_term_after_than_stands_against_the_points_side_of_than(grader, real_bank) -> None:
    # the point: "Multiple heads give richer representations than a single attention mechanism"; the answer sets
    # "a single attention head" after "than" too, so it is not put in the place of "multiple heads"
    entry = real_bank.get("multi-head-attention")
    for right in ("The representation is richer than what a single attention head gives you.",
                  "Each head sees the sequence differently, so the representation is richer than a single attention "
                  "head would give."):
        assert flags(grader, entry, right) == [], right
