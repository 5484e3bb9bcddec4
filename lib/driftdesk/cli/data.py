"""Commands about data and the app: ``sample`` writes the sample tables, ``app`` serves the app on a folder."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from driftdesk.bounds import UPLOAD_FILE_BYTES
from driftdesk.cli.common import EXIT_OK, emit, format_arg
from driftdesk.errors import DriftdeskError


def cmd_sample(args: argparse.Namespace) -> int:
    from driftdesk.sample import write_sample

    written = write_sample(Path(args.out), seed=args.seed, days=args.days, scale=args.scale)
    doc = {"out": str(args.out), "files": [{"path": str(p), "bytes": p.stat().st_size} for p in written]}
    emit(doc, args.format, "\n".join(f"{p}  {p.stat().st_size:,} bytes" for p in written))
    return EXIT_OK


def cmd_app(args: argparse.Namespace) -> int:
    from driftdesk.paths import app_script, sample_data_dir

    script = app_script()
    if not script.exists():
        raise DriftdeskError(f"cannot find the app's entry script at {script}: reinstall driftdesk")
    env = dict(os.environ)
    if args.data:
        folder = Path(args.data).expanduser().resolve()
        if not folder.is_dir():
            raise DriftdeskError(f"{args.data}: no such folder (--data takes a folder of table files, e.g. kpis.parquet)")
        env["DRIFTDESK_DATA"] = str(folder)
    elif not env.get("DRIFTDESK_DATA"):
        print(f"driftdesk: showing the sample data in {sample_data_dir()} (--data DIR shows your own folder)", flush=True)
    if args.address not in ("localhost", "127.0.0.1", "::1"):
        print(f"driftdesk: serving on {args.address}: anyone who can reach it sees the data; put an authenticating "
              "proxy in front (README, Deploying for a team)", file=sys.stderr, flush=True)
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(args.port),
           "--server.address", args.address, "--server.maxUploadSize", str(UPLOAD_FILE_BYTES // 1024**2),
           "--server.headless", "true" if args.headless else "false", "--browser.gatherUsageStats", "false"]
    # the server replaces this process (no child of ours to outlive a Ctrl-C, a kill or a closed terminal)
    sys.stdout.flush()
    os.execve(sys.executable, cmd, env)
    return EXIT_OK  # not reached


def register(sub) -> None:
    p = sub.add_parser("sample", help="write the seeded sample tables")
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--days", type=int, default=91)
    p.add_argument("--scale", type=int, default=1, help="multiply row counts, for benchmarks")
    format_arg(p)
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("app", help="start the Streamlit app")
    p.add_argument("--data", help="a folder of contract tables (default: the sample data)")
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="localhost", help="the address to serve on (default: localhost, this "
                   "machine only; 0.0.0.0 serves every network: put an authenticating proxy in front)")
    p.add_argument("--headless", action="store_true", help="do not open a browser")
    format_arg(p)
    p.set_defaults(func=cmd_app)
