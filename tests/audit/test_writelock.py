"""Audit writers on one SQLite file: one chain across processes, taking turns,
and WAL checkpoints kept out of the commits that calls wait for."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.audit.record_calls import start_workers
from tests.sandbox import BASE_DIR

CALLS = 300


@pytest.fixture
def shared_file(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    database = tmp_path / "workers.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "LLMCALLER_LOG_LEVEL": "WARNING"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v0"], env=env, cwd=BASE_DIR, check=True
    )
    return database, env


def _seqs(database: Path) -> list[int]:
    with sqlite3.connect(database) as db:
        return [seq for (seq,) in db.execute("SELECT seq FROM audit_callrecord ORDER BY seq")]


def test_two_worker_processes_extend_one_gap_free_chain(shared_file):
    database, env = shared_file

    workers = start_workers(env, count=2, calls=CALLS)

    assert [worker.wait(timeout=120) for worker in workers] == [0, 0]
    assert _seqs(database) == list(range(1, 2 * CALLS + 1))
    verify = subprocess.run(
        [sys.executable, "manage.py", "verify_audit"],
        env=env, cwd=BASE_DIR, capture_output=True, text=True,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert f"{2 * CALLS} records checked" in verify.stdout


def test_a_writer_waits_for_its_turn_on_the_lock_file(shared_file):
    database, env = shared_file
    lock = os.open(f"{database}-audit-lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(lock, fcntl.LOCK_EX)  # another process's writer, mid-transaction
    try:
        (worker,) = start_workers(env, count=1, calls=5)
        time.sleep(0.5)
        assert _seqs(database) == []  # it would have written in well under that
    finally:
        os.close(lock)

    assert worker.wait(timeout=60) == 0
    assert _seqs(database) == [1, 2, 3, 4, 5]


def test_the_writer_checkpoints_the_log_itself_well_before_sqlite_would(shared_file):
    database, env = shared_file
    with sqlite3.connect(database) as reader:  # keeps the log file from being removed at exit
        reader.execute("SELECT 1 FROM audit_chainhead").fetchall()

        (worker,) = start_workers(env, count=1, calls=400, concurrency=1)  # 400 batches of one
        assert worker.wait(timeout=120) == 0

        # The log is reused from its start after each checkpoint, so its size is
        # its high-water mark: ~14 pages a batch would make 5,600 pages without
        # checkpoints, and SQLite's own come at 1,000 pages.
        pages = Path(f"{database}-wal").stat().st_size // 4096
        assert 0 < pages < 900
        assert _seqs(database) == list(range(1, 401))
