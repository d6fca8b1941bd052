#!/usr/bin/env python3
"""Print the detector catalogue's search patterns as ripgrep regexes, one per line.

Stand-in for ``secruna catalogue patterns`` on binaries that lack that subcommand. It
reads ``agents/catalogue/detectors.yaml`` line by line (standard library only, so it
relies on the file's flow-list layout) and prints:

- every literal of ``packages``, ``imports``, ``clients``, ``hosts``, ``images``,
  ``iac_types``, ``ci_actions`` and ``env_vars``, escaped, with an ASCII word boundary
  on each end that is a word character, because the catalogue matches whole names;
- every ``models`` pattern, case-insensitive as the catalogue specifies;
- every ``secrets`` pattern.
"""

import re
import sys
from pathlib import Path

LITERAL_KEYS = {"hosts", "images", "iac_types", "ci_actions", "env_vars"}
NESTED_KEYS = {"packages", "imports", "clients"}
ESCAPED = set("\\.+*?()|[]{}^$")
WORD = re.compile(r"\w")


def flow_list(text: str) -> list[str]:
    """Split a YAML flow list such as ``[a, "b", 'c']`` into its scalars."""
    body = text.strip()
    if not (body.startswith("[") and body.endswith("]")):
        raise ValueError(f"expected a flow list, found {text!r}")
    items, index, body = [], 0, body[1:-1]
    while index < len(body):
        char = body[index]
        if char in " ,":
            index += 1
        elif char == '"':
            end, value = index + 1, []
            while body[end] != '"':
                if body[end] == "\\":
                    end += 1
                value.append(body[end])
                end += 1
            items.append("".join(value))
            index = end + 1
        elif char == "'":
            end = body.index("'", index + 1)
            items.append(body[index + 1:end])
            index = end + 1
        else:
            end = body.find(",", index)
            end = len(body) if end < 0 else end
            items.append(body[index:end].strip())
            index = end
    return items


def literal_regex(literal: str) -> str:
    """Escape ``literal`` and bound each end that is a word character."""
    literal = re.sub(r"\[kind=[^\]]*\]$", "", literal).rstrip("*")
    escaped = "".join("\\" + char if char in ESCAPED else char for char in literal)
    if WORD.match(literal[0]):
        escaped = r"(?-u:\b)" + escaped
    if WORD.match(literal[-1]):
        escaped += r"(?-u:\b)"
    return escaped


def unquote(value: str) -> str:
    value = value.strip()
    if value[:1] == "'" and value[-1:] == "'":
        return value[1:-1].replace("''", "'")
    if value[:1] == '"' and value[-1:] == '"':
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def patterns(text: str) -> list[str]:
    """Return the catalogue's patterns in file order, without duplicates."""
    found, section, nested = [], None, None
    for line in text.splitlines():
        stripped = line.split(" #", 1)[0].rstrip() if not line.lstrip().startswith("#") else ""
        if not stripped:
            continue
        if not line.startswith(" "):
            section = stripped.rstrip(":")
            continue
        key, _, value = stripped.strip().partition(":")
        key = key.lstrip("- ").strip()
        if section == "detectors":
            if key in NESTED_KEYS and not value.strip():
                nested = key
            elif key in LITERAL_KEYS:
                found += [literal_regex(item) for item in flow_list(value)]
            elif nested and value.strip().startswith("[") and line.startswith("      "):
                found += [literal_regex(item) for item in flow_list(value)]
            elif line.startswith("    ") and not line.startswith("      "):
                nested = None
        elif section == "models" and stripped.strip().startswith("- '"):
            found.append(f"(?i:{unquote(stripped.strip()[2:])})")
        elif section == "secrets" and key == "pattern":
            found.append(unquote(value))
    return list(dict.fromkeys(found))


def main(argv: list[str]) -> int:
    default = Path(__file__).resolve().parents[2] / "agents/catalogue/detectors.yaml"
    path = Path(argv[0]) if argv else default
    for pattern in patterns(path.read_text()):
        print(pattern)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
