"""Reference implementation of GET /api/v1/systems in FastAPI, uvicorn and asyncpg.

It serves the same JSON as the Secruna gateway from the same database, so the REST
benchmark can compare the two stacks on equal terms:

- it connects as the same non-owner application login, so the same row-level
  security policies filter every row;
- it looks the bearer token up by its SHA-256 through the same SECURITY DEFINER
  function, ``secruna_authenticate``, before any tenant is known;
- each request runs ``BEGIN READ ONLY; SELECT set_config('app.current_tenant_path',
  $1, true); <query>; COMMIT`` with the tenant of the token;
- the list query, the page size rules and the cursor format (``<microseconds since
  the epoch>.<uuid>`` of the last row) are the gateway's.

Timestamps and the ``real`` confidence are formatted as the gateway formats them, so a
page from either server parses to the same value. Timestamps follow chrono's RFC 3339
output with a ``Z`` and 0, 3 or 6 fraction digits. The confidence is the shortest
decimal that reads back as the same 32-bit float.

Settings come from the environment: ``DATABASE_URL`` (the application login) and
``REST_BENCH_POOL_SIZE`` (connections per worker process, default 8).
"""

from __future__ import annotations

import datetime
import hashlib
import os
import struct
import uuid
from contextlib import asynccontextmanager
from typing import Annotated, Any

import asyncpg
import orjson
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.responses import Response

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
RISK_CLASSES = ("prohibited", "high", "limited", "minimal", "unknown")

AUTHENTICATE = (
    "SELECT principal_type, principal_id, tenant_path::text AS tenant_path, role, expires_at "
    "FROM secruna_authenticate($1)"
)
SET_TENANT = "SELECT set_config('app.current_tenant_path', $1, true)"
# The gateway's query (store/src/listing.rs), unchanged.
LIST_SYSTEMS = (
    "SELECT id, tenant_path::text AS tenant_path, source, name, root, kinds, risk_class, "
    "annex_iii_area, gpai, reasons, confidence, facts, created_at, updated_at "
    "FROM ai_systems "
    "WHERE ($1::text IS NULL OR risk_class = $1) "
    "AND ($2::text IS NULL OR kinds @> ARRAY[$2::text]) "
    "AND ($3::text IS NULL OR source = $3) "
    "AND ($4::timestamptz IS NULL OR (created_at, id) > ($4, $5::uuid)) "
    "ORDER BY created_at, id LIMIT $6"
)

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
ONE_MICROSECOND = datetime.timedelta(microseconds=1)


class ProblemError(Exception):
    """An RFC 9457 problem to send instead of a page."""

    def __init__(self, status: int, title: str, detail: str, field: str | None = None):
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.field = field


async def init_connection(connection: asyncpg.Connection) -> None:
    """Decode jsonb columns into Python values, as the gateway decodes them into serde values."""
    await connection.set_type_codec(
        "jsonb", schema="pg_catalog", encoder=lambda value: orjson.dumps(value).decode(),
        decoder=orjson.loads, format="text",
    )


@asynccontextmanager
async def lifespan(app: FastAPI):
    pool_size = int(os.environ.get("REST_BENCH_POOL_SIZE", "8"))
    app.state.pool = await asyncpg.create_pool(
        os.environ["DATABASE_URL"], min_size=pool_size, max_size=pool_size, init=init_connection,
    )
    try:
        yield
    finally:
        await app.state.pool.close()


app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)


@app.exception_handler(ProblemError)
async def problem_response(_request: Request, error: ProblemError) -> Response:
    body: dict[str, Any] = {"type": "about:blank", "title": error.title, "status": error.status,
                            "detail": error.detail}
    if error.field is not None:
        body["field"] = error.field
    return Response(orjson.dumps(body), status_code=error.status,
                    media_type="application/problem+json")


