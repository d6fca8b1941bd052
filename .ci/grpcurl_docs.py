#!/usr/bin/env python3
"""Run every grpcurl command in docs/grpc.md against a local server through gRPC reflection.

grpcurl itself is not installed where CI runs, so this script runs its commands instead. It reads
the fenced code blocks of docs/grpc.md that contain `grpcurl` lines and parses each command's flags.
It resolves services and methods only through the server's reflection service (no .proto files).
It converts the `-d` JSON into request messages, rejecting unknown fields, and calls each method
with the command's headers. Commands run in the order the docs list them, and `<...>` placeholders
are filled from earlier responses through the PLACEHOLDERS table below.

It prints one line per command and exits 1 when a command fails with a status that
EXPECTED_STATUSES does not list, or 2 when the docs hold a command it cannot read.

Usage: grpcurl_docs.py --addr 127.0.0.1:PORT [--token TOKEN] [--docs docs/grpc.md]
The token defaults to $SECRUNA_TOKEN. Requires grpcio, grpcio-reflection and protobuf.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from grpc_reflection.v1alpha import reflection_pb2

# Non-OK statuses that a documented command may return without failing the check, with the
# reason. CancelScan follows WatchScan, which returns only once the scan has finished, and
# cancelling a finished scan is documented to return FAILED_PRECONDITION.
EXPECTED_STATUSES = {
    ("secruna.v1.Scans/CancelScan", "FAILED_PRECONDITION"): "the scan finished during WatchScan",
}


@dataclass(frozen=True)
class Placeholder:
    """Source of the value for a `<...>` placeholder in a request field."""

    method: str | None  # the earlier call whose first response contains the value
    path: tuple = ()  # keys and indexes into that response, as proto field names
    argument: str | None = None  # or the command-line option that contains it


# (request field, placeholder) -> source of the value.
PLACEHOLDERS = {
    ("system_id", "<uuid>"): Placeholder("secruna.v1.Inventory/ListSystems", ("systems", 0, "system_id")),
    ("scan_id", "<uuid>"): Placeholder("secruna.v1.Scans/StartScan", ("scan_id",)),
    ("targets", "<folder>"): Placeholder(None, argument="scan_target"),
}



def check_batch_acks(responses: list[dict]) -> str | None:
    """Return why the StreamFindings acknowledgements reject a finding, or None."""
    for ack in responses:
        if ack.get("batch_error") or ack.get("errors"):
            return f"batch {ack.get('sequence', 0)} rejected: {json.dumps(ack)}"
    return None


def check_last(flag: str):
    """Build a check that the last streamed message has `flag` set."""

    def check(responses: list[dict]) -> str | None:
        if not responses or not responses[-1].get(flag):
            return f"the stream ended without a message with {flag}: true"
        return None

    return check


# Checks on the responses of calls that return OK, as JSON dicts with proto field names. A
# check returns why the documented outcome was not reached, or None. MessageToDict leaves
# out fields at their default value.
RESPONSE_CHECKS = {
    "grpc.health.v1.Health/Check": lambda r: None if r[0].get("status") == "SERVING" else f"not serving: {r[0]}",
    "secruna.v1.Ingest/StreamFindings": check_batch_acks,
    "secruna.v1.Scans/WatchScan": check_last("finished"),
    "secruna.v1.Compliance/ExportEvidencePack": check_last("last"),
}

# Received-message limit of a command without -max-msg-sz, in bytes. 4 MiB is also the
# default of grpcio's channels.
GRPCURL_MAX_MESSAGE_BYTES = 4 * 1024 * 1024
REFLECTION_METHODS = (
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
)


class DocError(Exception):
    """A docs line that this script cannot run as grpcurl would."""


class CommandFailed(Exception):
    """A command that ran and failed for a reason other than a gRPC status."""


@dataclass
class Command:
    """One grpcurl command from the docs, with its flags parsed."""

    line: int
    text: str
    plaintext: bool = False
    headers: list = field(default_factory=list)  # (name, value) for reflection and RPCs
    rpc_headers: list = field(default_factory=list)
    reflect_headers: list = field(default_factory=list)
    data: str | None = None
    max_msg_size: int = GRPCURL_MAX_MESSAGE_BYTES
    address: str = ""
    verb: str = ""  # "list", "describe" or "call"
    symbol: str | None = None


# ---------------------------------------------------------------- reading the docs


def expand(text: str, variables: dict, line: int) -> str:
    """Expand $NAME and ${NAME} as the shell would, rejecting unset names and $(...)."""

    def lookup(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        if name not in variables:
            raise DocError(f"line {line}: ${name} is not set; export it before running this check")
        return variables[name]

    if "$(" in text or "`" in text:
        raise DocError(f"line {line}: command substitution is not supported: {text}")
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lookup, text)


def split_words(text: str, variables: dict, line: int) -> list[str]:
    """Split a shell line into words, honouring quotes, backslashes and variables."""
    words, current, in_word, i = [], [], False, 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            if in_word:
                words.append("".join(current))
                current, in_word = [], False
        elif char == "'":
            end = text.find("'", i + 1)
            if end < 0:
                raise DocError(f"line {line}: unterminated single quote")
            current.append(text[i + 1 : end])
            in_word, i = True, end
        elif char == '"':
            end = i + 1
            while end < len(text) and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            if end >= len(text):
                raise DocError(f"line {line}: unterminated double quote")
            inner = re.sub(r'\\([\\"$`])', r"\1", text[i + 1 : end])
            current.append(expand(inner, variables, line))
            in_word, i = True, end
        elif char == "\\" and i + 1 < len(text):
            current.append(text[i + 1])
            in_word, i = True, i + 1
        elif char in "|;&<>":
            raise DocError(f"line {line}: shell operator {char!r} is not supported: {text}")
        else:
            end = i
            while end < len(text) and not text[end].isspace() and text[end] not in "'\"\\|;&<>":
                end += 1
            current.append(expand(text[i:end], variables, line))
            in_word, i = True, end - 1
        i += 1
    if in_word:
        words.append("".join(current))
    return words


def code_blocks(lines: list[str]):
    """Yield (first line number, lines) for each fenced code block."""
    start, body = None, []
    for number, text in enumerate(lines, 1):
        if text.lstrip().startswith("```"):
            if start is None:
                start, body = number + 1, []
            else:
                yield start, body
                start = None
        elif start is not None:
            body.append(text)


def read_commands(docs: Path, variables: dict) -> list[Command]:
    """Extract the grpcurl commands of the docs' code blocks, in order."""
    commands = []
    for start, body in code_blocks(docs.read_text().splitlines()):
        if not any(text.lstrip().startswith("grpcurl ") for text in body):
            continue
        index = 0
        while index < len(body):
            line, text = start + index, body[index].strip()
            index += 1
            while text.endswith("\\") and index < len(body):
                text, index = text[:-1] + " " + body[index].strip(), index + 1
            if not text or text.startswith("#"):
                continue
            if text.startswith("export "):
                name, _, value = text[len("export ") :].partition("=")
                if not re.fullmatch(r"\w+", name) or not value:
                    raise DocError(f"line {line}: expected `export NAME=VALUE`: {text}")
                variables[name] = "".join(split_words(value, variables, line))
                continue
            if not text.startswith("grpcurl "):
                raise DocError(
                    f"line {line}: a block with grpcurl commands may contain only `export` and "
                    f"`grpcurl` lines, not: {text}"
                )
            heredoc = None
            marker = re.search(r"<<-?\s*(['\"]?)(\w+)\1\s*$", text)
            if marker:
                text, delimiter = text[: marker.start()], marker.group(2)
                end = next((i for i in range(index, len(body)) if body[i].strip() == delimiter), None)
                if end is None:
                    raise DocError(f"line {line}: here-document {delimiter} is not closed")
                heredoc, index = "\n".join(body[index:end]), end + 1
                if not marker.group(1):
                    # The shell expands variables in a here-document whose delimiter is unquoted.
                    heredoc = expand(heredoc, variables, line)
            commands.append(parse_command(line, text, split_words(text, variables, line), heredoc))
    return commands


