"""Which deck questions come from: the interview's own, the user's pick, else their server's or workspace's default.

With no pick and no default, questions come from every installed deck (as with a single deck). A pick or a default
that names a deck no longer installed is kept (the file may come back) and falls back with one sentence.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.core.bank import Bank, Entry
from bot.core.replies import Reply, ReplyKind, Request, UserRef
from bot.core.text import plural
from bot.errors import CoachError

if TYPE_CHECKING:
    from bot.core.schedule import Scheduler
    from bot.core.store.records import Store

ALL = "*"            # stored as a user's pick: every deck, whatever the space's default
FOLLOW = "default"   # the word that clears a user's pick (follow the space's default)
EVERY = "all"        # the word for every deck
SPACE_WORDS = {"slack": "workspace"}   # what a platform calls the place whose default applies; else "server"


def space_word(platform: str) -> str:
    """'server' on Discord, 'workspace' on Slack."""
    return SPACE_WORDS.get(platform, "server")


@dataclass(frozen=True)
class DeckChoice:
    """Where one user's questions come from: a deck (None: every deck), its entries, and a fallback note."""

    name: str | None
    bank: Bank
    note: str | None = None


class Decks:
    """Resolves and changes deck choices; the bank itself is never changed."""

    def __init__(self, bank: Bank, store: Store, may_manage: Callable[[Request], bool] = lambda r: r.admin) -> None:
        self.bank = bank
        self.store = store
        self.may_manage = may_manage   # who may set a space's default deck (the core's Access decides)

    # ------------------------------------------------------------------ resolving

    def sub_bank(self, name: str | None) -> Bank:
        """The entries of one deck as a bank of their own (the whole bank for None or an unknown deck)."""
        if name is None or name not in self.bank.decks:
            return self.bank
        # Built on each call (a dict over the bank): an entry fixed in place in the bank is seen at once.
        entries = {i: e for i, e in self.bank.entries.items() if e.deck == name}
        return Bank(entries=entries, decks={name: self.bank.decks[name]})

    def unknown(self, name: str) -> str:
        """The sentence for a deck name that is not installed."""
        return f"There is no deck '{name[:40]}'. Decks: {', '.join(sorted(self.bank.decks))}."

    def resolve(self, user: UserRef, space: str | None = None, explicit: str | None = None) -> DeckChoice:
        """The deck of the user's next questions: `explicit` (one interview's), their pick, their space's default."""
        if explicit and explicit.strip():
            name = explicit.strip().lower()
            if name == EVERY:
                return DeckChoice(None, self.bank)
            if name not in self.bank.decks:
                raise CoachError(self.unknown(name))
            return DeckChoice(name, self.sub_bank(name))
        record = self.store.get_user(user)
        space = space or (record.space if record else None)
        own = record.deck if record else None
        if own == ALL:
            return DeckChoice(None, self.bank)
        if own in self.bank.decks:
            return DeckChoice(own, self.sub_bank(own))
        default = self.store.space_deck(user.platform, space) if space else None
        gone_default = default is not None and default not in self.bank.decks
        fallback = None if gone_default else default
        where = f"this {space_word(user.platform)}'s default deck '{fallback}'" if fallback else "every deck"
        note = None
        if own:
            note = f"Your deck '{own}' is no longer installed, so questions come from {where} instead."
        elif gone_default:
            note = (f"This {space_word(user.platform)}'s default deck '{default}' is no longer installed, so questions "
                    "come from every deck instead.")
        return DeckChoice(fallback, self.sub_bank(fallback), note)

    def scheduler(self, base: Scheduler, choice: DeckChoice) -> Scheduler:
        """The scheduler choosing within the chosen deck (reviews and history stay the user's, across decks)."""
        if choice.name is None:
            return base
        scoped = copy.copy(base)
        scoped.bank = choice.bank
        return scoped

    def daily_question(self, base: Scheduler, user: UserRef, now: datetime) -> tuple[Entry | None, str | None]:
        """The user's next daily question, from their deck, and the sentence saying their deck fell back, if it did."""
        choice = self.resolve(user)
        return self.scheduler(base, choice).next_question(user, now=now), choice.note

    def remember_space(self, user: UserRef, space: str | None) -> None:
        """Record the server or workspace a user acts in: its default deck applies to their daily questions too."""
        if not space:
            return
        record = self.store.get_or_create_user(user)
        if record.space != space:
            self.store.update_user(user, space=space)

    # ------------------------------------------------------------------ the deck action

    def act(self, request: Request) -> Iterator[Reply]:
        """Show the decks, pick one for oneself, or (a manager) set the server's or workspace's default."""
        user, word = request.user, (request.deck or "").strip().lower()
        self.store.get_or_create_user(user)
        self.remember_space(user, request.space)
        place = space_word(user.platform)
        if request.for_space:
            if not request.space:
                raise CoachError(f"A default deck belongs to a {place}: run this command in one.")
            if not self.may_manage(request):
                raise CoachError(f"Only someone who can manage this {place} can change its default deck.")
            if word:
                self._set_space(request, word)
        elif word:
            self._set_own(user, word)
        yield self._overview(user, request.space, changed=bool(word), for_space=request.for_space)

    def _set_space(self, request: Request, word: str) -> None:
        if word not in (EVERY, FOLLOW) and word not in self.bank.decks:
            raise CoachError(self.unknown(word))
        deck = None if word in (EVERY, FOLLOW) else word
        self.store.set_space_deck(request.user.platform, str(request.space), deck, set_by=request.user.user_id)

    def _set_own(self, user: UserRef, word: str) -> None:
        if word not in (EVERY, FOLLOW) and word not in self.bank.decks:
            raise CoachError(self.unknown(word))
        self.store.update_user(user, deck={FOLLOW: None, EVERY: ALL}.get(word, word))

    def _overview(self, user: UserRef, space: str | None, *, changed: bool, for_space: bool) -> Reply:
        """The installed decks, the space's default, and where the user's questions come from now."""
        record = self.store.get_user(user)
        space = space or (record.space if record else None)
        default = self.store.space_deck(user.platform, space) if space else None
        choice = self.resolve(user, space)
        place = space_word(user.platform)
        decks = [{"name": d.deck, "title": d.title, "questions": len(d.questions)}
                 for d in sorted(self.bank.decks.values(), key=lambda d: d.deck)]
        lines = [f"• {d.deck} — {d.title} ({plural(len(d.questions), 'question')})"
                 for d in sorted(self.bank.decks.values(), key=lambda d: d.deck)]
        if changed and for_space:
            body = [f"This {place}'s default deck is now '{default}'." if default else
                    f"This {place} has no default deck now: questions come from every deck."]
        elif changed:
            body = [f"Your interviews and daily questions now come from {_describe(choice.name)}."]
        else:
            body = ["Decks installed:" if len(decks) > 1 else "Only one deck is installed:", *lines]
            if space:
                body.append(f"This {place}'s default: {default or 'none (every deck)'}.")
            body.append(f"Your questions come from {_describe(choice.name)}"
                        f"{' (your own pick)' if record and record.deck else ''}.")
        if choice.note:
            body.append(choice.note)
        data: dict[str, Any] = {"decks": decks, "own": record.deck if record else None, "space_default": default,
                                "effective": choice.name, "changed": changed, "for_space": for_space}
        return Reply(ReplyKind.INFO, "\n".join(body), data=data)


def _describe(name: str | None) -> str:
    return f"the deck '{name}'" if name else "every deck"
