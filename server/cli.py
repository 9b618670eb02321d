"""``flask --app server ...`` commands."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from server.domain import entry_codes
from server.domain.errors import DomainError
from server.models.types import utcnow
from server.services import accounts, demo, enterprise_import

agencies_cli = AppGroup("agencies", help="Agencies (bureaus) served by this deployment.")
users_cli = AppGroup("users", help="User accounts.")
enterprises_cli = AppGroup("enterprises", help="The enterprise directory.")
demo_cli = AppGroup("demo", help="Demo data.")
scheduler_cli = AppGroup("scheduler", help="Scheduled jobs.")


def _fail(exc: DomainError) -> None:
    raise click.ClickException(f"{exc.code}: {exc.message}")


@agencies_cli.command("create")
@click.argument("code")
@click.option("--name", required=True, help="Full name, e.g. 天津市南开区应急管理局")
@click.option("--abbr", required=True, help="Abbreviation in document numbers, e.g. 南开")
@click.option("--timezone", default="Asia/Shanghai", show_default=True)
def create_agency(code: str, name: str, abbr: str, timezone: str) -> None:
    """Create an agency."""
    try:
        agency = accounts.create_agency(code, name, abbr, timezone)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"agency {agency.code} created ({agency.id})")


@users_cli.command("create")
@click.argument("username")
@click.option("--agency", "agency_code", required=True)
@click.option("--role", type=click.Choice(["inspector", "lead", "manager", "admin"]), required=True)
@click.option("--password", required=True)
@click.option("--name", "full_name", default="")
@click.option("--cert-no", default=None, help="Enforcement certificate (执法证) number")
@click.option("--cert-valid-until", type=click.DateTime(["%Y-%m-%d"]), default=None)
def create_user(
    username: str,
    agency_code: str,
    role: str,
    password: str,
    full_name: str,
    cert_no: str | None,
    cert_valid_until: date | None,
) -> None:
    """Create a user account."""
    try:
        user = accounts.create_user(
            username=username,
            agency_code=agency_code,
            role=role,
            password=password,
            full_name=full_name,
            cert_no=cert_no,
            cert_valid_until=cert_valid_until.date() if cert_valid_until else None,
        )
    except DomainError as exc:
        _fail(exc)
    click.echo(f"user {user.username} ({user.role}) created")


@enterprises_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--agency", "agency_code", required=True)
def import_enterprises(file: Path, agency_code: str) -> None:
    """Import enterprises from a CSV or XLSX file; prints one line per bad row.

    Good rows are stored either way; the exit status is 1 when any row failed, so a
    script can tell a partial import from a complete one.
    """
    try:
        agency = accounts.get_agency_by_code(agency_code)
        report = enterprise_import.import_rows(
            agency.id,
            enterprise_import.read_sheet(file.name, file.read_bytes()),
            max_rows=current_app.config["MAX_IMPORT_ROWS"],
        )
    except DomainError as exc:
        _fail(exc)
    for row in report.rows:
        if row["status"] == "error":
            click.echo(f"row {row['row']}: {row['errors']}", err=True)
    click.echo(
        f"created {report.created}, updated {report.updated}, "
        f"unchanged {report.unchanged}, failed {report.failed}"
    )
    if report.failed:
        raise click.exceptions.Exit(1)


@demo_cli.command("seed")
@click.option("--if-empty", is_flag=True, help="Only when the database has no agency yet.")
def seed(if_empty: bool) -> None:
    """Create the demo agency: people, directory, and a few months of history."""
    if if_empty and demo.has_any_agency():
        click.echo("the database holds agencies already; demo data not added")
        return
    config = current_app.config
    summary = demo.seed_demo(
        now=utcnow(),
        entry_key=entry_codes.derive_key(config["SECRET_KEY"]),
        base_url=config["PUBLIC_BASE_URL"],
    )
    if summary.created:
        click.echo(f"demo agency {summary.agency_code}: {summary.enterprises} enterprises")
        history = ", ".join(f"{n} {what}" for what, n in sorted(summary.history.items()))
        click.echo(f"history of the last months: {history}")
    else:
        click.echo(f"demo agency {summary.agency_code} exists already; nothing changed")
    click.echo("logins (username / role / password):")
    for username, role, password in summary.logins:
        click.echo(f"  {username:<12} {role:<10} {password}")


@scheduler_cli.command("run")
def run_scheduler() -> None:
    """Run the scheduled jobs in this process until stopped."""
    from server import scheduler

    scheduler.run_blocking(current_app._get_current_object())  # type: ignore[attr-defined]


def init_app(app: Flask) -> None:
    for group in (agencies_cli, users_cli, enterprises_cli, demo_cli, scheduler_cli):
        app.cli.add_command(group)
