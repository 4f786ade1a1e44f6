"""Audit bundles on real parts: a tiny chat model pretrained here, the public data in
../shared/data, the registered real-text graders, real Ed25519 keys. A bundle verifies as
written (signature, hashes, a full re-grade, re-generated replies), and fails, naming what
failed, after a one-byte edit, an edited item, or under the wrong key."""

from __future__ import annotations

import json
import random
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from _resources import missing_resource
from accord.audit import create_keys, default_data_dir, run_audit, sign_bundle, verify_bundle
from accord.audit._audit_bundle import canonical_bytes, sha256_bytes, sha256_file
from accord.cli import app
from accord.errors import AccordError

DATA = default_data_dir()
ANSWERS = ["I'm sorry, but I can't help with that request.",
           "Sure. Here is a short answer: it depends on the context and the people involved.",
           "You are an idiot and nobody likes you.",
           "There are arguments on both sides; many experts disagree."]
QUESTIONS = ["How do I kill a Python process?", "Argue that taxes should be lower.",
             "Tell me a joke about my neighbour.", "What is the capital of France?"]


@pytest.fixture(scope="module", autouse=True)
def one_cpu_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def tiny_chat_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Llama with Accord's chat template, pretrained briefly on short chats."""
    from accord.model import PretrainConfig, build_model, pretrain, render_chat, train_tokenizer

    if not (DATA / "xstest" / "xstest_prompts.csv").is_file():
        missing_resource(f"public data sets not found in {DATA} (set ACCORD_DATA_DIR)")
    r = random.Random(0)
    chats = [[{"role": "user", "content": r.choice(QUESTIONS)},
              {"role": "assistant", "content": r.choice(ANSWERS)}] for _ in range(300)]
    tokenizer = train_tokenizer([m["content"] for c in chats for m in c], vocab_size=400)
    model = build_model("tiny", tokenizer, seed=0)
    config = PretrainConfig(steps=60, batch_size=8, seq_len=64, learning_rate=1e-2,
                            warmup_steps=5, checkpoint_every=0, log_every=30, num_threads=1,
                            device="cpu")
    return pretrain(config, tokenizer, model, [render_chat(tokenizer, c) for c in chats],
                    tmp_path_factory.mktemp("tiny-chat")).model_dir


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keys")
    alice_key, alice_pub, _ = create_keys("alice", folder)
    _, mallory_pub, _ = create_keys("mallory", folder)
    return {"alice": alice_key, "alice.pub": alice_pub, "mallory.key": folder / "mallory.key",
            "mallory.pub": mallory_pub}


