"""The log file rolls over where Python's own size-rotating handler would."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

import pytest

from llmcaller.logfile import RotatingFileHandler


def _write(handler_class: type[logging.Handler], folder: Path, lines: list[str]) -> dict:
    folder.mkdir()
    handler = handler_class(folder / "calls.log", maxBytes=100, backupCount=2)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    for text in lines:
        handler.handle(logging.makeLogRecord({"msg": text, "levelname": "INFO"}))
    handler.close()
    return {path.name: path.read_text() for path in sorted(folder.iterdir())}


@pytest.mark.parametrize("length", [10, 35, 99, 150])
def test_it_writes_and_rolls_over_as_the_standard_handler_does(tmp_path, length):
    lines = [f"{n}".ljust(length, "x") for n in range(14)]

    ours = _write(RotatingFileHandler, tmp_path / "ours", lines)
    standard = _write(logging.handlers.RotatingFileHandler, tmp_path / "standard", lines)

    assert ours == standard
    assert set(ours) == {"calls.log", "calls.log.1", "calls.log.2"}


@pytest.mark.django_db
def test_a_refused_admin_page_logs_one_line_without_a_traceback(client, caplog):
    from django.contrib.auth import get_user_model

    staff = get_user_model().objects.create_user("viewer", password="pw", is_staff=True)
    client.force_login(staff)

    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get("/admin/audit/callrecord/export.csv")

    assert response.status_code == 403
    [line] = [r for r in caplog.records if r.name == "django.request"]
    assert "Forbidden" in line.getMessage()
    assert line.exc_info is None  # the reason, not a page of traceback
