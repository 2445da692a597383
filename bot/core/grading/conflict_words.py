"""The word lists of the contradiction check: negations, opposite families, idioms, clause boundaries."""

from __future__ import annotations

import re

# Words that negate what follows them; "n't" forms are folded to "not" first.
NEGATIONS = frozenset({"not", "no", "never", "none", "nothing", "neither", "nor", "cannot", "without"})
# Points that already say "less of something" (reduces, prevents, drops): a negated answer often agrees with them.
NEGATIVE_VERBS = frozenset({"reduce", "reduces", "prevent", "prevents", "avoid", "avoids", "combat", "combats",
                            "mitigate", "mitigates", "control", "controls", "dampen", "dampens", "drop", "drops",
                            "remove", "removes", "ignore", "ignores", "stop", "stops", "without", "lack", "lacks",
                            "discourage", "discourages", "discouraging", "deter", "deters", "inhibit", "inhibits",
                            "suppress", "suppresses"})
# Verbs of losing or harming: denied, they agree with a point that keeps or helps ("you don't lose representational
# power" restates "preserves the representational capacity").
LOSS_VERBS = frozenset({"lose", "loses", "losing", "lost", "sacrifice", "sacrifices", "sacrificing", "hurt", "hurts",
                        "harm", "harms", "degrade", "degrades", "forget", "forgets", "waste", "wastes", "damage",
                        "damages", "destroy", "destroys", "fail", "fails", "suffer", "suffers"})
# Words that deny inside a condition ("won't trust a model if nobody can say why": explaining earns the trust).
CONDITION_DENIALS = frozenset({"nobody", "nothing", "noone"})
PUNCT = frozenset({",", ";", ":", ".", "(", ")", "!", "?"})
# Words that open another clause: a negation or a direction word does not reach past them.
BOUNDARY = PUNCT | {"because", "where", "while", "since", "although", "though", "whereas", "which", "who", "so",
                    "but", "if", "unless", "when"}
# Direction words: an answer saying one side about what the reference says the other side of.
UP = frozenset({"increase", "increases", "increased", "increasing", "more", "higher", "larger", "bigger", "raise",
                "raises", "grow", "grows", "faster", "speed", "speeds", "accelerate", "accelerates", "worse",
                "amplify", "amplifies", "upsample", "upsamples", "largest", "biggest", "highest"})
DOWN = frozenset({"decrease", "decreases", "decreased", "decreasing", "less", "fewer", "lower", "smaller",
                  "reduce", "reduces", "reduced", "reducing", "shrink", "shrinks", "slower", "slow", "slows",
                  "dampen", "dampens", "downsample", "downsamples", "remove", "removes", "removing", "mitigate",
                  "mitigates", "prevent", "prevents", "combat", "combats", "control", "controls", "drop", "drops",
                  "smallest", "lowest", "fewest"})
# Pairs of opposite word families, checked like directions: the answer says one, the point the other, of one thing.
OPPOSITES = (
    (UP, DOWN),
    (frozenset({"same", "identical"}), frozenset({"differ", "differs", "different", "distinct"})),
    (frozenset({"simple", "simpler", "simplest", "lighter"}), frozenset({"complex", "complicated", "heavier"})),
    (frozenset({"create", "creates", "creating", "synthetic"}), frozenset({"delete", "deletes", "deleting"})),
    (frozenset({"compete", "competes", "competing", "competition"}),
     frozenset({"cooperate", "cooperates", "cooperating", "cooperation"})),
    (frozenset({"dense"}), frozenset({"sparse", "one-hot"})),
    (frozenset({"harmonic"}), frozenset({"arithmetic"})),
    (frozenset({"misleading", "unreliable"}), frozenset({"reliable"})),
    (frozenset({"random", "randomly"}), frozenset({"zero", "zeros", "constant"})),
    (frozenset({"minimize", "minimizes", "minimizing", "minimise", "minimises"}),
     frozenset({"maximize", "maximizes", "maximizing", "maximise", "maximises"})),
    (frozenset({"compress", "compresses", "compressing", "compressed"}),
     frozenset({"expand", "expands", "expanding", "expanded", "decompress", "decompresses"})),
    (frozenset({"generative"}), frozenset({"discriminative"})),
    (frozenset({"linear"}), frozenset({"nonlinear", "non-linear", "nonlinearity", "non-linearity"})),
    (frozenset({"cheap", "cheaper"}), frozenset({"expensive", "costly"})),
    # "easier to interpret than traditional machine learning methods" for "harder to interpret" (part 15)
    (frozenset({"easy", "easier", "easiest"}), frozenset({"hard", "harder", "hardest", "difficult"})),
    # "update each weight by adding the gradient" for "... by subtracting its gradient" (a new user's trial)
    (frozenset({"add", "adds", "adding", "added"}), frozenset({"subtract", "subtracts", "subtracting", "subtracted"})),
)
# Opposite words that describe rather than act: they attach to the words on either side, like comparatives.
ADJECTIVES = frozenset({"same", "identical", "different", "distinct", "simple", "complex", "complicated", "dense",
                        "sparse", "one-hot", "harmonic", "arithmetic", "misleading", "reliable", "unreliable",
                        "synthetic", "random", "randomly", "zero", "zeros", "constant", "generative",
                        "discriminative", "linear", "nonlinear", "non-linear", "cheap", "cheaper", "expensive",
                        "costly", "easy", "easier", "easiest", "hard", "harder", "hardest", "difficult"})
# Set phrases with a negation word that deny nothing: "no more than two children", "no matter what".
IDIOMS = (("no", "more", "than"), ("no", "less", "than"), ("not", "only"), ("no", "matter"), ("not", "just"),
           ("not", "necessarily"))
