"""The composition root: every front door calls build_runtime(settings); nothing else wires these parts."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine

from agent import user_messages
from agent.clock import utc_now
from agent.governance.asker import current_asker
from agent.governance.audit import AuditLog
from agent.governance.turns import TurnGovernance
from agent.llm import ModelClient
from agent.loop import Agent
from agent.prompts import row_counts_text, system_prompt
from agent.sessions import Sessions
from agent.settings import Settings
from agent.store.artifact_files import DatabaseArtifactWriter
from agent.store.conversations import ConversationStore
from agent.store.database import create_store_engine, current_revision, upgrade_database
from agent.store.profiles import ProfileStore
from agent.tool_config import tool_limits, warehouse_config
from tools.catalog import default_tools
from tools.dbt.index import DbtIndex, DbtIndexProvider, load_index
from tools.dbt.index_cache import load_index_cached
from tools.errors import ConfigError, ToolInputError, WarehouseError
from tools.glossary import DEFAULT_GLOSSARY_NAME, GlossarySource
from tools.policy import Access, PolicedWarehouse, PolicyEngine, Principal, ToolPolicy
from tools.registry import ToolContext, ToolRegistry
from tools.results import ResultStore
from tools.warehouse.base import Warehouse
from tools.warehouse.config import WarehouseConfig
from tools.warehouse.factory import build_warehouse
from tools.warehouse.privileges import ModelledTable, enforce_least_privilege


@dataclass
class Runtime:
    """Settings, storage, the dbt index, the warehouse and the tools, wired once per process."""

    settings: Settings
    engine: Engine
    store: ConversationStore
    sessions: Sessions
    profiles: ProfileStore
    dbt: DbtIndexProvider
    project_dir: Path
    is_demo: bool
    registry: ToolRegistry
    results: ResultStore
    artifacts: DatabaseArtifactWriter
    model_client: ModelClient
    warehouse_config: WarehouseConfig
    policy: PolicyEngine = field(default_factory=lambda: PolicyEngine(None, slack_default="allow"))
    governance: TurnGovernance = field(init=False)

    def __post_init__(self) -> None:
        self.governance = TurnGovernance(AuditLog(self.engine), asker=self.asker, access=self._access)

    _warehouse: Warehouse | None = field(default=None, repr=False)
    _warehouse_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _warehouse_user_checked: bool = field(default=False, repr=False)

    def warehouse(self) -> Warehouse:
        """The warehouse connection, built on first use so that dbt-only commands never need it.

        Its user is checked once, before the first query (chat, slack, sync and alerts all come through here):
        raises PrivilegedWarehouseUserError when it may write or administer (tools/warehouse/privileges.py).
        """
        warehouse = self._built_warehouse()
        with self._warehouse_lock:
            if not self._warehouse_user_checked:
                check_warehouse_user(warehouse, self.index(), self.settings)
                self._warehouse_user_checked = True
        return warehouse

    def _built_warehouse(self) -> Warehouse:
        with self._warehouse_lock:
            if self._warehouse is None:
                self._warehouse = build_warehouse(self.warehouse_config, self.project_dir)
            return self._warehouse

    def index(self) -> DbtIndex:
        return self.dbt.current()

    def tool_context(self, session_id: str | None) -> ToolContext:
        """What a tool may use during one session's turn."""
        return ToolContext(
            limits=tool_limits(self.settings),
            warehouse_provider=self.warehouse,
            dbt_provider=self.index,
            results=self.results,
            artifacts=self.artifacts,
            session_id=session_id,
            profiles=self.profiles,
            project_dir=self.project_dir,
            policy=self._tool_policy(session_id),
        )

    def _tool_policy(self, session_id: str | None) -> ToolPolicy | None:
        # Inside a turn its asker was resolved as it began: the session is not read again for each context.
        principal = self.governance.turn_principal() or self.asker(session_id)
        policy = self.policy.tool_policy(principal, self.index())
        if policy is not None:
            self.governance.attach(policy)
        return policy

    def _access(self, principal: Principal, index: DbtIndex | None = None) -> Access | None:
        """The asker's access where a policy applies (budgets come from it); None where nothing is restricted."""
        if self.policy.source is None and not principal.is_slack:
            return None
        return self.policy.access(principal, index or self.index())

    def asker(self, session_id: str | None) -> Principal:
        """Who asks this turn: what the front door said, else judged by the session's front door."""
        principal = current_asker()
        if principal is not None:
            return principal
        session = self.store.get_session(session_id) if session_id else None
        source = session.source if session is not None else "cli"
        if source == "slack":
            # A Slack turn whose asker was not passed on gets the least a Slack channel may have.
            return Principal("slack_channel")
        return Principal.alert() if source == "alert" else Principal.terminal()

    def agent(self) -> Agent:
        """The agent, handed exactly the parts it uses."""
        return Agent(
            settings=self.settings,
            model=self.model_client,
            store=self.store,
            registry=self.registry,
            tool_context=self.tool_context,
            system_prompt=self.system_prompt,
            governance=self.governance,
        )

    def system_prompt(self) -> str:
        """The system prompt for a turn: the project as loaded now, in the warehouse's dialect."""
        return system_prompt(project_overview=self.project_overview(), dialect=self.dialect())

    def project_overview(self) -> str:
        # One look at the project for the whole prompt (each look checks the manifest and glossary files).
        index = self.index()
        overview = index.overview()
        asker = current_asker()
        access = self._access(asker, index) if asker is not None else None
        if access is not None:
            # The prompt names only what this asker may read: a denied model is not even mentioned.
            overview = replace(
                overview,
                main_marts=[node for node in overview.main_marts if access.allows(node)],
                metrics=[m for m in overview.metrics if _metric_allowed(m.model, index, access)],
            )
        # Runs on every turn: only the main marts' row counts are read, not every stored profile.
        counts = self.profiles.row_counts([node.unique_id for node in overview.main_marts])
        row_counts = {
            node.name: counts[node.unique_id] for node in overview.main_marts if node.unique_id in counts
        }
        return "\n".join(filter(None, [overview.to_prompt_text(), row_counts_text(row_counts)]))

    def dialect(self) -> str:
        """The SQL dialect the model writes: the warehouse's own (a URL may differ from the dbt adapter)."""
        try:
            # Building it reads settings only; nothing connects (the user check waits for the first query).
            return self._built_warehouse().dialect.name
        except WarehouseError:
            return self.index().adapter_type or "duckdb"

    def warehouse_for(self, principal: Principal) -> Warehouse:
        """The warehouse as `principal` may use it (alerts): policed where a policy applies.

        Used inside a turn (an alert thread's drill-down), the policy is tied to that turn: its decisions are
        audited and the asker's budgets are checked before each query; outside a turn nothing is tied."""
        policy = self.policy.tool_policy(principal, self.index())
        if policy is None:
            return self.warehouse()
        self.governance.attach(policy)
        return PolicedWarehouse(self.warehouse(), policy)

    def close(self) -> None:
        with self._warehouse_lock:
            if self._warehouse is not None:
                self._warehouse.close()
                self._warehouse = None
        self.engine.dispose()


