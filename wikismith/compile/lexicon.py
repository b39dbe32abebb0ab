"""Word lists and the normalisation that makes "type hint", "Type Hints" and "type-hints" one key."""

from __future__ import annotations

import re
import unicodedata

STOP_EN = frozenset("""
a about above across al et actually after again against ago all allow allowed allowing allows almost alone along already
also although always am among an and another any anyone anything anyway anywhere are aren around as ask asked at
available away back be became because become becomes been before beforehand behind being below beside besides
best better between beyond both brief briefly but by call called calling calls came can cannot cant could couldn
currently did didn do does doesn doing don done down due during each easy either else elsewhere enough especially
etc even ever every everyone everything everywhere exactly except far few fewer find finally first following follows
for form former formerly found from further furthermore get gets getting give given gives giving go goes going gone
got had hadn happen has hasn have haven having he hence her here hereby herein hers herself him himself his how
however i ie eg if in indeed instead into is isn it its itself just keep kept know known last later latter least
less let lets like likely made mainly make makes making many may maybe me meanwhile might mine more moreover most
mostly much must my myself namely near nearly need needed needs neither never nevertheless new next no nobody non
none nor not nothing now nowhere of off often on once one ones only onto or other others otherwise our ours
ourselves out over overall own per perhaps please possible possibly previously probably provide provided provides
providing put quite rather really regarding said same say says see seem seemed seems seen several shall she should
shouldn show shown shows similar similarly simply since so some somehow someone something sometimes somewhat
somewhere soon still such sure take taken takes than that the their theirs them themselves then there thereby
therefore therein these they thing things this those though through throughout thus to together too took toward
towards tried tries try trying two three four five six seven eight nine ten twice under unless unlike unlikely
until up upon us use used useful uses using usually various very via vs want wants was wasn way ways we well went
were weren what whatever when whenever where whereas wherever whether which while who whoever whole whom whose why
will with within without won would wouldn yes yet you your yours yourself yourselves able above according add added
adding adds also apply applies applied become certain clear clearly cases cause common consider considered
contain contains containing correct currently define defined defines defining described describe describes
different directly discussed done e g easily either example examples fact following general generally good great
help however important include included includes including instead large larger less let mean means meant
mention mentioned necessary note noted number often particular particularly point possible present proposed
provided rather real reason related relatively require required requires result return returns returned right
set simple small specific specified state still suggest suggested support supported supports thing think
though true false typically unfortunately unless usual whatever word words work works would write writing written
plus minus
""".split())

STOP_DE = frozenset("""
aber alle allem allen aller alles als also am an andere anderen auch auf aus bei beim bereits bis bzw da dabei
damit dann daran darauf daraus darf darum das dass daß dem den denen denn der deren des dessen die dies diese
diesem diesen dieser dieses doch dort du durch ebenfalls ein eine einem einen einer eines einige einmal er es etwa
falls ferner für gegen genau gibt gilt hat hatte hier ich ihm ihn ihr ihre im immer in ist ja jede jedem jeden
jeder jedes jetzt kann kein keine können man mehr mit muss müssen nach nicht noch nun nur ob oder ohne seien sei
sein seine seit sich sie sind so sodass solche sollen somit sondern sowie über um und uns unter viel vom von vor
war waren warum was weil weiter welche welchem welchen welcher wenn wer werden wie wir wird wo wurde wurden zu zum
zur zwei dann heißt sei seien also liegt liegen zwischen siehe bzgl gelten folgt folgen existiert enthält
definiert heißen nennt nennen wobei daher jedoch weiterhin insbesondere jeweils gleich gleiche gilt bestehend
wegen sowohl beliebig beliebige beliebigen
""".split())

STOP = STOP_EN | STOP_DE

