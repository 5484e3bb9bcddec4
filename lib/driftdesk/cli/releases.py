"""``driftdesk releases id|diff|live``: a manifest's stable release id, what changed between two manifests, and what
was live at a moment."""

from __future__ import annotations

import argparse
import datetime as dt

from driftdesk.cli.common import EXIT_OK, Parser, emit, format_arg


def cmd_id(args: argparse.Namespace) -> int:
    from driftdesk.releases import load_manifest

    manifest = load_manifest(args.manifest)
    emit(manifest.to_dict(), args.format, manifest.release_id)
    return EXIT_OK


def cmd_diff(args: argparse.Namespace) -> int:
    from driftdesk.releases import diff_manifests, load_manifest

    result = diff_manifests(load_manifest(args.baseline), load_manifest(args.candidate))
    doc = result.to_dict()
    lines = [f"{doc['baseline']} -> {doc['candidate']}: " + ("the same release" if result.same else
                                                             f"{len(doc['changed'])} field(s) changed")]
    lines += [f"  {c['field']}: {c['baseline']} -> {c['candidate']}" for c in doc["changed"]]
    emit(doc, args.format, "\n".join(lines))
    return EXIT_OK


def cmd_live(args: argparse.Namespace) -> int:
    from driftdesk.contract import load_dataset
    from driftdesk.errors import DriftdeskError
    from driftdesk.releases import live_at
    from driftdesk.windows import parse_timestamp

    table = load_dataset(args.data, tables=["releases"]).get("releases")
    if table is None:
        raise DriftdeskError(f"{args.data}: no releases table (releases.csv, .parquet or .arrow)")
    at = parse_timestamp(args.at) if args.at else dt.datetime.now(dt.UTC).replace(tzinfo=None)
    state = live_at(table.frame, at)
    doc = state.to_dict()
    latest = doc["release_id"] or "none: no release before this moment"
    lines = [f"live at {doc['at']}: latest release {latest} (manifest {doc['manifest']['release_id']})"]
    lines += [f"  {c['component']:<13} {c['role']:<7} {c['release_id']:<34} {c['version'] or '':<20} since {c['since']}"
              + (f"  ({c['traffic_share']:.0%} of traffic)" if c["traffic_share"] < 1 else "")
              for c in doc["components"]]
    emit(doc, args.format, "\n".join(lines))
    return EXIT_OK


def register(sub) -> None:
    p = sub.add_parser("releases", help="release manifests: stable id, diff, what was live when")
    cmds = p.add_subparsers(dest="releases_command", required=True, parser_class=Parser)
    q = cmds.add_parser("id", help="the stable release id of a manifest (hash of its canonical JSON)")
    q.add_argument("--manifest", required=True, help="manifest file (.json or .toml)")
    format_arg(q)
    q.set_defaults(func=cmd_id)
    q = cmds.add_parser("diff", help="what changed between two manifests")
    q.add_argument("--baseline", required=True, help="the earlier release's manifest")
    q.add_argument("--candidate", required=True, help="the later release's manifest")
    format_arg(q)
    q.set_defaults(func=cmd_diff)
    q = cmds.add_parser("live", help="what was live at a moment, from the releases table")
    q.add_argument("--data", required=True, metavar="DIR", help="a folder with a releases table")
    q.add_argument("--at", help="the moment (ISO 8601, UTC; default: now)")
    format_arg(q)
    q.set_defaults(func=cmd_live)