def parse_command(line: int, text: str, words: list[str], heredoc: str | None) -> Command:
    """Parse grpcurl's flags and arguments, rejecting any flag this script does not run."""
    command = Command(line=line, text=text)
    positional = parse_flags(command, words[1:])

    if command.data == "@":
        if heredoc is None:
            raise DocError(f"line {line}: -d @ reads standard input, but no here-document follows")
        command.data = heredoc
    elif heredoc is not None:
        raise DocError(f"line {line}: a here-document is given without -d @")

    if not positional:
        raise DocError(f"line {line}: the server address is missing")
    command.address, rest = positional[0], positional[1:]
    if not re.fullmatch(r"[\w.\-]+:\d+", command.address):
        raise DocError(f"line {line}: address {command.address!r} is not HOST:PORT")
    if rest and rest[0] in ("list", "describe"):
        command.verb, rest = rest[0], rest[1:]
        if command.data is not None:
            raise DocError(f"line {line}: -d has no use with {command.verb}")
    elif rest:
        command.verb = "call"
    else:
        raise DocError(f"line {line}: expected list, describe or a method after the address")
    command.symbol = rest[0] if rest else None
    if len(rest) > 1:
        raise DocError(f"line {line}: too many arguments: {' '.join(rest[1:])}")
    return command


