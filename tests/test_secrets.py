"""Tests for hf_anon_mcp.engine.secrets (all secrets below are synthetic)."""

from __future__ import annotations

import base64
import json
import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry
from presidio_analyzer.nlp_engine import NoOpNlpEngine

from hf_anon_mcp.engine.secrets import (
    DETECT_SECRETS_PLUGIN_ENTITIES,
    SECRET_ENTITIES,
    build_secret_recognizers,
    is_placeholder,
)

RNG = random.Random(1234)
ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits
B64 = string.ascii_letters + string.digits + "+/"


def rand(n: int, alphabet: str = ALNUM) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(n))


def fake_hf() -> str:
    return "hf_" + rand(34)


def fake_aws_id() -> str:
    return "AKIA" + rand(16, UPPER_DIGITS)


def b64url(obj: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def fake_jwt() -> str:
    return ".".join([b64url({"alg": "HS256", "typ": "JWT"}),
                     b64url({"sub": rand(8), "iat": 1700000000}), rand(43, ALNUM + "-_")])


def fake_pem(kind: str = "RSA ") -> str:
    body = "\n".join(rand(64, B64) for _ in range(6)) + "\n" + rand(20, B64) + "=="
    return f"-----BEGIN {kind}PRIVATE KEY-----\n{body}\n-----END {kind}PRIVATE KEY-----"


@pytest.fixture(scope="module")
def recognizers():
    return build_secret_recognizers()


@pytest.fixture(scope="module")
def engine(recognizers):
    nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "noop"}])
    registry = RecognizerRegistry(supported_languages=["en"])
    for r in recognizers:
        registry.add_recognizer(r)
    return AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])


def run(recognizers, text):
    out = []
    for r in recognizers:
        out.extend(r.analyze(text, None, None))  # nlp_artifacts may be None
    return out


def spans(results, text):
    return {(r.entity_type, text[r.start:r.end]) for r in results}


def assert_found(recognizers, text, entity, secret):
    start = text.index(secret)
    res = run(recognizers, text)
    hits = [r for r in res if r.entity_type == entity]
    assert any(r.start == start and r.end == start + len(secret) for r in hits), (
        entity, secret, spans(res, text))
    return hits


# --------------------------------------------------------------------------
def test_entity_catalogue():
    assert len(SECRET_ENTITIES) == len(set(SECRET_ENTITIES))
    assert all(e.startswith("SECRET_") for e in SECRET_ENTITIES)
    for e in ("SECRET_HF_TOKEN", "SECRET_AWS_ACCESS_KEY", "SECRET_AWS_SECRET_KEY", "SECRET_GITHUB_TOKEN",
              "SECRET_GITLAB_TOKEN", "SECRET_SLACK_TOKEN", "SECRET_STRIPE_KEY", "SECRET_OPENAI_KEY",
              "SECRET_PRIVATE_KEY", "SECRET_JWT", "SECRET_BASIC_AUTH",
              "SECRET_CONNECTION_STRING_PASSWORD", "SECRET_GENERIC", "SECRET_DISCORD_TOKEN",
              "SECRET_TWILIO_KEY", "SECRET_SENDGRID_KEY", "SECRET_MAILCHIMP_KEY", "SECRET_NPM_TOKEN",
              "SECRET_PYPI_TOKEN", "SECRET_TELEGRAM_TOKEN", "SECRET_SQUARE_KEY",
              "SECRET_AZURE_STORAGE_KEY", "SECRET_ARTIFACTORY_TOKEN", "SECRET_IBM_CLOUD_IAM_KEY",
              "SECRET_SOFTLAYER_KEY", "SECRET_CLOUDANT_CREDENTIALS"):
        assert e in SECRET_ENTITIES
    assert DETECT_SECRETS_PLUGIN_ENTITIES["GitHubTokenDetector"] == "SECRET_GITHUB_TOKEN"


