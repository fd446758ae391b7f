"""`switchboard fraud evaluate --suite`: the printed figures are the model's on the worlds,
recomputed here independently with scikit-learn (and the expected figures' prior shift by
root-finding, not the EM the code runs); bad options get one line and a hint."""

from __future__ import annotations

import contextlib
import io
import re
import time
from pathlib import Path

import joblib
import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.stats import rankdata
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, precision_score, recall_score

from bot.cli import main
from models.fraud import compute_features, load_model
from models.fraud.model import NORMAL
from models.fraud.synthetic import synthetic_usage
from models.fraud.training import baseline_totals, feature_rows, kinds_for
from models.fraud.world import world
from tests import fraud_lines
from tests.fraud_lines import copy_models

cli_model_dir = fraud_lines.cli_model_dir

LINES = 3_000
WORLD_LINES = 3_000
SEED = 7


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, cli_model_dir: Path) -> Path:
    """A config with a fresh model_dir and a budget of the top 1%, a model trained by the CLI."""
    assert LINES == 3_000  # what the session's CLI-trained model was trained on
    d = tmp_path_factory.mktemp("suite")
    (d / "config.yaml").write_text(
        f"database:\n  url: sqlite:///{d / 'f.db'}\n"
        f"fraud:\n  model_dir: {d / 'models'}\n  alert_budget: 0.01\n"
    )
    copy_models(cli_model_dir, d)
    return d


@pytest.fixture(scope="module")
def suite_output(workdir: Path) -> tuple[int, str, float]:
    buf = io.StringIO()
    started = time.perf_counter()
    with contextlib.redirect_stdout(buf):  # the CLI's console writes to sys.stdout
        code = main(
            [
                "--config",
                str(workdir / "config.yaml"),
                "fraud",
                "evaluate",
                "--suite",
                "--worlds",
                "1",
                "--world-lines",
                str(WORLD_LINES),
                "--seed",
                str(SEED),
            ]
        )
    return code, buf.getvalue(), time.perf_counter() - started


def _section(text: str, title: str) -> str:
    start = text.index(title)
    nxt = text.find("\nworld seed", start + 1)
    end = text.find("\ntargets", start) if nxt < 0 else nxt
    return text[start:end]


def _num(pattern: str, text: str) -> float:
    m = re.search(pattern, text)
    assert m, f"{pattern!r} not in:\n{text}"
    return float(m.group(1).replace(",", ""))


def _expected_in_top(score: np.ndarray, k: int) -> np.ndarray:
    """Each line's chance of being among the k highest when ties are taken at random."""
    hi = rankdata(-score, method="max")  # last position of the line's tie group (1-based)
    lo = rankdata(-score, method="min") - 1  # positions before its tie group
    return np.clip((k - lo) / (hi - lo), 0.0, 1.0)


def _expected(score: np.ndarray, prior: float, point: np.ndarray) -> dict[str, object]:
    """The fraud share where the scores, re-weighted from the training share `prior` to it,
    average to it (found by root-finding), and the expected precision and recall there."""

    def adjusted(share: float) -> np.ndarray:
        fraud = share / prior * score
        return fraud / (fraud + (1 - share) / (1 - prior) * (1 - score))

    share = brentq(lambda q: adjusted(q).mean() - q, 1e-7, 0.5, xtol=1e-13)
    adj = adjusted(share)
    return {
        "train_prior": prior,
        "estimated_prevalence": share,
        "expected_precision": (point * adj).sum() / point.sum() if point.sum() else None,
    }


