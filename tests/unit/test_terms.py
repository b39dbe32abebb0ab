"""Issue 10, second pass: introduced terms, acronyms and their expansions, other names, macros, local receivers."""

from __future__ import annotations

from types import SimpleNamespace

from wikismith.compile import extract
from wikismith.compile.acronyms import expansions, modifiers
from wikismith.compile.extractive import compile_document
from wikismith.compile.terms import emphasized_terms, heading_terms, synonyms, title_terms


def _draft(text: str):
    doc = SimpleNamespace(markdown=text, title="", outline=[], tree=None, warnings=[], page_count=None)
    return compile_document(doc, SimpleNamespace(name="t.md", hash="", source_path="t.md"))


def test_emphasised_terms_are_topics_and_stress_is_not():
    text = ("Rust has two _compound types_ built in. Compound types group values. We use compound types a lot. "
            "You must _not_ do that. We _choose_ an API; you can choose to not do it, to choose well. ")
    keys = {t.key for t in emphasized_terms(text)}
    assert "compound type" in keys
    assert "not" not in keys and "choose" not in keys
    strong = {c.key for c in _draft(text).contributions if c.strong and c.kind == "concept"}
    assert "compound type" in strong


def test_acronym_spelled_out_in_lower_case_is_the_concept_page():
    text = ("Object-oriented programming (OOP) is a way of modeling programs. OOP languages share traits. "
            "Many say OOP is old. Others like OOP. OOP is everywhere.")
    assert expansions(text, ["OOP"])["OOP"].key == "object oriented programming"
    kinds = {(c.kind, c.key) for c in _draft(text).contributions}
    assert ("concept", "object oriented programming") in kinds
    assert ("entity", "oop") not in kinds
    # "OOP" is the page's other name: a document that writes only "OOP" joins it.
    assert [(o.key, o.title, o.term) for o in _draft(text).other_names] == [
        ("oop", "OOP", "object oriented programming")]


def test_acronym_spelled_out_in_capitals_stays_a_name():
    text = "It uses the Transmission Control Protocol (TCP). TCP is a protocol. TCP runs here. TCP again."
    assert "TCP" not in expansions(text, ["TCP"])


def test_acronym_always_before_the_same_noun_is_part_of_that_phrase():
    text = "An IP address is a number. Each IP address is unique. IP addresses come in two kinds. Old IP address."
    assert modifiers(text, ["IP"], {"ip address"}) == {"IP"}
    assert modifiers(text, ["IP"], set()) == set()


def test_other_name_is_the_terms_page():
    text = ("parameterized generic -- a specific instance of a generic with the types provided.\n\n"
            "Also known as a *parameterized type*. A parameterized generic is written like this. "
            "Each parameterized type is a parameterized generic. Parameterized generics are common.")
    assert synonyms(text)["parameterized type"] == "parameterized generic"
    text2 = "PEP 484 introduced type hints, a.k.a. type annotations. Type hints are great."
    assert synonyms(text2)["type annotation"].endswith("type hint")


def test_rust_macros_keep_their_bang_and_local_receivers_give_the_method():
    text = ("Call `println!` to print. The `println!` macro prints. Use `println!` again. "
            "Then `rx.recv` waits. We call `rx.recv` twice. And `rx.recv` once more.")
    shown = {e.display for e in extract.entities(text)}
    assert "println!" in shown
    assert "recv" in shown and "rx.recv" not in shown


def test_code_span_that_is_text_is_no_name():
    text = "It prints `Hello, world!` on the screen. Then `Hello, world!` again. And `Hello, world!` once more."
    assert "hello" not in {e.key for e in extract.entities(text)}


def test_heading_that_names_a_thing_is_a_topic():
    text = ("# Guide\n\n## Type aliases\n\nA type alias names a type. Type aliases help. Each type alias is short.\n\n"
            "## Creating a New Vector\n\nCreating a new vector is easy. We keep creating a new vector. "
            "Creating a new vector again.\n")
    keys = {t.key for t in heading_terms(text)}
    assert "type alias" in keys
    assert not any(k.startswith("creating") for k in keys)


def test_emphasis_over_two_words_is_not_taken_for_an_underscore_identifier():
    from wikismith.compile.textutil import clean_inline
    from wikismith.markdown import code_identifiers

    line = "(_CRLF_ stands for _carriage return_ and _line feed_, while _private() and __exit__ are code)"
    assert clean_inline(line) == \
        "(CRLF stands for carriage return and line feed, while `_private`() and `__exit__` are code)"
    shown = code_identifiers(line)
    assert "_carriage return_" in shown and "_line feed_" in shown and "`__exit__`" in shown


def test_noun_phrases_of_the_title_are_topics():
    text = ("# Writing Patterns and Matching with the `use` Keyword\n\n"
            "Patterns are everywhere. A pattern matches values. Matching is done with patterns, and matching is fast. The use keyword "
            "imports. We use it and use it.\n")
    keys = {t.key for t in title_terms(text)}
    assert "pattern" in keys and "matching" in keys  # "Writing" is the action, not the thing
    assert not any("keyword" in k for k in keys)  # a piece with code in it is no phrase
    assert "pattern" in {c.key for c in _draft(text).contributions if c.strong and c.kind == "concept"}


