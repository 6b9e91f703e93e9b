#!/usr/bin/env bash
# Rebuilds the demo project's dbt artifacts (manifest, catalog, semantic manifest) with a real dbt.
# The product never needs dbt to run the demo: it executes the compiled SQL these artifacts carry.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
venv="${DBT_VENV:-/tmp/bp-dbt-venv}"
python="${PYTHON:-$repo/.venv/bin/python}"
[ -x "$venv/bin/dbt" ] || { python3 -m venv "$venv" && "$venv/bin/pip" install -q "dbt-core>=1.8,<1.12" dbt-duckdb; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$repo/demo/project/." "$work/"
rm -rf "$work/target"
# The raw tables dbt builds on come from our own generator.
"$python" -c "import duckdb, sys; from demo.load import load_raw_tables; c = duckdb.connect(sys.argv[1]); load_raw_tables(c); c.close()" "$work/shop.duckdb"
cd "$work"
export BLUEPRINTDATA_DEMO_DUCKDB="$work/shop.duckdb" DBT_SEND_ANONYMOUS_USAGE_STATS=false
"$venv/bin/dbt" run --profiles-dir "$work" --project-dir "$work"
# The demo plants data-quality problems on purpose (demo/generate.py), so some tests fail; the artifacts do not
# depend on test results, and `dbt build` would skip the models downstream of a failing test.
"$venv/bin/dbt" test --profiles-dir "$work" --project-dir "$work" || echo "Some dbt tests failed (expected: planted problems)."
"$venv/bin/dbt" docs generate --profiles-dir "$work" --project-dir "$work"
mkdir -p "$repo/demo/project/target"
# Local paths and run ids would make every rebuild differ; strip them.
"$python" - "$work" "$repo/demo/project/target" <<'PY'
import json, sys
from pathlib import Path
source, target = Path(sys.argv[1]) / "target", Path(sys.argv[2])
work = sys.argv[1]
for name in ("manifest.json", "catalog.json", "semantic_manifest.json"):
    text = (source / name).read_text().replace(work, ".")
    data = json.loads(text)
    meta = data.get("metadata", {})
    for key in ("invocation_id", "generated_at", "env", "invocation_started_at", "run_started_at"):
        meta.pop(key, None)
    (target / name).write_text(json.dumps(data, indent=None, sort_keys=True))
    print(f"{name}: {(target / name).stat().st_size:,} bytes")
PY
