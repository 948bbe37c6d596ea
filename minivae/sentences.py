"""A toy sentence corpus from a built-in grammar, for the categorical VAE.

Sentence interpolation (Bowman et al. 2016) asks whether the points on the
line between the codes of two sentences decode to sentences too. That needs
a language with rules that a decoder can break, and a checker for them; this
module holds both, small enough to read in one sitting. A sentence is

    subject   verb   object            "the big cat chases a red ball"

    noun phrase  = determiner [size adjective] [colour adjective] noun
    determiner   = "a" (singular), "some" (plural) or "the" (either)
    subject      = an animate noun: cat, dog, girl, boy (or cats, dogs, ...)
    verb         = agrees with the subject: "sees" / "see", "likes" / "like",
                   "chases" / "chase", "eats" / "eat"
    object       = any noun, except: only food is eaten (pear, cake) and
                   only animate things or a ball are chased

so a sentence is grammatical when its determiners and verb agree in number
with their nouns, its adjectives come at most one of each kind in the order
size-then-colour, and the verb's object is one it accepts.

Encoding
--------
Sentences are encoded by *words*, not characters: a vocabulary of
``len(VOCABULARY)`` = 31 words (with the padding token ``"<pad>"`` at index 0)
and at most ``MAX_WORDS`` = 9 words per sentence, so a sentence becomes 9
one-hot groups of 31, a row of 279 zeros and ones. Characters would give a
smaller alphabet but sequences of up to 50 positions, each of which the
decoder must get right for a word to come out right. The rows are what
``VAE(likelihood="categorical", n_categories=len(VOCABULARY))`` models;
:func:`decode_sentences` turns one-hot rows or the decoder's per-position
probabilities back into text (greedy decoding: the most probable word at each
position, up to the first padding token).

References
----------
Bowman, S. R., Vilnis, L., Vinyals, O., Dai, A. M., Jozefowicz, R. & Bengio, S.
(2016). Generating sentences from a continuous space. CoNLL.
"""

import numpy as np

from ._validation import check_array, check_positive_int, check_random_state
from .losses import categorical_argmax

__all__ = [
    "VOCABULARY",
    "MAX_WORDS",
    "PAD",
    "make_sentences",
    "is_grammatical",
    "encode_sentences",
    "decode_sentences",
    "token_accuracy",
    "interpolate_sentences",
]

PAD = "<pad>"

# noun: (plural, kind); kinds decide which verbs take the noun as their object.
_NOUNS = {
    "cat": ("cats", "animate"), "dog": ("dogs", "animate"),
    "girl": ("girls", "animate"), "boy": ("boys", "animate"),
    "ball": ("balls", "toy"), "pear": ("pears", "food"), "cake": ("cakes", "food"),
}
_SUBJECTS = ("cat", "dog", "girl", "boy")
# verb (3rd person singular): (plural form, object kinds it accepts)
_VERBS = {
    "sees": ("see", ("animate", "toy", "food")),
    "likes": ("like", ("animate", "toy", "food")),
    "chases": ("chase", ("animate", "toy")),
    "eats": ("eat", ("food",)),
}
_SIZES = ("big", "small")
_COLOURS = ("red", "black", "white")
_DETERMINERS = {"a": ("singular",), "some": ("plural",), "the": ("singular", "plural")}

VOCABULARY = (PAD, *_DETERMINERS, *_SIZES, *_COLOURS,
              *_NOUNS, *(plural for plural, _ in _NOUNS.values()),
              *_VERBS, *(plural for plural, _ in _VERBS.values()))
MAX_WORDS = 9   # two noun phrases of at most 4 words and the verb
_INDEX = {word: i for i, word in enumerate(VOCABULARY)}
# Every noun form: word -> (singular lemma, number)
_NOUN_FORMS = {**{s: (s, "singular") for s in _NOUNS},
               **{p: (s, "plural") for s, (p, _) in _NOUNS.items()}}
_VERB_FORMS = {**{s: (s, "singular") for s in _VERBS},
               **{p: (s, "plural") for s, (p, _) in _VERBS.items()}}


