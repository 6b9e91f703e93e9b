"""Least privilege at start: the warehouse's credentials may read the modelled schemas and nothing more."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tools.errors import ToolInputError, WarehouseError

if TYPE_CHECKING:
    from tools.warehouse.base import Warehouse

log = logging.getLogger(__name__)

ALLOW_SETTING = "BLUEPRINTDATA_ALLOW_PRIVILEGED_WAREHOUSE_USER"


@dataclass(frozen=True)
class ModelledTable:
    """A table the dbt project models: where its credentials should be able to read, and only read."""

    database: str | None
    schema: str
    name: str


@dataclass(frozen=True)
class PrivilegeReport:
    """What the warehouse's credentials may do beyond reading, and how to make credentials that cannot."""

    warehouse: str
    identity: str = ""
    # Each a short clause: "is a superuser", "can write to schema analytics".
    problems: tuple[str, ...] = ()
    # The exact SQL (or IAM roles) that make a read-only identity.
    remedy: str = ""
    # PostgreSQL refuses to start; BigQuery only warns (its IAM cannot be read completely from a dataset).
    refuses: bool = True

    def headline(self) -> str:
        """One line: who the credentials are and what they may do."""
        who = f" {self.identity!r}" if self.identity else ""
        return f"The {self.warehouse} warehouse user{who} {'; '.join(self.problems)}."


class PrivilegedWarehouseUserError(WarehouseError):
    """The warehouse's credentials may write or administer; we refuse to serve through them."""


def enforce_least_privilege(
    warehouse: Warehouse, tables: Sequence[ModelledTable], *, allow_privileged: bool
) -> PrivilegeReport:
    """Check the credentials; raise PrivilegedWarehouseUserError for a refusal, log a warning otherwise."""
    try:
        report = warehouse.dialect.check_privileges(warehouse, tables)
    except ToolInputError as exc:
        # The catalog query itself failed (e.g. a Redshift target, which lacks PostgreSQL's built-in roles):
        # refuse to start unchecked unless the user accepted a privileged user anyway.
        message = f"Could not check the warehouse user's privileges: {exc.message}"
        if not allow_privileged:
            raise WarehouseError(f"{message} Set {ALLOW_SETTING}=true to start without the check.") from None
        log.warning("%s (starting anyway: %s is true)", message, ALLOW_SETTING)
        return PrivilegeReport(warehouse=warehouse.dialect.name)
    if not report.problems:
        return report
    if report.refuses and not allow_privileged:
        raise PrivilegedWarehouseUserError(
            f"{report.headline()} BlueprintData refuses to serve through it: connect as a read-only user, "
            f"or set {ALLOW_SETTING}=true to accept the risk.\n"
            f"Create a read-only user:\n{report.remedy}"
        )
    allowed = f" (allowed by {ALLOW_SETTING})" if report.refuses else ""
    log.warning("%s%s A read-only user needs: %s", report.headline(), allowed, report.remedy)
    return report
