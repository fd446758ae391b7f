"""Fraud in chat: the model's flags become cases; analysts confirm (and suspend) or dismiss.

The scoring itself is the fraud desk's (`models/fraud/desk.py`): the scheduled job
scores every line's usage over the last `fraud.window_days` and opens a case for each
new flag; `/fraud check` scores one line now. Here, analysts work the cases:
confirming one suspends the line through the order path and, like dismissing, leaves
a label that `switchboard fraud train --from-db` learns from.
"""

from __future__ import annotations

import dataclasses

from domain.fraud.choices import CaseState, score_text
from domain.fraud.queries import CaseView, case_by_ref, case_list
from domain.fraud.services import CaseDecided, confirm_fraud, dismiss_fraud
from domain.orders.services import RESUME_OVER_FRAUD, who_may
from domain.privacy import Audience, mask_line
from skills.context import Context
from skills.registry import Args, command, positional
from skills.reply import Button, Confirm, Field, Form, Input, Reply, Section, Table, showing


def case_card(case: CaseView, *, audience: Audience = Audience.CHANNEL) -> Reply:
    """A case as the fraud channel shows it, with the analyst's buttons while open: its
    line masked for the channel, in full only privately to a role that may see it."""
    if audience != Audience.FULL:
        case = dataclasses.replace(case, line=mask_line(case.line))
    msisdn = case.line
    kind = str(case.kind).replace("_", " ") if case.kind else "unusual use"
    fields = [
        Field("line", msisdn),
        Field("score", score_text(case.score)),
        Field("likely", kind),
        Field("state", str(case.state)),
        Field("model", case.model_version),
    ]
    if case.decided_by:
        fields.append(Field("decided by", f"{case.decided_by} at {case.decided_at:%Y-%m-%d %H:%M}"))
    buttons: tuple[Button, ...] = ()
    if case.state == CaseState.OPEN:
        buttons = (
            Button(
                "Confirm & suspend",
                f"/fraud confirm {case.ref}",
                style="danger",
                confirm=Confirm(
                    "Suspend this line?",
                    f"{msisdn} is suspended through an order; the customer loses service.",
                    "Suspend",
                ),
            ),
            Button(
                "Dismiss",
                f"/fraud dismiss {case.ref}",
                form=Form(
                    f"Dismiss {case.ref}",
                    (Input("note", "Why is this ordinary use?", multiline=True),),
                    submit="Dismiss",
                ),
            ),
            Button("Open case", f"/fraud explain {case.ref}"),
        )
    return Reply(
        text=f":rotating_light: {case.ref}: {msisdn} looks like {kind} "
        f"(score {score_text(case.score)})",
        sections=(
            Section(fields=tuple(fields)),
            Section(text="\n".join(f"• {r}" for r in case.reasons) or "no reasons recorded"),
        ),
        buttons=buttons,
        ephemeral=audience != Audience.CHANNEL,
        data=case,
    )


def _decided(done: CaseDecided) -> CaseDecided:
    """A decision as the channel reads it: the line masked."""
    return dataclasses.replace(done, line=mask_line(done.line))


class CaseRef(Args):
    case: str = positional(metavar="F-id")
    #: Only to you, the line in full if your roles may see it.
    private: bool = False


class Decision(Args):
    case: str = positional(metavar="F-id")
    note: str = ""


class CheckArgs(Args):
    #: A mobile number as people write it, spaces and all: +91 98765 43210.
    msisdn: list[str] = positional(metavar="msisdn")


#: The most cases one list shows.
MAX_LIMIT = 200


class CasesArgs(Args):
    state: CaseState | None = positional(CaseState.OPEN, metavar="open|confirmed|dismissed")
    limit: int = 25


@command("fraud check", args=CheckArgs)
def check(ctx: Context, args: CheckArgs) -> Reply:
    """Score one line now over the fraud window: score, likely kind and reasons."""
    result = ctx.services.fraud.check_line(" ".join(args.msisdn), ctx.now())
    s0 = result.score
    if s0 is None:
        return Reply(
            text=f"{result.msisdn} has no usage in the last {result.window_days} days",
            ephemeral=True,
            data=result,
        )
    verdict = "flagged" if s0.flagged else "looks ordinary"
    kind = (s0.kind or "unusual use").replace("_", " ")
    return Reply(
        text=f"{result.msisdn}: score {score_text(s0.score)}, {verdict}"
        + (f" (likely {kind})" if s0.flagged else ""),
        sections=(
            Section(
                fields=(
                    Field("threshold", f"{result.threshold:.2f}"),
                    Field("model", result.model_version),
                    Field("window", f"{result.window_days} days"),
                )
            ),
            *((Section(text="\n".join(f"• {r}" for r in s0.reasons)),) if s0.reasons else ()),
        ),
        ephemeral=True,
        data=result,
    )


@command("fraud cases", args=CasesArgs)
def cases(ctx: Context, args: CasesArgs) -> Reply:
    """Fraud cases: open ones by score (or confirmed / dismissed, newest first)."""
    with ctx.db.read() as s:
        found = case_list(s, args.state, max(1, min(args.limit, MAX_LIMIT)))
    # A list is read by the channel: each case's line is masked.
    rows = [dataclasses.replace(v, line=mask_line(v.line)) for v in found.cases]
    found = dataclasses.replace(found, cases=rows)
    total = found.total
    table = Table(
        ("case", "line", "score", "likely", "state", "opened (UTC)"),
        tuple(
            (
                v.ref,
                v.line,
                score_text(v.score),
                str(v.kind or "-"),
                str(v.state),
                f"{v.opened_at:%m-%d %H:%M}",
            )
            for v in rows
        ),
    )
    what = f"{args.state} " if args.state else ""
    head = showing(
        f"{what}fraud case(s)",
        len(rows),
        total,
        cap=MAX_LIMIT,
        narrow="a state (open, confirmed, dismissed)",
    )
    return Reply(text=head, tables=(table,), data=found)


@command("fraud explain", args=CaseRef)
def explain(ctx: Context, args: CaseRef) -> Reply:
    """Why a line was flagged: its score, likely kind and the facts that drove it (the line
    masked in the channel; --private shows it only to you, in full if your roles allow)."""
    with ctx.db.read() as s:
        view = case_by_ref(s, args.case)
    return case_card(view, audience=ctx.audience(ephemeral=args.private))


@command("fraud confirm", args=Decision)
def confirm(ctx: Context, args: Decision) -> Reply:
    """Confirm fraud: the line is suspended through an order and the decision kept."""
    done = _decided(confirm_fraud(ctx.db, args.case, ctx.actor, note=args.note, now=ctx.now()))
    if done.already is None:
        said = f"{done.order} suspends {done.line} ({done.order_state})"
    elif done.already.startswith("suspended"):
        said = (
            f"{done.line} was already {done.already}; it stays suspended, now held for fraud "
            f"(only {who_may(RESUME_OVER_FRAUD)} may resume it)"
        )
    else:
        said = f"{done.line} is {done.already}; there is nothing to suspend"
    return Reply(text=f"{done.case} confirmed by {ctx.actor}; {said}", data=done)


@command("fraud dismiss", args=Decision)
def dismiss(ctx: Context, args: Decision) -> Reply:
    """Dismiss a case as ordinary use; the model learns from it at its next training."""
    done = _decided(dismiss_fraud(ctx.db, args.case, ctx.actor, note=args.note, now=ctx.now()))
    return Reply(text=f"{done.case} dismissed by {ctx.actor}", data=done)
