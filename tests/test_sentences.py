"""The sentence corpus: generator, grammar checker, encoding, and a sentence VAE that learns it."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minivae.models import VAE
from minivae.sentences import (
    MAX_WORDS,
    PAD,
    VOCABULARY,
    decode_sentences,
    encode_sentences,
    interpolate_sentences,
    is_grammatical,
    make_sentences,
    token_accuracy,
)
from tests.strategies import seeds


# ---------------------------------------------------------------------- the generator
def test_same_seed_same_corpus_and_the_corpus_varies():
    assert make_sentences(50, 3) == make_sentences(50, 3)
    assert make_sentences(50, 3) != make_sentences(50, 4)
    corpus = make_sentences(2000, 0)
    assert len(set(corpus)) > 1500
    lengths = {len(s.split()) for s in corpus}
    assert lengths == set(range(5, MAX_WORDS + 1))
    # every word of the vocabulary is used
    assert {w for s in corpus for w in s.split()} == set(VOCABULARY) - {PAD}


@pytest.mark.parametrize("n", [0, -1, 2.0, "3"])
def test_n_samples_is_checked(n):
    with pytest.raises(ValueError, match="n_samples must be an int >= 1"):
        make_sentences(n, 0)


# ---------------------------------------------------------------------- the checker
def test_checker_accepts_every_generated_sentence():
    corpus = make_sentences(3000, 1)
    assert all(is_grammatical(s) for s in corpus)


@given(seed=seeds)
def test_checker_rejects_scrambled_sentences(seed):
    rng = np.random.default_rng(seed)
    corpus = make_sentences(50, rng)
    for sentence in corpus:
        words = sentence.split()
        # Reversed, the sentence starts with a noun; rotated, with the verb.
        assert not is_grammatical(" ".join(words[::-1])), sentence
        verb = next(i for i, w in enumerate(words) if w.rstrip("s") in ("see", "like", "chase", "eat"))
        assert not is_grammatical(" ".join(words[verb:] + words[:verb])), sentence
    # A random permutation can be a sentence again ("the girl likes a girl" -> "a girl likes
    # the girl"), but rarely: most scrambles are rejected.
    scrambled = [" ".join(rng.permutation(s.split())) for s in corpus]
    changed = [t for s, t in zip(corpus, scrambled) if t != s]
    assert changed and np.mean([is_grammatical(t) for t in changed]) < 0.2


@pytest.mark.parametrize("text", [
    "the cat sees the dog",
    "a big red dog chases some white balls",
    "some girls eat a cake",
    "the small boys like the black cat",
])
def test_checker_accepts_hand_written_sentences(text):
    assert is_grammatical(text)


@pytest.mark.parametrize("text, why", [
    ("the cat see the dog", "verb agreement"),
    ("the cats sees the dog", "verb agreement"),
    ("a cats sees the dog", "determiner agreement"),
    ("some cat sees the dog", "determiner agreement"),
    ("the red big cat sees the dog", "adjective order"),
    ("the big big cat sees the dog", "repeated adjective"),
    ("the cat eats the ball", "only food is eaten"),
    ("the cat chases the cake", "food is not chased"),
    ("the ball sees the cat", "the subject is animate"),
    ("the cat sees the dog the", "trailing word"),
    ("the cat sees", "no object"),
    ("cat sees the dog", "no determiner"),
    ("", "empty"),
    ("The cat sees the dog", "case"),
])
def test_checker_rejects_broken_rules(text, why):
    assert not is_grammatical(text), why


def test_checker_needs_a_string():
    with pytest.raises(TypeError, match="text must be a str, got list"):
        is_grammatical(["the", "cat"])


# ---------------------------------------------------------------------- encoding
def test_encoding_round_trips():
    corpus = make_sentences(500, 2)
    X = encode_sentences(corpus)
    V = len(VOCABULARY)
    assert X.shape == (500, MAX_WORDS * V) and X.dtype == np.float64
    np.testing.assert_array_equal(X.reshape(500, MAX_WORDS, V).sum(axis=-1), 1.0)
    assert decode_sentences(X) == corpus
    np.testing.assert_array_equal(encode_sentences(decode_sentences(X)), X)


def test_encoding_puts_each_word_at_its_position():
    X = encode_sentences(["the cat sees a dog"], max_words=6).reshape(6, -1)
    assert [VOCABULARY[k] for k in X.argmax(axis=1)] == ["the", "cat", "sees", "a", "dog", PAD]


def test_decoding_probabilities_is_greedy_and_stops_at_padding():
    V = len(VOCABULARY)
    probs = np.full((1, 4, V), 0.01)
    for t, word in enumerate(["the", "cat", PAD, "dog"]):
        probs[0, t, VOCABULARY.index(word)] = 0.5
    assert decode_sentences(probs.reshape(1, -1)) == ["the cat"]


@pytest.mark.parametrize("texts, error, message", [
    ("the cat sees the dog", TypeError, "single str"),
    (["the cat sees the fish"], ValueError, r"texts\[0\] has the word 'fish'"),
    (["the <pad> cat"], ValueError, "'<pad>'"),
    (["the cat " * 5], ValueError, "10 words, more than max_words=9"),
    ([], ValueError, "texts is empty"),
    ([3], TypeError, r"texts\[0\] must be a str, got int"),
])
def test_encoding_errors_name_the_sentence(texts, error, message):
    with pytest.raises(error, match=message):
        encode_sentences(texts)


def test_token_accuracy_counts_words_not_padding():
    X = encode_sentences(["the cat sees the dog", "a dog likes a ball"])
    wrong = encode_sentences(["the cat sees the cat", "a dog likes a ball"])
    assert token_accuracy(X, wrong) == pytest.approx(9 / 10)
    assert token_accuracy(X, wrong, ignore_padding=False) == pytest.approx(17 / 18)
    assert token_accuracy(X, X) == 1.0


# ---------------------------------------------------------------------- a sentence VAE
@pytest.fixture(scope="module")
def sentence_vae():
    corpus = make_sentences(300, 0)
    X = encode_sentences(corpus)
    model = VAE(n_latent=16, hidden_sizes=(64,), likelihood="categorical",
                n_categories=len(VOCABULARY), n_epochs=80, lr=1e-2, batch_size=50,
                kl_warmup=40, random_state=0).fit(X)
    return model, corpus, X


def test_sentence_vae_reconstructs_its_training_corpus(sentence_vae):
    model, corpus, X = sentence_vae
    assert token_accuracy(X, model.reconstruct(X)) >= 0.90


def test_interpolation_starts_and_ends_at_the_reconstructions(sentence_vae):
    model, corpus, X = sentence_vae
    path = interpolate_sentences(model, corpus[0], corpus[1], n_steps=5)
    assert len(path) == 5
    ends = decode_sentences(model.reconstruct(encode_sentences(corpus[:2])))
    assert [path[0], path[-1]] == ends


@given(n_steps=st.integers(-1, 1))
def test_interpolation_needs_two_steps(n_steps):
    with pytest.raises(ValueError, match="n_steps must be an int >= 2"):
        interpolate_sentences(None, "the cat sees the dog", "a dog sees a cat", n_steps=n_steps)