def test_title_aspects_exclamations_and_unused_pieces_are_no_topics():
    aspect = "# Characteristics of Compilers\n\nCompilers have characteristics. Characteristics vary. Compilers too.\n"
    assert {t.key for t in title_terms(aspect)} == {"compiler"}
    hello = "# Hello, Cargo!\n\nHello again. Say hello. Cargo builds. Cargo runs.\n"
    assert title_terms(hello) == ()
    unused = "# Fearless Concurrency\n\nThis chapter is about threads. Threads run.\n"
    assert title_terms(unused) == ()


def test_emphasised_phrase_is_a_term_even_used_once_but_a_word_must_recur_unless_the_sentence_names_it():
    text = ("Rust does _automatic referencing and dereferencing_ for you. It is _fast_ too. Really fast. "
            "Splitting a tuple into parts is called _destructuring_ because it takes the tuple apart. "
            "Rust uses the _unwinding_ mode here. Python's mapping is known as a _dictionary_ there.")
    keys = {t.key for t in emphasized_terms(text)}
    assert "automatic referencing and dereferencing" in keys
    assert "fast" not in keys
    assert "destructuring" in keys  # said once, but named: "is called _destructuring_"
    assert "unwinding" not in keys  # said once, and only emphasised
    assert "dictionary" in keys  # "known as a _dictionary_"


def test_bold_paragraph_is_a_heading_not_a_term():
    text = ("Some rules apply.\n\n**Definitions**:\n\n* *Data protocols*: protocols with data members. "
            "Definitions follow. More definitions.\n")
    keys = {t.key for t in emphasized_terms(text)}
    assert "data protocol" in keys
    assert "definition" not in keys


def test_emphasised_acronym_is_a_name_the_document_introduces():
    text = "The file is in the _TOML_ format. TOML is easy. We like TOML files."
    kinds = {(c.kind, c.key, c.strong) for c in _draft(text).contributions}
    assert ("entity", "toml", True) in kinds
    assert not any(kind == "concept" and key == "toml" for kind, key, _ in kinds)


def test_adverb_or_participle_phrase_is_a_description_not_a_term():
    text = "Protocols are _completely optional_ here. Values are _asynchronously produced_ there. A _type alias_ helps."
    keys = {t.key for t in emphasized_terms(text)}
    assert "type alias" in keys
    assert "completely optional" not in keys and "asynchronously produced" not in keys


def test_a_documents_leading_phrase_said_twice_is_a_topic():
    text = ("# Extending Tools\n\nSeveral tools allow plugin registries to extend them. Plugin registries hold "
            "plugins. Nothing else.\n")
    strong = {c.key for c in _draft(text).contributions if c.strong and c.kind == "concept"}
    assert "plugin registry" in strong


def test_a_singular_one_word_heading_is_an_aspect_a_plural_one_a_kind():
    text = ("# Spec\n\n## Syntax\n\nThe syntax is simple. Syntax matters. We like the syntax.\n\n"
            "## Casts\n\nA cast converts. Casts are cheap. Use casts.\n")
    keys = {t.key for t in heading_terms(text)}
    assert "cast" in keys and "syntax" not in keys


def test_a_phrase_a_sentence_names_is_a_term():
    from wikismith.compile.terms import called_terms

    text = "A protocol with only methods is called a non-data protocol. Such a thing is called nice."
    assert [t.key for t in called_terms(text)] == ["non data protocol"]
    strong = {c.key for c in _draft(text).contributions if c.strong and c.kind == "concept"}
    assert "non data protocol" in strong


def test_a_single_adjective_is_no_key_phrase_but_a_plural_noun_with_its_ending_is():
    sentences = ["The idiomatic way is short.", "Write idiomatic code.", "That is idiomatic.", "Be idiomatic.",
                 "The idiomatic form wins.", "Closures capture. Closures are closures.", "The closure runs.",
                 "We like primitives. A primitive is fast. Small primitives again."]
    keys = {p.key for p in extract.key_phrases(" ".join(sentences * 3), limit=30)}
    assert "idiomatic" not in keys
    assert "primitive" in keys


def test_a_usual_section_name_is_no_topic():
    text = ("# Frobnicators\n\nFrobnicator widgets spin. Frobnicator widgets turn. Frobnicator widgets stop.\n\n"
            "## Reference Implementation\n\nThe reference implementation is small. A reference implementation "
            "exists. We keep the reference implementation here. The reference implementation runs.\n")
    keys = {c.key for c in _draft(text).contributions if c.kind == "concept"}
    assert "frobnicator widget" in keys
    assert "reference implementation" not in keys


def test_a_bold_word_opening_a_list_item_is_its_label_not_a_term():
    text = ("Sections often found in documentation:\n\n- **Panics**: the cases in which the function panics.\n"
            "- **Safety**: why the function is unsafe.\n\nA function panics when it must. Panics are rare. "
            "Safety first, safety always. Then _lifetimes_ follow; lifetimes are regions.\n")
    keys = {t.key for t in emphasized_terms(text)}
    assert "lifetime" in keys
    assert "panic" not in keys and "safety" not in keys


