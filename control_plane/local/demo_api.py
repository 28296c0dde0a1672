"""A small bundled demo API, the default upstream of ``mockado up``.

It returns JSON with realistic (fake, but validly formatted) Brazilian personal
data, so the first run shows the sanitizer at work. It also serves ``/echo``
(returns what it got) and ``/blob`` (a body of ``size`` bytes), which the
integration tests use as their upstream.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

# Fake people with valid check digits: CPF and card numbers pass their validators.
_PEOPLE = [
    {
        "id": 1,
        "name": "Joana Silva",
        "email": "joana.silva+compras@exemplo.com.br",
        "cpf": "529.982.247-25",
        "phone": "+55 11 91234-5678",
        "card": "4111 1111 1111 1111",
        "created_at": "2026-03-01T10:00:00Z",
    },
    {
        "id": 2,
        "name": "Carlos Souza",
        "email": "carlos@loja.example.com",
        "cpf": "11144477735",
        "phone": "(21) 98765-4321",
        "card": "5555-5555-5555-4444",
        "created_at": "2026-04-12T08:30:00Z",
    },
]


async def users(_: Request) -> JSONResponse:
    return JSONResponse({"users": _PEOPLE, "page": 1, "total": len(_PEOPLE)})


async def user(request: Request) -> JSONResponse:
    user_id = int(request.path_params["user_id"])
    for person in _PEOPLE:
        if person["id"] == user_id:
            return JSONResponse(person)
    return JSONResponse({"error": "not found"}, status_code=404)


async def login(request: Request) -> JSONResponse:
    body = await request.body()
    try:
        login_name = json.loads(body or b"{}").get("email", "")
    except (ValueError, AttributeError):
        return JSONResponse({"error": "invalid json"}, status_code=400)
    token_seed = hashlib.sha256(str(login_name).encode()).hexdigest()[:16]
    # An unsigned JWT-shaped token: header {"alg":"HS256","typ":"JWT"}.
    jwt = (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
        "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvYW5hIn0."
        f"{token_seed}"
    )
    response = JSONResponse({"access_token": jwt, "token_type": "Bearer", "expires_in": 3600})
    response.set_cookie("session", token_seed, httponly=True)
    return response


async def echo(request: Request) -> Response:
    body = await request.body()
    content_type = request.headers.get("content-type", "application/octet-stream")
    headers = {}
    if "content-encoding" in request.headers:
        # Echo the body as sent, so a gzip request gives a gzip response.
        headers["content-encoding"] = request.headers["content-encoding"]
    return Response(body, status_code=200, media_type=content_type, headers=headers)


async def blob(request: Request) -> Response:
    size = min(int(request.query_params.get("size", "1024")), 64 * 1024 * 1024)
    payload = (b'{"data":"' + b"x" * max(size - 11, 0) + b'"}')[:size]
    if request.query_params.get("gzip") == "1":
        return Response(
            gzip.compress(payload),
            media_type="application/json",
            headers={"content-encoding": "gzip"},
        )
    return Response(payload, media_type="application/json")


async def health(_: Request) -> Response:
    return Response("ok", media_type="text/plain")


def build_app() -> Starlette:
    return Starlette(
        routes=[
            Route("/healthz", health),
            Route("/api/users", users),
            Route("/api/users/{user_id:int}", user),
            Route("/api/login", login, methods=["POST"]),
            Route("/echo", echo, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
            Route("/echo/{rest:path}", echo, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
            Route("/blob", blob),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mockado demo-api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    uvicorn.run(build_app(), host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
