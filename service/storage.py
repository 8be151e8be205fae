"""Durable storage for the service: SQLite by default, PostgreSQL by URL.

All writes are transactions. Uploads are staged: each arriving batch is
sealed and written as a row of ``upload_chunks`` belonging to an ``uploads``
row in state ``staging``; only when the whole upload has arrived and passed
validation does one transaction flip it to ``committed`` (and, for a
replacement, purge the party's previous extract). A rejected or interrupted
upload's staged rows are deleted at once, and any left by a crash are purged
when the server starts, so nothing partial is ever read.

What is sealed (AES-GCM, see :mod:`tiplink.service.crypto`): encoding
batches (record ids, encodings, strata) and result blobs. What is clear:
project metadata (name, parties, schema fingerprint, key-check value,
settings), token hashes, upload and run bookkeeping, and the audit log.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import grpc
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tiplink.service.crypto import ServerKeys
from tiplink.service.refusal import Refused
from tiplink.service.tokens import Role, hashes_match, token_hash

metadata = sa.MetaData()

meta_table = sa.Table(
    "meta", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.LargeBinary, nullable=False),
)

tokens_table = sa.Table(
    "tokens", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("project_id", sa.String(64), nullable=True, index=True),
    sa.Column("party", sa.String(64), nullable=True),
    sa.Column("created_at", sa.String(32), nullable=False),
)

projects_table = sa.Table(
    "projects", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("schema_name", sa.String(200), nullable=False),
    sa.Column("schema_fingerprint", sa.String(80), nullable=False),
    sa.Column("parties", sa.Text, nullable=False),  # JSON list
    sa.Column("min_cell_count", sa.Integer, nullable=False),
    sa.Column("entity_id_policy", sa.String(16), nullable=False),
    # Fixed by the first accepted upload:
    sa.Column("key_check", sa.String(200), nullable=True),
    sa.Column("bit_length", sa.Integer, nullable=True),
    sa.Column("layout", sa.Text, nullable=True),  # JSON: segments and strata
    sa.Column("created_at", sa.String(32), nullable=False),
)

uploads_table = sa.Table(
    "uploads", metadata,
    sa.Column("pk", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project_id", sa.String(64), nullable=False, index=True),
    sa.Column("party", sa.String(64), nullable=False),
    sa.Column("upload_id", sa.String(128), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),  # staging | committed
    sa.Column("header", sa.Text, nullable=False),  # ExtractHeader JSON (no identifiers)
    sa.Column("record_count", sa.BigInteger, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("committed_at", sa.String(32), nullable=True),
    sa.UniqueConstraint("project_id", "upload_id", name="uq_upload_id"),
)

chunks_table = sa.Table(
    "upload_chunks", metadata,
    sa.Column("upload_pk", sa.Integer, primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("records", sa.Integer, nullable=False),
    sa.Column("blob", sa.LargeBinary, nullable=False),  # sealed RecordBatch
)

runs_table = sa.Table(
    "runs", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("project_id", sa.String(64), nullable=False, index=True),
    # queued | running | done | failed | superseded
    sa.Column("state", sa.String(16), nullable=False),
    # Incremented at each start; a worker may write only under its own
    # attempt, so a stale worker (e.g. orphaned by a crash) cannot.
    sa.Column("attempt", sa.Integer, nullable=False, default=0),
    sa.Column("progress", sa.Float, nullable=False, default=0.0),
    sa.Column("error", sa.String(500), nullable=True),
    sa.Column("created_at", sa.String(32), nullable=False),
    sa.Column("started_at", sa.String(32), nullable=True),
    sa.Column("finished_at", sa.String(32), nullable=True),
)

results_table = sa.Table(
    "results", metadata,
    sa.Column("run_id", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(80), primary_key=True),  # counts | clusters:<party>
    sa.Column("blob", sa.LargeBinary, nullable=False),  # sealed
)

audit_table = sa.Table(
    "audit_log", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.String(32), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),  # admin|party|analyst|anonymous|server
    sa.Column("project_id", sa.String(64), nullable=True),
    sa.Column("party", sa.String(64), nullable=True),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),  # OK or a status code name
    sa.Column("detail", sa.String(300), nullable=True),  # counts and names only
)

ACTIVE_RUN_STATES = ("queued", "running")
KEY_PROBE = "key_probe"


def now() -> str:
    """Current UTC time, ISO 8601."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Principal:
    """Who is calling, as the token says.

    Attributes:
        role: the token's role.
        project_id: the project of a party or analyst token.
        party: the party of a party token.
    """

    role: Role
    project_id: str | None = None
    party: str | None = None


