"""The query language, parsed without a database."""

from hypothesis import given
from hypothesis import strategies as st

from search.query import MAX_TERMS, Query, fts5_phrases, parse, tokens


def test_words_are_lower_case_tokens_each_required():
    assert parse("Cat  MAT").phrases == (("cat",), ("mat",))


def test_quoted_phrase_is_one_term():
    assert parse('"quick brown fox" dog').phrases == (("quick", "brown", "fox"), ("dog",))


def test_unclosed_quote_runs_to_the_end():
    assert parse('"quick brown').phrases == (("quick", "brown"),)


def test_minus_excludes_a_word_or_a_phrase():
    parsed = parse('fox -lazy -"brown dog"')
    assert parsed.phrases == (("fox",),)
    assert parsed.excluded == (("lazy",), ("brown", "dog"))


def test_from_and_in_are_filters_not_words():
    parsed = parse("from:Ann in:#General cat")
    assert parsed == Query(phrases=(("cat",),), authors=("Ann",), rooms=("general",))


def test_from_without_a_valid_name_is_plain_words():
    assert parse("from:x/y in:bad/name").phrases == (("x", "y"), ("bad", "name"))


def test_punctuation_inside_a_word_makes_a_phrase():
    assert parse("example.com").phrases == (("example", "com"),)


def test_stop_words_are_dropped_from_words_and_phrase_ends():
    assert parse('the cat "in the hat"').phrases == (("cat",), ("hat",))
    assert parse('"cat in the hat"').phrases == (("cat", "in", "the", "hat"),)


def test_only_stop_words_or_negations_is_an_empty_query():
    assert parse("the of and").is_empty
    assert parse("-cat").is_empty


def test_engine_syntax_is_plain_text():
    parsed = parse('NEAR(a b) col:x ^y "a" OR b* & !c | d <-> e:*')
    assert parsed.phrases == (
        ("near",), ("b",), ("col", "x"), ("y",), ("c",), ("d",), ("e",)
    )  # fmt: skip
    assert "".join(fts5_phrases(parsed.phrases)).count('"') == 2 * len(parsed.phrases)


def test_terms_are_bounded():
    assert len(parse(" ".join(f"w{n}" for n in range(100))).phrases) == MAX_TERMS


@given(st.text())
def test_any_text_parses_to_letter_and_digit_tokens(text):
    parsed = parse(text)
    for phrase in parsed.phrases + parsed.excluded:
        for token in phrase:
            assert token and tokens(token) == (token,)