def _recompute(workdir: Path, seed: int, held_out: str | None) -> dict[str, object]:
    trained = load_model(workdir / "models")
    w = world(WORLD_LINES, seed, held_out=held_out)
    f = compute_features(w.frame)
    kinds = kinds_for(f, w.labels).astype(str)
    y = kinds != NORMAL
    score = trained.model.predict_proba(f.matrix)[:, 1]
    novelty = trained.model.novelty_score(f.matrix)
    flagged = score >= trained.model.threshold
    k = int(np.ceil(0.01 * len(y)))
    share = _expected_in_top(score, k)
    # The operating point: over the threshold, at most k lines, worst first.
    point = flagged.astype(float) if flagged.sum() <= k else share
    totals = np.log1p(baseline_totals(f))
    forest = IsolationForest(n_estimators=200, random_state=0, n_jobs=1).fit(totals)
    got: dict[str, object] = {
        "lines": len(y),
        "fraudulent": int(y.sum()),
        "pr_auc": average_precision_score(y, score),
        "supervised_pr_auc": average_precision_score(y, trained.model.supervised_score(f.matrix)),
        "novelty_pr_auc": average_precision_score(y, novelty),
        "threshold": trained.model.threshold,
        "point_flagged": point.sum(),
        "point_precision": (point * y).sum() / point.sum() if point.sum() else 0.0,
        "point_recall": (point * y).sum() / y.sum(),
        "baseline": average_precision_score(y, -forest.score_samples(totals)),
        "k": k,
        "budget_precision": (share * y).sum() / k,
        "budget_recall": (share * y).sum() / y.sum(),
        "flagged": int(flagged.sum()),
        "threshold_precision": precision_score(y, flagged, zero_division=0),
        "threshold_recall": recall_score(y, flagged),
        "tied": int((score == score.max()).sum()),
        "by_kind": {
            kd: (point[kinds == kd].mean(), share[kinds == kd].mean(), flagged[kinds == kd].mean())
            for kd in set(kinds[y])
        },
    }
    assert trained.train_prevalence is not None
    got.update(_expected(score, trained.train_prevalence, point))
    profile_of = dict(zip(w.lines["subscriber"], w.lines["profile"], strict=True))
    of = np.array([profile_of[str(s)] for s in f.subscribers])
    got["profiles"] = {
        p: (
            (point * (~y & (of == p))).sum(),
            (share * (~y & (of == p))).sum(),
            int((flagged & ~y & (of == p)).sum()),
        )
        for p in set(of[~y])
    }
    if held_out:
        wanted = kinds == held_out
        got["held_out"] = (share * wanted).sum() / wanted.sum()
        got["novelty_held_out"] = (_expected_in_top(novelty, k) * wanted).sum() / wanted.sum()
    return got


def _check(section: str, want: dict[str, object]) -> None:
    assert _num(r": ([\d,]+) lines, ", section) == want["lines"]
    assert _num(r"lines, ([\d,]+) fraudulent", section) == want["fraudulent"]
    assert _num(r"PR-AUC ([\d.]+)", section) == pytest.approx(want["pr_auc"], abs=5e-4)
    assert _num(r"raw totals: ([\d.]+)", section) == pytest.approx(want["baseline"], abs=5e-4)
    assert _num(r"supervised PR-AUC ([\d.]+)", section) == pytest.approx(
        want["supervised_pr_auc"], abs=5e-4
    )
    assert _num(r"novelty PR-AUC ([\d.]+)", section) == pytest.approx(
        want["novelty_pr_auc"], abs=5e-4
    )
    point = re.search(
        r"operating point: threshold ([\d.]+), at most ([\d,]+) lines = 1.00% of lines: "
        r"([\d,]+) flagged, precision ([\d.]+), recall ([\d.]+)\n",
        section,
    )
    assert point, section
    assert float(point.group(1)) == pytest.approx(want["threshold"], abs=5e-3)
    assert int(point.group(2).replace(",", "")) == want["k"]
    assert int(point.group(3).replace(",", "")) == round(want["point_flagged"])
    assert float(point.group(4)) == pytest.approx(want["point_precision"], abs=5e-4)
    assert float(point.group(5)) == pytest.approx(want["point_recall"], abs=5e-4)
    _check_expected(section, want)
    binds = want["k"] < want["fraudulent"]  # type: ignore[operator]
    assert ("the cap binds" in section) == binds
    if binds:
        assert _num(r"so recall can reach ([\d.]+)", section) == pytest.approx(
            want["k"] / want["fraudulent"],  # type: ignore[operator]
            abs=5e-4,
        )
    assert _num(r"= ([\d,]+) lines, whatever the threshold", section) == want["k"]
    assert _num(r"whatever the threshold: precision ([\d.]+)", section) == pytest.approx(
        want["budget_precision"], abs=5e-4
    )
    assert _num(r"whatever the threshold: precision [\d.]+, recall ([\d.]+)", section) == (
        pytest.approx(want["budget_recall"], abs=5e-4)
    )
    assert _num(r"\(([\d,]+) flagged\)", section) == want["flagged"]
    assert _num(r"flagged\): precision ([\d.]+)", section) == pytest.approx(
        want["threshold_precision"], abs=5e-4
    )
    assert _num(r"flagged\): precision [\d.]+, recall ([\d.]+)", section) == pytest.approx(
        want["threshold_recall"], abs=5e-4
    )
    if want["tied"] == 1:
        assert "no tie at the top score" in section
    else:
        assert _num(r"([\d,]+) lines tied at the top", section) == want["tied"]
    for kind, (at_point, at_budget, at_threshold) in want["by_kind"].items():  # type: ignore[attr-defined]
        m = re.search(rf"\n    {kind}\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", section)
        assert m, kind
        assert float(m.group(1)) == pytest.approx(at_point, abs=5e-4)
        assert float(m.group(2)) == pytest.approx(at_budget, abs=5e-4)
        assert float(m.group(3)) == pytest.approx(at_threshold, abs=5e-4)
    for profile, (at_point, at_budget, at_threshold) in want["profiles"].items():  # type: ignore[attr-defined]
        m = re.search(rf"\n    {profile}\s+([\d.]+)\s+([\d.]+)\s+([\d,]+)\s", section)
        assert m, profile
        assert float(m.group(1)) == pytest.approx(at_point, abs=0.05)
        assert float(m.group(2)) == pytest.approx(at_budget, abs=0.05)
        assert int(m.group(3).replace(",", "")) == at_threshold
    if "held_out" in want:
        assert _num(r"recall ([\d.]+) within the top 1%", section) == pytest.approx(
            want["held_out"], abs=5e-4
        )
        assert _num(r"by the novelty part alone ([\d.]+)", section) == pytest.approx(
            want["novelty_held_out"], abs=5e-4
        )