def parse_flags(command: Command, words: list[str]) -> list[str]:
    """Store the flags before the first argument in `command`, and return the arguments."""
    line, args, positional = command.line, iter(words), []
    for word in args:
        if not word.startswith("-") or positional:
            positional.append(word)
            continue
        name, has_value, value = word.lstrip("-").partition("=")
        if name == "plaintext":
            command.plaintext = value.lower() not in ("false", "0") if has_value else True
            continue
        if name not in ("H", "rpc-header", "reflect-header", "d", "max-msg-sz"):
            raise DocError(f"line {line}: grpcurl flag -{name} is not supported by this check: {command.text}")
        if not has_value:
            value = next(args, None)
            if value is None:
                raise DocError(f"line {line}: flag -{name} needs a value")

        if name == "d":
            command.data = value
        elif name == "max-msg-sz":
            if not value.isdigit():
                raise DocError(f"line {line}: -max-msg-sz must be a byte count, not {value!r}")
            command.max_msg_size = int(value)
        else:
            header_name, colon, header_value = value.partition(":")
            if not colon or not header_name.strip():
                raise DocError(f"line {line}: header {value!r} is not `name: value`")
            headers = {"H": command.headers, "rpc-header": command.rpc_headers}.get(name, command.reflect_headers)
            headers.append((header_name.strip().lower(), header_value.strip()))
    return positional


# ---------------------------------------------------------------- reflection


class Reflection:
    """A reflection client that loads the server's descriptors into its own pool."""

    def __init__(self, channel: grpc.Channel, metadata: list, timeout: float):
        self.channel, self.metadata, self.timeout = channel, metadata, timeout
        self.pool = descriptor_pool.DescriptorPool()
        self.files: dict[str, descriptor_pb2.FileDescriptorProto] = {}
        self.added: set[str] = set()

    def request(self, **fields) -> reflection_pb2.ServerReflectionResponse:
        """Send one reflection request, to v1 first and to v1alpha when the server lacks v1."""
        request = reflection_pb2.ServerReflectionRequest(**fields)
        for method in REFLECTION_METHODS:
            call = self.channel.stream_stream(
                method,
                request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
                response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
            )
            try:
                response = next(call(iter([request]), metadata=self.metadata, timeout=self.timeout))
            except grpc.RpcError as error:
                if error.code() == grpc.StatusCode.UNIMPLEMENTED and method != REFLECTION_METHODS[-1]:
                    continue
                raise CommandFailed(f"reflection failed: {error.code().name}: {error.details()}") from None
            if response.HasField("error_response"):
                raise CommandFailed(f"reflection: {response.error_response.error_message} ({fields})")
            return response
        raise AssertionError("the loop returns or raises on the last method")

    def list_services(self) -> list[str]:
        """Return the names of the services the server lists."""
        response = self.request(list_services="")
        return [service.name for service in response.list_services_response.service]

    def load_symbol(self, symbol: str):
        """Load the file that defines a symbol, with its imports, and return the pool."""
        self.store(self.request(file_containing_symbol=symbol))
        return self.pool

    def store(self, response: reflection_pb2.ServerReflectionResponse) -> None:
        names = []
        for raw in response.file_descriptor_response.file_descriptor_proto:
            proto = descriptor_pb2.FileDescriptorProto.FromString(raw)
            self.files.setdefault(proto.name, proto)
            names.append(proto.name)
        for name in names:
            self.add(name)

    def add(self, name: str) -> None:
        """Add a file to the pool after its imports, fetching imports the server did not send."""
        if name in self.added:
            return
        if name not in self.files:
            self.store(self.request(file_by_filename=name))
            return
        for dependency in self.files[name].dependency:
            self.add(dependency)
        self.pool.AddSerializedFile(self.files[name].SerializeToString())
        self.added.add(name)


