"""Secret / credential detection as Presidio recognizers.

API keys, tokens, passwords and private keys are findings just like PII.  We
reuse detect-secrets' regex plugins where they exist (wrapped by one generic
recognizer so results carry exact character offsets), and add what it lacks:
Hugging Face tokens, whole PEM private-key blocks, JWTs, passwords inside
connection strings / URLs, ``Authorization`` headers, generic ``key = value``
assignments and a table of well-known provider token formats.

Design constraints (these recognizers run on every cell of large datasets):

* all regexes are compiled once at import time;
* every rule has a cheap substring prefilter ("needles") so most cells never
  reach a regex;
* no spaCy artifacts are needed (``nlp_artifacts`` may be ``None``);
* spans cover the *secret value only* (not ``api_key=``), and always the
  whole value, so replacing the span removes the secret;
* obvious placeholders (``hf_xxxx…``, ``YOUR_API_KEY``, ``${VAR}``, ``<token>``,
  ``changeme``, ``…EXAMPLE``) are dropped by one shared :func:`is_placeholder`.

Deliberately *not* wrapped from detect-secrets:

* ``HighEntropyString`` plugins: they flag every long hex/base64 run (git SHAs,
  content hashes, UUIDs, dataset ids) which are ubiquitous in datasets; entropy
  is only used here as a gate on values that already sit behind a secret-ish
  key (:class:`GenericSecretRecognizer`).
* ``KeywordDetector``: file-type dependent, line based, and its value filter is
  weaker than ours; :class:`GenericSecretRecognizer` covers the same ground
  with value-only spans.
* ``BasicAuthDetector``: its password charset excludes ``!$&*+,;=`` and it
  needs a non-empty user (misses ``redis://:pw@host``); superseded by
  :class:`UrlCredentialsRecognizer` which also tells DB URLs apart.
* ``JwtTokenDetector``: its lazy regex stops before the signature, so the span
  would not cover the token; :class:`JwtRecognizer` reuses its validator.
* ``PrivateKeyDetector``: flags only the header line; :class:`PrivateKeyRecognizer`
  returns the whole block.
* ``IPPublicDetector``: an IP address is not a credential.
"""

from __future__ import annotations

import base64
import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable, List, Optional, Pattern, Sequence, Tuple

import ahocorasick

from detect_secrets.plugins.artifactory import ArtifactoryDetector
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.cloudant import CloudantDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.ibm_cloud_iam import IbmCloudIamDetector
from detect_secrets.plugins.ibm_cos_hmac import IbmCosHmacDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.softlayer import SoftlayerDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector
from presidio_analyzer import AnalysisExplanation, EntityRecognizer, RecognizerResult

__all__ = [
    "SECRET_ENTITIES",
    "DETECT_SECRETS_PLUGIN_ENTITIES",
    "DetectSecretsRecognizer",
    "TokenFormatRecognizer",
    "PrivateKeyRecognizer",
    "JwtRecognizer",
    "UrlCredentialsRecognizer",
    "ConnectionStringPasswordRecognizer",
    "AuthHeaderRecognizer",
    "KubernetesSecretRecognizer",
    "GenericSecretRecognizer",
    "build_secret_recognizers",
    "is_placeholder",
]

# --------------------------------------------------------------------------
# Scores
# --------------------------------------------------------------------------
STRONG = 0.95  # format-specific prefix/structure: almost never a false hit
MEDIUM = 0.85  # strong context (header, URL userinfo) but free-form value
GENERIC = 0.75  # keyword assignment, value gated by placeholder/entropy checks

# --------------------------------------------------------------------------
# Placeholder detection (shared by every recognizer)
# --------------------------------------------------------------------------
_PLACEHOLDER_EXACT = frozenset(
    """password passwd pass secret token key apikey api_key test user username
    null none nil true false undefined changeit changeme foo bar foobar baz
    string value empty default redacted hidden secret123 password123 xxx
    your_token your_key mypassword mysecret""".split()
)
# Substrings that mark a documentation / template value.  Only applied to
# values of "token length" (<= 64 chars): in long base64 blobs such short
# substrings occur by chance.
_PLACEHOLDER_MARKERS = re.compile(
    r"(?i)(?:"
    r"\b(?:your|my)[_\-. ]?[a-z_\-. ]{0,20}(?:key|token|secret|pass|password|pwd|id|here)"
    r"|^your|change[_\-]?me|example|placeholder|dummy|redacted|sample"
    r"|replace[_\-]?(?:me|with|this)|insert[_\-]|put[_\-]your|_here\b|here$"
    r"|(?:x{4}|\*{3}|#{3}|\.{3}|…|•{3})"
    r"|abcdefgh"
    r")"
)
# A counting run reads like an example, but a value behind a credential key or a provider keyword in that format
# is replaced anyway (``SNYK_TOKEN = "12345678-ABCD-…"``): the key says credential, and replacing a fake costs nothing.
_SEQUENTIAL = "12345678"
# Template / variable references: never a literal secret.
_TEMPLATE = re.compile(
    r"\$\{|\{\{|\{%|<%|\$\(|%\(|%s\b|^\$[A-Za-z_]|^<[^>]*>$|<[A-Za-z_ \-]+>"
    r"|os\.environ|getenv|process\.env|\benv\[|\bENV\[|\bsecrets\.|^\{[A-Za-z_][\w.\-]*\}?$|^ENC\["
)


# a 2-4 char unit repeated 4+ times ("123123123123", "abababab")
_PERIODIC = re.compile(r"((.)(?!\2).{0,2})\1{3,}")


def _longest_run(value: str) -> int:
    best = run = 0
    prev = None
    for ch in value:
        run = run + 1 if ch == prev else 1
        prev = ch
        if run > best:
            best = run
    return best


