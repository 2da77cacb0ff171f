"""Runs the Feast-client conformance checks against one offline server.

    python checks.py --remote CLIENT_DIR --local-yaml LOCAL_YAML --repo SERVER_REPO --work DIR
                     [--target larder|feast] [--store file|duckdb|postgres] [--only name,name]

CLIENT_DIR holds a feature_store.yaml with `offline_store: {type: remote}` pointing at the server
under test; LOCAL_YAML is the same project with Feast's own store (`file`, or `postgres` for the
postgres repo), used on SERVER_REPO as the oracle. --store is the server's offline store type: checks
whose `stores` in checks.json leave it out are not run and not reported. The run order and the
flags of each check come from checks.json.

Prints one JSON line per check, {"check", "ok", "detail", "seconds"[, "skipped"]}, then
{"done": true, "count": N}. Exit status 0 even when checks fail (the caller judges); 2 on a
harness error (bad arguments, catalogue mismatch).
"""

import argparse
import json
import os
import sys
import time
import traceback
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))


def emit(record: dict) -> None:
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


def describe(error: BaseException) -> str:
    from compare import CheckFailed

    if isinstance(error, CheckFailed):
        return str(error)
    # Unexpected exceptions: the class, the message, and where in the checks it happened.
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename.startswith(HERE)]
    where = "; ".join(f"{os.path.basename(f.filename)}:{f.lineno} {f.name}" for f in frames[-3:])
    return f"{type(error).__module__}.{type(error).__name__}: {str(error)[:1500]} [at {where}]"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--remote", required=True)
    parser.add_argument("--local-yaml", required=True)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--target", choices=["larder", "feast"], default="larder")
    parser.add_argument("--store", choices=["file", "duckdb", "postgres"], default="file")
    parser.add_argument("--only", default="")
    args = parser.parse_args()

    warnings.filterwarnings("ignore")
    os.environ.setdefault("FEAST_USAGE", "False")
    sys.path.insert(0, HERE)
    from feast import FeatureStore

    import checks_errors  # noqa: F401 - registers checks
    import checks_flight  # noqa: F401
    import checks_odfv  # noqa: F401
    import checks_postgres_writes  # noqa: F401
    import checks_retrieval  # noqa: F401
    import checks_sources  # noqa: F401
    import checks_writes  # noqa: F401
    from harness import CHECKS, Ctx, oracle_store

    with open(os.path.join(HERE, "checks.json")) as f:
        catalogue = json.load(f)["checks"]
    names = [c["name"] for c in catalogue]
    if sorted(names) != sorted(CHECKS) or len(set(names)) != len(names):
        print(
            f"checks.json and the check functions differ: only in json {sorted(set(names) - set(CHECKS))}, "
            f"only in code {sorted(set(CHECKS) - set(names))}",
            file=sys.stderr,
        )
        return 2
    only = {n for n in args.only.split(",") if n}
    if only - set(names):
        print(f"unknown checks: {sorted(only - set(names))}", file=sys.stderr)
        return 2

    os.makedirs(args.work, exist_ok=True)
    ctx = Ctx(
        remote=FeatureStore(repo_path=args.remote),
        local=FeatureStore(repo_path=args.repo, fs_yaml_file=args.local_yaml),
        repo=os.path.abspath(args.repo),
        work=os.path.abspath(args.work),
        target=args.target,
        store=args.store,
        python_bin=os.path.dirname(sys.executable),
        here=HERE,
    )
    if args.store == "postgres":
        import pit_rule

        # The rule reads PostgreSQLSources from the cluster the oracle's config points at.
        pit_rule.configure_postgres(ctx.local.config.offline_store)
    count = 0
    for entry in catalogue:
        name = entry["name"]
        if only and name not in only:
            continue
        if args.store not in entry.get("stores", [args.store]):
            continue  # not applicable to this store: not run, not reported
        count += 1
        if entry.get("larderOnly") and args.target != "larder":
            emit({"check": name, "ok": True, "skipped": True, "detail": "larder-only", "seconds": 0})
            continue
        ctx.feast_differs = oracle_store(args.store) in entry.get("feastDiffers", {})
        started = time.monotonic()
        try:
            note = CHECKS[name](ctx)
            record = {"check": name, "ok": True, "detail": note or ""}
        except Exception as error:  # noqa: BLE001 - every failure is reported, the run goes on
            record = {"check": name, "ok": False, "detail": describe(error)}
        record["seconds"] = round(time.monotonic() - started, 3)
        emit(record)
    emit({"done": True, "count": count})
    return 0


if __name__ == "__main__":
    sys.exit(main())