def _metric_allowed(model: str | None, index: DbtIndex, access: Access) -> bool:
    node = index.find(model) if model else None
    return node is None or access.allows(node)


def build_runtime(settings: Settings, *, migrate: bool = True) -> Runtime:
    """Wire a runtime: migrate the store, load the dbt index (the demo when none is configured)."""
    engine = create_store_engine(settings.resolved_database_url())
    if migrate:
        upgrade_database(engine)
    project_dir, warehouse, is_demo = _project(settings)
    index_cache = settings.data_dir / "dbt-index"
    profiles = ProfileStore(engine)
    provider = DbtIndexProvider(
        project_dir,
        _glossary_source(settings, project_dir),
        load=lambda folder: load_index_cached(folder, index_cache),
        allowed_functions=settings.allowed_functions,
        profiles=profiles,  # their top values reach search: a question naming a value finds its column
    )
    provider.current()  # Fail at start, with the dbt command to run, rather than mid-conversation.
    artifacts = DatabaseArtifactWriter(
        engine, settings.data_dir / "artifacts", timedelta(days=settings.artifact_retention_days)
    )
    store = ConversationStore(engine)
    runtime = Runtime(
        settings=settings,
        engine=engine,
        store=store,
        sessions=Sessions(store, engine),
        profiles=profiles,
        dbt=provider,
        project_dir=project_dir,
        is_demo=is_demo,
        registry=ToolRegistry(default_tools()),
        results=ResultStore(),
        artifacts=artifacts,
        model_client=ModelClient(settings),
        warehouse_config=warehouse,
        policy=PolicyEngine(settings.policy_file, slack_default=settings.slack_default_access),
    )
    if migrate:
        runtime.governance.audit.prune(older_than=utc_now() - timedelta(days=settings.audit_retention_days))
    return runtime