def _check_expected(text: str, want: dict[str, object]) -> None:
    """The expected figures' line: estimated share, the labels' share, expected precision
    (and no expected recall: the scores cannot count the fraud they miss), and the training
    share the scores were re-weighted from."""
    m = re.search(
        r"estimated from the scores alone, no labels: fraud on ([\d.]+)% of lines "
        r"\(labels: ([\d.]+)%\); expected precision ([\d.]+|- \(nothing flagged\))"
        r" \(scores re-weighted from the training mix's "
        r"([\d.]+)%: holds if the share of fraud is all that differs\)\n",
        text,
    )
    assert m, text
    assert float(m.group(1)) / 100 == pytest.approx(want["estimated_prevalence"], abs=5e-5)
    assert float(m.group(2)) / 100 == pytest.approx(
        want["fraudulent"] / want["lines"],  # type: ignore[operator]
        abs=5e-5,
    )
    assert float(m.group(4)) / 100 == pytest.approx(want["train_prior"], abs=5e-5)
    assert "expected recall" not in text
    if want["expected_precision"] is None:
        assert m.group(3).startswith("-")
    else:
        assert float(m.group(3)) == pytest.approx(want["expected_precision"], abs=5e-4)
    ratio = want["estimated_prevalence"] / (want["fraudulent"] / want["lines"])  # type: ignore[operator]
    off = re.search(r"the estimated share is ([\d.]+)x the labels'", text)
    assert bool(off) == (not 0.8 <= ratio <= 1.25), text
    if off:
        assert float(off.group(1)) == pytest.approx(ratio, abs=5e-3)


def test_suite_runs_quickly_and_prints_every_part(suite_output: tuple[int, str, float]) -> None:
    code, text, seconds = suite_output
    assert code == 0, text
    assert seconds < 60
    assert f"world seed {SEED}:" in text
    assert f"world seed {SEED + 1} with held-out wangiri:" in text
    assert re.search(
        r"operating point: threshold [\d.]+, at most 1.00% of each world's lines", text
    )
    for target in (
        "PR-AUC >= 0.9",
        "precision at the operating point >= 0.5",
        "recall at the operating point >= 0.8",
    ):
        assert re.search(rf"{re.escape(target)}.*\s(met|NOT met)\n", text), target
    assert re.search(r"held-out kind recall in the top 1% >= 0.5\s+[\d.]+\s+(met|NOT met)", text)


def test_printed_figures_equal_an_independent_recomputation(
    workdir: Path, suite_output: tuple[int, str, float]
) -> None:
    _, text, _ = suite_output
    _check(_section(text, f"world seed {SEED}:"), _recompute(workdir, SEED, None))
    _check(
        _section(text, f"world seed {SEED + 1} with held-out"),
        _recompute(workdir, SEED + 1, "wangiri"),
    )


def test_targets_summary_marks_each_target_by_the_worst_world(
    suite_output: tuple[int, str, float],
) -> None:
    _, text, _ = suite_output
    pr = _num(r"\n  PR-AUC >= 0.9\s+([\d.]+)", text)
    first = _num(r"PR-AUC ([\d.]+)", _section(text, f"world seed {SEED}:"))
    assert pr == first  # one world without a held-out kind: its figure is the worst
    verdict = re.search(r"\n  PR-AUC >= 0.9\s+[\d.]+\s+(met|NOT met)", text)
    assert verdict and verdict.group(1) == ("met" if pr >= 0.9 else "NOT met")