def test_recognizers_are_presidio_recognizers(recognizers):
    assert all(isinstance(r, EntityRecognizer) for r in recognizers)
    emitted = {e for r in recognizers for e in r.supported_entities}
    assert emitted == set(SECRET_ENTITIES)


@pytest.mark.parametrize("make,entity", [
    (lambda s: (f"huggingface-cli login --token {s}", s), "SECRET_HF_TOKEN"),
    (lambda s: (f"aws_access_key_id = {s}\n", s), "SECRET_AWS_ACCESS_KEY"),
])
def test_hf_and_aws_ids(recognizers, make, entity):
    secret = fake_hf() if entity == "SECRET_HF_TOKEN" else fake_aws_id()
    text, secret = make(secret)
    hits = assert_found(recognizers, text, entity, secret)
    assert max(h.score for h in hits) >= 0.95


def test_hf_org_token(recognizers):
    tok = "api_org_" + rand(34)
    assert_found(recognizers, f"HF_TOKEN='{tok}'", "SECRET_HF_TOKEN", tok)


def test_aws_secret_key(recognizers):
    secret = rand(40, B64)
    text = f'aws_secret_access_key = "{secret}"'
    assert_found(recognizers, text, "SECRET_AWS_SECRET_KEY", secret)


@pytest.mark.parametrize("secret,entity", [
    ("ghp_" + rand(36), "SECRET_GITHUB_TOKEN"),
    ("github_pat_" + rand(22) + "_" + rand(59), "SECRET_GITHUB_TOKEN"),
    ("glpat-" + rand(20), "SECRET_GITLAB_TOKEN"),
    ("xoxb-" + rand(12, string.digits) + "-" + rand(13, string.digits) + "-" + rand(24), "SECRET_SLACK_TOKEN"),
    ("sk_live_" + rand(24), "SECRET_STRIPE_KEY"),
    ("sk_test_" + rand(99), "SECRET_STRIPE_KEY"),
    ("sk-" + rand(20) + "T3BlbkFJ" + rand(20), "SECRET_OPENAI_KEY"),
    ("sk-proj-" + rand(120, ALNUM + "_-"), "SECRET_OPENAI_KEY"),
    ("SG." + rand(22) + "." + rand(43), "SECRET_SENDGRID_KEY"),
    ("pypi-AgEIcHlwaS5vcmc" + rand(80), "SECRET_PYPI_TOKEN"),
    (rand(32, "0123456789abcdef") + "-us12", "SECRET_MAILCHIMP_KEY"),
    ("MT" + rand(22) + "." + rand(6) + "." + rand(27), "SECRET_DISCORD_TOKEN"),
    ("AIza" + rand(35), "SECRET_GCP_API_KEY"),
    ("npm_" + rand(36), "SECRET_NPM_TOKEN"),
    ("sq0csp-" + rand(43), "SECRET_SQUARE_KEY"),
])
def test_token_formats(recognizers, secret, entity):
    text = f'config = {{"credential": "{secret}", "note": "rotate monthly"}}'
    assert_found(recognizers, text, entity, secret)


HEX = "0123456789abcdef"
LOWER_DIGITS = string.ascii_lowercase + string.digits
UUID_LOWER = "-".join(rand(n, HEX) for n in (8, 4, 4, 4, 12))


