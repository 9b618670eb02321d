"""``flask --app server ...`` commands."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from server.domain import entry_codes
from server.domain.errors import DomainError
from server.models.types import utcnow
from server.services import (
    accounts,
    agency_settings,
    calendar,
    demo,
    demo_parties,
    enterprise_import,
    hazard_counts,
    supervision,
)

agencies_cli = AppGroup("agencies", help="Agencies (bureaus) served by this deployment.")
users_cli = AppGroup("users", help="User accounts.")
enterprises_cli = AppGroup("enterprises", help="The enterprise directory.")
demo_cli = AppGroup("demo", help="Demo data.")
supervisors_cli = AppGroup(
    "supervisors", help="Supervisors (执法监督机构) above every agency of the deployment."
)
scheduler_cli = AppGroup("scheduler", help="Scheduled jobs.")
hazards_cli = AppGroup("hazards", help="Hazard statistics.")
calendar_cli = AppGroup(
    "calendar", help="The national working-day calendar's overrides (holidays, 调休)."
)


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


def _setting(assignment: str) -> tuple[list[str], Any]:
    """``hazards.reinspection_days=10`` -> (["hazards", "reinspection_days"], 10)."""
    path, sep, raw = assignment.partition("=")
    keys = [k for k in path.strip().split(".", 2) if k]
    if not sep or len(keys) < 2:
        raise click.BadParameter(f"{assignment!r}: expected SECTION.KEY=VALUE")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw  # plain text, e.g. working
    return keys, value


@agencies_cli.command("settings")
@click.argument("code")
@click.option(
    "--set",
    "assignments",
    multiple=True,
    metavar="SECTION.KEY=VALUE",
    help="e.g. hazards.reinspection_days=10, hazards.deadline_unit=working, "
    "visits.yearly_caps.credit:A=2; VALUE is JSON (null, numbers, objects) or plain text",
)
def agency_settings_command(code: str, assignments: tuple[str, ...]) -> None:
    """Print an agency's settings in force; with --set, change them first (validated)."""
    try:
        agency = accounts.get_agency_by_code(code)
        patch: dict[str, Any] = {}
        current = agency_settings.view(agency)
        for assignment in assignments:
            keys, value = _setting(assignment)
            section = patch.setdefault(keys[0], {})
            if len(keys) == 3:
                # One entry of a mapping setting (yearly_caps): the others stay.
                base = section.get(keys[1]) or dict((current.get(keys[0]) or {}).get(keys[1]) or {})
                section[keys[1]] = {**base, keys[2]: value}
            else:
                section[keys[1]] = value
        result = agency_settings.change(agency, patch) if patch else current
    except DomainError as exc:
        detail = json.dumps(exc.fields, ensure_ascii=False) if exc.fields else ""
        raise click.ClickException(f"{exc.code}: {exc.message} {detail}".strip()) from None
    click.echo(json.dumps(result, ensure_ascii=False, indent=2, sort_keys=True, default=str))


