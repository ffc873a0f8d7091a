"""Property: contact search returns exactly the contacts whose fields contain every word of
the query, accents and case ignored, on SQLite (FTS5 trigram table) and PostgreSQL
(pg_trgm), through both of its paths (few matches sorted from the capped set; more than
COUNT_CAP matches: the name index walked).

The oracle is plain Python over the generated contacts, with its own accent table (not the
service's ``normalize``)."""

from __future__ import annotations

from datetime import date
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from simple_erp.domain.contact_rules import ContactInput
from simple_erp.models.contact import Contact
from simple_erp.services import contacts

TODAY = date(2026, 12, 4)
ACCENTS = {"a": "àâäá", "c": "ç", "e": "éèêë", "i": "îïí", "o": "ôöó", "u": "ùûüú", "y": "ÿ", "n": "ñ"}
FOLD = {accented: base for base, group in ACCENTS.items() for accented in group + group.upper()}


def fold(text: str) -> str:
    return "".join(FOLD.get(char, char) for char in text).lower()


LETTERS = "abcdeilmnorstu" + "ABEILMORT" + "éèàçôüïÉÈÀÇ"
NAME = st.text(alphabet=LETTERS + " -'%_\"", min_size=1, max_size=14).filter(lambda t: t.strip())
DIGITS = st.text(alphabet="0123456789", min_size=5, max_size=5)
EMAIL = st.builds(lambda a, b: f"{a}@{b}.fr", st.text(alphabet="abcdelo1234._", min_size=1, max_size=8)
                  .filter(lambda t: t[0] not in "._" and t[-1] not in "._" and ".." not in t),
                  st.sampled_from(["exemple", "orange", "free"]))


@st.composite
def a_contact(draw) -> ContactInput:
    company = draw(st.booleans())
    return ContactInput(
        kind="entreprise" if company else "particulier",
        company_name=draw(NAME) if company else "",
        last_name=draw(NAME), first_name=draw(st.one_of(st.just(""), NAME)),
        email=draw(st.one_of(st.just(""), EMAIL)), city=draw(st.one_of(st.just(""), NAME)),
        postal_code=draw(st.one_of(st.just(""), DIGITS)),
    )


def fields(data: ContactInput) -> list[str]:
    return [data.company_name, data.last_name, data.first_name, data.email, data.city, data.postal_code,
            data.phone, data.siren, data.rum]


def vary(word: str, how: str) -> str:
    if how == "upper":
        return word.upper()
    if how == "plain":
        return fold(word)
    if how == "accented":  # every plain vowel accented: the accents of the query are ignored too
        return "".join(ACCENTS[c][0] if c in ACCENTS and c != "n" else c for c in word)
    return word


@st.composite
def a_word(draw, people: list[ContactInput]) -> str:
    """A piece of some field of some contact (varied in case and accents), or any text."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.text(alphabet=LETTERS + "%_\"0123456789", min_size=1, max_size=5))
    person = draw(st.sampled_from(people))
    pieces = [w for f in fields(person) for w in f.split() if w]
    word = draw(st.sampled_from(pieces))
    start = draw(st.integers(0, len(word) - 1))
    end = draw(st.integers(start + 1, len(word)))
    return vary(word[start:end], draw(st.sampled_from(["same", "upper", "plain", "accented"])))


def expected(people: dict[int, ContactInput], query_words: list[str]) -> set[int]:
    words = [fold(w) for w in query_words]
    return {cid for cid, data in people.items()
            if all(any(w in fold(f.strip()) for f in fields(data)) for w in words)}


def found(session_factory, query: str) -> tuple[set[int], int, bool]:
    """Every id over every page (walking pages until an empty one), the total, capped."""
    ids: set[int] = set()
    first = None
    for page in range(1, 50):
        with session_factory() as session:
            result = contacts.search_contacts(session, query, page, page_size=3)
        first = first or result
        if not result.rows or result.page != page:
            break
        ids |= {r.id for r in result.rows}
    return ids, first.total, first.total_capped


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_search_finds_exactly_the_contacts_with_every_word(session_factory, data):
    people_in = data.draw(st.lists(a_contact(), min_size=1, max_size=7), label="contacts")
    cap = data.draw(st.sampled_from([1_000, 2]), label="COUNT_CAP")
    people: dict[int, ContactInput] = {}
    try:
        with session_factory() as session:
            for person in people_in:
                people[contacts.create_contact(session, person, TODAY).id] = person
        for _ in range(3):
            words = data.draw(st.lists(a_word(list(people.values())), min_size=1, max_size=3), label="words")
            query = "  ".join(words)
            want = expected(people, words)
            with mock.patch.object(contacts, "COUNT_CAP", cap):
                ids, total, capped = found(session_factory, query)
            assert ids == want, query
            if len(want) <= cap:
                assert (total, capped) == (len(want), False)
            else:
                assert (total, capped) == (cap, True)
    finally:
        with session_factory() as session:
            session.execute(delete(Contact))