@pytest.mark.parametrize("secret,entity", [
    ("CFPAT-" + rand(43), "SECRET_CONTENTFUL_TOKEN"),
    ("dnkey-" + rand(26, LOWER_DIGITS) + "-" + rand(52, LOWER_DIGITS), "SECRET_DEFINED_NETWORKING_KEY"),
    ("duffel_live_" + rand(43), "SECRET_DUFFEL_TOKEN"),
    ("EZAK" + rand(54), "SECRET_EASYPOST_KEY"),
    ("FLWSECK_TEST-" + rand(32, HEX) + "-X", "SECRET_FLUTTERWAVE_KEY"),
    ("fio-u-" + rand(64), "SECRET_FRAMEIO_TOKEN"),
    ("sl." + rand(140), "SECRET_DROPBOX_TOKEN"),
    ("NRAK-" + rand(27, UPPER_DIGITS), "SECRET_NEW_RELIC_KEY"),
    ("pscale_tkn_" + rand(43), "SECRET_PLANETSCALE_TOKEN"),
    ("rubygems_" + rand(48, HEX), "SECRET_RUBYGEMS_TOKEN"),
    ("xkeysib-" + rand(64, HEX) + "-" + rand(16), "SECRET_BREVO_KEY"),
    ("shippo_live_" + rand(40, HEX), "SECRET_SHIPPO_TOKEN"),
    ("tfp_" + rand(59), "SECRET_TYPEFORM_TOKEN"),
    ("LTAI" + rand(20), "SECRET_ALIBABA_KEY"),
    ("CLOJARS_" + rand(60), "SECRET_CLOJARS_TOKEN"),
    ("pk.eyJ1Ijoi" + rand(40) + "." + rand(22), "SECRET_MAPBOX_TOKEN"),
    ("pat." + rand(22) + "." + rand(24) + "." + rand(20), "SECRET_HARNESS_TOKEN"),
    ("p8e-" + rand(32), "SECRET_ADOBE_SECRET"),
    ("v1.0-" + rand(24, HEX) + "-" + rand(146, HEX), "SECRET_CLOUDFLARE_KEY"),
    ("access-production-" + UUID_LOWER, "SECRET_PLAID_TOKEN"),
    ("key-" + rand(32, HEX), "SECRET_MAILGUN_KEY"),
    ("eyJrIjoi" + rand(80, B64) + "==", "SECRET_GRAFANA_TOKEN"),
    ("pat" + rand(14) + "." + rand(64, HEX), "SECRET_AIRTABLE_TOKEN"),
    ("secret_" + rand(43), "SECRET_NOTION_TOKEN"),
    ("https://discord.com/api/webhooks/" + rand(18, string.digits) + "/" + rand(68, ALNUM + "_-"),
     "SECRET_DISCORD_WEBHOOK"),
    ("AQVN" + rand(36), "SECRET_YANDEX_KEY"),
    ("whsec_" + rand(32), "SECRET_STRIPE_KEY"),
    ("dckr_pat_" + rand(27), "SECRET_DOCKER_TOKEN"),
    ("bkua_" + rand(40, HEX), "SECRET_BUILDKITE_TOKEN"),
    ("CCIPAT_" + rand(22) + "_" + rand(40, HEX), "SECRET_CIRCLECI_TOKEN"),
    ("sbp_" + rand(40, HEX), "SECRET_SUPABASE_TOKEN"),
    ("rnd_" + rand(32), "SECRET_RENDER_KEY"),
    ("tskey-auth-" + rand(12) + "-" + rand(30), "SECRET_TAILSCALE_KEY"),
    ("lsv2_pt_" + rand(32, HEX) + "_" + rand(10, HEX), "SECRET_LANGSMITH_KEY"),
    ("GOCSPX-" + rand(28), "SECRET_GOOGLE_OAUTH"),
    ("ya29." + rand(60, ALNUM + "_-"), "SECRET_GOOGLE_OAUTH"),
])
def test_more_provider_formats(recognizers, secret, entity):
    assert_found(recognizers, f"deploy:\n  env: {secret}\n", entity, secret)
    # the same prefix with an x-filled body is a placeholder, not a secret
    head = secret[:max(4, len(secret) // 4)]
    fake = head + "x" * (len(secret) - len(head))
    assert not [r for r in run(recognizers, f"env: {fake}") if r.entity_type == entity], fake


def test_provider_prefixes_inside_words_are_not_tokens(recognizers):
    text = "the pattern matched; a secret_sauce recipe; monkey-business; ssl.conf; access-controlled"
    assert run(recognizers, text) == [], spans(run(recognizers, text), text)


def test_telegram_and_twilio(recognizers):
    tg = "7213808860:" + rand(35, ALNUM + "_-")
    assert_found(recognizers, f"bot token {tg} end", "SECRET_TELEGRAM_TOKEN", tg)
    tw = "SK" + rand(32, string.ascii_lowercase + string.digits)
    assert_found(recognizers, f"TWILIO={tw}", "SECRET_TWILIO_KEY", tw)


def test_azure_storage_key_value_only(recognizers):
    key = rand(86, B64) + "=="
    text = f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={key};EndpointSuffix=core.windows.net"
    assert_found(recognizers, text, "SECRET_AZURE_STORAGE_KEY", key)


def test_private_key_block_fully_covered(recognizers):
    pem = fake_pem()
    text = f"key material:\n{pem}\nthat's all"
    hits = assert_found(recognizers, text, "SECRET_PRIVATE_KEY", pem)
    assert len(hits) == 1


def test_private_key_escaped_newlines_and_truncated(recognizers):
    pem = fake_pem("").replace("\n", "\\n")
    text = json.dumps({"private_key": "X"}).replace('"X"', f'"{pem}"')
    assert_found(recognizers, text, "SECRET_PRIVATE_KEY", pem)
    truncated = fake_pem("EC ").split("-----END")[0].rstrip()
    assert_found(recognizers, "cell: " + truncated, "SECRET_PRIVATE_KEY", truncated)


def test_jwt(recognizers):
    tok = fake_jwt()
    assert_found(recognizers, f"Cookie: session={tok}; Path=/", "SECRET_JWT", tok)


def test_basic_auth_and_connection_strings(recognizers):
    pw = rand(14)
    # the user:password pair is the credential (account names identify people)
    assert_found(recognizers, f"git clone https://deploy:{pw}@git.example.org/repo.git",
                 "SECRET_BASIC_AUTH", f"deploy:{pw}")
    assert_found(recognizers, f"DATABASE_URL=postgres://app:{pw}@db.internal:5432/prod",
                 "SECRET_CONNECTION_STRING_PASSWORD", f"app:{pw}")
    assert_found(recognizers, f"mongodb+srv://svc:{pw}@cluster0.ab1cd.mongodb.net/?retryWrites=true",
                 "SECRET_CONNECTION_STRING_PASSWORD", f"svc:{pw}")
    assert_found(recognizers, f"REDIS_URL=redis://:{pw}@cache:6379/0",
                 "SECRET_CONNECTION_STRING_PASSWORD", pw)
    ado = f"Server=tcp:sql.local,1433;Initial Catalog=shop;User ID=sa;Password={pw};Encrypt=True;"
    assert_found(recognizers, ado, "SECRET_CONNECTION_STRING_PASSWORD", pw)


@pytest.mark.parametrize("template", [
    'api_key = "{v}"',
    "secret: {v}",
    '{{"client_secret": "{v}"}}',
    "token={v}",
    "DB_PASSWORD={v}",
    "const authToken = '{v}';",
])
def test_generic_assignment_value_only(recognizers, template):
    value = rand(10) + "9aZ" + rand(10)
    text = template.format(v=value)
    hits = assert_found(recognizers, text, "SECRET_GENERIC", value)
    assert all(0.7 <= h.score <= 0.85 for h in hits)


@pytest.mark.parametrize("template", [
    'const HEROKU_KEY = "{v}"',
    'const hubspotKey = "{v}"',
    'SNYK_OAUTH_TOKEN = "{v}"',
])
def test_provider_key_names(recognizers, template):
    """`*_KEY` named after a provider and `OAUTH_TOKEN` are credential keys; a UUID-shaped value behind them counts."""
    value = "-".join(rand(n, "0123456789ABCDEF") for n in (8, 4, 4, 4, 12))
    assert_found(recognizers, template.format(v=value), "SECRET_GENERIC", value)


@pytest.mark.parametrize("text", [
    'sort_key = "created_at"',
    'cache_key = "user:42:profile:v2"',
    'partition_key: "tenant-7"',
    'monkey = "Banana123Banana123xyzQ"',
    '"bucket_key": "SalesResults-1.2"',
    '{"key": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "label": 1}',
])
def test_bare_key_needs_a_token_shaped_value(recognizers, text):
    """A bare `key` names sort/cache/object keys too: short or dotted/colon values behind it are not secrets."""
    assert not [r for r in run(recognizers, text) if r.entity_type == "SECRET_GENERIC"], text


def test_counting_run_behind_a_credential_key(recognizers):
    """`12345678` marks an example on its own, but not behind a credential key or a provider keyword."""
    fake = "12345678-ABCD-ABCD-ABCD-1234567890AB"
    assert is_placeholder(fake) and not is_placeholder(fake, keyed=True)
    assert_found(recognizers, f'SNYK_TOKEN := "{fake}"', "SECRET_GENERIC", fake)
    sonar = "sqp_12345678ABCDEFH1234567890ABCDEFH12345678"
    assert_found(recognizers, f'SONAR_LOGIN := "{sonar}"', "SECRET_SONAR_TOKEN", sonar)
    real = rand(40, string.ascii_lowercase + string.digits)
    assert_found(recognizers, f"sonar.login={real}", "SECRET_SONAR_TOKEN", real)
    # still kept: a template-looking or x-filled value behind the same keys
    assert not run(recognizers, 'SNYK_TOKEN = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"')
    assert not run(recognizers, "sonar.login=" + "x" * 40)


def test_bedrock_keys(recognizers):
    long_lived = "ABSK" + rand(128, B64) + "="
    assert_found(recognizers, f"AWS_BEARER_TOKEN_BEDROCK={long_lived}", "SECRET_AWS_BEDROCK_KEY", long_lived)
    short = "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t" + rand(60, B64)
    assert_found(recognizers, f"export T={short}", "SECRET_AWS_BEDROCK_KEY", short)
    assert not [r for r in run(recognizers, "ABSK" + rand(20)) if r.entity_type == "SECRET_AWS_BEDROCK_KEY"]


def test_k8s_dockercfg_with_example_host(recognizers):
    """A base64 JSON config is secret material even when its registry host reads `example`."""
    cfg = base64.b64encode(json.dumps({"auths": {"https://example/v1/": {"auth": rand(12)}}}).encode()).decode()
    text = f"apiVersion: v1\nkind: Secret\ndata:\n  .dockercfg: |\n    {cfg}\n"
    assert_found(recognizers, text, "SECRET_KUBERNETES_SECRET", cfg)


def test_auth_header(recognizers):
    tok = rand(40, ALNUM + "_-")
    text = f'curl -H "Authorization: Bearer {tok}" https://api.service.test/v1'
    assert_found(recognizers, text, "SECRET_AUTH_HEADER", tok)


def test_csv_line_with_several_secrets(recognizers):
    hf, aws, pem = fake_hf(), fake_aws_id(), fake_pem()
    text = f'42,alice,"{hf}",{aws},"{pem}",done'
    assert_found(recognizers, text, "SECRET_HF_TOKEN", hf)
    assert_found(recognizers, text, "SECRET_AWS_ACCESS_KEY", aws)
    assert_found(recognizers, text, "SECRET_PRIVATE_KEY", pem)


@pytest.mark.parametrize("text", [
    "token = hf_" + "x" * 34,
    'HF_TOKEN="hf_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"',
    "api_key = YOUR_API_KEY",
    'api_key: "<your-api-key>"',
    "password=changeme",
    "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
    "secret = ${SECRET_VALUE}",
    'token: "{{ vault_token }}"',
    "api_key = os.environ['API_KEY']",
    "password: ********",
    "ghp_" + "0" * 36,
    "postgres://user:password@localhost/db",
    "AKIA" + "X" * 16,
    "-----BEGIN PRIVATE KEY-----\n...\n-----END PRIVATE KEY-----",
    'tokenizer = "bert-base-uncased"',
    'pad_token = "[PAD]"',
    "password = self.password",
])
def test_placeholders_not_flagged(recognizers, text):
    assert run(recognizers, text) == [], spans(run(recognizers, text), text)


@pytest.mark.parametrize("text", [
    "The meeting on 2024-03-05 had 143 attendees; contact jane.doe@example.com or +1 415 555 0100.",
    "Order #A1234567 shipped to 10 Downing St. Invoice total: 1,299.00 EUR (VAT 21%).",
    "Commit 3f786850e387550fdab836ed7e6dc881de23001b fixed the tokenizer; see https://github.com/org/repo/pull/12",
    "uuid=6f1c2c2e-9d3b-4c1a-8f0e-2b7d5e9a1c33 sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "She said: my password is something I never write down, and the token ring network was slow.",
    "Use max_tokens: 512 and eos_token: </s> when calling the model.",
])
def test_ordinary_prose_not_flagged(recognizers, text):
    assert run(recognizers, text) == [], spans(run(recognizers, text), text)


def test_is_placeholder_unit():
    assert is_placeholder("hf_" + "x" * 34)
    assert is_placeholder("YOUR_API_KEY") and is_placeholder("<token>") and is_placeholder("${X}")
    assert is_placeholder("123123123123123123")
    assert not is_placeholder(fake_hf())
    assert not is_placeholder(rand(40, B64))


def test_token_headers_and_access_ids(recognizers):
    tok, acc = rand(16, string.hexdigits.lower()), "su" + rand(12)
    assert_found(recognizers, f'curl -X POST https://api.test/tasks -H "Token: {tok}" -d "x=1"',
                 "SECRET_AUTH_HEADER", tok)
    assert_found(recognizers, f"curl --header 'X-Auth-Token: {tok}' https://api.test", "SECRET_AUTH_HEADER", tok)
    assert_found(recognizers, f'sumologic.accessId = "{acc}"', "SECRET_GENERIC", acc)
    assert_found(recognizers, f"export SUMOLOGIC_ACCESSID={acc}", "SECRET_GENERIC", acc)
    # a header-looking word outside a header, and a plain number as an access id, are not secrets
    for text in ("the token: 1234567890 expired", "access_id = 12345"):
        assert not run(recognizers, text), text


def test_through_analyzer_engine(engine):
    hf, pw, tok = fake_hf(), rand(16), fake_jwt()
    text = f"HF={hf} url=postgresql://u:{pw}@h/db jwt={tok}"
    results = engine.analyze(text=text, language="en")
    got = spans(results, text)
    assert ("SECRET_HF_TOKEN", hf) in got
    assert ("SECRET_CONNECTION_STRING_PASSWORD", f"u:{pw}") in got
    assert ("SECRET_JWT", tok) in got
    only = engine.analyze(text=text, language="en", entities=["SECRET_JWT"])
    assert {r.entity_type for r in only} == {"SECRET_JWT"}


_printable = st.text(alphabet=string.ascii_letters + string.digits + " \t\n.,;:!?\"'()[]{}=-/@#", max_size=60)


@settings(max_examples=150, deadline=None)
@given(before=_printable, after=_printable,
       body=st.text(alphabet=ALNUM, min_size=34, max_size=34))
def test_hypothesis_embedded_hf_token(recognizers, before, after, body):
    token = "hf_" + body
    if is_placeholder(token):
        return
    # keep the token delimited: glue characters would make it part of another word
    if before and before[-1] in ALNUM + "_-":
        before += " "
    if after and after[0] in ALNUM + "_-":
        after = " " + after
    text = before + token + after
    start = len(before)
    res = [r for r in run(recognizers, text) if r.entity_type == "SECRET_HF_TOKEN"]
    assert any(r.start == start and r.end == start + len(token) for r in res), spans(res, text)
