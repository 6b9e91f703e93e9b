"""Files checked at load: each bad shape in dbt's artifacts or the glossary is one line naming the file and the
path inside it, never a traceback, and the rest of the project keeps working."""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from pytest import MonkeyPatch

from agent.alerts.loading import load_alerts
from agent.alerts.routing import folder_meta
from demo.load import DEMO_PROJECT_DIR
from tests.test_cli import run_cli
from tools.dbt import artifacts
from tools.dbt.index import DbtIndex, load_index
from tools.dbt.shapes import CATALOG_BY_SHAPE, MANIFEST_BY_SHAPE
from tools.errors import ConfigError, DbtArtifactError, WarehouseError
from tools.glossary.loading import GlossaryError, load_glossary
from tools.policy.loading import parse_policy
from tools.warehouse.profiles import profile_target

Artifact = dict[str, Any]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the demo dbt project, its artifacts free to break."""
    copy = tmp_path / "project"
    shutil.copytree(DEMO_PROJECT_DIR, copy)
    return copy


def rewrite(project: Path, name: str, change: Callable[[Artifact], None]) -> None:
    path = project / "target" / name
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def loads_the_rest(index: DbtIndex) -> None:
    """What still works after one part was left out: other models, their columns, metrics, search."""
    customers = index.find("dim_customers")
    assert customers is not None and customers.columns
    assert index.search("revenue by day")


def test_a_manifest_that_is_not_utf8_is_one_error_naming_the_file(project: Path) -> None:
    path = project / "target" / "manifest.json"
    path.write_bytes(b'{"metadata": {"project_name": "caf\xe9"}, "nodes": {}}')
    with pytest.raises(DbtArtifactError) as raised:
        load_index(project)
    assert raised.value.message == f"{path} is not UTF-8 text (byte 34). Run `dbt parse` again to rebuild it."


def test_a_manifest_nested_too_deeply_is_one_error_naming_the_file(project: Path) -> None:
    # Even where nothing is read (a field both ways of decoding skip or keep as it is), msgspec recurses.
    path = project / "target" / "manifest.json"
    path.write_bytes(b'{"metadata": {}, "nodes": {}, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    with pytest.raises(DbtArtifactError) as raised:
        load_index(project)
    assert raised.value.message.startswith(f"{path} is not valid JSON (")
    assert raised.value.message.endswith("Run `dbt parse` again to rebuild it.")


def test_a_node_that_is_a_string_is_left_out(project: Path) -> None:
    rewrite(project, "manifest.json", lambda m: m["nodes"].update({"model.shop.fct_orders": "fct_orders"}))
    index = load_index(project)
    assert "manifest.json: nodes.model.shop.fct_orders: expected an object; left out" in index.warnings
    assert index.find("fct_orders") is None
    loads_the_rest(index)


def test_columns_as_a_list_and_a_number_as_description_are_named_and_dropped(project: Path) -> None:
    def damage(manifest: Artifact) -> None:
        manifest["nodes"]["model.shop.fct_orders"]["columns"] = ["order_id", "status"]
        manifest["nodes"]["model.shop.dim_products"]["description"] = 123
        manifest["nodes"]["model.shop.dim_customers"]["columns"]["customer_id"]["description"] = ["x"]

    rewrite(project, "manifest.json", damage)
    index = load_index(project)
    assert "manifest.json: nodes.model.shop.fct_orders.columns: expected an object" in index.warnings
    assert "manifest.json: nodes.model.shop.dim_products.description: expected text" in index.warnings
    assert (
        "manifest.json: nodes.model.shop.dim_customers.columns.customer_id.description: expected text"
        in index.warnings
    )
    orders = index.find("fct_orders")
    assert (
        orders is not None and orders.column("status") is not None
    )  # Its columns still come from the catalog.
    products = index.find("dim_products")
    assert products is not None and products.description == ""
    loads_the_rest(index)


def test_catalog_nodes_as_a_list_are_read_as_empty(project: Path) -> None:
    rewrite(project, "catalog.json", lambda c: c.update({"nodes": [1, 2]}))
    index = load_index(project)
    assert "catalog.json: nodes: expected an object; read as empty" in index.warnings
    orders = index.find("fct_orders")
    assert orders is not None and orders.column("status") is not None  # From the manifest's documentation.


@pytest.mark.parametrize(
    ("artifact", "expected"),
    [
        ("semantic_manifest.json", "semantic_manifest.json: semantic_models: expected a list; read as empty"),
        ("manifest.json", "manifest.json: semantic_models: expected an object; read as empty"),
    ],
)
def test_semantic_models_as_a_number_are_read_as_empty(project: Path, artifact: str, expected: str) -> None:
    rewrite(project, artifact, lambda document: document.update({"semantic_models": 5}))
    index = load_index(project)
    assert expected in index.warnings
    loads_the_rest(index)


def test_bad_semantic_entries_cost_only_themselves(project: Path) -> None:
    def damage(semantic: Artifact) -> None:
        semantic["metrics"][0] = "revenue"
        semantic["semantic_models"][0]["measures"] = [{"agg": "sum"}, 7]

    rewrite(project, "semantic_manifest.json", damage)
    index = load_index(project)
    assert "semantic_manifest.json: metrics[0]: expected an object; left out" in index.warnings
    assert any(
        w.startswith("semantic_manifest.json: semantic_models[0].measures[1]:") for w in index.warnings
    )
    assert any(
        w.startswith("semantic_manifest.json: semantic_models[0].measures[0].name:") for w in index.warnings
    )
    assert index.metrics()  # The other metrics still load.


def test_an_unknown_manifest_schema_version_is_a_warning_naming_it(project: Path) -> None:
    rewrite(
        project,
        "manifest.json",
        lambda m: m["metadata"].update(
            {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v99.json"}
        ),
    )
    index = load_index(project)
    [warning] = [w for w in index.warnings if "dbt_schema_version" in w]
    assert "v99" in warning and "v12" in warning
    loads_the_rest(index)


def test_a_binary_glossary_is_one_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "glossary.yml"
    path.write_bytes(bytes(range(256)))
    with pytest.raises(GlossaryError) as raised:
        load_glossary(path)
    assert str(path) in raised.value.message and "not UTF-8 text" in raised.value.message


def test_the_cli_keeps_working_on_a_damaged_project_and_stops_in_one_line_on_a_broken_one(
    project: Path, demo_cli_env: dict[str, str], tmp_path: Path
) -> None:
    rewrite(project, "manifest.json", lambda m: m["nodes"].update({"model.shop.stg_orders": "stg_orders"}))
    rewrite(project, "catalog.json", lambda c: c.update({"nodes": [1, 2]}))
    env = {
        **demo_cli_env,
        "BLUEPRINTDATA_DBT_PROJECT_DIR": str(project),
        "BLUEPRINTDATA_WAREHOUSE_URL": f"duckdb:///{tmp_path / 'empty.duckdb'}",
    }
    damaged = run_cli("-v", "chat", "-m", "/search revenue by day", env=env)
    assert damaged.returncode == 0, damaged.stderr
    assert "daily_revenue" in damaged.stdout and "Traceback" not in damaged.stderr
    # The operator sees what was left out, in the log.
    assert "manifest.json: nodes.model.shop.stg_orders: expected an object; left out" in damaged.stderr
    assert "catalog.json: nodes: expected an object; read as empty" in damaged.stderr

    (project / "target" / "manifest.json").write_bytes(b"\xff\xfe\x00garbage")
    broken = run_cli("chat", "-m", "/search revenue", env=env)
    assert broken.returncode == 2 and "Traceback" not in broken.stderr
    assert "manifest.json is not UTF-8 text" in " ".join(broken.stderr.split())


WRONG_VALUES = (5, "text", [1, "a"], {"x": 1}, None, True, 1.5)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON document (the first three items of each list)."""
    found: list[tuple[Any, ...]] = []
    items = (
        value.items() if isinstance(value, dict) else enumerate(value[:3]) if isinstance(value, list) else ()
    )
    for key, child in items:
        found.append((*prefix, key))
        found += _paths(child, (*prefix, key))
    return found