# ---------------------------------------------------------------------- generation
def _noun_phrase(rng, nouns):
    """Words of one random noun phrase whose noun is drawn from ``nouns``; returns (words, lemma, number)."""
    lemma = nouns[rng.integers(len(nouns))]
    number = ("singular", "plural")[rng.integers(2)]
    dets = [d for d, numbers in _DETERMINERS.items() if number in numbers]
    words = [dets[rng.integers(len(dets))]]
    for kind in (_SIZES, _COLOURS):
        if rng.random() < 0.5:
            words.append(kind[rng.integers(len(kind))])
    words.append(lemma if number == "singular" else _NOUNS[lemma][0])
    return words, lemma, number


def make_sentences(n_samples, random_state=None):
    """Draw ``n_samples`` sentences from the built-in grammar (see the module docstring).

    Subject, verb, object and adjectives are drawn independently and
    uniformly among the choices the grammar allows (each adjective slot is
    filled with probability 1/2), so repeats occur in large corpora.

    Parameters
    ----------
    n_samples : int
        Number of sentences.
    random_state : None, int or numpy.random.Generator

    Returns
    -------
    list of str
        Lower-case words separated by single spaces, no punctuation;
        every one passes :func:`is_grammatical`.
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    rng = check_random_state(random_state)
    out = []
    for _ in range(n_samples):
        subject, _, number = _noun_phrase(rng, _SUBJECTS)
        verb = tuple(_VERBS)[rng.integers(len(_VERBS))]
        kinds = _VERBS[verb][1]
        objects = tuple(noun for noun, (_, kind) in _NOUNS.items() if kind in kinds)
        obj, _, _ = _noun_phrase(rng, objects)
        out.append(" ".join([*subject, verb if number == "singular" else _VERBS[verb][0], *obj]))
    return out


# ---------------------------------------------------------------------- the checker
def _parse_noun_phrase(words, i):
    """Parse a noun phrase at ``words[i]``: (next index, noun lemma, number), or None if there is none."""
    if i >= len(words) or words[i] not in _DETERMINERS:
        return None
    numbers = _DETERMINERS[words[i]]
    i += 1
    for kind in (_SIZES, _COLOURS):     # at most one of each, size before colour
        if i < len(words) and words[i] in kind:
            i += 1
    if i >= len(words) or words[i] not in _NOUN_FORMS:
        return None
    lemma, number = _NOUN_FORMS[words[i]]
    if number not in numbers:
        return None
    return i + 1, lemma, number


def is_grammatical(text):
    """Whether ``text`` is a sentence of the built-in grammar (the module docstring's rules).

    Words are separated by whitespace and compared exactly (lower case, no
    punctuation), as :func:`make_sentences` writes them.

    Raises
    ------
    TypeError
        If ``text`` is not a str.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    words = text.split()
    subject = _parse_noun_phrase(words, 0)
    if subject is None or subject[1] not in _SUBJECTS:
        return False
    i, _, number = subject
    if i >= len(words) or words[i] not in _VERB_FORMS:
        return False
    verb, verb_number = _VERB_FORMS[words[i]]
    obj = _parse_noun_phrase(words, i + 1)
    if verb_number != number or obj is None:
        return False
    end, noun, _ = obj
    return end == len(words) and _NOUNS[noun][1] in _VERBS[verb][1]


# ---------------------------------------------------------------------- encoding
def encode_sentences(texts, max_words=MAX_WORDS):
    """One-hot rows for the VAE: each sentence as ``max_words`` groups of ``len(VOCABULARY)``.

    Word t of the sentence sets column t·V + VOCABULARY.index(word); the
    positions after the last word hold the padding token (index 0).

    Parameters
    ----------
    texts : sequence of str
    max_words : int
        P, the number of positions (the corpus needs at most ``MAX_WORDS``).

    Returns
    -------
    ndarray, shape (len(texts), max_words · len(VOCABULARY)), float64

    Raises
    ------
    TypeError
        If ``texts`` is a single str or holds something other than str.
    ValueError
        If a sentence has a word outside ``VOCABULARY`` (or the padding token
        itself), has more than ``max_words`` words, or ``texts`` is empty.
    """
    if isinstance(texts, str):
        raise TypeError("texts must be a sequence of str, got a single str; wrap it in a list")
    texts = list(texts)
    if not texts:
        raise ValueError("texts is empty: at least one sentence is needed")
    P, V = check_positive_int(max_words, "max_words"), len(VOCABULARY)
    X = np.zeros((len(texts), P, V))
    X[:, :, 0] = 1.0
    for row, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{row}] must be a str, got {type(text).__name__}")
        words = text.split()
        if len(words) > P:
            raise ValueError(f"texts[{row}] has {len(words)} words, more than max_words={P}: {text!r}")
        for t, word in enumerate(words):
            if word not in _INDEX or word == PAD:
                raise ValueError(f"texts[{row}] has the word {word!r}, which is not in the vocabulary "
                                 f"(minivae.sentences.VOCABULARY): {text!r}")
            X[row, t, 0] = 0.0
            X[row, t, _INDEX[word]] = 1.0
    return X.reshape(len(texts), P * V)