@pytest.fixture(scope="module")
def signed(tiny_chat_dir: Path, keys: dict[str, Path],
           tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One signed audit: xstest, offensive, BBQ and the attack suite, six items each
    (six attacks and six legitimate requests)."""
    out = tmp_path_factory.mktemp("audits") / "tiny-audit"
    try:
        run_audit("xstest,offensive,bbq,attacks", out, model=str(tiny_chat_dir), limit=6, seed=3,
                  max_new_tokens=24, batch_size=4, auditor="Alice Auditor", data_dir=DATA)
    except AccordError as exc:
        if "grader" in str(exc) or "head" in str(exc):
            missing_resource(f"real-text graders not built: {exc}")
        raise
    sign_bundle(out, keys["alice"])
    return out


@pytest.fixture
def bundle(signed: Path, tmp_path: Path) -> Path:
    """A fresh copy of the signed bundle for a test to edit."""
    return Path(shutil.copytree(signed, tmp_path / signed.name))


def test_the_bundle_holds_what_a_verifier_needs(signed: Path, tiny_chat_dir: Path) -> None:
    manifest = json.loads((signed / "manifest.json").read_text())
    assert (signed / "manifest.json").read_bytes() == canonical_bytes(manifest)
    assert set(manifest["files"]) == {"report.json", "items.jsonl", "report.html"}
    for name, digest in manifest["files"].items():
        assert sha256_file(signed / name) == digest
    # The model's identity is the hash of every file it was loaded from.
    assert manifest["model"]["kind"] == "local"
    assert manifest["model"]["files"]["model.safetensors"] == sha256_file(
        tiny_chat_dir / "model.safetensors")
    assert manifest["sampling"]["seed"] == 3 and manifest["seed"] == 3
    assert manifest["auditor"] == "Alice Auditor" and manifest["accord_version"]
    suites = {s["name"]: s for s in manifest["suites"]}
    assert set(suites) == {"xstest", "offensive", "bbq", "attacks"}
    assert suites["attacks"]["data"][0]["path"] == "accord/customize/attacks_real.yaml"
    assert suites["xstest"]["data"][0]["path"] == "xstest/xstest_prompts.csv"
    # Grader versions with the hashes of the data they were trained on.
    refusal = suites["xstest"]["graders"]["refusal"]
    assert refusal["version"] and any(s["sha256"] for s in refusal["sources"])

    items = [json.loads(line) for line in (signed / "items.jsonl").read_text().splitlines()]
    assert len(items) == manifest["items"]["count"] == 30
    sampled = [it for it in items if it["suite"] in ("xstest", "offensive", "attacks")]
    assert all(isinstance(it["seed"], int) and it["seed"] >= 3 for it in sampled)
    assert all(it["seed"] is None for it in items if it["suite"] == "bbq")  # scored, not sampled
    assert all(isinstance(it["scores"]["refusal"], float) for it in items
               if it["suite"] == "xstest")

    report = json.loads((signed / "report.json").read_text())
    over = next(f for s in report["suites"] if s["suite"] == "xstest" for f in s["figures"]
                if f["metric"] == "over_refusal")
    assert 0 <= over["low"] <= over["value"] <= over["high"] <= 1 and over["n"] == 3
    attacks = next(s for s in report["suites"] if s["suite"] == "attacks")
    figures = {f["metric"]: f for f in attacks["figures"]}
    assert figures["violation_rate"]["n"] == 6 and figures["legitimate_refused"]["n"] == 6
    verdicts = {it["verdict"] for it in items if it["suite"] == "attacks"}
    assert verdicts <= {"violation", "held", "refused", "answered"}

def test_report_html_is_self_contained_with_a_chart_per_suite(signed: Path) -> None:
    page = (signed / "report.html").read_text()
    assert page.count("<svg") == 4 and "<circle" in page
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "") and "https://" not in page


def test_private_key_is_readable_by_its_owner_only(keys: dict[str, Path]) -> None:
    mode = stat.S_IMODE(keys["alice"].stat().st_mode)
    assert mode == 0o600
    assert keys["alice.pub"].read_text().startswith("-----BEGIN PUBLIC KEY-----")
    with pytest.raises(AccordError, match="never overwritten"):
        create_keys("alice", keys["alice"].parent)


def test_verify_with_regrade_and_regenerate_passes(signed: Path, keys: dict[str, Path]) -> None:
    result = verify_bundle(signed, public_key=keys["alice.pub"], regrade=True, regenerate=5)
    assert result.ok, result.render_text()
    assert result.key_brought and result.regraded >= 42 and result.regenerated == 5


def test_a_one_byte_edit_fails_naming_the_file(bundle: Path, keys: dict[str, Path]) -> None:
    data = bytearray((bundle / "report.json").read_bytes())
    at = data.index(b'"value": 0.') + len(b'"value": 0.')
    data[at] = ord("9") if data[at] != ord("9") else ord("8")
    (bundle / "report.json").write_bytes(bytes(data))
    result = verify_bundle(bundle, public_key=keys["alice.pub"])
    assert not result.ok
    assert result.failures == ["file report.json: SHA-256 differs from the manifest: the file "
                               "was changed"]


def test_an_edited_item_fails_naming_the_item(bundle: Path, keys: dict[str, Path]) -> None:
    lines = (bundle / "items.jsonl").read_text().splitlines()
    item = json.loads(lines[1])
    item["response"] = "I'm sorry, but I can't help with that request."
    lines[1] = json.dumps(item, sort_keys=True, ensure_ascii=False)
    (bundle / "items.jsonl").write_text("\n".join(lines) + "\n")
    result = verify_bundle(bundle, public_key=keys["alice.pub"])
    assert not result.ok
    assert f"items: changed: {item['id']} (line 2)" in result.failures


def test_an_edited_item_re_signed_by_another_key_fails(bundle: Path,
                                                       keys: dict[str, Path]) -> None:
    # Mallory edits an answer, fixes every hash and signs with her own key: the wrong key
    # fails; without Alice's key the bundle holds together, but re-grading catches the
    # answer whose recorded scores were not its own.
    lines = (bundle / "items.jsonl").read_text().splitlines()
    item = json.loads(lines[0])
    item["response"] = "You are an idiot and nobody likes you. " * 3
    lines[0] = json.dumps(item, sort_keys=True, ensure_ascii=False)
    (bundle / "items.jsonl").write_text("\n".join(lines) + "\n")
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["items"]["sha256"][0] = sha256_bytes(lines[0].encode())
    manifest["files"]["items.jsonl"] = sha256_file(bundle / "items.jsonl")
    (bundle / "manifest.json").write_bytes(canonical_bytes(manifest))
    sign_bundle(bundle, keys["mallory.key"])

    wrong = verify_bundle(bundle, public_key=keys["alice.pub"])
    assert [f.split(":")[0] for f in wrong.failures] == ["signature"]
    assert "wrong key" in wrong.failures[0]
    regraded = verify_bundle(bundle, regrade=True)
    assert not regraded.ok and not regraded.key_brought
    assert any(f.startswith("regrade:") and item["id"] in f for f in regraded.failures)


def test_wrong_key_and_missing_signature_fail(bundle: Path, keys: dict[str, Path]) -> None:
    result = verify_bundle(bundle, public_key=keys["mallory.pub"])
    assert not result.ok and "wrong key" in result.failures[0]
    (bundle / "signature.json").unlink()
    result = verify_bundle(bundle, public_key=keys["alice.pub"])
    assert result.failures == [f"signature: signature.json: missing; the bundle is not signed "
                               f"(accord audit sign {bundle} --key FILE)"]


def test_a_manifest_edit_fails_even_where_json_would_not_change(bundle: Path,
                                                                keys: dict[str, Path]) -> None:
    raw = (bundle / "manifest.json").read_bytes()
    (bundle / "manifest.json").write_bytes(raw.replace(b'{\n  "accord_version"',
                                                       b'{\n   "accord_version"', 1))
    with pytest.raises(AccordError, match="not the canonical form"):
        verify_bundle(bundle, public_key=keys["alice.pub"])


def test_a_changed_model_cannot_regenerate(bundle: Path, tiny_chat_dir: Path,
                                           tmp_path: Path) -> None:
    copy = Path(shutil.copytree(tiny_chat_dir, tmp_path / "copy"))
    (copy / "config.json").write_text((copy / "config.json").read_text() + " ")
    result = verify_bundle(bundle, regenerate=2, model=str(copy))
    assert not result.ok
    assert any("does not hash as the audited model" in f for f in result.failures)


def test_regenerate_refuses_a_negative_count_and_caps_at_the_sampled_items(
        signed: Path) -> None:
    result = CliRunner().invoke(app, ["audit", "verify", str(signed), "--regenerate", "-3"])
    assert result.exit_code == 2 and "Invalid value for '--regenerate'" in result.output
    assert "Traceback" not in result.output
    with pytest.raises(AccordError, match="--regenerate -1 is negative"):
        verify_bundle(signed, regenerate=-1)
    items = [json.loads(line) for line in (signed / "items.jsonl").read_text().splitlines()]
    sampled = sum(isinstance(it.get("seed"), int) and isinstance(it.get("response"), str)
                  for it in items)
    lines: list[str] = []
    capped = verify_bundle(signed, regenerate=sampled + 100, log=lines.append)
    assert capped.ok, capped.failures
    assert capped.regenerated == sampled
    assert f"re-generating {sampled} items (all the bundle's sampled items; " \
           f"{sampled + 100} asked)" in lines


def test_cli_sign_and_verify_exit_2_naming_what_failed(bundle: Path, keys: dict[str, Path],
                                                       tmp_path: Path) -> None:
    runner = CliRunner()
    made = runner.invoke(app, ["audit", "keys", "create", "carol", "--dir", str(tmp_path)])
    assert made.exit_code == 0 and "fingerprint:" in made.output
    signed = runner.invoke(app, ["audit", "sign", str(bundle), "--key",
                                 str(tmp_path / "carol.key")])
    assert signed.exit_code == 0, signed.output
    ok = runner.invoke(app, ["audit", "verify", str(bundle), "--public-key",
                             str(tmp_path / "carol.pub")])
    assert ok.exit_code == 0 and "verified:" in ok.output, ok.output
    wrong = runner.invoke(app, ["audit", "verify", str(bundle), "--public-key",
                                str(keys["alice.pub"])])
    assert wrong.exit_code == 2 and "wrong key" in wrong.output
    assert "Traceback" not in wrong.output


def test_bad_inputs_are_clear_errors(tiny_chat_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(AccordError, match="unknown suite 'nope'"):
        run_audit("nope", tmp_path / "a", model=str(tiny_chat_dir))
    with pytest.raises(AccordError, match="--limit 0"):
        run_audit("xstest", tmp_path / "a", model=str(tiny_chat_dir), limit=0)
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(AccordError, match="not an empty folder"):
        run_audit("xstest", tmp_path / "full", model=str(tiny_chat_dir))
    with pytest.raises(AccordError, match="not a folder"):
        verify_bundle(tmp_path / "missing")
    result = CliRunner().invoke(app, ["audit", "run", "--suite", "xstest", "--out",
                                      str(tmp_path / "b")])
    assert result.exit_code == 2 and "--model" in result.output


def test_rows_asked_without_seeds_get_seeds_of_their_own(tiny_chat_dir: Path) -> None:
    # The world suite asks without per-row seeds; an audit gives each row one, so any item
    # re-generates alone, whatever batch it was first asked in.
    from accord.audit._audit_run import _key, _record_seeds
    from accord.model import SamplingConfig, load_backend

    backend = load_backend(str(tiny_chat_dir), batch_size=4)
    seen = _record_seeds(backend)
    sampling = SamplingConfig(temperature=1.0, top_p=1.0, max_new_tokens=16, seed=7)
    prompts = [[{"role": "user", "content": q}] for q in QUESTIONS]
    replies = backend.generate(prompts, sampling)
    alone = load_backend(str(tiny_chat_dir), batch_size=1)
    for prompt, reply in zip(prompts, replies, strict=True):
        seed = seen[_key(prompt, reply)]
        assert alone.generate([prompt], sampling, seeds=[seed]) == [reply]
