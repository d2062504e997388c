"""Street-address recognizers: Presidio has none, and the small NER model tags only fragments of addresses."""

from __future__ import annotations

import re

from presidio_analyzer import EntityRecognizer, Pattern, PatternRecognizer

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
        Pattern("unit", r"\b(?:Apt\.?|Apartment|Suite|Ste\.)\s*#?\d+[A-Za-z]?\b", 0.5),
        Pattern("PO box / military", r"\b(?:P\.?\s?O\.?\s*Box|PSC|Unit)\s+\d{1,6}(?:,?\s*Box\s+\d{1,6})?"
                                     r"(?:\s*(?:APO|FPO|DPO)\s+A[AEP]\s+\d{5})?", 0.6),
        Pattern("state + ZIP", r"\b(?:A[KLRZ]|C[AOT]|D[CE]|FL|GA|HI|I[ADLN]|K[SY]|LA|M[ADEINOST]|N[CDEHJMVY]|"
                               r"O[HKR]|PA|RI|S[CD]|T[NX]|UT|V[AT]|W[AIVY])\s+\d{5}(?:-\d{4})?\b", 0.6),
    ]
    CONTEXT = ["address", "live", "lives", "located", "street", "ship", "deliver", "delivery", "mail", "home",
               "office", "apartment", "suite", "postal", "zip"]

    def __init__(self) -> None:
        super().__init__(supported_entity="STREET_ADDRESS", patterns=self.PATTERNS, context=self.CONTEXT,
                         name="StreetAddressRecognizer", global_regex_flags=re.UNICODE)


def build_address_recognizers() -> list[EntityRecognizer]:
    """Our address recognizers, registered by `engine.recognizers.build_extra_recognizers`."""
    return [StreetAddressRecognizer()]
