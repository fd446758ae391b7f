"""`switchboard fraud evaluate --suite`: the printed figures are the model's on the worlds,
recomputed here independently with scikit-learn; bad options get one line and a hint."""

from __future__ import annotations

import contextlib
import io
import re
import time
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import rankdata
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, precision_score, recall_score

from bot.cli import main
from models.fraud import compute_features, load_model
from models.fraud.model import NORMAL
from models.fraud.training import baseline_totals, kinds_for
from models.fraud.world import world

LINES = 2_400
WORLD_LINES = 3_000
SEED = 7


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A config with a fresh model_dir and a budget of the top 1%, a model trained by the CLI."""
    d = tmp_path_factory.mktemp("suite")
    (d / "config.yaml").write_text(
        f"database:\n  url: sqlite:///{d / 'f.db'}\n"
        f"fraud:\n  model_dir: {d / 'models'}\n  alert_budget: 0.01\n"
    )
    assert main(["--config", str(d / "config.yaml"), "fraud", "train", "--lines", str(LINES)]) == 0
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


def _recompute(workdir: Path, seed: int, held_out: str | None) -> dict[str, object]:
    trained = load_model(workdir / "models")
    w = world(WORLD_LINES, seed, held_out=held_out)
    f = compute_features(w.frame)
    kinds = kinds_for(f, w.labels).astype(str)
    y = kinds != NORMAL
    score = trained.model.predict_proba(f.matrix)[:, 1]
    flagged = score >= trained.model.threshold
    k = int(np.ceil(0.01 * len(y)))
    share = _expected_in_top(score, k)
    totals = np.log1p(baseline_totals(f))
    forest = IsolationForest(n_estimators=200, random_state=0, n_jobs=1).fit(totals)
    got: dict[str, object] = {
        "lines": len(y),
        "fraudulent": int(y.sum()),
        "pr_auc": average_precision_score(y, score),
        "baseline": average_precision_score(y, -forest.score_samples(totals)),
        "k": k,
        "budget_precision": (share * y).sum() / k,
        "budget_recall": (share * y).sum() / y.sum(),
        "flagged": int(flagged.sum()),
        "threshold_precision": precision_score(y, flagged, zero_division=0),
        "threshold_recall": recall_score(y, flagged),
        "tied": int((score == score.max()).sum()),
        "by_kind": {
            kd: (share[kinds == kd].mean(), flagged[kinds == kd].mean()) for kd in set(kinds[y])
        },
    }
    profile_of = dict(zip(w.lines["subscriber"], w.lines["profile"], strict=True))
    of = np.array([profile_of[str(s)] for s in f.subscribers])
    got["profiles"] = {
        p: ((share * (~y & (of == p))).sum(), int((flagged & ~y & (of == p)).sum()))
        for p in set(of[~y])
    }
    if held_out:
        got["held_out"] = (share * (kinds == held_out)).sum() / (kinds == held_out).sum()
    return got


def _check(section: str, want: dict[str, object]) -> None:
    assert _num(r": ([\d,]+) lines, ", section) == want["lines"]
    assert _num(r"lines, ([\d,]+) fraudulent", section) == want["fraudulent"]
    assert _num(r"PR-AUC ([\d.]+)", section) == pytest.approx(want["pr_auc"], abs=5e-4)
    assert _num(r"raw totals: ([\d.]+)", section) == pytest.approx(want["baseline"], abs=5e-4)
    assert _num(r"= ([\d,]+) lines: precision", section) == want["k"]
    assert _num(r"lines: precision ([\d.]+)", section) == pytest.approx(
        want["budget_precision"], abs=5e-4
    )
    assert _num(r"lines: precision [\d.]+, recall ([\d.]+)", section) == pytest.approx(
        want["budget_recall"], abs=5e-4
    )
    assert _num(r"\(([\d,]+) flagged\)", section) == want["flagged"]
    assert _num(r"flagged\): precision ([\d.]+)", section) == pytest.approx(
        want["threshold_precision"], abs=5e-4
    )
    assert _num(r"flagged\): precision [\d.]+, recall ([\d.]+)", section) == pytest.approx(
        want["threshold_recall"], abs=5e-4
    )
    assert _num(r"([\d,]+) lines tied at the top", section) == want["tied"]
    for kind, (at_budget, at_threshold) in want["by_kind"].items():  # type: ignore[attr-defined]
        m = re.search(rf"\n    {kind}\s+([\d.]+)\s+([\d.]+)", section)
        assert m, kind
        assert float(m.group(1)) == pytest.approx(at_budget, abs=5e-4)
        assert float(m.group(2)) == pytest.approx(at_threshold, abs=5e-4)
    for profile, (at_budget, at_threshold) in want["profiles"].items():  # type: ignore[attr-defined]
        m = re.search(rf"\n    {profile}\s+([\d.]+)\s+([\d,]+)\s", section)
        assert m, profile
        assert float(m.group(1)) == pytest.approx(at_budget, abs=0.05)
        assert int(m.group(2).replace(",", "")) == at_threshold
    if "held_out" in want:
        assert _num(r"recall ([\d.]+) within the top 1%", section) == pytest.approx(
            want["held_out"], abs=5e-4
        )


def test_suite_runs_quickly_and_prints_every_part(suite_output: tuple[int, str, float]) -> None:
    code, text, seconds = suite_output
    assert code == 0, text
    assert seconds < 60
    assert f"world seed {SEED}:" in text
    assert f"world seed {SEED + 1} with held-out wangiri:" in text
    assert "alert budget: the top 1.00% of lines" in text
    for target in ("PR-AUC >= 0.9", "precision at the budget >= 0.5", "recall at the budget"):
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