def check_project(settings: Settings, project_dir: Path) -> None:
    """What `init` checks before it writes anything: the dbt project loads, and the warehouse answers a query.

    Raises ConfigError, DbtArtifactError (naming the dbt command to run) or WarehouseError.
    """
    if not (project_dir / "dbt_project.yml").is_file():
        raise ConfigError(user_messages.NOT_A_DBT_PROJECT.format(path=project_dir))
    load_index(project_dir)
    warehouse = build_warehouse(warehouse_config(settings), project_dir)
    try:
        warehouse.execute_readonly("SELECT 1", max_rows=1, timeout_seconds=settings.query_timeout_seconds)
    except ToolInputError as exc:
        raise WarehouseError(f"The warehouse refused a test query: {exc.message}") from None
    else:
        check_warehouse_user(warehouse, load_index(project_dir), settings)
    finally:
        warehouse.close()


def check_warehouse_user(warehouse: Warehouse, index: DbtIndex, settings: Settings) -> None:
    """Refuse a warehouse user that may write to the modelled schemas or administer the server.

    Unless BLUEPRINTDATA_ALLOW_PRIVILEGED_WAREHOUSE_USER is true; BigQuery credentials that can write are
    only warned about. Raises PrivilegedWarehouseUserError naming the SQL (or IAM roles) of a read-only user.
    """
    tables = [
        ModelledTable(database=node.database, schema=node.schema, name=node.identifier or node.name)
        for node in index.nodes()
        if node.schema and node.materialization != "ephemeral"
    ]
    enforce_least_privilege(warehouse, tables, allow_privileged=settings.allow_privileged_warehouse_user)


def upgrade_store(settings: Settings) -> str | None:
    """Apply the conversation store's migrations; the revision it is at afterwards."""
    engine = create_store_engine(settings.resolved_database_url())
    try:
        upgrade_database(engine)
        return current_revision(engine)
    finally:
        engine.dispose()


def _glossary_source(settings: Settings, project_dir: Path) -> GlossarySource:
    """The glossary named by the setting (it must exist), else the project's own file when there is one."""
    if settings.glossary_file is not None:
        return GlossarySource(settings.glossary_file.expanduser().resolve(), required=True)
    return GlossarySource(project_dir / DEFAULT_GLOSSARY_NAME, required=False)


def _project(settings: Settings) -> tuple[Path, WarehouseConfig, bool]:
    """The dbt project and warehouse configuration to use; the bundled demo when nothing is configured."""
    if settings.dbt_project_dir is not None:
        return settings.dbt_project_dir.expanduser().resolve(), warehouse_config(settings), False
    from demo.load import DEMO_PROJECT_DIR, ensure_demo_warehouse

    if settings.warehouse_url is not None:
        # A warehouse without a project: the demo's models describe nothing there, so say so early.
        raise ConfigError(
            "BLUEPRINTDATA_WAREHOUSE_URL is set but BLUEPRINTDATA_DBT_PROJECT_DIR is not: "
            "point BLUEPRINTDATA_DBT_PROJECT_DIR at the dbt project that describes that warehouse."
        )
    demo_file = ensure_demo_warehouse(settings.data_dir)
    return DEMO_PROJECT_DIR, warehouse_config(settings).with_url(f"duckdb:///{demo_file}"), True