def test_targets_judge_precision_and_recall_at_the_operating_point(
    suite_output: tuple[int, str, float],
) -> None:
    _, text, _ = suite_output
    section = _section(text, f"world seed {SEED}:")
    for target, pattern in (
        ("precision at the operating point >= 0.5", r"flagged, precision ([\d.]+)"),
        ("recall at the operating point >= 0.8", r"flagged, precision [\d.]+, recall ([\d.]+)"),
    ):
        row = re.search(rf"\n  {re.escape(target)}\s+([\d.]+)\s+(met|NOT met)", text)
        assert row, target
        assert float(row.group(1)) == _num(pattern, section)
        goal = float(target.rsplit(" ", 1)[1])
        assert row.group(2) == ("met" if float(row.group(1)) >= goal else "NOT met")


def test_evaluate_prints_the_operating_point_and_its_expected_precision(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = str(workdir / "config.yaml")
    code, text, err = run(
        capsys, "--config", cfg, "fraud", "evaluate", "--lines", "1500", "--seed", "80"
    )
    assert code == 0, err
    trained = load_model(workdir / "models")
    frame, labels = synthetic_usage(1_500, 80)
    X, kinds, subs = feature_rows(frame, labels, (0,))
    held = ~np.isin(subs, list(trained.train_subscribers))
    y = kinds[held].astype(str) != NORMAL
    score = trained.model.predict_proba(X[held])[:, 1]
    k = int(np.ceil(0.01 * len(y)))
    over = score >= trained.model.threshold
    point = over.astype(float) if over.sum() <= k else _expected_in_top(score, k)
    m = re.search(
        r"operating point: threshold ([\d.]+), at most ([\d,]+) lines = 1.00% of lines: "
        r"([\d,]+) flagged, precision ([\d.]+), recall ([\d.]+)\n",
        text,
    )
    assert m, text
    assert float(m.group(1)) == pytest.approx(trained.model.threshold, abs=5e-3)
    assert int(m.group(2).replace(",", "")) == k
    assert int(m.group(3).replace(",", "")) == round(point.sum())
    assert float(m.group(4)) == pytest.approx((point * y).sum() / point.sum(), abs=5e-4)
    assert float(m.group(5)) == pytest.approx((point * y).sum() / y.sum(), abs=5e-4)
    assert trained.train_prevalence is not None
    _check_expected(
        text,
        {
            "lines": len(y),
            "fraudulent": int(y.sum()),
            **_expected(score, trained.train_prevalence, point),
        },
    )


def test_a_model_saved_before_its_training_share_was_kept_evaluates_and_says_so(
    workdir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    models = copy_models(workdir / "models", tmp_path)
    latest = models / f"fraud-{(models / 'LATEST').read_text().strip()}.joblib"
    blob = joblib.load(latest)
    del blob["trained"].__dict__["train_prevalence"]  # as pickled before the field existed
    joblib.dump(blob, latest)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(
        (workdir / "config.yaml").read_text().replace(str(workdir / "models"), str(models))
    )
    code, text, err = run(
        capsys, "--config", str(cfg), "fraud", "evaluate", "--lines", "1500", "--seed", "80"
    )
    assert code == 0, err
    assert load_model(models).train_prevalence is None
    assert re.search(r"operating point: .* flagged, precision [\d.]+, recall [\d.]+\n", text)
    assert (
        "expected precision: not estimated: this model does not record the fraud share it "
        "was trained on (train it again to have it)"
    ) in text
    assert "expected recall" not in text and "Traceback" not in text + err


@pytest.mark.parametrize(
    ("option", "said"),
    [
        (["--held-out", "nosuch"], "--held-out nosuch: no such kind"),
        (["--holdout-kind", "nosuch"], "--holdout-kind nosuch: not a fraud kind"),
        (["--world-lines", "10"], "the suite needs"),
    ],
)
def test_bad_suite_options_get_one_line_and_a_hint(
    workdir: Path, capsys: pytest.CaptureFixture[str], option: list[str], said: str
) -> None:
    code, _, err = run(
        capsys, "--config", str(workdir / "config.yaml"), "fraud", "evaluate", "--suite", *option
    )
    assert code == 1
    lines = err.strip().splitlines()
    assert lines[0].startswith(f"error: {said}")
    assert lines[1].startswith("hint: ")
    assert "Traceback" not in err