def is_placeholder(value: str, keyed: bool = False) -> bool:
    """Return True for values that look like documentation placeholders.

    Used by every recognizer so that ``hf_xxxxxxxx…``, ``YOUR_API_KEY``,
    ``<token>``, ``${VAR}``/``{{var}}`` templates, ``os.environ[...]``
    references, ``changeme``, ``example`` keys, ``****`` masks and runs of a
    single repeated character are not reported (redacting them only adds
    noise).  ``value`` may include a known token prefix.  ``keyed``: the value
    sits behind a credential key, so a counting run alone does not excuse it.
    """
    v = value.strip().strip("\"'`")
    if not v:
        return True
    if v.lower() in _PLACEHOLDER_EXACT:
        return True
    if _TEMPLATE.search(v):
        return True
    # a single character dominating the value (AKIAXXXXXXXXXXXXXXXX, 0000…)
    if _longest_run(v) >= max(8, len(v) // 4):
        return True
    body = re.sub(r"^[A-Za-z]{2,8}[_\-.]", "", v)  # drop a token prefix like hf_
    if len(body) >= 6 and len(set(body.lower()) - set("_-.")) <= 2:
        return True
    if len(v) <= 64 and (_PLACEHOLDER_MARKERS.search(v) or _PERIODIC.search(v)
                         or not keyed and _SEQUENTIAL in v):
        return True
    return False


def _entropy(value: str) -> float:
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


# --------------------------------------------------------------------------
# Shared rule machinery
# --------------------------------------------------------------------------
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
_LABEL_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=")
_WS = re.compile(r"\s")
_MASKED_TAIL = re.compile(r"[-_.]?(?:[#*•]{2}|\.\.\.|…|[xX]{4})")


@dataclass(frozen=True)
class _Rule:
    """One regex -> one entity.  ``group``: capture group holding the secret
    (``None`` = pick the longest group >= 8 chars, else the whole match)."""

    entity: str
    regex: Pattern[str]
    score: float
    needles: Tuple[str, ...] = ()  # case-sensitive substrings, any must occur
    needles_ci: Tuple[str, ...] = ()  # lower-case substrings (checked on text.lower())
    group: Optional[int] = None
    validator: Optional[Callable[[str, "re.Match[str]"], bool]] = None
    min_len: int = 8
    extend_right: bool = True  # grow the span over trailing [A-Za-z0-9]
    check_placeholder: bool = True
    keyed: bool = False  # the regex requires a provider keyword: see is_placeholder(keyed=)
    strip_label: bool = False  # drop a leading "Name=" inside the match
    name: str = ""


def _secret_span(m: "re.Match[str]", group: Optional[int]) -> Tuple[int, int]:
    if group is not None:
        return m.span(group)
    best: Optional[Tuple[int, int]] = None
    for g in range(1, (m.re.groups or 0) + 1):
        s, e = m.span(g)
        if s >= 0 and e - s >= 8 and (best is None or e - s > best[1] - best[0]):
            best = (s, e)
    return best if best is not None else m.span()


def _trim(text: str, start: int, end: int, strip_label: bool = False) -> Tuple[int, int]:
    """Shrink a raw regex span to the bare secret value."""
    while start < end and text[start] in " \t\r\n\"'`=:":
        start += 1
    while end > start and text[end - 1] in " \t\r\n\"'`":
        end -= 1
    label = _LABEL_PREFIX.match(text, start, end) if strip_label else None
    if label and end - label.end() >= 8:  # e.g. detect-secrets' "AccountKey=…"
        start = label.end()
    ws = _WS.search(text, start, end)
    if ws:
        end = ws.start()
    return start, end


class _NeedleIndex:
    """Which of many literal substrings occur in a text, in one Aho-Corasick pass (`pyahocorasick`) instead of one
    `in` test per rule: ~100 rules each testing their needles cost more than all the secret regexes together."""

    def __init__(self, needles: set[str], fold: bool = False) -> None:
        self._fold = fold  # needles are lower case: search the lower-cased text
        self._automaton = None
        if needles:
            self._automaton = ahocorasick.Automaton()
            for needle in needles:
                self._automaton.add_word(needle, needle)
            self._automaton.make_automaton()

    def present(self, text: str) -> set[str]:
        if self._automaton is None:
            return set()
        return {needle for _, needle in self._automaton.iter(text.lower() if self._fold else text)}


class _RuleRecognizer(EntityRecognizer):
    """Base: runs a list of :class:`_Rule` with prefilters; no NLP needed."""

    rules: Sequence[_Rule] = ()

    def __init__(self, rules: Sequence[_Rule], name: Optional[str] = None,
                 supported_language: str = "en"):
        self.rules = tuple(rules)
        self._needles = _NeedleIndex({n for r in self.rules for n in r.needles})
        self._needles_ci = _NeedleIndex({n for r in self.rules for n in r.needles_ci}, fold=True)
        entities = sorted({r.entity for r in self.rules})
        super().__init__(supported_entities=entities, name=name,
                         supported_language=supported_language)

    def load(self) -> None:  # regexes are compiled at import
        pass

    def analyze(self, text: str, entities: Optional[List[str]] = None,
                nlp_artifacts=None, only: Optional[Sequence[_Rule]] = None) -> List[RecognizerResult]:
        """``only``: run just these of the rules (the fast scanner's triggers fired for them)."""
        if not text:
            return []
        wanted = set(entities) if entities else None
        present = self._needles.present(text)
        present_ci = self._needles_ci.present(text)
        results: List[RecognizerResult] = []
        seen = set()
        for rule in self.rules if only is None else only:
            if wanted is not None and rule.entity not in wanted:
                continue
            if rule.needles and present.isdisjoint(rule.needles):
                continue
            if rule.needles_ci and present_ci.isdisjoint(rule.needles_ci):
                continue
            for m in rule.regex.finditer(text):
                span = self._span_for(text, m, rule)
                if span is None:
                    continue
                key = (rule.entity, span)
                if key in seen:
                    continue
                seen.add(key)
                results.append(self._result(rule, *span))
        return results

    def _span_for(self, text: str, m: "re.Match[str]", rule: _Rule) -> Optional[Tuple[int, int]]:
        start, end = _secret_span(m, rule.group)
        if start < 0:
            return None
        start, end = _trim(text, start, end, rule.strip_label)
        if rule.extend_right:
            while end < len(text) and text[end] in _ALNUM:
                end += 1
        # a token glued to a preceding letter/digit is part of another word
        if start > 0 and text[start] in _ALNUM and text[start - 1] in _ALNUM:
            return None
        if _MASKED_TAIL.match(text, end):
            return None  # "xoxp-1234-…-####" / "sk_live_abc***": a masked example
        value = text[start:end]
        if len(value) < rule.min_len:
            return None
        if rule.check_placeholder and is_placeholder(value, rule.keyed):
            return None
        if rule.validator is not None and not rule.validator(value, m):
            return None
        return start, end

    def _result(self, rule: _Rule, start: int, end: int) -> RecognizerResult:
        explanation = AnalysisExplanation(
            recognizer=self.name, original_score=rule.score,
            pattern_name=rule.name or rule.entity, pattern=rule.regex.pattern[:200],
        )
        return RecognizerResult(
            entity_type=rule.entity, start=start, end=end, score=rule.score,
            analysis_explanation=explanation,
            recognition_metadata={
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )


# --------------------------------------------------------------------------
# detect-secrets wrapper
# --------------------------------------------------------------------------
def _mixed(value: str, _m=None) -> bool:
    """Random-looking: at least two of lower/upper/digit classes."""
    classes = (any(c.islower() for c in value) + any(c.isupper() for c in value)
               + any(c.isdigit() for c in value))
    return classes >= 2


def _match_has(*words: str) -> Callable[[str, "re.Match[str]"], bool]:
    def check(_value: str, m: "re.Match[str]") -> bool:
        s = m.group(0).lower()
        return any(w in s for w in words)
    return check


@dataclass(frozen=True)
class _PluginSpec:
    plugin: type
    entity: object  # str, or tuple[str, ...] giving one entity per denylist regex
    needles: Tuple[str, ...] = ()
    needles_ci: Tuple[str, ...] = ()
    validator: Optional[Callable[[str, "re.Match[str]"], bool]] = None
    min_len: int = 8


#: detect-secrets plugin class -> entity name(s) (+ prefilter).  The plugin's
#: own ``denylist`` regexes are used unchanged.
_PLUGIN_SPECS: Tuple[_PluginSpec, ...] = (
    _PluginSpec(AWSKeyDetector, ("SECRET_AWS_ACCESS_KEY", "SECRET_AWS_SECRET_KEY"),
                needles_ci=("a3t", "abia", "acca", "akia", "asia", "aws")),
    _PluginSpec(GitHubTokenDetector, "SECRET_GITHUB_TOKEN",
                needles=("ghp_", "gho_", "ghu_", "ghs_", "ghr_")),
    _PluginSpec(GitLabTokenDetector, "SECRET_GITLAB_TOKEN",
                needles=("gl", "GR1348941")),
    _PluginSpec(SlackDetector, "SECRET_SLACK_TOKEN", needles_ci=("xox", "hooks.slack"), min_len=24),
    _PluginSpec(StripeDetector, "SECRET_STRIPE_KEY", needles=("k_live_",)),
    _PluginSpec(OpenAIDetector, "SECRET_OPENAI_KEY", needles=("T3BlbkFJ",)),
    _PluginSpec(DiscordBotTokenDetector, "SECRET_DISCORD_TOKEN", needles=(".",),
                validator=_mixed),
    _PluginSpec(TwilioKeyDetector, "SECRET_TWILIO_KEY", needles=("AC", "SK")),
    _PluginSpec(SendGridDetector, "SECRET_SENDGRID_KEY", needles=("SG.",)),
    _PluginSpec(MailchimpDetector, "SECRET_MAILCHIMP_KEY", needles=("-us",)),
    _PluginSpec(NpmDetector, "SECRET_NPM_TOKEN", needles=("_authToken",)),
    _PluginSpec(PypiTokenDetector, "SECRET_PYPI_TOKEN", needles=("pypi-",)),
    _PluginSpec(TelegramBotTokenDetector, "SECRET_TELEGRAM_TOKEN", needles=(":",)),
    _PluginSpec(SquareOAuthDetector, "SECRET_SQUARE_KEY", needles=("sq0csp-",)),
    _PluginSpec(AzureStorageKeyDetector, "SECRET_AZURE_STORAGE_KEY", needles=("AccountKey=",)),
    # detect-secrets' "AP[0-9A-F]…{8,}" is very loose (matches ordinary codes such
    # as AP1234567890); require a long, mixed-class value.
    _PluginSpec(ArtifactoryDetector, "SECRET_ARTIFACTORY_TOKEN", needles=("AKC", "AP"),
                validator=_mixed, min_len=20),
    # The IBM / Cloudant / SoftLayer regexes are keyword assignments whose vendor
    # prefix is optional; only emit the vendor entity when the vendor is named.
    _PluginSpec(IbmCloudIamDetector, "SECRET_IBM_CLOUD_IAM_KEY", needles_ci=("ibm", "iam"),
                validator=_match_has("ibm", "iam")),
    _PluginSpec(IbmCosHmacDetector, "SECRET_IBM_COS_HMAC_KEY", needles_ci=("cos",),
                validator=_match_has("cos")),
    _PluginSpec(CloudantDetector, "SECRET_CLOUDANT_CREDENTIALS", needles_ci=("cl",)),
    _PluginSpec(SoftlayerDetector, "SECRET_SOFTLAYER_KEY", needles_ci=("sl", "softlayer")),
)

#: Public view of the plugin-class -> entity mapping.
DETECT_SECRETS_PLUGIN_ENTITIES = {
    spec.plugin.__name__: spec.entity for spec in _PLUGIN_SPECS
}


class DetectSecretsRecognizer(_RuleRecognizer):
    """Wrap detect-secrets ``RegexBasedDetector`` plugins as one recognizer.

    detect-secrets' own API yields secret strings without positions; here each
    plugin's ``denylist`` regex runs with ``finditer`` so results carry exact
    offsets of the secret part (the capture group when the regex has one that
    holds the value, else the whole match trimmed of delimiters).
    """

    def __init__(self, specs: Sequence[_PluginSpec] = _PLUGIN_SPECS, name: str = "DetectSecretsRecognizer"):
        rules: List[_Rule] = []
        for spec in specs:
            plugin = spec.plugin
            assert issubclass(plugin, RegexBasedDetector)
            for i, regex in enumerate(plugin.denylist):
                entity = spec.entity if isinstance(spec.entity, str) else spec.entity[i]
                rules.append(_Rule(
                    entity=entity, regex=regex, score=STRONG, needles=spec.needles,
                    needles_ci=spec.needles_ci, validator=spec.validator,
                    min_len=spec.min_len, strip_label=True,
                    name=f"detect_secrets.{plugin.__name__}[{i}]",
                ))
        super().__init__(rules, name=name)


# --------------------------------------------------------------------------
# Well-known token formats that detect-secrets lacks (gitleaks-style, generic)
# --------------------------------------------------------------------------
def _r(pattern: str, flags: int = 0) -> Pattern[str]:
    return re.compile(pattern, flags)


_B = r"(?<![A-Za-z0-9_\-])"  # left token boundary
_E = r"(?![A-Za-z0-9_\-])"  # right token boundary

_AZURE_CLIENT_SECRET_RE = _r(r"(?:^|[\\'\"`\s>=:(,)])([A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34})(?=$|[\\'\"`\s<),])")

_TOKEN_RULES: Tuple[_Rule, ...] = (
    # Hugging Face user access tokens and (older) organisation API tokens.
    _Rule("SECRET_HF_TOKEN", _r(_B + r"hf_[A-Za-z0-9]{34}" + _E), STRONG, ("hf_",), name="hf_token"),
    _Rule("SECRET_HF_TOKEN", _r(_B + r"api_org_[A-Za-z0-9]{34}" + _E), STRONG, ("api_org_",), name="hf_org_token"),
    # OpenAI project / service-account / admin keys (no T3BlbkFJ marker).
    _Rule("SECRET_OPENAI_KEY", _r(_B + r"sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_\-]{40,}"), STRONG, ("sk-",)),
    _Rule("SECRET_ANTHROPIC_KEY", _r(_B + r"sk-ant-(?:api|admin|sid|oat)\d{2}-[A-Za-z0-9_\-]{80,}"), STRONG, ("sk-ant-",)),
    _Rule("SECRET_STRIPE_KEY", _r(_B + r"(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{20,247}" + _E), STRONG, ("k_live_", "k_test_", "k_prod_")),
    _Rule("SECRET_GITHUB_TOKEN", _r(_B + r"github_pat_[A-Za-z0-9_]{60,255}"), STRONG, ("github_pat_",)),
    _Rule("SECRET_GITLAB_TOKEN", _r(_B + r"glrt-[A-Za-z0-9_\-]{20,}(?:\.[A-Za-z0-9_\-]{5,})?" + _E), STRONG, ("glrt-",)),
    _Rule("SECRET_SLACK_TOKEN", _r(_B + r"xoxe(?:\.xox[bp])?-\d-[A-Za-z0-9]{40,}"), STRONG, ("xoxe",)),
    _Rule("SECRET_SLACK_TOKEN", _r(_B + r"xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]{32,}", re.I), STRONG, ("xapp-",)),
    _Rule("SECRET_SLACK_TOKEN", _r(r"(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_\-]{20,}"), STRONG, ("hooks.slack.com",)),
    _Rule("SECRET_GCP_API_KEY", _r(_B + r"AIza[0-9A-Za-z_\-]{35}" + _E), STRONG, ("AIza",)),
    _Rule("SECRET_AWS_SECRET_KEY", _r(r"(?i)aws[_\-.]?secret[_\-.]?(?:access[_\-.]?)?key[\"']?\s*[:=]\s*[\"']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"), STRONG, needles_ci=("aws",), group=1),
    _Rule("SECRET_AZURE_CLIENT_SECRET", _AZURE_CLIENT_SECRET_RE, STRONG, ("Q~",), group=1, extend_right=False),
    _Rule("SECRET_DATABRICKS_TOKEN", _r(_B + r"dapi[a-f0-9]{32}(?:-\d)?" + _E), STRONG, ("dapi",)),
    _Rule("SECRET_NPM_TOKEN", _r(_B + r"npm_[A-Za-z0-9]{36}" + _E), STRONG, ("npm_",)),
    _Rule("SECRET_NOTION_TOKEN", _r(_B + r"ntn_\d{11}[A-Za-z0-9]{35}" + _E), STRONG, ("ntn_",)),
    _Rule("SECRET_SOURCEGRAPH_TOKEN", _r(_B + r"sgp_(?:[A-Fa-f0-9]{16}_|local_)?[A-Fa-f0-9]{40}" + _E), STRONG, ("sgp_",)),
    _Rule("SECRET_GRAFANA_TOKEN", _r(_B + r"glc_[A-Za-z0-9+/]{32,400}={0,2}"), STRONG, ("glc_",), extend_right=False),
    _Rule("SECRET_GRAFANA_TOKEN", _r(_B + r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}" + _E), STRONG, ("glsa_",)),
    _Rule("SECRET_VAULT_TOKEN", _r(_B + r"hv[sb]\.[A-Za-z0-9_\-]{90,}"), STRONG, ("hvs.", "hvb.")),
    _Rule("SECRET_TERRAFORM_TOKEN", _r(_B + r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=\-]{60,70}" + _E), STRONG, (".atlasv1.",)),
    _Rule("SECRET_SENTRY_TOKEN", _r(_B + r"sntrys_eyJ[A-Za-z0-9+/=_\-]{30,}"), STRONG, ("sntrys_",)),
    _Rule("SECRET_SENTRY_TOKEN", _r(_B + r"sntryu_[a-f0-9]{64}" + _E), STRONG, ("sntryu_",)),
    _Rule("SECRET_1PASSWORD_TOKEN", _r(_B + r"ops_eyJ[A-Za-z0-9+/]{100,}={0,3}"), STRONG, ("ops_eyJ",)),
    _Rule("SECRET_1PASSWORD_TOKEN", _r(_B + r"A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}" + _E), STRONG, ("A3-",)),
    _Rule("SECRET_ATLASSIAN_TOKEN", _r(_B + r"ATATT3[A-Za-z0-9_\-=]{150,}"), STRONG, ("ATATT3",)),
    _Rule("SECRET_FLYIO_TOKEN", _r(_B + r"(?:FlyV1 )?(fm[12][ar]?_[A-Za-z0-9+/]{100,}={0,3})"), STRONG, ("fm1", "fm2"), group=1, extend_right=False),
    _Rule("SECRET_FLYIO_TOKEN", _r(_B + r"fo1_[A-Za-z0-9_\-]{43}" + _E), STRONG, ("fo1_",)),
    _Rule("SECRET_OPENSHIFT_TOKEN", _r(_B + r"sha256~[A-Za-z0-9_\-]{43}" + _E), STRONG, ("sha256~",)),
    _Rule("SECRET_OCTOPUS_KEY", _r(r"\bAPI-[A-Z0-9]{26}\b"), STRONG, ("API-",)),
    _Rule("SECRET_SCALINGO_TOKEN", _r(_B + r"tk-us-[A-Za-z0-9_\-]{48}" + _E), STRONG, ("tk-us-",)),
    _Rule("SECRET_INFRACOST_TOKEN", _r(_B + r"ico-[A-Za-z0-9]{32}" + _E), STRONG, ("ico-",)),
    _Rule("SECRET_INTRA42_SECRET", _r(_B + r"s-s4t2(?:ud|af)-[a-f0-9]{64}" + _E), STRONG, ("s-s4t2",)),
    _Rule("SECRET_HEROKU_KEY", _r(_B + r"HRKU-AA[A-Za-z0-9_\-]{58}"), STRONG, ("HRKU-",), extend_right=False),
    _Rule("SECRET_FACEBOOK_TOKEN", _r(_B + r"EAA[MC][A-Za-z0-9]{100,}" + _E), STRONG, ("EAA",)),
    _Rule("SECRET_FACEBOOK_TOKEN", _r(r"(?<![0-9])\d{15,16}(?:\||%7C)[A-Za-z0-9_\-]{27,40}" + _E), STRONG, ("|", "%7C")),
    _Rule("SECRET_SQUARE_KEY", _r(_B + r"sq0atp-[A-Za-z0-9_\-]{22}" + _E), STRONG, ("sq0atp-",)),
    _Rule("SECRET_SHOPIFY_TOKEN", _r(_B + r"shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}" + _E), STRONG, ("shp",)),
    _Rule("SECRET_DIGITALOCEAN_TOKEN", _r(_B + r"do[opr]_v1_[a-f0-9]{64}" + _E), STRONG, ("_v1_",)),
    _Rule("SECRET_DOPPLER_TOKEN", _r(_B + r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]{40,44}" + _E), STRONG, ("dp.",)),
    _Rule("SECRET_POSTMAN_KEY", _r(_B + r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}" + _E), STRONG, ("PMAK-",)),
    _Rule("SECRET_REPLICATE_TOKEN", _r(_B + r"r8_[A-Za-z0-9]{37}" + _E), STRONG, ("r8_",)),
    _Rule("SECRET_GROQ_KEY", _r(_B + r"gsk_[A-Za-z0-9]{52}" + _E), STRONG, ("gsk_",)),
    _Rule("SECRET_PERPLEXITY_KEY", _r(_B + r"pplx-[A-Za-z0-9]{48}" + _E), STRONG, ("pplx-",)),
    _Rule("SECRET_PULUMI_TOKEN", _r(_B + r"pul-[a-f0-9]{40}" + _E), STRONG, ("pul-",)),
    _Rule("SECRET_README_KEY", _r(_B + r"rdme_[a-z0-9]{70}" + _E), STRONG, ("rdme_",)),
    _Rule("SECRET_PREFECT_TOKEN", _r(_B + r"pnu_[A-Za-z0-9]{36}" + _E), STRONG, ("pnu_",)),
    _Rule("SECRET_LINEAR_KEY", _r(_B + r"lin_api_[A-Za-z0-9]{40}" + _E), STRONG, ("lin_api_",)),
    _Rule("SECRET_AGE_KEY", _r(r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}"), STRONG, ("AGE-SECRET-KEY-",)),
    _Rule("SECRET_DYNATRACE_TOKEN", _r(_B + r"dt0c01\.[A-Z0-9]{24}\.[A-Z0-9]{64}" + _E), STRONG, ("dt0c01.",)),
    # More providers with a documented prefix (re-expressed from their docs / public scanner rule sets).
    _Rule("SECRET_CONTENTFUL_TOKEN", _r(_B + r"CFPAT-[A-Za-z0-9_\-]{43}" + _E), STRONG, ("CFPAT-",)),
    _Rule("SECRET_DEFINED_NETWORKING_KEY", _r(_B + r"dnkey-[a-z0-9=_\-]{26}-[a-z0-9=_\-]{52}" + _E), STRONG, ("dnkey-",)),
    _Rule("SECRET_DUFFEL_TOKEN", _r(_B + r"duffel_(?:test|live)_[A-Za-z0-9_\-=]{43}" + _E), STRONG, ("duffel_",)),
    _Rule("SECRET_EASYPOST_KEY", _r(_B + r"EZ[AT]K[A-Za-z0-9]{54}" + _E), STRONG, ("EZAK", "EZTK")),
    _Rule("SECRET_FLUTTERWAVE_KEY", _r(_B + r"FLW(?:PUB|SEC)K(?:_TEST)?-[A-Za-z0-9]{32}-X" + _E), STRONG, ("FLW",)),
    _Rule("SECRET_FRAMEIO_TOKEN", _r(_B + r"fio-u-[A-Za-z0-9_\-=]{64}" + _E), STRONG, ("fio-u-",)),
    _Rule("SECRET_DROPBOX_TOKEN", _r(_B + r"sl\.[A-Za-z0-9_\-=]{135,}" + _E), STRONG, ("sl.",)),
    _Rule("SECRET_NEW_RELIC_KEY", _r(_B + r"(?:NRAK-[A-Z0-9]{27}|NRII-[A-Za-z0-9\-]{32}|NRJS-[a-f0-9]{19})" + _E), STRONG,
          ("NRAK-", "NRII-", "NRJS-")),
    _Rule("SECRET_PLANETSCALE_TOKEN", _r(_B + r"pscale_(?:tkn|pw|oauth)_[A-Za-z0-9=_\-.]{32,64}" + _E), STRONG, ("pscale_",)),
    _Rule("SECRET_RUBYGEMS_TOKEN", _r(_B + r"rubygems_[a-f0-9]{48}" + _E), STRONG, ("rubygems_",)),
    _Rule("SECRET_BREVO_KEY", _r(_B + r"xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}" + _E), STRONG, ("xkeysib-",)),
    _Rule("SECRET_SHIPPO_TOKEN", _r(_B + r"shippo_(?:live|test)_[a-fA-F0-9]{40}" + _E), STRONG, ("shippo_",)),
    _Rule("SECRET_TYPEFORM_TOKEN", _r(_B + r"tfp_[A-Za-z0-9_\-.=]{59}" + _E), STRONG, ("tfp_",)),
    _Rule("SECRET_ALIBABA_KEY", _r(_B + r"LTAI[A-Za-z0-9]{20}" + _E), STRONG, ("LTAI",)),
    _Rule("SECRET_CLOJARS_TOKEN", _r(_B + r"CLOJARS_[A-Za-z0-9]{60}" + _E), STRONG, ("CLOJARS_",)),
    _Rule("SECRET_MAPBOX_TOKEN", _r(_B + r"[ps]k\.eyJ1Ijoi[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{20,}" + _E), STRONG, ("k.eyJ1Ijoi",)),
    _Rule("SECRET_HARNESS_TOKEN", _r(_B + r"(?:pat|sat)\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}" + _E), STRONG,
          ("pat.", "sat.")),
    _Rule("SECRET_ADOBE_SECRET", _r(_B + r"p8e-[A-Za-z0-9]{32}" + _E), STRONG, ("p8e-",)),
    _Rule("SECRET_CLOUDFLARE_KEY", _r(_B + r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146}" + _E), STRONG, ("v1.0-",)),
    _Rule("SECRET_PLAID_TOKEN", _r(_B + r"access-(?:sandbox|development|production)-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}"
                                   r"-[0-9a-f]{4}-[0-9a-f]{12}" + _E), STRONG, ("access-",)),
    _Rule("SECRET_MAILGUN_KEY", _r(_B + r"(?:pub)?key-[a-f0-9]{32}" + _E), STRONG, ("key-",)),
    _Rule("SECRET_GRAFANA_TOKEN", _r(_B + r"eyJrIjoi[A-Za-z0-9+/]{70,400}={0,2}"), STRONG, ("eyJrIjoi",), extend_right=False),
    _Rule("SECRET_AIRTABLE_TOKEN", _r(_B + r"pat[A-Za-z0-9]{14}\.[a-f0-9]{64}" + _E), STRONG, ("pat",)),
    _Rule("SECRET_NOTION_TOKEN", _r(_B + r"secret_[A-Za-z0-9]{43}" + _E), STRONG, ("secret_",)),
    _Rule("SECRET_DISCORD_WEBHOOK", _r(r"https?://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d{5,}/[A-Za-z0-9_\-]{60,}"),
          STRONG, ("discord",)),
    _Rule("SECRET_TEAMS_WEBHOOK", _r(r"https?://[A-Za-z0-9\-]+\.webhook\.office\.com/webhookb2/[A-Za-z0-9@\-]{40,}/IncomingWebhook/"
                                     r"[A-Za-z0-9]{32}/[A-Za-z0-9\-]{36}"), STRONG, ("webhook.office",)),
    _Rule("SECRET_YANDEX_KEY", _r(_B + r"AQVN[A-Za-z0-9_\-]{35,38}" + _E), STRONG, ("AQVN",)),
    _Rule("SECRET_STRIPE_KEY", _r(_B + r"whsec_[A-Za-z0-9]{32,}" + _E), STRONG, ("whsec_",)),
    _Rule("SECRET_DOCKER_TOKEN", _r(_B + r"dckr_(?:pat|oat)_[A-Za-z0-9_\-]{27,}" + _E), STRONG, ("dckr_",)),
    _Rule("SECRET_BUILDKITE_TOKEN", _r(_B + r"bkua_[a-f0-9]{40}" + _E), STRONG, ("bkua_",)),
    _Rule("SECRET_CIRCLECI_TOKEN", _r(_B + r"CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40}" + _E), STRONG, ("CCIPAT_",)),
    _Rule("SECRET_SUPABASE_TOKEN", _r(_B + r"sbp_[a-f0-9]{40}" + _E), STRONG, ("sbp_",)),
    _Rule("SECRET_RENDER_KEY", _r(_B + r"rnd_[A-Za-z0-9]{32}" + _E), STRONG, ("rnd_",)),
    _Rule("SECRET_TAILSCALE_KEY", _r(_B + r"tskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9]{8,}-[A-Za-z0-9]{20,}" + _E), STRONG,
          ("tskey-",)),
    _Rule("SECRET_LANGSMITH_KEY", _r(_B + r"lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}" + _E), STRONG, ("lsv2_",)),
    _Rule("SECRET_GOOGLE_OAUTH", _r(_B + r"(?:GOCSPX-[A-Za-z0-9_\-]{28}|ya29\.[A-Za-z0-9_\-]{30,})" + _E), STRONG,
          ("GOCSPX-", "ya29.")),
    # Amazon Bedrock API keys: long-lived "ABSK" + base64, short-lived "bedrock-api-key-" + base64 of the host.
    _Rule("SECRET_AWS_BEDROCK_KEY", _r(_B + r"ABSK[A-Za-z0-9+/]{109,269}={0,2}(?![A-Za-z0-9+/=])"), STRONG, ("ABSK",),
          extend_right=False),
    _Rule("SECRET_AWS_BEDROCK_KEY", _r(_B + r"bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/=%]{20,}"),
          STRONG, ("bedrock-api-key-",)),
    # SonarQube/SonarCloud tokens are plain 40-char strings (optionally squ_/sqp_/sqa_): only the key tells them.
    _Rule("SECRET_SONAR_TOKEN", _r(r"(?i)\bsonar[_.\-]?(?:login|token)[\w.\-]{0,20}[\"']?[ \t]*(?:=>|[:?]{0,3}={1,3}|:)"
                                   r"[ \t]*[\"'`]?((?:sq[upa]_)?[a-z0-9_\-]{40})(?![A-Za-z0-9_\-])"),
          STRONG, needles_ci=("sonar",), group=1, keyed=True),
    _Rule("SECRET_SIDEKIQ_SECRET", _r(r"BUNDLE_(?:ENTERPRISE|GEMS)__CONTRIBSYS__COM[\"']?\s*[:=]\s*[\"']?([a-f0-9]{8}:[a-f0-9]{8})", re.I), STRONG, needles_ci=("contribsys",), group=1),
)


class TokenFormatRecognizer(_RuleRecognizer):
    """Provider token formats missing from detect-secrets (incl. Hugging Face).

    Each pattern is a public, documented prefix/length format (the same
    formats gitleaks uses); the span is the token itself.
    """

    def __init__(self, name: str = "TokenFormatRecognizer"):
        super().__init__(_TOKEN_RULES, name=name)


# --------------------------------------------------------------------------
# PEM private key blocks
# --------------------------------------------------------------------------
_PEM_HEADER = r"-{4,5} ?BEGIN ([A-Z0-9 ]*?)PRIVATE KEY(?: BLOCK)? ?-{4,5}"
_PEM_BLOCK_RE = _r(_PEM_HEADER + r".*?-{4,5} ?END [A-Z0-9 ]*?PRIVATE KEY(?: BLOCK)? ?-{4,5}", re.S)
# Truncated block (no END line): header plus the following base64-ish body,
# where line breaks may be real or escaped ("\n" inside JSON strings).
_PEM_OPEN_RE = _r(_PEM_HEADER + r"(?:(?:\s|\\[nr])+[A-Za-z0-9+/=:,.\-]+(?: [A-Za-z0-9+/=:,.\-]+)*)*")
_PEM_BODY_CHARS = re.compile(r"[A-Za-z0-9+/]")


class PrivateKeyRecognizer(EntityRecognizer):
    """Whole PEM/OpenSSH/PGP private-key blocks as ONE span.

    detect-secrets' PrivateKeyDetector reports only the header; redacting that
    would leave the key material behind.  A block without END line (truncated
    cell) is covered from the header through its base64 body.
    """

    ENTITY = "SECRET_PRIVATE_KEY"

    def __init__(self, name: str = "PrivateKeyRecognizer", supported_language: str = "en"):
        super().__init__(supported_entities=[self.ENTITY], name=name,
                         supported_language=supported_language)

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: Optional[List[str]] = None,
                nlp_artifacts=None) -> List[RecognizerResult]:
        if not text or "PRIVATE KEY" not in text or (entities and self.ENTITY not in entities):
            return []
        results: List[RecognizerResult] = []
        covered_to = -1
        for m in _PEM_BLOCK_RE.finditer(text):
            if self._body_ok(m.group(0)):
                results.append(self._result(m.start(), m.end(), STRONG))
            covered_to = m.end()
        for m in _PEM_OPEN_RE.finditer(text):
            if m.start() < covered_to or any(r.start <= m.start() < r.end for r in results):
                continue
            if self._body_ok(m.group(0)):
                results.append(self._result(m.start(), m.end(), MEDIUM))
        return results

    @staticmethod
    def _body_ok(block: str) -> bool:
        body = re.sub(r"-{4,5}[^-]*-{4,5}", "", block)
        body = re.sub(r"(?m)^[A-Za-z\-]+: .*$", "", body)  # Proc-Type:, Comment: headers
        if is_placeholder(body.strip()) and len(body.strip()) < 64:
            return False
        return len(_PEM_BODY_CHARS.findall(body)) >= 40

    def _result(self, start: int, end: int, score: float) -> RecognizerResult:
        return RecognizerResult(
            self.ENTITY, start, end, score,
            analysis_explanation=AnalysisExplanation(self.name, score, pattern_name="pem_block"),
            recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                  RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id},
        )


# --------------------------------------------------------------------------
# JWT
# --------------------------------------------------------------------------
_JWT_RE = _r(r"(?<![A-Za-z0-9_\-])eyJ[A-Za-z0-9_\-]{8,}={0,2}\.[A-Za-z0-9_\-]{8,}={0,2}(?:\.[A-Za-z0-9_\-+/]*={0,2})?")


def _b64json(part: str) -> bool:
    try:
        raw = part.rstrip("=").encode("ascii")
        raw += b"=" * (-len(raw) % 4)
        json.loads(base64.urlsafe_b64decode(raw).decode("utf-8"))
        return True
    except Exception:  # noqa: BLE001 - any decode failure just means "not JSON"
        return False


def _jwt_ok(value: str, _m=None) -> bool:
    """Header must be base64url JSON (detect-secrets' check for part 1), or,
    for tokens with a mangled header, the payload must be."""
    parts = value.split(".")
    if JwtTokenDetector.is_formally_valid(".".join(parts[:2])):
        return True
    return len(parts) >= 3 and len(parts[2]) >= 16 and _b64json(parts[1])


class JwtRecognizer(_RuleRecognizer):
    """JSON Web Tokens: ``header.payload[.signature]`` (base64url, header
    starting ``eyJ``).  Unlike detect-secrets' lazy regex, the span includes the
    signature so the whole token is removed."""

    def __init__(self, name: str = "JwtRecognizer"):
        super().__init__((_Rule("SECRET_JWT", _JWT_RE, STRONG, ("eyJ",), validator=_jwt_ok,
                                extend_right=False, check_placeholder=False, min_len=20,
                                name="jwt"),), name=name)


# --------------------------------------------------------------------------
# Credentials in URLs and connection strings
# --------------------------------------------------------------------------
_DB_SCHEMES = re.compile(
    r"(?i)(?:jdbc:)?(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver|"
    r"oracle|clickhouse|cockroachdb|neo4j(?:\+s)?|bolt|couchdb|cassandra|memcached|ldaps?|"
    r"snowflake|redshift|db2|sqlite|elasticsearch|nats|kafka|mqtt)(?:\+[a-z0-9]+)?$"
)
# scheme://[user]:password@host  (password: no whitespace, '/', quotes, '<>')
_URL_CRED_RE = _r(
    r"(?<![A-Za-z0-9+.\-])(?P<scheme>[A-Za-z][A-Za-z0-9+.\-:]{1,30})://"
    r"(?P<user>[^\s:/?#@'\"<>]*):(?P<pw>[^\s/?#'\"<>]+)@(?=[A-Za-z0-9\[_\-.])"
)
# ADO.NET / ODBC / JDBC key-value strings: "...;Password=...;" / "Pwd=..."
_KV_PW_RE = _r(
    r"(?i)(?:^|[;\s\"'?&])(?:password|pwd|passwd)\s*=\s*"
    r"(?P<pw>\{[^}\r\n]*\}|\"[^\"\r\n]*\"|'[^'\r\n]*'|[^;\s\"'&]+)"
)
_KV_CONTEXT = re.compile(
    r"(?i)(?:server|data source|host|hostname|user id|uid|user|username|database|initial catalog|"
    r"port|dsn|driver|provider|jdbc:)\s*[=:/]"
)


class UrlCredentialsRecognizer(EntityRecognizer):
    """The ``user:pass`` part of ``scheme://user:pass@host`` URLs: the pair is the credential, and account names
    (``john.smith``) identify people.

    Database / broker schemes (postgres, mongodb+srv, redis, amqp, …) give
    ``SECRET_CONNECTION_STRING_PASSWORD``; any other scheme gives
    ``SECRET_BASIC_AUTH``.  An empty user (``redis://:pw@host``) is allowed.
    """

    ENTITIES = ("SECRET_BASIC_AUTH", "SECRET_CONNECTION_STRING_PASSWORD")

    def __init__(self, name: str = "UrlCredentialsRecognizer", supported_language: str = "en"):
        super().__init__(supported_entities=list(self.ENTITIES), name=name,
                         supported_language=supported_language)

    def load(self) -> None:
        pass

    def analyze(self, text: str, entities: Optional[List[str]] = None,
                nlp_artifacts=None) -> List[RecognizerResult]:
        if not text or "://" not in text or "@" not in text:
            return []
        results = []
        for m in _URL_CRED_RE.finditer(text):
            pw = m.group("pw")
            start, end = m.start("user") if m.group("user") else m.start("pw"), m.end("pw")
            # "user:pass@host" where pass itself contains '@': the host starts after the last '@'
            if len(pw) < 3 or is_placeholder(pw) or pw.isdigit() and len(pw) <= 5:
                continue  # ":8080@" is a port, not a password
            scheme = m.group("scheme").lower()
            entity = ("SECRET_CONNECTION_STRING_PASSWORD" if _DB_SCHEMES.search(scheme)
                      else "SECRET_BASIC_AUTH")
            if entities and entity not in entities:
                continue
            results.append(RecognizerResult(
                entity, start, end, STRONG if entity.endswith("PASSWORD") else MEDIUM + 0.05,
                analysis_explanation=AnalysisExplanation(self.name, STRONG, pattern_name="url_userinfo"),
                recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                      RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id},
            ))
        return results


class ConnectionStringPasswordRecognizer(_RuleRecognizer):
    """``Password=...;`` / ``Pwd=...`` inside ADO.NET/ODBC/JDBC strings.

    Only reported when the surrounding text looks like a connection string
    (another ``Server=``/``User Id=``/``Database=`` … key nearby), otherwise
    :class:`GenericSecretRecognizer` handles plain ``password=`` lines.
    """

    def __init__(self, name: str = "ConnectionStringPasswordRecognizer"):
        rule = _Rule("SECRET_CONNECTION_STRING_PASSWORD", _KV_PW_RE, STRONG,
                     needles_ci=("password", "pwd", "passwd"), group=1,
                     validator=self._in_conn_string, min_len=3, extend_right=False,
                     name="kv_password")
        super().__init__((rule,), name=name)

    @staticmethod
    def _in_conn_string(value: str, m: "re.Match[str]") -> bool:
        s = m.string
        window = s[max(0, m.start() - 200): m.end() + 200]
        return (";" in window or "&" in window) and bool(_KV_CONTEXT.search(window))

    def _span_for(self, text, m, rule):
        start, end = m.span(1)
        if end - start >= 2 and text[start] in "{\"'" and text[end - 1] in "}\"'":
            start, end = start + 1, end - 1
        value = text[start:end]
        if len(value) < 3 or is_placeholder(value) or not self._in_conn_string(value, m):
            return None
        return start, end


# --------------------------------------------------------------------------
# Kubernetes Secret manifests
# --------------------------------------------------------------------------
_K8S_KIND = re.compile(r"(?im)^\s*[\"']?kind[\"']?\s*:\s*[\"']?secret[\"']?\s*$")
_K8S_DATA = re.compile(r"(?im)^\s*[\"']?(?:data|stringData)[\"']?\s*:\s*$")
_K8S_VALUE_RE = _r(
    r"(?m)^[ \t]+[\"']?[\w.\-]+[\"']?:[ \t]*(?:[>|][-+]?[ \t]*\r?\n[ \t]+)?[\"']?"
    r"(?P<v>[A-Za-z0-9+/]{8,}={0,2})[\"']?[ \t]*$"
)


def _k8s_ok(value: str, m: "re.Match[str]") -> bool:
    text = m.string
    data = _K8S_DATA.search(text)
    if not data or data.end() > m.start() or not _K8S_KIND.search(text) or len(value) % 4:
        return False
    try:
        decoded = base64.b64decode(value, validate=True).decode("utf-8")
    except Exception:  # noqa: BLE001 - binary payload: still secret material
        return len(value) >= 24
    # a JSON document (.dockercfg, config.json) holds its credentials inside: an "example" host does not excuse it
    return decoded.lstrip().startswith("{") or not is_placeholder(decoded)


class KubernetesSecretRecognizer(_RuleRecognizer):
    """base64 values under ``data:`` of a ``kind: Secret`` manifest.

    Those values are secrets regardless of their key name (``extra:``,
    ``.dockercfg:``, ``ca.pem:``), and base64 hides any keyword/format the
    other recognizers could see.  Values decoding to a placeholder are kept.
    """

    def __init__(self, name: str = "KubernetesSecretRecognizer"):
        super().__init__((_Rule("SECRET_KUBERNETES_SECRET", _K8S_VALUE_RE, STRONG,
                                needles_ci=("secret",), group=1, validator=_k8s_ok,
                                extend_right=False, check_placeholder=False,
                                name="k8s_secret_data"),), name=name)


# --------------------------------------------------------------------------
# Authorization headers and CLI credentials
# --------------------------------------------------------------------------
_AUTH_HEADER_RE = _r(
    r"(?i)(?:\b(?:proxy-)?authorization[\"']?\s*[:=]"
    r"|(?:-H|--header)\s*[\"']?(?:x-)?(?:auth-|api-|access-|private-)?(?:token|key)\s*:|\bx-api-key\s*:)\s*[\"']?"
    r"(?:(?:bearer|basic|token|api-token|apikey|bot|digest|sso-key|key)\s+)?"
    r"(?P<v>[A-Za-z0-9._~+/\-]{8,}={0,3})"
)
_CURL_USER_RE = _r(
    r"\bcurl\b(?:[^\n]|\\\n)*?\s(?:-u|--user)\s+[\"']?"
    r"(?P<cred>(?P<user>[^\s:\"'<>]*)[\"']?:[\"']?(?P<v>[^\s\"'<>]+))"
)


def _curl_ok(value: str, m: "re.Match[str]") -> bool:
    """``curl -u user:pass``: the whole pair is the span; judge the password."""
    pw = m.group("v").strip("\"'{}")
    return len(pw) >= 4 and not is_placeholder(pw)


def _auth_ok(value: str, m: "re.Match[str]") -> bool:
    return _mixed(value) or len(value) >= 16


class AuthHeaderRecognizer(_RuleRecognizer):
    """Credentials in ``Authorization:`` headers and ``curl -u user:pass``.

    The span is the credential after the scheme word (``Bearer``/``Basic``…),
    so the header name stays readable.
    """

    def __init__(self, name: str = "AuthHeaderRecognizer"):
        rules = (
            _Rule("SECRET_AUTH_HEADER", _AUTH_HEADER_RE, MEDIUM, needles_ci=("authorization", "-h", "api-key"),
                  group=1, validator=_auth_ok, extend_right=False, name="authorization_header"),
            _Rule("SECRET_BASIC_AUTH", _CURL_USER_RE, MEDIUM, needles=("curl",), group=1,
                  min_len=4, extend_right=False, validator=_curl_ok, name="curl_user"),
        )
        super().__init__(rules, name=name)


# --------------------------------------------------------------------------
# Generic "secret-ish key = value" assignments
# --------------------------------------------------------------------------
_KEYWORD = (
    r"(?:api[_.\-]?key|apikey|api[_.\-]?secret|api[_.\-]?token|access[_.\-]?token|access[_.\-]?key|"
    r"o?auth[_.\-]?token|o?auth[_.\-]?key|bearer[_.\-]?token|refresh[_.\-]?token|session[_.\-]?token|"
    r"secret[_.\-]?access[_.\-]?key|secret[_.\-]?key|client[_.\-]?secret|app[_.\-]?secret|secret|"
    r"private[_.\-]?key|master[_.\-]?key|account[_.\-]?key|signing[_.\-]?key|encryption[_.\-]?key|"
    r"access[_.\-]?(?:key[_.\-]?)?id|token|credentials?|passw(?:or)?d|pwd|passphrase|key)"
)
_KEY = r"(?P<key>(?P<kp>[A-Za-z0-9_.\-]*?)(?P<kw>" + _KEYWORD + r")\d{0,2})"
_VALUE = (
    r"(?:\"(?P<dq>[^\"\r\n]{1,400})\"|'(?P<sq>[^'\r\n]{1,400})'|`(?P<bq>[^`\r\n]{1,400})`"
    r"|(?P<uq>[^\s\"'`,;)}\]<>]{1,400}))"
)
_ASSIGN_RE = _r(
    r"(?i)(?<![A-Za-z0-9_.\-])" + _KEY + r"[\"'\]]{0,2}[ \t]*(?:=>|[:?]{0,3}={1,3}|:)[ \t]*" + _VALUE
)
# "api_token", "value"  (getenv-with-default / dict literal)  and
# <add key="Password" value="..."/>  (XML config, e.g. NuGet)
_ARG_RE = _r(r"(?i)[\"']" + _KEY + r"[\"']\s*,\s*(?:\"(?P<dq>[^\"\r\n]{1,400})\"|'(?P<sq>[^'\r\n]{1,400})')")
_XML_RE = _r(r"(?i)\bkey\s*=\s*\"" + _KEY + r"\"\s+value\s*=\s*\"(?P<dq>[^\"\r\n]{1,400})\"")

_NON_SECRET_KEY = re.compile(
    r"(?i)(?:^|[_.\-]|(?<=[a-z]))(?:pad|eos|bos|unk|sep|cls|mask|start|end|stop|special|prompt|"
    r"public|publishable|csrf|xsrf|authenticity|next|page|continuation|cursor|sync|"
    r"max|min|num|total)[_.\-]?(?:token|key|secret)"
)
_PASSWORD_KEY = re.compile(r"(?i)(?:passw(?:or)?d|pwd|passphrase)\d{0,2}$")
_REFERENCE = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*\.[a-z_][A-Za-z_]*$|\(|^[a-z]+_[a-z_]+$|^[a-z]+(?:[A-Z][a-z]+)+$")


_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_\-]+")


def _generic_value_ok(key: str, value: str, quoted: bool, keyword: str) -> bool:
    if any(c.isspace() for c in value) or is_placeholder(value, keyed=True):
        return False
    if value.lower().strip("_-") == key.lower().strip("_-"):
        return False  # password=PASSWORD
    if _REFERENCE.search(value) and not quoted:
        return False  # var.db_password, get_secret(), db_password
    if _PASSWORD_KEY.search(key):
        return len(value) >= 6 and not value.isdigit() or len(value) >= 10
    if len(value) < 8 or value.isdigit():
        return False
    if keyword.lower() == "key" and (key.lower() == "key" or len(value) < 20 or not _TOKEN_CHARS.fullmatch(value)):
        return False  # `*_KEY` (STRIPE_KEY, hubspotKey) also names sort/cache/record keys: a named one, token-shaped
    return _mixed(value) and _entropy(value) >= 3.0


class GenericSecretRecognizer(EntityRecognizer):
    """``api_key = "..."``, ``secret: ...``, ``"client_secret": "..."``,
    ``token=...``, ``password=...`` with a non-placeholder value.

    The span is the value only.  Keys must *end* with a secret keyword
    (``tokenizer=`` / ``pad_token=`` / ``public_key=`` are ignored) and values
    must look like credentials: no spaces, not a template or code reference,
    and (for non-password keys) random-looking: two character classes and
    Shannon entropy >= 3 bits/char.
    """

    ENTITY = "SECRET_GENERIC"
    _NEEDLES = ("key", "secret", "token", "pass", "pwd", "credential", "access")

    def __init__(self, name: str = "GenericSecretRecognizer", supported_language: str = "en"):
        super().__init__(supported_entities=[self.ENTITY], name=name,
                         supported_language=supported_language)

    def load(self) -> None:
        pass

    @staticmethod
    def _keyword_starts_word(m: "re.Match[str]") -> bool:
        """``api_token``/``apiToken``/``API_TOKEN`` yes, ``jsonwebtoken`` no
        (password keywords are accepted anywhere: ``PGPASSWORD``)."""
        prefix, kw = m.group("kp"), m.group("kw")
        if not prefix or prefix[-1] in "_.-" or _PASSWORD_KEY.match(kw):
            return True
        return prefix[-1].islower() and kw[0].isupper() or prefix[-1].isdigit()

    def analyze(self, text: str, entities: Optional[List[str]] = None,
                nlp_artifacts=None) -> List[RecognizerResult]:
        if not text or (entities and self.ENTITY not in entities):
            return []
        lower = text.lower()
        if not any(n in lower for n in self._NEEDLES):
            return []
        if not any(c in text for c in "=:,"):
            return []
        results: List[RecognizerResult] = []
        seen = set()
        for regex in (_ASSIGN_RE, _ARG_RE, _XML_RE):
            for m in regex.finditer(text):
                key = m.group("key")
                if _NON_SECRET_KEY.search(key) or not self._keyword_starts_word(m):
                    continue
                for grp in ("dq", "sq", "bq", "uq"):
                    if grp in regex.groupindex and m.group(grp) is not None:
                        break
                start, end = m.span(grp)
                value = m.group(grp)
                if not _generic_value_ok(key, value, grp != "uq", m.group("kw")) or (start, end) in seen:
                    continue
                seen.add((start, end))
                score = GENERIC + (0.05 if grp != "uq" else 0.0)
                results.append(RecognizerResult(
                    self.ENTITY, start, end, score,
                    analysis_explanation=AnalysisExplanation(self.name, score, pattern_name="assignment"),
                    recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                          RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id},
                ))
        return results


# --------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------
def _collect_entities() -> Tuple[str, ...]:
    names: List[str] = []
    for spec in _PLUGIN_SPECS:
        names.extend([spec.entity] if isinstance(spec.entity, str) else spec.entity)
    names.extend(r.entity for r in _TOKEN_RULES)
    names.extend([
        PrivateKeyRecognizer.ENTITY, "SECRET_JWT", *UrlCredentialsRecognizer.ENTITIES,
        "SECRET_AUTH_HEADER", "SECRET_KUBERNETES_SECRET", GenericSecretRecognizer.ENTITY,
    ])
    return tuple(dict.fromkeys(names))


#: Every entity name this module can emit.
SECRET_ENTITIES: Tuple[str, ...] = _collect_entities()


def build_secret_recognizers(supported_language: str = "en") -> List[EntityRecognizer]:
    """Fresh recognizer instances, ready for ``registry.add_recognizer``."""
    recognizers: List[EntityRecognizer] = [
        DetectSecretsRecognizer(),
        TokenFormatRecognizer(),
        PrivateKeyRecognizer(),
        JwtRecognizer(),
        UrlCredentialsRecognizer(),
        ConnectionStringPasswordRecognizer(),
        AuthHeaderRecognizer(),
        KubernetesSecretRecognizer(),
        GenericSecretRecognizer(),
    ]
    for r in recognizers:
        r.supported_language = supported_language
    return recognizers