def _damaged_projects(tmp_path: Path, trials: int, seed: int) -> Iterator[Path]:
    """A project dir holding the demo's three artifacts with seeded damage at random paths, once per trial."""
    target = DEMO_PROJECT_DIR / "target"
    names = ("manifest.json", "catalog.json", "semantic_manifest.json")
    originals = {name: (target / name).read_text() for name in names}
    paths = {name: _paths(json.loads(text)) for name, text in originals.items()}
    project = tmp_path / "project"
    (project / "target").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: shop\n")
    rng = random.Random(seed)
    for _trial in range(trials):
        documents = {name: json.loads(text) for name, text in originals.items()}
        name = rng.choice(names)
        for _ in range(rng.randint(1, 4)):
            *parents, last = rng.choice(paths[name])
            holder = documents[name]
            try:
                for part in parents:
                    holder = holder[part]
                holder[last] = rng.choice(WRONG_VALUES)
            except (KeyError, IndexError, TypeError):
                continue  # An earlier change in this trial replaced a parent.
        for artifact, document in documents.items():
            (project / "target" / artifact).write_text(json.dumps(document))
        yield project


def test_random_wrong_shapes_anywhere_never_crash_the_index(tmp_path: Path) -> None:
    """Seeded damage at random paths of the demo's three artifacts: the index loads, or one DbtArtifactError."""
    for project in _damaged_projects(tmp_path, trials=60, seed=10):
        try:
            index = load_index(project)
        except DbtArtifactError as exc:
            assert "manifest" in exc.message
            continue
        assert all(isinstance(warning, str) and warning for warning in index.warnings)
        index.overview().to_prompt_text()
        index.search("revenue by day")


