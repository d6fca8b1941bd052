"""Check that the gateway and the FastAPI reference return the same page for every path.

Usage: check_same.py --gateway URL --fastapi URL --token-file FILE --paths FILE

Each distinct path of the mix is requested once from each server. Both responses must
be 200 with a full page, meaning as many items as the path's limit and a next_cursor.
Their JSON bodies must parse to equal values: the same rows in the same order with the
same fields, and the same next_cursor. Key order inside objects is not compared,
because the gateway writes JSON objects with sorted keys and Postgres stores jsonb keys
in its own order. Exits with status 1 and names the first difference otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


def fetch(base_url: str, path: str, token: str) -> Any:
    request = urllib.request.Request(base_url + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        body = error.read().decode(errors="replace")[:500]
        raise SystemExit(f"error: GET {base_url}{path} returned {error.code}: {body}") from None


def first_difference(expected: Any, actual: Any, where: str = "$") -> str | None:
    """Return the JSON path and values of the first difference, or None when equal."""
    if type(expected) is not type(actual):
        return f"{where}: {expected!r} != {actual!r}"
    if isinstance(expected, dict):
        for key in sorted(set(expected) | set(actual)):
            if key not in expected or key not in actual:
                return f"{where}.{key}: present in only one response"
            found = first_difference(expected[key], actual[key], f"{where}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list):
        if len(expected) != len(actual):
            return f"{where}: {len(expected)} elements != {len(actual)} elements"
        for index, (left, right) in enumerate(zip(expected, actual)):
            found = first_difference(left, right, f"{where}[{index}]")
            if found:
                return found
        return None
    return None if expected == actual else f"{where}: {expected!r} != {actual!r}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gateway", required=True, help="base URL of the gateway")
    parser.add_argument("--fastapi", required=True, help="base URL of the FastAPI reference")
    parser.add_argument("--token-file", required=True, help="file containing the bearer token")
    parser.add_argument("--paths", required=True, help="file with one URL path per line")
    args = parser.parse_args()

    with open(args.token_file, encoding="utf-8") as file:
        token = file.read().strip()
    with open(args.paths, encoding="utf-8") as file:
        paths = sorted({line.strip() for line in file if line.strip()})

    num_rows = 0
    for path in paths:
        gateway_page = fetch(args.gateway, path, token)
        fastapi_page = fetch(args.fastapi, path, token)
        difference = first_difference(gateway_page, fastapi_page)
        if difference:
            print(f"error: the servers differ for {path} (gateway != fastapi) at {difference}",
                  file=sys.stderr)
            return 1
        limit = int(urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)["limit"][0])
        if len(gateway_page["items"]) != limit or not gateway_page["next_cursor"]:
            print(f"error: {path} returned {len(gateway_page['items'])} items and next_cursor "
                  f"{gateway_page['next_cursor']!r}; the mix needs full pages, so seed more "
                  "systems", file=sys.stderr)
            return 1
        num_rows += len(gateway_page["items"])
    print(f"rest-bench: both servers returned the same {num_rows} rows for {len(paths)} "
          "distinct paths", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