async def tenant_of_token(request: Request,
                          authorization: Annotated[str | None, Header()] = None) -> str:
    """Return the tenant path bound to the bearer token, or raise a 401 problem."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise ProblemError(401, "Unauthorized", "missing bearer token; send `Authorization: "
                           "Bearer <token>` with an API token")
    token_hash = hashlib.sha256(token.encode()).digest()
    async with request.app.state.pool.acquire() as connection:
        principal = await connection.fetchrow(AUTHENTICATE, token_hash)
    if principal is None:
        raise ProblemError(401, "Unauthorized", "the bearer token is unknown, expired or revoked")
    return principal["tenant_path"]


def format_timestamp(value: datetime.datetime) -> str:
    """Format as chrono's ``to_rfc3339_opts(SecondsFormat::AutoSi, true)`` does for UTC."""
    value = value.astimezone(datetime.timezone.utc)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    micros = value.microsecond
    if micros == 0:
        return text + "Z"
    if micros % 1000 == 0:
        return f"{text}.{micros // 1000:03d}Z"
    return f"{text}.{micros:06d}Z"


def shortest_float32(value: float) -> float:
    """Return the shortest decimal that reads back as the same 32-bit float, as serde_json writes an f32."""
    packed = struct.pack("<f", value)
    for digits in range(1, 10):
        candidate = float(f"{value:.{digits}g}")
        if struct.pack("<f", candidate) == packed:
            return candidate
    return value


def micros_since_epoch(value: datetime.datetime) -> int:
    return (value - EPOCH) // ONE_MICROSECOND


def decode_cursor(text: str) -> tuple[datetime.datetime, uuid.UUID]:
    """Parse ``<micros>.<uuid>`` or raise a 422 problem naming the field."""
    try:
        micros, row_id = text.split(".", 1)
        at = EPOCH + datetime.timedelta(microseconds=int(micros))
        return at, uuid.UUID(row_id)
    except (ValueError, OverflowError):
        raise ProblemError(422, "Unprocessable Content",
                           f"cursor `{text}` is not a cursor this API issued; pass `next_cursor` "
                           "of the previous page unchanged", "cursor") from None


def system_view(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "tenant_path": row["tenant_path"],
        "source": row["source"],
        "name": row["name"],
        "root": row["root"],
        "kinds": row["kinds"],
        "risk_class": row["risk_class"],
        "annex_iii_area": row["annex_iii_area"],
        "gpai": row["gpai"],
        "reasons": row["reasons"],
        "confidence": shortest_float32(row["confidence"]),
        "facts": row["facts"],
        "created_at": format_timestamp(row["created_at"]),
        "updated_at": format_timestamp(row["updated_at"]),
    }


@app.get("/api/v1/systems")
async def list_systems(
    request: Request,
    tenant_path: Annotated[str, Depends(tenant_of_token)],
    risk_class: str | None = None,
    kind: str | None = None,
    source: str | None = None,
    cursor: str | None = None,
    limit: Annotated[int, Query()] = DEFAULT_PAGE_SIZE,
) -> Response:
    if risk_class is not None and risk_class not in RISK_CLASSES:
        raise ProblemError(422, "Unprocessable Content",
                           f"risk_class `{risk_class}` is unknown; use one of "
                           f"{', '.join(RISK_CLASSES)}", "risk_class")
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise ProblemError(422, "Unprocessable Content",
                           f"limit {limit} is out of range; pass 1 to {MAX_PAGE_SIZE}", "limit")
    after_at, after_id = decode_cursor(cursor) if cursor is not None else (None, None)

    async with request.app.state.pool.acquire() as connection:
        async with connection.transaction(readonly=True):
            await connection.execute(SET_TENANT, tenant_path)
            # Fetching one row more than the page size shows whether another page follows.
            rows = await connection.fetch(LIST_SYSTEMS, risk_class, kind, source, after_at,
                                          after_id, limit + 1)

    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if has_more and rows:
        last = rows[-1]
        next_cursor = f"{micros_since_epoch(last['created_at'])}.{last['id']}"
    page = {"items": [system_view(row) for row in rows], "next_cursor": next_cursor}
    return Response(orjson.dumps(page), media_type="application/json")