# Words too general to be a concept page of their own (they still take part in multi-word phrases).
GENERIC = frozenset("""
type types value values name names function functions object objects class classes method methods data code file
files string strings list lists case cases way use user users time times part parts point points result results
problem problems question questions idea ideas section sections document documents version versions change changes
information system systems kind kinds form forms order line lines place end text texts item items level levels
example thing argument arguments variable variables proposal proposals feature features reference references
specification issue issues behavior behaviour language rule rules syntax module modules model approach
definition definitions term terms context problem step steps option options figure table theorem lemma proof
remark corollary exercise solution chapter page abbildung bemerkung beweis beispiel satz korollar folgerung
aufgabe lösung kapitel abschnitt seite teil fall art weise tabelle übung
""".split())

# The names of the usual sections of a document genre (a PEP's "Motivation" or "Reference Implementation", a
# paper's "Introduction"): the structure of a document, not what it is about.
USUAL_SECTIONS = frozenset({
    "abstract", "motivation", "rationale", "specification", "introduction", "summary", "overview", "background",
    "examples", "example", "conclusion", "discussion", "implementation", "appendix", "acknowledgements",
    "acknowledgments", "references", "copyright", "footnotes", "resources", "open issues", "rejected ideas",
    "backwards compatibility", "reference implementation", "security implications", "how to teach this",
    "terminology"})

ABBREVIATIONS = frozenset("""
e.g i.e etc vs cf al approx ca fig figs eq eqs no nos nr mr mrs ms dr prof sr jr st inc ltd co corp dept est vol
pp ch sec resp z.b d.h u.a bzw usw vgl bspw ggf evtl inkl s.o s.u sog bzgl
""".split())

# Plural forms the suffix rules below get wrong.
_IRREGULAR = {"aliases": "alias", "alias": "alias", "statuses": "status", "biases": "bias", "buses": "bus",
              "analyses": "analysis", "theses": "thesis", "indices": "index", "matrices": "matrix",
              "vertices": "vertex", "children": "child", "caches": "cache", "niches": "niche", "movies": "movie", "cookies": "cookie",
              "series": "series", "species": "species", "news": "news", "lens": "lens", "gas": "gas",
              "canvas": "canvas", "atlas": "atlas", "chaos": "chaos", "kudos": "kudos", "always": "always"}
_NO_STEM_ENDINGS = ("ss", "us", "is")


def stem(word: str) -> str:
    """The singular of an English plural, by suffix rules; other words unchanged. Expects lower case."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) <= 3 or not word.endswith("s") or word.endswith(_NO_STEM_ENDINGS):
        return word
    if word.endswith(("'s", "’s")):
        return word[:-2]
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "zzes")):
        return word[:-2]
    return word[:-1]


_KEY_WORD = re.compile(r"[^\W_]+(?:[.'’][^\W_]+)*")


def key_words(text: str) -> list[str]:
    """The normalised words of `text`: NFKC, lower case, split at spaces, hyphens and underscores, singular."""
    text = unicodedata.normalize("NFKC", text).lower()
    return [stem(w) for w in _KEY_WORD.findall(text)]


_GENERIC_PARAMS = re.compile(r"<[^<>]*>")
_MODULE_PREFIX = re.compile(r"^(?:typing|typing_extensions)\.(?=[A-Za-z_])")


def name_key(surface: str) -> str:
    """The key of a name, one for all the ways a text writes it: "Box<T>" and "Box", "typing.Union" and "Union",
    "@overload" and "overload"."""
    text = surface.strip().lstrip("@")
    while _GENERIC_PARAMS.search(text):
        text = _GENERIC_PARAMS.sub("", text)
    return normalize(_MODULE_PREFIX.sub("", text))


def normalize(text: str) -> str:
    """The key of a phrase or name: its normalised words joined by single spaces."""
    return " ".join(key_words(text))


_SMALL = frozenset("a an and as at by for from in of on or the to vs via with von van der de la le und".split())


def titleish(surface: str) -> str:
    """A display form: each word capitalised unless small or already mixed-case (TypeVar, JSON, iPhone)."""
    words = surface.split()
    out = []
    for i, w in enumerate(words):
        if any(c.isupper() for c in w) or (i and w.lower() in _SMALL):
            out.append(w)
        else:
            out.append(w[:1].upper() + w[1:])
    return " ".join(out)
