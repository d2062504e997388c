"""Street-address recognizers: Presidio has none, and the small NER model tags only fragments of addresses.

`StreetAddressRecognizer` finds the street part (the strong signal); `extend_addresses` then grows each finding
over the parts an address block carries around it (house number before, unit, city, state, country, postcode
after), so a whole address is replaced as one span rather than leaving the city and postcode behind.
"""

from __future__ import annotations

import re

import regex
from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer, RecognizerResult

_SUFFIXES = (
    "Street|Streets|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Ter|"
    "Parkway|Pkwy|Highway|Hwy|Circle|Cir|Square|Squares|Sq|Trail|Trl|Crescent|Close|Row|Mews|Walk|Gardens|Plaza|"
    "Alley|Loop|Pike|Ridge|Crossing|Fort|Station|Mill|Mall|Junction|Heights|Harbor|Haven|Manor|Meadows?|Mount|"
    "Port|Ranch|Springs?|Valley|Village|Views?|Vista|Points?|Parks?|Estates?|Falls|Fields?|Forks?|Grove|Hills?|"
    "Islands?|Lakes?|Landing|Oval|Pass|Radial|Rapids?|Shores?|Spurs?|Stravenue|Summit|Throughway|Tunnel|Turnpike|"
    "Underpass|Union|Wells?|Expressway|Extension|Freeway|Green|Cove|Creek|Bridge|Bluffs?|Bend|Camp|Canyon|Cape|"
    "Causeway|Center|Centre|Corners?|Course|Curve|Dale|Dam|Divide|Flats?|Ford|Forest|Garden|Gateway|Glen|Hollow|"
    "Inlet|Key|Knolls?|Lodge|Motorway|Neck|Orchard|Prairie|Ramp|Ridge|Route|Shoal|Skyway|Track|Trafficway|Trace"
)
_UNIT = r"(?:,?\s*(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Flat|Floor|Fl\.?|Room|#)\s*#?\d+[A-Za-z]?)?"
_WORD = r"[A-ZÀ-Þ][\w'.-]*"
# Presidio compiles patterns with the `regex` module, so Unicode classes work: any script's capitals and letters.
_CAP = r"\p{Lu}[\p{L}\p{M}'’.\-/]*"
_ANY = r"\p{L}[\p{L}\p{M}'’.\-/]*"
# English function words never inside a street name: they keep "Sandra lives on Main 12" from matching.
_STOP = (r"(?i:in|on|at|the|of|and|to|for|with|from|by|is|was|are|a|an|or|his|her|my|your|our|their|this|that|"
         r"it|we|i|you|he|she|they|me|after|before|when|then|please|am|be|have|has|had|lives?|meet|sent|send|which|"
         r"who|where|but|so|not|if|as|near|next|just|very|will|can|would|could|should|there|here)")
_FREE = rf"(?!{_STOP}\b){_ANY}"
_PREFIX = r"(?i:ul\.|u\.|rue|via|calle|c/|avenida|avda\.|rua|r\.|av\.|viale|piazza|piazzetta|boulevard|chemin|carrer|strada|trg|paseo|plaza)"
_HOUSE_END = r"\d{1,5}[a-zA-Z]?\.?"


