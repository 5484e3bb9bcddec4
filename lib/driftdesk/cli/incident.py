"""``driftdesk incident``: for one incident of the log, what was live, what changed before it, the suggested and
logged severity, the gates that caught it and how late; ``--export DIR`` writes the postmortem."""

from __future__ import annotations

import argparse

from driftdesk.cli.common import EXIT_OK, emit, engine_arg, format_arg, num
from driftdesk.errors import DriftdeskError


def cmd_incident(args: argparse.Namespace) -> int:
    from driftdesk.gates import load_policy
    from driftdesk.gates.backtest import load_history
    from driftdesk.incidents import export_postmortem, incident_policy, incident_view

    ds, log = load_history(args.data, engine=args.engine)
    if log is None:
        raise DriftdeskError(f"{args.data}: no incident log: no file in the folder fits the incidents table "
                             "(incident_id, start; see `driftdesk map --data DIR` for which table each file is), so "
                             f"there is no incident {args.id!r} to explain")
    if args.policy:
        policy, source = load_policy(args.policy), f"the policy file {args.policy}"
    else:
        policy, source = incident_policy(args.data, dataset=ds)
    # on any engine: the row tables are reduced where they are (on Spark, only aggregates reach this machine)
    view = incident_view(ds, args.id, incidents=log, policy=policy, policy_source=source)
    doc = view.to_dict()
    if args.export:
        doc["export"] = export_postmortem(view, args.export)
    inc = doc["incident"]
    lines = [f"{inc['incident_id']} ({inc['layer'] or 'layer not logged'}, {inc['segment'] or 'all'}): "
             f"{inc['cause'] or 'no cause logged'}",
             f"severity logged {doc['severity_logged'] or 'none'}, suggested {doc['severity_suggested']}; alerts from "
             f"{doc['policy_source']}",
             f"live at the start: {doc['live_release']['release_id'] or 'no release recorded (no releases table, or none before the start)'}",
             *[f"  {r['step']} {r['answer']}" for r in doc["checklist"]],
             f"{'gate':<24} {'caught':<7} {'delay h':>8}"]
    lines += [f"{g['gate'][:24]:<24} {'yes' if g['caught'] else 'no':<7} {num(g['delay_hours'], 1):>8}"
              for g in doc["gates"]]
    if "export" in doc:
        lines += [f"wrote {f}" for f in doc["export"]["files"]] + [f"note: {n}" for n in doc["export"]["notes"]]
    emit(doc, args.format, "\n".join(lines), money=True)
    return EXIT_OK


def register(sub) -> None:
    p = sub.add_parser("incident", help="one incident: what was live, what changed, severity, gates, postmortem")
    p.add_argument("--data", required=True, metavar="DIR", help="a folder of tables with incidents.csv as the log")
    p.add_argument("--id", required=True, help="the incident id (incident_id in the log, e.g. INC-c)")
    p.add_argument("--policy", help="gate policy for the alerts (default: the one adopted for this folder, else "
                   "its policy.toml if it fits the data, else a starter policy generated from the data)")
    p.add_argument("--export", metavar="DIR", help="write the postmortem (Markdown, PNG figures, JSON) into DIR")
    engine_arg(p)
    format_arg(p)
    p.set_defaults(func=cmd_incident, money=True)
