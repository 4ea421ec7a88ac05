"""Generate ``lambdas/domain/synonyms.json``: WordNet synonyms of the label vocabulary's words.

A search word that is a synonym searches the one indexed word it stands for ("kitty" -> "cat",
"automobile" -> "car"; ``lambdas.domain.synonyms``). Images are indexed under the words of their labels
(``lambdas.domain.queries.record_words``); the labels are Rekognition's names, as the offline vocabulary
(``imgmgr/adapters/offline/vocabulary.json``) lists them, each from a WordNet synset.

For each label of one word, the lemmas of its synsets are candidates (and, for the labels in
``HYPONYM_LABELS``, the lemmas of their direct hyponyms that no label names: "puppy" is a kind of dog in
WordNet, not a synonym). A candidate is kept when it is one word of at least ``MIN_CHARS`` letters,
lower case in WordNet (no proper names), not itself an indexed word (it would hide that word's images),
WordNet's most frequent noun sense of the word, no adjective, and not in ``DROP``; a word two labels
claim is dropped. Labels of several words get no automatic synonyms (the word of theirs that a synonym
could search is often a common word elsewhere: "cnidarian" would search "life" of "Sea Life"); ``KEEP``
adds the reviewed ones, and the synonyms the rules miss.

Inputs: the vocabulary file, the tables of ``tools/gen_vocabulary.py`` (the synsets of the parent labels)
and WordNet 3.0's ``data.noun``, ``index.noun`` and ``index.adj`` (Debian package ``wordnet-base``).

Usage: ``python tools/gen_synonyms.py [--wordnet DIR] [--check]``; the WordNet directory is found at
run time (``/usr/share/wordnet`` ...) unless given; ``--check`` exits non-zero when the committed file
differs from what the generator produces.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tools")]

from gen_vocabulary import PARENT_LABELS, WordNet  # noqa: E402 - the sibling generator's tables

from lambdas.domain.labels import CATEGORIES  # noqa: E402
from lambdas.domain.queries import search_words  # noqa: E402

VOCABULARY = REPO / "imgmgr" / "adapters" / "offline" / "vocabulary.json"
OUTPUT = REPO / "lambdas" / "domain" / "synonyms.json"
#: Where Debian and others put WordNet 3.0's database files.
WORDNET_DIRS = (Path("/usr/share/wordnet"), Path("/usr/share/WordNet"), Path("/usr/local/share/wordnet"))

#: Shortest synonym kept: shorter words are mostly abbreviations or ambiguous ("tom", "cab").
MIN_CHARS = 4

#: Labels whose direct hyponyms' lemmas count as synonyms (young, informal and everyday kinds).
HYPONYM_LABELS = ("Cat", "Dog", "Car")

#: Synonyms the rules miss or the labels of several words get, reviewed: word -> the indexed word it searches.
KEEP: dict[str, str] = {
    # WordNet's first senses of these are a pool of money and a vulgarity; in a photo library, a cat
    "kitty": "cat",
    "puss": "cat",
    "kitten": "cat",  # a young mammal in WordNet, not a kind of cat
    "sofa": "couch",  # the label is the class studio couch; the sofa is another synset
    # one word for a label of several, searched by the label's own word for it
    "orca": "whale",
    "mantid": "mantis",
    "skillet": "pan",
    "frypan": "pan",
    "seatbelt": "belt",
    "dustbin": "trash",
    "wastebin": "trash",
    "containership": "ship",
    "dogsled": "sled",
    "hoopskirt": "skirt",
    "crinoline": "skirt",
    "malemute": "malamute",
    "loupe": "magnifying",
    "ricksha": "rickshaw",
    "jinrikisha": "rickshaw",
    "linnet": "finch",
    "conker": "chestnut",
}

#: Words the rules keep that would mislead a search of photos.
DROP: frozenset[str] = frozenset(
    {
        # names and slang that file names carry for other reasons
        "john",
        "mike",
        "jock",
        # another sense is what most people mean
        "after",
        "chute",
        "coil",
        "cruiser",
        "gaming",
        "jetty",
        "lollipop",
        "spec",
        "structure",
        "trolley",
        "tope",
        "turtleneck",  # the vocabulary's "Turtle" is WordNet's turtle.n.01, the sweater
        # labels of Rekognition's own (outside the offline vocabulary): the synonym would hide them on AWS
        "canoe",
        "carpet",
        "coast",
        "hedgehog",
        "panther",
        "puma",
        "taxi",
        "terrace",
        "toad",
        "trumpet",
        "xylophone",
    }
)


def find_wordnet(given: Path | None) -> Path:
    """The WordNet dict directory: ``given``, else the first of ``WORDNET_DIRS`` that has ``data.noun``."""
    for directory in (given,) if given is not None else WORDNET_DIRS:
        if (directory / "data.noun").exists():
            return directory
    raise SystemExit("WordNet 3.0 not found: install the Debian package wordnet-base or give --wordnet DIR")


def adjectives(directory: Path) -> frozenset[str]:
    with open(directory / "index.adj", encoding="latin-1") as index:
        return frozenset(line.split()[0] for line in index if not line.startswith("  "))


def label_synsets(wordnet: WordNet, vocabulary: dict) -> dict[str, list[str]]:
    """The synsets each label comes from: its ImageNet classes and the parent rule that names it first,
    else (a label added by hand) the most frequent noun sense of its name. (The first sense of every
    label's name would add a few good ones, "sofa" for "Couch", and many bad: "jailer" for "Screw".)"""
    synsets: dict[str, list[str]] = {}
    for entry in vocabulary["classes"]:
        synsets.setdefault(entry["label"], []).append(entry["wnid"][1:])
    for name, labels in PARENT_LABELS.items():
        synsets.setdefault(labels[0], []).append(wordnet.resolve(name))
    for label in vocabulary["labels"]:
        if label not in synsets:
            senses = wordnet.senses.get(label.lower().replace(" ", "_"), [])
            if senses:
                synsets[label] = [senses[0]]
    return {label: list(dict.fromkeys(offsets)) for label, offsets in sorted(synsets.items())}


def generate(wordnet: WordNet, adjective_lemmas: frozenset[str], vocabulary: dict) -> dict:
    synsets = label_synsets(wordnet, vocabulary)
    canonical = {label: words[0] for label in vocabulary["labels"] if len(words := search_words(label)) == 1}
    indexed = {word for label in vocabulary["labels"] for word in search_words(label)}
    indexed |= {word for category in CATEGORIES for word in search_words(category)}
    labelled = {offset for offsets in synsets.values() for offset in offsets}
    hyponyms: dict[str, list[str]] = {}
    for offset, synset in wordnet.synsets.items():
        for parent in synset.hypernyms:
            hyponyms.setdefault(parent, []).append(offset)

    claims: dict[str, set[str]] = {}
    for label, offsets in synsets.items():
        if label not in canonical:
            continue
        sources = list(offsets)
        if label in HYPONYM_LABELS:
            sources += [h for offset in offsets for h in hyponyms.get(offset, []) if h not in labelled]
        for offset in sources:
            for lemma in wordnet.synsets[offset].words:
                word = _synonym(lemma, offset, wordnet, adjective_lemmas, indexed)
                if word is not None and word != canonical[label]:
                    claims.setdefault(word, set()).add(canonical[label])
    synonyms = {word: next(iter(targets)) for word, targets in claims.items() if len(targets) == 1}
    synonyms = {word: target for word, target in synonyms.items() if word not in DROP}
    synonyms.update(KEEP)
    errors = [f"{word} -> {target}: not an indexed word" for word, target in synonyms.items() if target not in indexed]
    errors += [f"{word}: an indexed word" for word in synonyms if word in indexed]
    errors += [f"{word}: not a normalized word" for word in synonyms if search_words(word) != (word,)]
    if errors:
        raise SystemExit("\n".join(errors))
    return {
        "comment": "Search synonyms of the label vocabulary's words (WordNet 3.0); generated by tools/gen_synonyms.py, reviewed.",
        "synonyms": dict(sorted(synonyms.items())),
    }


def _synonym(
    lemma: str, offset: str, wordnet: WordNet, adjective_lemmas: frozenset[str], indexed: set[str]
) -> str | None:
    """The search word ``lemma`` of the synset ``offset`` stands for, or None when the rules drop it."""
    if lemma != lemma.lower():
        return None
    words = search_words(lemma.replace("_", " "))
    if len(words) != 1 or len(words[0]) < MIN_CHARS or words[0] in indexed:
        return None
    senses = wordnet.senses.get(lemma, [])
    if not senses or senses[0] != offset or lemma in adjective_lemmas:
        return None
    return words[0]


def dump(table: dict) -> str:
    """JSON with one synonym per line, so that a review reads (and diffs) line by line."""
    items = list(table["synonyms"].items())
    lines = ["{", f'  "comment": {json.dumps(table["comment"])},', '  "synonyms": {']
    lines += [
        f"    {json.dumps(word)}: {json.dumps(target)}{',' if i < len(items) - 1 else ''}"
        for i, (word, target) in enumerate(items)
    ]
    lines += ["  }", "}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wordnet", type=Path, default=None, help="WordNet 3.0 dict directory (default: found)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="fail if the output file is not up to date")
    args = parser.parse_args(argv)

    directory = find_wordnet(args.wordnet)
    vocabulary = json.loads(VOCABULARY.read_text(encoding="utf-8"))
    table = generate(WordNet(directory), adjectives(directory), vocabulary)
    text = dump(table)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run tools/gen_synonyms.py", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}: {len(table['synonyms'])} synonyms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