class StreetAddressRecognizer(PatternRecognizer):
    """Street addresses: `1668 Glyn St`, `14 Crown Street, Suite 321`, `Pfarrgasse 91`, `ul. Lipowa 5`, units,
    PO boxes and military addresses, and a ZIP after a state code. Presidio has no address recognizer, and the
    small NER model tags only fragments of addresses as places."""

    PATTERNS = [
        Pattern("number + street + suffix (+ unit)",
                rf"\b\d{{1,6}}[A-Za-z]?\s+(?:{_WORD}\s+){{0,4}}(?:{_SUFFIXES})\b\.?{_UNIT}", 0.6),
        Pattern("street word with a suffix + number (continental)",
                r"\b(?:[A-ZÀ-Þ][\w'-]*\s+)?[A-ZÀ-Þ][\w'-]*(?:stra(?:ss|ß)e|gasse|weg|platz|allee|gade|vej|katu|"
                r"laan|straat|plein|utca|ulica|torget|väg|vägen|gatan)\s+\d{1,5}[a-z]?\b", 0.6),
        Pattern("street prefix word + name + number",
                r"\b(?:ul\.|u\.|rue|via|calle|avenida|rua|av\.|viale|piazza|boulevard|chemin|carrer|strada)\s+"
                r"(?:[\w'.-]+\s+){1,4}\d{1,5}[a-z]?\b", 0.55),
        Pattern("building number + street name + house number (continental)",
                rf"(?<![\w.,-])\d{{1,6}}[ \t]+(?:{_CAP}|{_PREFIX})(?:[ \t]+{_FREE}){{0,5}}[ \t]+{_HOUSE_END}"
                r"(?=[ \t]*(?:$|\n|,|\?|!|\.(?:\s|$)|(?i:apt\b|suite\b|st\b|street\b)))", 0.5),
        Pattern("building number + house number + capitalised street name",
                rf"(?<![\w.,:+-])\d{{1,6}}[ \t]+\d{{1,5}}[ \t]+{_CAP}(?:[ \t]+{_CAP}){{0,3}}", 0.45),
        Pattern("street corner", rf"(?i:the corner of)[ \t]+[^\n,?!]{{3,60}}?[ \t]+and(?:[ \t]+{_FREE}){{1,5}}", 0.6),
        Pattern("unit", r"\b(?:Apt\.?|Apartment|Suite|Ste\.)\s*#?\d+[A-Za-z]?\b", 0.5),
        Pattern("PO box / military", r"\b(?:(?i:P\.?\s?O\.?\s*Box|PSC)|Unit)\s+\d{1,6}(?:,?\s*(?i:Box)\s+\d{1,6})?"
                                     r"(?:\s*(?i:APO|FPO|DPO)\s+(?i:A[AEP])\s+\d{5})?", 0.6),
        Pattern("navy ship address", r"\bUSN[SV]?[ \t]+\p{Lu}[\p{L}\p{M}'-]+[ \t]*\n?[ \t]*[FAD]PO[ \t]+A[AEP][ \t]+\d{5}",
                0.7),
        Pattern("state + ZIP", r"\b(?:A[KLRZ]|C[AOT]|D[CE]|FL|GA|HI|I[ADLN]|K[SY]|LA|M[ADEINOST]|N[CDEHJMVY]|"
                               r"O[HKR]|PA|RI|S[CD]|T[NX]|UT|V[AT]|W[AIVY])\s+\d{5}(?:-\d{4})?\b", 0.6),
    ]
    CONTEXT = ["address", "live", "lives", "located", "street", "ship", "deliver", "delivery", "mail", "home",
               "office", "apartment", "suite", "postal", "zip"]

    def __init__(self) -> None:
        super().__init__(supported_entity="STREET_ADDRESS", patterns=self.PATTERNS, context=self.CONTEXT,
                         name="StreetAddressRecognizer", global_regex_flags=re.UNICODE)


class NamedStreetRecognizer(PatternRecognizer):
    """A name and house number called a street: `lives on Via Tasso 129 street`, `69 Av Sidi Lakhmi street`.
    Run only on texts that say "street" or "st.": the pattern may start at any capital, which is slow."""

    PATTERNS = [
        Pattern("street name + house number + 'street'",
                rf"(?:{_CAP}|{_PREFIX})(?:[ \t]+{_FREE}){{0,5}}[ \t]+{_HOUSE_END}(?=[ \t]+(?i:street\b|st\.))", 0.6),
        Pattern("house number + street name + 'street'",
                rf"(?<![\w.,-])\d{{1,5}}[ \t]+(?:{_CAP}|{_PREFIX})(?:[ \t]+{_FREE}){{0,4}}(?=[ \t]+(?i:street\b|st\.))",
                0.6),
    ]
    _TRIGGER = regex.compile(r"(?i)\b(?:street\b|st\.)")

    def __init__(self) -> None:
        super().__init__(supported_entity="STREET_ADDRESS", patterns=self.PATTERNS, name="NamedStreetRecognizer",
                         global_regex_flags=re.UNICODE)

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None):
        if not self._TRIGGER.search(text):
            return []
        return super().analyze(text, entities, nlp_artifacts, regex_flags)


def build_address_recognizers() -> list[EntityRecognizer]:
    """Our address recognizers, registered by `engine.recognizers.build_extra_recognizers`."""
    return [StreetAddressRecognizer(), NamedStreetRecognizer()]


# --- Growing a street finding into the whole address block -------------------------------------------------------

_POSTCODE = r"(?:\d{4,6}(?:-\d{3,4})?|\d{3}[ ]\d{2}|\p{Lu}{1,2}\d[\p{Lu}\d]?[ ]\d\p{Lu}{2}|\p{Lu}\d\p{Lu}[ ]\d\p{Lu}\d)"
_UNIT_PART = r"(?i:apt\.?|apartment|suite|ste\.?|unit|flat|floor|room)[ \t]*\#?\d+[A-Za-z]?"
# Capitalised words that start a new sentence or a signature line, not a town.
_NOT_PLACES = (r"(?:I|We|The|This|That|It|My|Our|Your|Thanks|Thank|Regards|Best|Sincerely|Cheers|Dear|Hi|Hello|"
               r"Please|Mobile|Desk|Phone|Tel|Fax|Email|E-mail|Website|Web|Call|Meet|See|If|And|But|So|Also|Note|"
               r"Kind|Many|Yours|Sent|From|To|Subject|Date|Ph|Cell|Office|Home|Work|Mr|Mrs|Ms|Dr|Then|There|He|She|They|You|"
               r"What|When|Where|How|Why|Let|Can|Could|Would|Will|Is|Are|Was|After|Before|On|At|In|For|Of|A|An|"
               r"Yes|No|Ok|OK|Oh|Just|Now|Today|Tomorrow|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)")