def _loaded(project: Path) -> tuple[Any, ...]:
    """What an index holds (nodes, metrics, saved queries, warnings), or the error that stopped it."""
    try:
        index = load_index(project)
    except DbtArtifactError as exc:
        return (exc.message,)
    return index.nodes(), index.metrics(), index.saved_queries(), index.warnings


def test_decoding_by_shape_indexes_as_checking_part_by_part(tmp_path: Path, monkeypatch: MonkeyPatch) -> None:
    """The fast read (the parts we read decoded by their shape, the rest skipped) and the slow one (all of it
    decoded, then checked part by part) give the same index and warnings: on the demo, where the fast one
    decodes it, and under random damage, where it gives way to the slow one."""
    target = DEMO_PROJECT_DIR / "target"
    assert MANIFEST_BY_SHAPE.decode((target / "manifest.json").read_bytes())["nodes"]
    assert CATALOG_BY_SHAPE.decode((target / "catalog.json").read_bytes())["nodes"]
    refuses = msgspec.json.Decoder(int)  # No artifact is a number: every read takes the slow way.
    # What the demo does not use and the readers read: groups and their owners, partitions, source freshness.
    rich = tmp_path / "rich"
    shutil.copytree(DEMO_PROJECT_DIR, rich)

    def enrich(manifest: Artifact) -> None:
        manifest["groups"] = {
            "group.shop.finance": {"name": "finance", "owner": {"email": "fin@example.com"}}
        }
        orders = manifest["nodes"]["model.shop.fct_orders"]
        orders["group"] = "finance"
        orders["config"]["partition_by"] = {
            "field": "order_date",
            "data_type": "date",
            "granularity": "month",
        }
        next(iter(manifest["sources"].values()))["loaded_at_field"] = "_loaded_at"

    rewrite(rich, "manifest.json", enrich)
    assert load_index(rich).resolve("fct_orders").group_owners == ("fin@example.com",)
    for project in [rich, *_damaged_projects(tmp_path, trials=40, seed=11)]:
        fast = _loaded(project)
        with monkeypatch.context() as patched:
            patched.setattr(artifacts, "MANIFEST_BY_SHAPE", refuses)
            patched.setattr(artifacts, "CATALOG_BY_SHAPE", refuses)
            slow = _loaded(project)
        assert fast == slow


_NESTED_TOO_DEEP = "x: " + "[" * 20_000 + "]" * 20_000 + "\n"


def test_yaml_nested_too_deeply_is_one_line_in_every_file_we_read(project: Path, tmp_path: Path) -> None:
    # Found by the second probe: PyYAML recurses once a level, and the glossary, alerts and policy files raised
    # RecursionError (a traceback) where profiles.yml already said one line.
    path = tmp_path / "deep.yml"
    path.write_text(_NESTED_TOO_DEEP)
    with pytest.raises(GlossaryError) as glossary:
        load_glossary(path)
    assert glossary.value.message == f"Glossary file {path} is not valid YAML: it nests too deeply."
    alerts = load_alerts(path)
    assert [problem.message for problem in alerts.problems] == [
        f"{path} is not valid YAML: it nests too deeply"
    ]
    with pytest.raises(ConfigError, match=r"^policy\.yml: not valid YAML: it nests too deeply$"):
        parse_policy(_NESTED_TOO_DEEP, "policy.yml")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "profiles.yml").write_text(_NESTED_TOO_DEEP)
    with pytest.raises(WarehouseError, match=r"profiles\.yml is not valid YAML: it nests too deeply"):
        profile_target(project, tmp_path / "profiles", None)
    node = load_index(project).find("fct_orders")
    assert node is not None
    (project / "dbt_project.yml").write_text(_NESTED_TOO_DEEP)  # Alert routing reads its folders' +meta.
    assert folder_meta(project, node) == {}


def test_yaml_errors_never_quote_the_file(tmp_path: Path) -> None:
    # PyYAML's message quotes the offending line, which in a profile or alerts file may hold a password.
    text = "alerts:\n  - name: a\n    password: hunter2secret\n   bad: [\n"
    path = tmp_path / "alerts.yml"
    path.write_text(text)
    (message,) = [problem.message for problem in load_alerts(path).problems]
    assert "hunter2secret" not in message and "\n" not in message and "line 4" in message
    with pytest.raises(ConfigError) as policy:
        parse_policy(text, "policy.yml")
    assert "hunter2secret" not in policy.value.message and "\n" not in policy.value.message