def test_an_emphasised_word_before_a_noun_stresses_a_modifier():
    text = ("A class that names the protocol is an *explicit* subclass of it. We prefer the explicit. An explicit "
            "base is clear. A *vector* allows growth. Vectors grow. The vector is full.\n")
    keys = {t.key for t in emphasized_terms(text)}
    assert "vector" in keys
    assert "explicit" not in keys


def test_plus_and_minus_join_phrases_as_and_does():
    text = ("The function returns the parameter plus 2, not the parameter plus 10 or the parameter minus 50. "
            "A parameter is a value. Parameters are inputs. Each parameter counts.\n")
    keys = {p.key for p in extract.key_phrases(text, limit=30)}
    assert not any("plus" in k or "minus" in k for k in keys)


def test_a_relational_noun_after_a_topic_is_an_aspect_of_it():
    text = ("Gadget boxes hold gadgets. A gadget box is big. Every gadget box counts. Gadget boxes again. "
            "The gadget box definition is short. Each gadget box definition lists fields. Read the gadget box "
            "definition twice. The gadget box name is unique. A gadget box name is text. Any gadget box name "
            "will do.\n")
    concepts = {c.key for c in _draft(text).contributions if c.kind == "concept"}
    assert "gadget box" in concepts
    assert "gadget box definition" not in concepts and "gadget box name" not in concepts


def test_a_phrase_said_after_at_or_on_is_a_time_or_a_place():
    text = ("The check happens at compile time. Errors show at compile time. We know it at compile time. "
            "Put it at the top level. Items live at the top level. Functions go at the top level. "
            "A borrow checker enforces rules. The borrow checker is strict. Our borrow checker runs.\n")
    keys = {p.key for p in extract.key_phrases(text, limit=30)}
    assert "borrow checker" in keys
    assert "compile time" not in keys and "top level" not in keys


def test_a_modifier_is_known_by_the_noun_after_it_even_a_common_one():
    text = ("We may be waiting on some _unknown_ number of messages. The number grows. Nothing is unknown to "
            "the unknown. The _crate_ need not change; a crate is a package. Crates are units.\n")
    keys = {t.key for t in emphasized_terms(text)}
    assert "crate" in keys  # "need" never comes after an article here: a verb, so "crate" is a term
    assert "unknown" not in keys


def test_a_title_word_that_heads_another_piece_of_the_title_is_that_kind():
    text = ("# Redirecting Errors to Standard Error\n\nErrors go somewhere. Errors are printed. Standard error is a "
            "stream. We write to standard error. Standard error again.\n")
    keys = {t.key for t in title_terms(text)}
    assert keys == {"standard error"}


def test_an_abstract_noun_is_a_topic_without_plural_or_article():
    text = ("Rust tracks ownership of values. Moving a value transfers ownership. Functions can take ownership. "
            "Sharing ownership needs a counter. Ownership rules keep memory safe; ownership is checked early. "
            "The business of the compiler is checking. Business goes on. Business is business. Business again.")
    keys = {p.key for p in extract.key_phrases(text, limit=30)}
    assert "ownership" in keys
    assert "business" not in keys  # as common as everyday words: no topic on its own


def test_a_two_word_name_or_a_plural_said_once_is_a_mention_and_a_singular_word_or_a_verb_phrase_is_not():
    text = ("# Memory\n\nThe borrow checker rejects this program. Values live on the heap here. "
            "We hold values and we hold values again, then rust guards them. Structs and enums are blocks, like "
            "all things.\n\n"
            + " ".join(f"Memory is managed by rule {i} of the pool." for i in range(12)))
    mentioned = {m.key: m for m in _draft(text).mentions}
    assert "borrow checker" in mentioned  # two words, once: a reference to that thing
    assert mentioned["borrow checker"].section == "- The borrow checker rejects this program."
    assert "heap" not in mentioned  # one word, once: too vague to join a page by
    assert "hold value" in mentioned  # said twice, as before
    assert "rust guard" not in mentioned  # said once, and before an object: a verb phrase
    assert "enum" in mentioned  # one word, once, but in the plural: a noun naming things of a kind
    assert "thing" not in mentioned  # a generic word names no topic, in the plural or not


def test_phrases_scoring_close_to_the_best_are_all_strong_past_the_top_eight():
    words = ["florbix", "quandle", "zibbet", "marnot", "plovex", "drellin", "snorvat", "trindle", "vopsic", "gworp"]
    tied = " ".join(f"We study the {w} protocol. Then, the {w} protocol. So: the {w} protocol. Or the {w} protocol."
                    for w in words)
    strong = {c.key for c in _draft(tied).contributions if c.kind == "concept" and c.strong}
    assert {f"{w} protocol" for w in words} <= strong  # ten topics alike: a tie, all ten get pages
    led = "We use the kernel scheduler. " * 30 + tied
    strong = {c.key for c in _draft(led).contributions if c.kind == "concept" and c.strong}
    assert "kernel scheduler" in strong
    assert len(strong & {f"{w} protocol" for w in words}) < 10  # far below the best one: only the top ranks