# ---------------------------------------------------------------- running commands


def field_key(name: str) -> str:
    """Return the proto field name for a JSON name (`systemId` becomes `system_id`)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def fill_placeholders(value, field_name: str | None, responses: dict, options):
    """Replace each `<...>` string in a parsed JSON request through PLACEHOLDERS."""
    if isinstance(value, dict):
        return {key: fill_placeholders(item, field_key(key), responses, options) for key, item in value.items()}
    if isinstance(value, list):
        return [fill_placeholders(item, field_name, responses, options) for item in value]
    if not isinstance(value, str) or not re.search(r"<[^<>]+>", value):
        return value
    source = PLACEHOLDERS.get((field_name, value))
    if source is None:
        raise CommandFailed(f"unknown placeholder {value!r} in field {field_name}; add it to PLACEHOLDERS")
    if source.argument:
        return getattr(options, source.argument)
    if source.method not in responses:
        raise CommandFailed(f"placeholder {value!r} in {field_name} needs a successful {source.method} earlier")
    found = responses[source.method]
    for step in source.path:
        try:
            found = found[step]
        except (KeyError, IndexError):
            raise CommandFailed(f"placeholder {value!r}: {source.method} returned no {source.path}") from None
    return found


def parse_requests(data: str | None) -> list[dict]:
    """Parse grpcurl's -d data, a sequence of JSON objects."""
    decoder, position, objects = json.JSONDecoder(), 0, []
    data = data or ""
    while True:
        while position < len(data) and data[position].isspace():
            position += 1
        if position == len(data):
            return objects
        try:
            value, position = decoder.raw_decode(data, position)
        except json.JSONDecodeError as error:
            raise CommandFailed(f"invalid JSON in -d: {error}") from None
        if not isinstance(value, dict):
            raise CommandFailed(f"-d contains a JSON {type(value).__name__}, expected a JSON object")
        objects.append(value)


def call_method(command: Command, reflection: Reflection, channel, metadata, responses, options) -> str:
    """Call a documented method generically and return a short result."""
    service_name, slash, method_name = command.symbol.rpartition("/")
    if not slash:
        service_name, _, method_name = command.symbol.rpartition(".")
    pool = reflection.load_symbol(service_name)
    try:
        method = pool.FindServiceByName(service_name).methods_by_name[method_name]
    except KeyError:
        raise CommandFailed(f"service {service_name} has no method {method_name}") from None
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    objects = parse_requests(command.data)
    if not method.client_streaming:
        if len(objects) > 1:
            raise CommandFailed(f"{len(objects)} request messages given for a unary request")
        objects = objects or [{}]
    requests = []
    for obj in objects:
        obj = fill_placeholders(obj, None, responses, options)
        try:
            requests.append(json_format.ParseDict(obj, request_class(), descriptor_pool=pool))
        except json_format.ParseError as error:
            detail = " ".join(str(error).split())
            raise CommandFailed(f"request does not match {method.input_type.full_name}: {detail}") from None

    path = f"/{service_name}/{method_name}"
    request_kind = "stream" if method.client_streaming else "unary"
    response_kind = "stream" if method.server_streaming else "unary"
    kind = f"{request_kind}_{response_kind}"  # the grpc.Channel factory, such as unary_stream
    stub = getattr(channel, kind)(path, request_serializer=lambda m: m.SerializeToString(),
                                  response_deserializer=response_class.FromString)
    argument = iter(requests) if method.client_streaming else requests[0]
    result = stub(argument, metadata=metadata, timeout=options.timeout)
    messages = list(result) if method.server_streaming else [result]
    as_dicts = [json_format.MessageToDict(m, preserving_proto_field_name=True) for m in messages]
    if options.verbose:
        for item in as_dicts:
            print("    " + json.dumps(item))
    check = RESPONSE_CHECKS.get(command.symbol)
    problem = check(as_dicts) if check else None
    if problem:
        raise CommandFailed(problem)
    if as_dicts:
        responses[command.symbol] = as_dicts[0]
    return f"OK ({len(messages)} response{'s' if len(messages) != 1 else ''})"