# Questions that ask for a contrast: answers describe the other side with negations ("a plain list has no ...").
CONTRAST_QUESTION = re.compile(r"(?i)\b(difference|compare|comparison|contrast|versus|vs\.?|advantages?|"
                               r"disadvantages?)\b")
# Comparatives attach to the words on either side ("train faster", "faster convergence"); verbs to what follows.
COMPARATIVES = frozenset({"more", "less", "fewer", "higher", "lower", "larger", "smaller", "bigger", "faster",
                          "slower", "simpler", "lighter", "heavier", "worse", "better"})
# Degree words between a comparative and what it is said of ("makes overfitting somewhat worse"): they take no slot.
DEGREES = frozenset({"somewhat", "slightly", "significantly", "considerably", "substantially", "noticeably",
                     "marginally", "far", "even", "dramatically", "greatly", "vastly", "bit", "lot", "little",
                     "considerable", "noticeable"})
# Prepositions: a phrase that one opens is not the object of a "without" before it ("without labels by minimizing").
PREPOSITIONS = frozenset({"by", "for", "with", "from", "in", "on", "at", "to", "via", "through", "using", "into",
                          "during", "across", "over", "under", "after", "before"})
# Phrases that introduce the alternative a sentence sets aside ("instead of giving every element the same weight").
CONTRAST = re.compile(r"(?i)\b(?:instead\s+of|rather\s+than|unlike|as\s+opposed\s+to|in\s+contrast\s+to|"
                      r"in\s+place\s+of)\b")
# "X is not an issue": the negation reaches back to X.
PREDICATES = frozenset({"issue", "concern", "problem", "needed", "required", "necessary", "important", "matter",
                        "possible", "useful", "helpful"})
WEAK = frozenset({"a", "an", "the", "and", "or", "of", "to", "in", "on", "at", "by", "for", "with", "from", "is", "are",
                  "was", "were", "be", "been", "it", "its", "this", "that", "these", "those", "they", "them", "their",
                  "as", "so", "do", "does", "did", "has", "have", "had", "can", "could", "will", "would", "should",
                  "may", "might", "must", "really", "ever", "even", "just", "only", "also", "very", "much", "any",
                  "all", "some", "each", "every", "such", "one", "there", "here", "then", "than", "when", "which",
                  "what", "who", "how", "need", "needed", "needs", "matter", "matters", "use", "used", "uses", "make",
                  "makes", "made", "get", "gets", "anything", "something", "thing", "things", "way", "about", "into",
                  "more", "less"})
SUFFIXES = ("ations", "ation", "ities", "ity", "ings", "ing", "ies", "ied", "ers", "er", "es", "ed", "ly", "s", "e")
# Generic sibling families for the who-does-what check (bot/core/grading/claims.py): words of one family agree, of
# two families of a group contradict when they stand where the key point has the other ("too low" for "too high").
PHASES = 3  # the index of the training / inference family below
QUANTITIES = 9  # the index of the one / unlimited family below
FAMILIES = (
    (frozenset({"high", "higher", "highest", "large", "larger", "largest", "big", "bigger", "biggest", "greater",
                "increase", "increases", "increased", "increasing"}),
     frozenset({"low", "lower", "lowest", "small", "smaller", "smallest", "tiny", "decrease", "decreases",
                "decreased", "decreasing"})),
    (frozenset({"more", "most", "many"}), frozenset({"less", "least", "fewer", "fewest", "few", "little"})),
    (frozenset({"fast", "faster", "fastest", "quick", "quicker", "quickly", "accelerate", "accelerates"}),
     frozenset({"slow", "slower", "slowest", "slowly", "slows"})),
    (frozenset({"training", "train", "trained"}),
     frozenset({"inference", "test", "testing", "prediction", "predictions"})),
    (frozenset({"first", "early", "earlier", "earliest", "initial", "beginning"}),
     frozenset({"last", "final", "late", "later", "latest", "end"})),
    (frozenset({"forward", "forwards"}), frozenset({"backward", "backwards", "back"})),
    (frozenset({"before"}), frozenset({"after"})),
    (frozenset({"left"}), frozenset({"right"})),
    (frozenset({"all", "every", "always"}), frozenset({"none", "never"})),
    (frozenset({"one", "single", "once"}), frozenset({"unlimited", "multiple", "several", "infinite", "arbitrary"})),
    (frozenset({"minimize", "minimizes", "minimise", "minimum", "min"}),
     frozenset({"maximize", "maximizes", "maximise", "maximum", "max"})),
    (frozenset({"positive"}), frozenset({"negative"})),
    *((one, other) for one, other in OPPOSITES[1:]),
)
# Kinds that only a copy's edit puts one for the other (bot/core/grading/edits.py), beside the families above: "For
# multi-class classification problems, we use Binary Cross Entropy". As opposites in any clause they flag right
# contrasts (a strong answer of part 15), so they are scoped to copies.
COPY_KINDS = ((frozenset({"binary"}), frozenset({"multi-class", "multiclass"})),
              (frozenset({"upsample", "upsamples", "upsampling", "upsampled"}),
               frozenset({"downsample", "downsamples", "downsampling", "downsampled"})))
# Words that name the plain kind of a thing, no other kind (bot/core/grading/vocabulary.py): "traditional machine
# learning" is machine learning, and "classic machine learning" said for it is no sibling put in.
PLAIN_KIND = frozenset({"traditional", "classic", "classical", "conventional", "standard", "plain", "vanilla",
                        "regular", "ordinary"})