@dataclass(frozen=True)
class Project:
    """A project's settings."""

    id: str
    name: str
    schema_name: str
    schema_fingerprint: str
    parties: tuple[str, ...]
    min_cell_count: int
    entity_id_policy: str
    key_check: str | None
    bit_length: int | None
    layout: str | None


@dataclass(frozen=True)
class CommitOutcome:
    """What committing an upload changed."""

    uploaded: tuple[str, ...]
    replaced: bool
    run_queued: bool


@dataclass(frozen=True)
class RunTicket:
    """A run handed to a worker: it may write only under this attempt."""

    run_id: int
    project_id: str
    attempt: int


@dataclass(frozen=True)
class StoredUpload:
    """A committed upload as the run worker reads it."""

    pk: int
    party: str
    header_json: str


def engine_url(url: str) -> str:
    """Map user-facing URLs to SQLAlchemy ones (PostgreSQL goes via psycopg 3)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def default_url(data_dir: Path) -> str:
    """The SQLite file under the data directory."""
    return f"sqlite:///{(data_dir / 'tiplink.db').resolve()}"


def make_engine(url: str) -> Engine:
    """Create the SQLAlchemy engine, with SQLite tuned for concurrent use."""
    url = engine_url(url)
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            # Take over transaction control so every transaction starts with
            # BEGIN IMMEDIATE: concurrent writers then wait on busy_timeout
            # instead of failing to upgrade a read lock.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):  # type: ignore[no-untyped-def]
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return sa.create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _project_from_row(row: sa.Row) -> Project:
    return Project(
        id=row.id, name=row.name, schema_name=row.schema_name,
        schema_fingerprint=row.schema_fingerprint, parties=tuple(json.loads(row.parties)),
        min_cell_count=row.min_cell_count, entity_id_policy=row.entity_id_policy,
        key_check=row.key_check, bit_length=row.bit_length, layout=row.layout,
    )


class Store:
    """The service's database, behind small typed methods.

    Args:
        url: SQLAlchemy-style URL (``sqlite:///...`` or ``postgresql://...``).
        keys: the server keys that seal stored blobs.
    """

    def __init__(self, url: str, keys: ServerKeys) -> None:
        self.engine = make_engine(url)
        self.keys = keys

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()

    # -- setup ---------------------------------------------------------------

    def init_schema(self) -> None:
        """Create the tables if missing and check the server key opens old data."""
        metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            probe = conn.execute(
                sa.select(meta_table.c.value).where(meta_table.c.key == KEY_PROBE)
            ).scalar_one_or_none()
            if probe is None:
                conn.execute(meta_table.insert().values(
                    key=KEY_PROBE, value=self.keys.seal(b"tiplink", "meta:" + KEY_PROBE)))
            else:
                self.keys.open(probe, "meta:" + KEY_PROBE)

    def has_key_probe(self) -> bool:
        """True when the database already holds data sealed under some key."""
        inspector = sa.inspect(self.engine)
        if not inspector.has_table("meta"):
            return False
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.count()).select_from(meta_table)
                .where(meta_table.c.key == KEY_PROBE)
            ).scalar_one() > 0

    def recover(self) -> tuple[int, int]:
        """After a (possibly unclean) stop: drop staged uploads, requeue runs.

        Returns:
            (staged uploads purged, runs requeued).
        """
        with self.engine.begin() as conn:
            staged = [r.pk for r in conn.execute(
                sa.select(uploads_table.c.pk).where(uploads_table.c.state == "staging"))]
            if staged:
                conn.execute(chunks_table.delete().where(chunks_table.c.upload_pk.in_(staged)))
                conn.execute(uploads_table.delete().where(uploads_table.c.pk.in_(staged)))
            requeued = conn.execute(
                runs_table.update().where(runs_table.c.state == "running")
                .values(state="queued", progress=0.0)
            ).rowcount
        return len(staged), requeued

    # -- tokens and audit ----------------------------------------------------

    def set_admin_token(self, token: str) -> None:
        """Make ``token`` the (only) admin token."""
        with self.engine.begin() as conn:
            conn.execute(tokens_table.delete().where(tokens_table.c.role == Role.ADMIN.value))
            conn.execute(tokens_table.insert().values(
                token_hash=token_hash(token), role=Role.ADMIN.value, created_at=now()))

    def has_admin_token(self) -> bool:
        """True when an admin token hash is stored."""
        with self.engine.connect() as conn:
            return conn.execute(
                sa.select(sa.func.count()).select_from(tokens_table)
                .where(tokens_table.c.role == Role.ADMIN.value)
            ).scalar_one() > 0

    def authenticate(self, token: str) -> Principal | None:
        """The principal of a presented token, or None.

        The lookup is by the token's SHA-256 (an index probe); the final
        comparison is constant-time, so timing reveals nothing about how much
        of a guess was right.
        """
        digest = token_hash(token)
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(tokens_table).where(tokens_table.c.token_hash == digest)
            ).first()
        if row is None or not hashes_match(row.token_hash, token):
            return None
        return Principal(Role(row.role), row.project_id, row.party)

    def audit(self, role: str, action: str, outcome: str, project_id: str | None = None,
              party: str | None = None, detail: str | None = None) -> None:
        """Append to the audit log (never a token, never an encoding)."""
        with self.engine.begin() as conn:
            conn.execute(audit_table.insert().values(
                at=now(), role=role, project_id=project_id, party=party, action=action,
                outcome=outcome, detail=(detail or None) and detail[:300]))

    # -- projects ------------------------------------------------------------

    def create_project(self, name: str, schema_name: str, schema_fingerprint: str,
                       parties: Sequence[str], min_cell_count: int, entity_id_policy: str,
                       party_tokens: dict[str, str], analyst_token: str) -> str:
        """Create a project and store its token hashes; return its id."""
        project_id = "p_" + secrets.token_hex(8)
        created = now()
        with self.engine.begin() as conn:
            conn.execute(projects_table.insert().values(
                id=project_id, name=name, schema_name=schema_name,
                schema_fingerprint=schema_fingerprint, parties=json.dumps(list(parties)),
                min_cell_count=min_cell_count, entity_id_policy=entity_id_policy,
                created_at=created))
            rows = [dict(token_hash=token_hash(tok), role=Role.PARTY.value,
                         project_id=project_id, party=party, created_at=created)
                    for party, tok in party_tokens.items()]
            rows.append(dict(token_hash=token_hash(analyst_token), role=Role.ANALYST.value,
                             project_id=project_id, party=None, created_at=created))
            conn.execute(tokens_table.insert(), rows)
        return project_id

    def get_project(self, project_id: str) -> Project | None:
        """A project's settings, or None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(projects_table).where(projects_table.c.id == project_id)).first()
        return _project_from_row(row) if row is not None else None

    def delete_project(self, project_id: str) -> bool:
        """Purge a project: encodings, uploads, runs, results, tokens, settings."""
        with self.engine.begin() as conn:
            exists = conn.execute(
                sa.select(projects_table.c.id).where(projects_table.c.id == project_id)
                .with_for_update()).first()
            if exists is None:
                return False
            upload_pks = sa.select(uploads_table.c.pk).where(
                uploads_table.c.project_id == project_id)
            run_ids = sa.select(runs_table.c.id).where(runs_table.c.project_id == project_id)
            conn.execute(chunks_table.delete().where(chunks_table.c.upload_pk.in_(upload_pks)))
            conn.execute(uploads_table.delete().where(uploads_table.c.project_id == project_id))
            conn.execute(results_table.delete().where(results_table.c.run_id.in_(run_ids)))
            conn.execute(runs_table.delete().where(runs_table.c.project_id == project_id))
            conn.execute(tokens_table.delete().where(tokens_table.c.project_id == project_id))
            conn.execute(projects_table.delete().where(projects_table.c.id == project_id))
        return True

    # -- uploads -------------------------------------------------------------

    def committed_upload(self, project_id: str, upload_id: str) -> sa.Row | None:
        """The committed upload with this id in the project, or None."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(uploads_table).where(
                uploads_table.c.project_id == project_id,
                uploads_table.c.upload_id == upload_id,
                uploads_table.c.state == "committed")).first()

    def party_has_upload(self, project_id: str, party: str) -> bool:
        """True when the party has a committed extract."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(uploads_table).where(
                uploads_table.c.project_id == project_id, uploads_table.c.party == party,
                uploads_table.c.state == "committed")).scalar_one() > 0

    def uploaded_parties(self, project_id: str) -> tuple[str, ...]:
        """Parties with a committed extract, sorted."""
        with self.engine.connect() as conn:
            return self._uploaded(conn, project_id)

    @staticmethod
    def _uploaded(conn: sa.Connection, project_id: str) -> tuple[str, ...]:
        rows = conn.execute(sa.select(uploads_table.c.party).where(
            uploads_table.c.project_id == project_id,
            uploads_table.c.state == "committed").distinct())
        return tuple(sorted(r.party for r in rows))

    def begin_upload(self, project_id: str, party: str, upload_id: str, header_json: str,
                     record_count: int) -> int:
        """Open a staged upload; return its row key.

        Raises:
            Refused: ABORTED when the upload id is already in use in the
                project (another upload with that id is staging or committed).
        """
        try:
            with self.engine.begin() as conn:
                return conn.execute(uploads_table.insert().values(
                    project_id=project_id, party=party, upload_id=upload_id, state="staging",
                    header=header_json, record_count=record_count, created_at=now())
                ).inserted_primary_key[0]
        except sa.exc.IntegrityError:
            raise Refused(grpc.StatusCode.ABORTED,
                          "this upload id is in use by another upload in the project; "
                          "retry later or use another upload id") from None

    def add_chunk(self, upload_pk: int, project_id: str, seq: int, records: int,
                  payload: bytes) -> None:
        """Seal and stage one batch."""
        blob = self.keys.seal(payload, f"chunk:{project_id}:{upload_pk}:{seq}")
        with self.engine.begin() as conn:
            conn.execute(chunks_table.insert().values(
                upload_pk=upload_pk, seq=seq, records=records, blob=blob))

    def discard_upload(self, upload_pk: int) -> None:
        """Delete a staged upload and its batches."""
        with self.engine.begin() as conn:
            conn.execute(chunks_table.delete().where(chunks_table.c.upload_pk == upload_pk))
            conn.execute(uploads_table.delete().where(
                uploads_table.c.pk == upload_pk, uploads_table.c.state == "staging"))

    def commit_upload(self, upload_pk: int, project_id: str, party: str, key_check: str,
                      bit_length: int, layout: str, replace: bool) -> CommitOutcome:
        """Make a staged upload the party's extract, in one transaction.

        Re-checks, under a lock on the project row, what a concurrent upload
        could have changed since the header was checked: the key-check value
        and layout fixed by the first accepted upload, and whether the party
        already has an extract. When every party has uploaded, queues a run
        (superseding any earlier one).

        Raises:
            Refused: FAILED_PRECONDITION (key check or layout differ),
                ALREADY_EXISTS (party has an extract and replace is off),
                NOT_FOUND (project deleted meanwhile).
        """
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(projects_table).where(
                projects_table.c.id == project_id).with_for_update()).first()
            if row is None:
                raise Refused(grpc.StatusCode.NOT_FOUND, "the project no longer exists")
            project = _project_from_row(row)
            check_fixed_fields(project, key_check, bit_length, layout)
            previous = [r.pk for r in conn.execute(sa.select(uploads_table.c.pk).where(
                uploads_table.c.project_id == project_id, uploads_table.c.party == party,
                uploads_table.c.state == "committed"))]
            if previous and not replace:
                raise Refused(grpc.StatusCode.ALREADY_EXISTS,
                              f"party {party!r} has already uploaded an extract; "
                              "upload with --replace to replace it")
            if previous:
                conn.execute(chunks_table.delete().where(chunks_table.c.upload_pk.in_(previous)))
                conn.execute(uploads_table.delete().where(uploads_table.c.pk.in_(previous)))
            conn.execute(uploads_table.update().where(uploads_table.c.pk == upload_pk)
                         .values(state="committed", committed_at=now()))
            if project.key_check is None:
                conn.execute(projects_table.update().where(projects_table.c.id == project_id)
                             .values(key_check=key_check, bit_length=bit_length, layout=layout))
            uploaded = self._uploaded(conn, project_id)
            run_queued = False
            if set(uploaded) >= set(project.parties):
                self._supersede_runs(conn, project_id)
                conn.execute(runs_table.insert().values(
                    project_id=project_id, state="queued", attempt=0, progress=0.0,
                    created_at=now()))
                run_queued = True
            elif previous:
                # A replacement while the set is incomplete cannot happen
                # (the party was counted), but keep results honest anyway.
                self._supersede_runs(conn, project_id)
        return CommitOutcome(uploaded=uploaded, replaced=bool(previous), run_queued=run_queued)

    @staticmethod
    def _supersede_runs(conn: sa.Connection, project_id: str) -> None:
        old = sa.select(runs_table.c.id).where(runs_table.c.project_id == project_id,
                                               runs_table.c.state != "superseded")
        conn.execute(results_table.delete().where(results_table.c.run_id.in_(old)))
        conn.execute(runs_table.update().where(
            runs_table.c.project_id == project_id, runs_table.c.state != "superseded"
        ).values(state="superseded"))

    def committed_uploads(self, project_id: str) -> list[StoredUpload]:
        """The project's committed uploads, one per party, sorted by party."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(uploads_table).where(
                uploads_table.c.project_id == project_id,
                uploads_table.c.state == "committed").order_by(uploads_table.c.party))
            return [StoredUpload(r.pk, r.party, r.header) for r in rows]

    def upload_payloads(self, project_id: str, upload_pk: int) -> Iterator[bytes]:
        """The opened (decrypted) batches of an upload, in order."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(chunks_table.c.seq, chunks_table.c.blob).where(
                chunks_table.c.upload_pk == upload_pk).order_by(chunks_table.c.seq)).all()
        for row in rows:
            yield self.keys.open(row.blob, f"chunk:{project_id}:{upload_pk}:{row.seq}")

    # -- runs ----------------------------------------------------------------

    def claim_queued_run(self) -> RunTicket | None:
        """Take the oldest queued run, mark it running under a new attempt."""
        with self.engine.begin() as conn:
            row = conn.execute(sa.select(runs_table).where(runs_table.c.state == "queued")
                               .order_by(runs_table.c.id).limit(1).with_for_update()).first()
            if row is None:
                return None
            attempt = row.attempt + 1
            conn.execute(runs_table.update().where(runs_table.c.id == row.id).values(
                state="running", attempt=attempt, progress=0.0, started_at=now()))
        return RunTicket(row.id, row.project_id, attempt)

    def _fenced(self, ticket: RunTicket) -> sa.ColumnElement[bool]:
        return sa.and_(runs_table.c.id == ticket.run_id, runs_table.c.attempt == ticket.attempt,
                       runs_table.c.state == "running")

    def set_progress(self, ticket: RunTicket, progress: float) -> bool:
        """Record progress; False when the run is no longer this worker's."""
        with self.engine.begin() as conn:
            return conn.execute(runs_table.update().where(self._fenced(ticket))
                                .values(progress=max(0.0, min(1.0, progress)))).rowcount == 1

    def finish_run(self, ticket: RunTicket, blobs: dict[str, bytes]) -> bool:
        """Store a run's results and mark it done, atomically and fenced."""
        with self.engine.begin() as conn:
            done = conn.execute(runs_table.update().where(self._fenced(ticket)).values(
                state="done", progress=1.0, finished_at=now())).rowcount == 1
            if not done:
                return False
            conn.execute(results_table.insert(), [
                dict(run_id=ticket.run_id, kind=kind,
                     blob=self.keys.seal(data, f"result:{ticket.run_id}:{kind}"))
                for kind, data in blobs.items()])
        return True

    def fail_run(self, ticket: RunTicket, reason: str) -> bool:
        """Mark a run failed with a short reason (no input values)."""
        with self.engine.begin() as conn:
            return conn.execute(runs_table.update().where(self._fenced(ticket)).values(
                state="failed", error=reason[:500], finished_at=now())).rowcount == 1

    def park_run(self, ticket: RunTicket) -> bool:
        """Put a running run back in the queue (graceful shutdown)."""
        with self.engine.begin() as conn:
            return conn.execute(runs_table.update().where(self._fenced(ticket)).values(
                state="queued", progress=0.0)).rowcount == 1

    def current_run(self, project_id: str) -> sa.Row | None:
        """The project's latest run that is not superseded."""
        with self.engine.connect() as conn:
            return conn.execute(sa.select(runs_table).where(
                runs_table.c.project_id == project_id, runs_table.c.state != "superseded"
            ).order_by(runs_table.c.id.desc()).limit(1)).first()

    def result(self, run_id: int, kind: str) -> bytes | None:
        """An opened result blob of a run, or None."""
        with self.engine.connect() as conn:
            blob = conn.execute(sa.select(results_table.c.blob).where(
                results_table.c.run_id == run_id, results_table.c.kind == kind)
            ).scalar_one_or_none()
        return None if blob is None else self.keys.open(blob, f"result:{run_id}:{kind}")


def check_fixed_fields(project: Project, key_check: str, bit_length: int, layout: str) -> None:
    """Refuse an upload whose secret or encoding layout differs from the project's.

    Raises:
        Refused: FAILED_PRECONDITION naming what differs (never the values).
    """
    if project.key_check is None:
        return
    if not secrets.compare_digest(project.key_check.encode(), key_check.encode()):
        raise Refused(grpc.StatusCode.FAILED_PRECONDITION,
                      "key-check value differs from the project's: this extract was encoded "
                      "with a different secret than the first accepted upload")
    if project.bit_length != bit_length:
        raise Refused(grpc.StatusCode.FAILED_PRECONDITION,
                      f"bit length {bit_length} differs from the project's "
                      f"{project.bit_length}")
    if project.layout != layout:
        raise Refused(grpc.StatusCode.FAILED_PRECONDITION,
                      "segment layout or strata differ from the project's first upload")