def run_command(command: Command, options, responses: dict) -> tuple[str, bool]:
    """Run one command against the target address, and return its result line and whether it passed."""
    name = command.symbol if command.verb == "call" else f"{command.verb} {command.symbol or ''}".strip()
    prefix = f"line {command.line}: {name}:"
    if not command.plaintext:
        return f"{prefix} FAILED: -plaintext is missing, so grpcurl would use TLS against a plaintext server", False
    channel_options = [("grpc.max_receive_message_length", command.max_msg_size)]
    with grpc.insecure_channel(options.addr, options=channel_options) as channel:
        reflection = Reflection(channel, command.headers + command.reflect_headers, options.timeout)
        try:
            if command.verb == "list":
                if command.symbol:
                    service = reflection.load_symbol(command.symbol).FindServiceByName(command.symbol)
                    found = [method.full_name for method in service.methods]
                else:
                    found = reflection.list_services()
                if not found:
                    return f"{prefix} FAILED: the list is empty", False
                return f"{prefix} OK ({', '.join(found)})", True
            if command.verb == "describe" and not command.symbol:
                services = reflection.list_services()
                for service in services:
                    reflection.load_symbol(service)
                return f"{prefix} OK ({len(services)} services)", True
            if command.verb == "describe":
                pool = reflection.load_symbol(command.symbol)
                return f"{prefix} OK ({describe(pool, command.symbol)})", True
            metadata = command.headers + command.rpc_headers
            return f"{prefix} {call_method(command, reflection, channel, metadata, responses, options)}", True
        except grpc.RpcError as error:
            status = error.code().name
            reason = EXPECTED_STATUSES.get((command.symbol, status))
            outcome = f"{status}: {error.details()}"
            if reason:
                return f"{prefix} {outcome} (expected: {reason})", True
            return f"{prefix} FAILED: {outcome}", False
        except CommandFailed as error:
            return f"{prefix} FAILED: {error}", False


def describe(pool, symbol: str) -> str:
    """Return which kind of element a symbol names: service, message, enum or method."""
    for finder, kind in ((pool.FindServiceByName, "service"), (pool.FindMessageTypeByName, "message"),
                         (pool.FindEnumTypeByName, "enum"), (pool.FindMethodByName, "method")):
        try:
            element = finder(symbol)
        except KeyError:
            continue
        if kind == "service":
            return f"service with methods {', '.join(method.name for method in element.methods)}"
        return kind
    raise CommandFailed(f"reflection returned a file without {symbol}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", default=os.environ.get("SECRUNA_GRPC_ADDR"),
                        help="gRPC address to call, 127.0.0.1:PORT (default: $SECRUNA_GRPC_ADDR)")
    parser.add_argument("--token", default=os.environ.get("SECRUNA_TOKEN"),
                        help="a write token for the docs' $SECRUNA_TOKEN (default: $SECRUNA_TOKEN)")
    parser.add_argument("--docs", type=Path, default=Path(__file__).resolve().parent.parent / "docs" / "grpc.md",
                        help="Markdown file whose grpcurl commands to run (default: docs/grpc.md)")
    parser.add_argument("--scan-target", default="loan-screening",
                        help="folder under the server's --scan-root for <folder> (default: loan-screening)")
    parser.add_argument("--timeout", type=float, default=120.0, help="deadline of each call, in seconds")
    parser.add_argument("--verbose", action="store_true", help="print every response as JSON")
    options = parser.parse_args()
    if not options.addr or not re.fullmatch(r"127\.0\.0\.1:\d+", options.addr):
        parser.error(f"--addr must be 127.0.0.1:PORT, not {options.addr!r}; this check calls only local servers")
    if not options.token:
        parser.error("set SECRUNA_TOKEN or --token to a write token of the server under test")

    variables = {"SECRUNA_TOKEN": options.token}
    try:
        commands = read_commands(options.docs, variables)
    except DocError as error:
        print(f"{options.docs}: {error}", file=sys.stderr)
        return 2
    if not commands:
        print(f"{options.docs}: no grpcurl command found", file=sys.stderr)
        return 2

    responses: dict = {}
    failed = 0
    for command in commands:
        result, passed = run_command(command, options, responses)
        failed += not passed
        print(result, flush=True)
    print(f"grpcurl commands in {options.docs.name}: {len(commands) - failed} of {len(commands)} ran as documented")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