_PLACE_WORD = rf"(?!{_NOT_PLACES}\b)(?:\p{{Lu}}[\p{{L}}\p{{M}}'’.\-]*|\(\p{{L}}+\))"
# Lowercase particles inside place names: "Mora de Rubielos", "Ostrov nad Ohří", "Caxias do Sul".
_PARTICLE = r"(?:de|del|della|la|le|les|du|des|da|do|dos|das|di|van|von|der|den|na|nad|pod|u|am|im|an|sur|en|y|e)"
_PLACE = rf"{_PLACE_WORD}(?:[ \t]+(?:{_PARTICLE}[ \t]+)?{_PLACE_WORD}){{0,3}}"
_LOWER_WORD = rf"(?!{_STOP}\b)\p{{Ll}}[\p{{L}}\p{{M}}'’.\-]*"
_END = r"(?=[ \t]*(?:$|[\n,.?!;)]|[ \t]\S))(?![ \t]*:)"
# Parts of an address that follow its street line: a unit, a postcode, "nan" (a missing field in exported data),
# or up to four words of a town, state or country (optionally with a postcode). Lowercase words only after a line
# break or comma, where a new address line starts.
_NEXT_PART = regex.compile(
    rf"""(?P<sep>(?:[ \t]*(?:,[ \t]*|\n[ \t?•·*\-]*))+|[ \t]+)
        (?P<part>{_UNIT_PART}
          |{_POSTCODE}
          |nan
          |{_PLACE}(?:[ \t]+{_POSTCODE})?
          |(?P<lower>{_LOWER_WORD}(?:[ \t]+{_LOWER_WORD}){{0,3}})(?:[ \t]+{_POSTCODE})?)
        {_END}""",
    regex.VERBOSE,
)
_BEFORE = regex.compile(r"(?:(?i:the corner of)[ \t]+|(?<![\w.,:+/-])\d{1,6}[ \t]+)$")
_ABSORBED = frozenset({"PERSON", "ORGANIZATION", "LOCATION", "NRP", "DATE_TIME", "STREET_ADDRESS", "ZIP_CODE"})
_ADDRESS_TYPES = frozenset({"STREET_ADDRESS", "ADDRESS"})
_MAX_PARTS = 8


def extend_addresses(text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
    """Grow each street-address finding over the address parts around it, absorbing NER fragments inside.

    The small NER model reads an address block as scattered PERSON/ORGANIZATION/DATE_TIME pieces and leaves the
    house number, unit, town and postcode between them; replacing the street alone would keep the rest. Only
    findings that are already addresses are grown, so text far from an address is never touched.
    """
    anchors = sorted((r for r in results if r.entity_type in _ADDRESS_TYPES), key=lambda r: r.start)
    if not anchors:
        return results
    blocks: list[list[int]] = []
    for r in anchors:
        if blocks and r.start <= blocks[-1][1]:
            blocks[-1][1] = max(blocks[-1][1], r.end)
            continue
        blocks.append([r.start, r.end])
    grown = [(_grow_back(text, start), _grow_forward(text, end)) for start, end in blocks]
    kept, scores = [], [0.0] * len(grown)
    for r in results:
        inside = next((i for i, (s, e) in enumerate(grown) if r.start < e and r.end > s), None)
        if inside is not None and r.entity_type in _ABSORBED:
            scores[inside] = max(scores[inside], r.score)
            s, e = grown[inside]
            grown[inside] = (min(s, r.start), max(e, r.end)) if r.entity_type in _ADDRESS_TYPES else (s, e)
            if r.start >= s and r.end <= e or r.entity_type in _ADDRESS_TYPES:
                continue  # absorbed into the address
        kept.append(r)
    meta = {RecognizerResult.RECOGNIZER_NAME_KEY: "StreetAddressRecognizer"}
    blocks_out = [RecognizerResult("STREET_ADDRESS", s, e, score, recognition_metadata=dict(meta))
                  for (s, e), score in zip(grown, scores)]
    return kept + blocks_out


def _grow_back(text: str, start: int) -> int:
    """Include a building number and "the corner of" just before the street, on the same line."""
    for _ in range(2):
        m = _BEFORE.search(text, max(0, start - 40), start)
        if not m:
            break
        start = m.start()
    return start


def _grow_forward(text: str, end: int) -> int:
    """Include the unit, town, state, country and postcode parts after the street, up to `_MAX_PARTS`."""
    lowercase_text = text.islower()
    for _ in range(_MAX_PARTS):
        m = _NEXT_PART.match(text, end)
        if not m:
            break
        sep = m.group("sep")
        if m.group("lower") and "," not in sep and "\n" not in sep and not lowercase_text:
            break  # lowercase words after a space are the sentence going on, not a town (unless all is lowercase)
        if sep.count("\n") > 2:
            break
        end = m.end("part")
    return end