def decode_sentences(X):
    """Text from one-hot rows or per-position probabilities (greedy: the most probable word per position).

    A sentence ends at its first padding token, so a decoder that puts
    padding in the middle of a sentence loses the words after it.

    Parameters
    ----------
    X : array-like, shape (n, P · len(VOCABULARY))
        What :func:`encode_sentences` returns, or a categorical VAE's
        ``decode`` / ``reconstruct`` / ``sample``.

    Returns
    -------
    list of str
    """
    V = len(VOCABULARY)
    X = check_array(X, name="X")
    if X.shape[1] % V:
        raise ValueError(f"X must have a multiple of len(VOCABULARY) = {V} columns, got {X.shape[1]}")
    out = []
    for indices in categorical_argmax(X, V):
        words = []
        for k in indices:
            if k == 0:
                break
            words.append(VOCABULARY[k])
        out.append(" ".join(words))
    return out


def token_accuracy(X, probs, ignore_padding=True):
    """Share of positions where the most probable word of ``probs`` is the word of ``X``.

    Parameters
    ----------
    X : array-like, shape (n, P · len(VOCABULARY))
        One-hot rows (the truth).
    probs : array-like, same shape
        Per-position probabilities (or logits) to decode greedily.
    ignore_padding : bool
        Count only the positions that hold a word in ``X`` (default), so
        that short sentences' padding does not inflate the score.

    Returns
    -------
    float in [0, 1]
    """
    V = len(VOCABULARY)
    X, probs = check_array(X, name="X"), check_array(probs, name="probs")
    if probs.shape != X.shape or X.shape[1] % V:
        raise ValueError(f"X and probs must have the same shape with a multiple of {V} columns, "
                         f"got {X.shape} and {probs.shape}")
    truth, guess = categorical_argmax(X, V), categorical_argmax(probs, V)
    mask = truth != 0 if ignore_padding else np.ones(truth.shape, dtype=bool)
    return float((truth == guess)[mask].mean())


def interpolate_sentences(model, first, second, n_steps=7):
    """Greedy decodings along the line between two sentences' posterior means.

    z_t = (1 − t) μ(first) + t μ(second) for t = 0, 1/(n_steps − 1), ..., 1,
    each decoded to the most probable word at every position
    (Bowman et al. 2016, §5.1 "homotopies").

    Parameters
    ----------
    model : fitted categorical VAE (anything with ``transform`` and ``decode``)
    first, second : str
    n_steps : int
        Points on the line, both ends included (at least 2).

    Returns
    -------
    list of str, length n_steps
    """
    n_steps = check_positive_int(n_steps, "n_steps", minimum=2)
    mu = model.transform(encode_sentences([first, second]))
    t = np.linspace(0.0, 1.0, n_steps)[:, None]
    return decode_sentences(model.decode((1.0 - t) * mu[0] + t * mu[1]))