@users_cli.command("create")
@click.argument("username")
@click.option("--agency", "agency_code", required=True)
@click.option("--role", type=click.Choice(["inspector", "lead", "manager", "admin"]), required=True)
@click.option("--password", required=True)
@click.option("--name", "full_name", default="")
@click.option("--cert-no", default=None, help="Enforcement certificate (执法证) number")
@click.option("--cert-valid-until", type=click.DateTime(["%Y-%m-%d"]), default=None)
@click.option("--unit", default="", help="Unit (科室 / 执法大队), e.g. 执法一大队")
def create_user(
    username: str,
    agency_code: str,
    role: str,
    password: str,
    full_name: str,
    cert_no: str | None,
    cert_valid_until: datetime | None,
    unit: str,
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
            unit=unit,
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
    _seed_parties()


def _seed_parties() -> None:
    config = current_app.config
    parties = demo_parties.seed_parties(
        now=utcnow(),
        entry_key=entry_codes.derive_key(config["SECRET_KEY"]),
        base_url=config["PUBLIC_BASE_URL"],
    )
    if not parties.created:
        click.echo("the enterprises' and the supervisor's side exist already; nothing changed")
        return
    counts = ", ".join(f"{n} {what}" for what, n in sorted(parties.counts.items()))
    click.echo(f"the enterprises' and the supervisor's side: {counts}")
    click.echo(
        f"enterprise pages /enterprise/: {parties.enterprise_name}, "
        f"USCC {parties.enterprise_uscc}, password {parties.enterprise_password}"
    )
    click.echo(
        f"  to try activation: {parties.pending_name}, USCC {parties.pending_uscc}, "
        f"activation code {parties.activation_code}"
    )
    username, password = parties.supervisor
    click.echo(f"supervisor pages /supervise/: {username} / {password}")


@calendar_cli.command("set")
@click.argument("day", type=click.DateTime(["%Y-%m-%d"]))
@click.option("--workday/--holiday", "is_working_day", required=True, help="What the day is.")
@click.option("--note", default="", help="e.g. 国务院办公厅通知 国办发明电〔2026〕7号")
def calendar_set(day: datetime, is_working_day: bool, note: str) -> None:
    """Set one date as a working day or a day off, for every agency."""
    row, moved = calendar.set_day(day.date(), is_working_day, note)
    kind = "working day" if row.is_working_day else "holiday"
    click.echo(f"{row.day} is a {kind}; {moved} pending publication deadlines moved")


@calendar_cli.command("unset")
@click.argument("day", type=click.DateTime(["%Y-%m-%d"]))
def calendar_unset(day: datetime) -> None:
    """Remove a date's override."""
    try:
        moved = calendar.clear_day(day.date())
    except DomainError as exc:
        _fail(exc)
    click.echo(f"{day.date()} follows the official calendar again; {moved} deadlines moved")


@calendar_cli.command("complete")
@click.argument("year", type=click.IntRange(2000, 2099))
@click.option("--undo", is_flag=True, help="The year is not entered in full after all.")
def calendar_complete(year: int, undo: bool) -> None:
    """Mark a year as entered in full: its other weekdays are then working days for sure."""
    calendar.set_year_complete(year, not undo)
    click.echo(f"{year} {'is no longer' if undo else 'is'} marked complete")


@calendar_cli.command("list")
@click.option("--year", type=click.IntRange(2000, 2099), default=None)
def calendar_list(year: int | None) -> None:
    """The overrides (of one year), and which years are known."""
    listing = calendar.list_days(year)
    first, last = listing.library_years
    click.echo(f"official calendar library: {first}-{last}")
    click.echo(f"years entered in full: {', '.join(map(str, listing.complete_years)) or 'none'}")
    for row in listing.days:
        kind = "workday" if row.is_working_day else "holiday"
        click.echo(f"{row.day}  {kind:<8} {row.note}".rstrip())


@scheduler_cli.command("run")
def run_scheduler() -> None:
    """Run the scheduled jobs in this process until stopped."""
    from server import scheduler

    scheduler.run_blocking(current_app._get_current_object())  # type: ignore[attr-defined]


@scheduler_cli.command("once")
@click.argument("names", nargs=-1)
@click.option("--all", "every", is_flag=True, help="Run every job once, in the listed order.")
def run_jobs_once(names: tuple[str, ...], every: bool) -> None:
    """Run scheduled jobs once now and print what each did; with no name, list them.

    Every job is safe to run twice, so this is also how to catch up by hand after the
    scheduler was down, or to try a job while watching its log.
    """
    from server import scheduler

    chosen = list(scheduler.JOBS) if every else list(names)
    if not chosen:
        for name, (cron, _job) in scheduler.JOBS.items():
            click.echo(f"{name:<26} {cron}")
        return
    unknown = [n for n in chosen if n not in scheduler.JOBS]
    if unknown:
        raise click.UsageError(f"no job {', '.join(unknown)}; jobs: {', '.join(scheduler.JOBS)}")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    for name in chosen:
        result = scheduler.run_once(app, name)
        click.echo(f"{name}: {_printable(result)}")


def _printable(result: Any) -> str:
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        result = dataclasses.asdict(result)
    if isinstance(result, list):
        result = [
            dataclasses.asdict(r) if dataclasses.is_dataclass(r) and not isinstance(r, type) else r
            for r in result
        ]
    return json.dumps(result, ensure_ascii=False, default=str, sort_keys=True)


@hazards_cli.command("escalate")
def escalate_hazards() -> None:
    """Run the daily overdue-hazard job once now (escalate_overdue_hazards)."""
    from server import scheduler

    result = scheduler.run_once(current_app._get_current_object(), "escalate_overdue_hazards")  # type: ignore[attr-defined]
    click.echo(_printable(result))


@hazards_cli.command("recount")
@click.argument("codes", nargs=-1)
def recount_hazards(codes: tuple[str, ...]) -> None:
    """Rebuild the monthly hazard counts of the agencies named (all by default).

    The application keeps them in step itself; this is for hazards written past it (COPY,
    SQL by hand), and it sets the hazards' copies of their enterprise's industry right too.
    """
    try:
        counted = hazard_counts.rebuild(list(codes) or None)
    except DomainError as exc:
        _fail(exc)
    for code, n in counted.items():
        click.echo(f"{code}: {n} hazards counted")


@supervisors_cli.command("create")
@click.argument("username")
@click.option("--password", required=True)
@click.option("--name", "full_name", default="")
@click.option("--office", default="", help="e.g. 天津市南开区司法局行政执法监督科")
def create_supervisor(username: str, password: str, full_name: str, office: str) -> None:
    """Create a supervisor account (the /supervise pages)."""
    try:
        found = supervision.create_supervisor(username, password, full_name, office)
    except DomainError as exc:
        _fail(exc)
    click.echo(f"supervisor {found.username} created ({found.id})")


def init_app(app: Flask) -> None:
    groups = (
        agencies_cli,
        users_cli,
        supervisors_cli,
        enterprises_cli,
        demo_cli,
        scheduler_cli,
        calendar_cli,
        hazards_cli,
    )
    for group in groups:
        app.cli.add_command(group)
