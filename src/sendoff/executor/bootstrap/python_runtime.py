"""sendoff's Python runtime: the process inside a `python3.x` execution environment.

Run as a script (`python -u [-S] python_runtime.py [site-packages ...]`), never imported
by sendoff. It behaves like AWS's Python runtime (awslambdaric): it imports the handler
during init, then loops on the Runtime API: `GET /next`, call the handler, `POST` the
response or the error. Errors have the same JSON shape and wording as AWS's.

Start-up is most of a cold start, so the runtime imports only what the interpreter has
already loaded plus the C modules `_socket` and `_json`: the Runtime API is spoken over
one keep-alive socket by hand, and JSON goes through the same C scanner and encoder the
`json` package uses (which itself would pull in `re`, `enum` and friends: `json` and
`socket` together cost more than the rest of the start-up). `traceback`, `logging` and
`json` (for exact error messages) are imported only when needed.
"""

from __future__ import annotations

import _socket
import os
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs milliseconds at start-up; annotations need no import
    from collections.abc import Callable
    from typing import Any

_NBSP = "\u00a0"
_ASCII_RUNTIMES = {"AWS_Lambda_python3.9", "AWS_Lambda_python3.10", "AWS_Lambda_python3.11"}
"""AWS's runtime escapes non-ASCII characters in responses only before python3.12."""
_current_request_id = ""
_path_pairs: list[tuple[str, str]] = []
"""(sendoff's prefix, AWS's prefix) for traces, longest first: see `aws_paths`."""


class Fault(Exception):
    """An error the runtime itself reports (errorType `Runtime.*`)."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


# -- JSON ------------------------------------------------------------------------------


class _ScannerContext:
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict[str, Any] = {}

    @staticmethod
    def parse_constant(name: str) -> float:
        return {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}[name]


def _json_default(value: Any) -> Any:
    import decimal

    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class JsonCodec:
    """`json.loads` / `json.dumps(default=...)` on the `_json` C accelerator; falls back to
    the `json` package when the accelerator is missing or disagrees."""

    _WHITESPACE = " \t\n\r"

    def __init__(self, ensure_ascii: bool) -> None:
        self._ensure_ascii = ensure_ascii
        try:
            import _json

            context: Any = _ScannerContext()
            self._scan: Any = _json.make_scanner(context)
            self._quote: Any = (
                _json.encode_basestring_ascii if ensure_ascii else _json.encode_basestring
            )
            self._make_encoder: Any = _json.make_encoder
            self._new_encoder()  # fail here, not on the first response, if it disagrees
        except (ImportError, AttributeError, TypeError):
            self._scan = self._make_encoder = None

    def _new_encoder(self) -> Any:
        # A fresh encoder per call, as json.dumps does: its circular-reference markers
        # must not survive an encoding that failed half-way.
        return self._make_encoder(
            {}, _json_default, self._quote, None, ": ", ", ", False, False, True
        )

    def loads(self, data: bytes) -> Any:
        try:
            text = data.decode("utf-8")
            if self._scan is None:
                raise ValueError("no accelerator")
            index = len(text) - len(text.lstrip(self._WHITESPACE))
            value, end = self._scan(text, index)
            if text[end:].strip(self._WHITESPACE):
                raise ValueError
            return value
        except (ValueError, StopIteration, UnicodeDecodeError):
            import json  # the slow path raises json's exact error message

            return json.loads(data)

    def dumps(self, value: Any) -> bytes:
        if self._make_encoder is None:
            import json

            text = json.dumps(value, default=_json_default, ensure_ascii=self._ensure_ascii)
        elif isinstance(value, str):
            text = self._quote(value)
        else:
            text = "".join(self._new_encoder()(value, 0))
        return text.encode("utf-8")


# -- Runtime API client ----------------------------------------------------------------


class RuntimeClient:
    """A minimal HTTP/1.1 keep-alive client for the Runtime API."""

    def __init__(self, address: str) -> None:
        host, _, port = address.rpartition(":")
        self._address = (host.strip("[]"), int(port))
        self._host = address
        self._sock: _socket.socket | None = None
        self._buffer = bytearray()

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        sock = self._sock
        if sock is None:
            family = _socket.AF_INET6 if ":" in self._address[0] else _socket.AF_INET
            sock = _socket.socket(family, _socket.SOCK_STREAM)
            sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            sock.connect(self._address)
            self._sock = sock
            self._buffer.clear()
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self._host}\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n"
        ).encode()
        if len(body) < 65536:
            sock.sendall(head + body)
        else:
            sock.sendall(head)
            sock.sendall(body)
        end = self._fill_until(b"\r\n\r\n")
        lines = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
        del self._buffer[: end + 4]
        status = int(lines[0].split()[1])
        response_headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            response_headers[name.strip().lower()] = value.strip()
        length = int(response_headers.get("content-length", "0"))
        while len(self._buffer) < length:
            self._receive()
        content = bytes(self._buffer[:length])
        del self._buffer[:length]
        if response_headers.get("connection", "").lower() == "close":
            sock.close()
            self._sock = None
        return status, response_headers, content

    def _fill_until(self, marker: bytes) -> int:
        start = 0
        while True:
            found = self._buffer.find(marker, start)
            if found >= 0:
                return found
            start = max(0, len(self._buffer) - len(marker) + 1)
            self._receive()

    def _receive(self) -> None:
        assert self._sock is not None
        chunk = self._sock.recv(65536)
        if not chunk:
            raise ConnectionError("the Runtime API closed the connection")
        self._buffer += chunk


class CognitoIdentity:
    def __init__(self, identity: dict[str, Any] | None) -> None:
        identity = identity or {}
        self.cognito_identity_id: str | None = identity.get("cognitoIdentityId")
        self.cognito_identity_pool_id: str | None = identity.get("cognitoIdentityPoolId")


class Client:
    def __init__(self, client: dict[str, Any]) -> None:
        self.installation_id: str | None = client.get("installation_id")
        self.app_title: str | None = client.get("app_title")
        self.app_version_name: str | None = client.get("app_version_name")
        self.app_version_code: str | None = client.get("app_version_code")
        self.app_package_name: str | None = client.get("app_package_name")


class ClientContext:
    def __init__(self, context: dict[str, Any]) -> None:
        client = context.get("client")
        self.client: Client | None = Client(client) if isinstance(client, dict) else None
        self.custom: Any = context.get("custom")
        self.env: Any = context.get("env")


class LambdaContext:
    """The `context` argument, with the attributes AWS's Python runtime provides."""

    def __init__(
        self,
        request_id: str,
        deadline_ms: int,
        invoked_function_arn: str,
        client_context: dict[str, Any] | None,
        identity: dict[str, Any] | None,
    ) -> None:
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.client_context = ClientContext(client_context) if client_context else None
        self.identity = CognitoIdentity(identity)
        self.tenant_id: str | None = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn}])"
        )


def load_handler(handler: str) -> Callable[[Any, LambdaContext], Any]:
    """Import `module.function` the way AWS does, with AWS's error types and wording."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as error:
        raise Fault("Runtime.MalformedHandlerName", f"Bad handler '{handler}': {error}") from None
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise Fault(
            "Runtime.BuiltInModuleConflict",
            f"Cannot use built-in module {module_name} as a handler module",
        )
    import importlib

    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as error:
        raise Fault(
            "Runtime.ImportModuleError",
            f"Unable to import module '{module_name}': {error}",
        ) from None
    except SyntaxError as error:
        trace = [f'  File "{aws_path(error.filename or "")}" Line {error.lineno}\n    {error.text}']
        raise Fault(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in module '{module_name}': {error}",
            trace,
        ) from None
    try:
        function: Callable[[Any, LambdaContext], Any] = getattr(module, function_name)
    except AttributeError:
        raise Fault(
            "Runtime.HandlerNotFound",
            f"Handler '{function_name}' missing on module '{module_name}'",
        ) from None
    return function


def error_from_exception(error: BaseException, request_id: str | None) -> dict[str, Any]:
    """`{errorMessage, errorType, requestId, stackTrace}` as AWS's runtime builds it."""
    if isinstance(error, Fault):
        return make_error(error.message, error.error_type, error.trace or [], request_id)
    import traceback

    frames = traceback.extract_tb(error.__traceback__)
    while frames and frames[0].filename == __file__:
        frames.pop(0)
    for frame in frames:
        frame.filename = aws_path(frame.filename)
    return make_error(str(error), type(error).__name__, traceback.format_list(frames), request_id)


def aws_paths(task_root: str, extra_paths: list[str]) -> list[tuple[str, str]]:
    """Where AWS keeps what sendoff keeps elsewhere: the code at /var/task, the runtime's
    packages (boto3...) at /var/runtime, the standard library at /var/lang/lib/pythonX.Y."""
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    pairs: dict[str, str] = {}
    for root in (os.path.dirname(os.__file__),):
        for form in (root, os.path.realpath(root)):
            pairs[form.rstrip("/") + "/"] = f"/var/lang/lib/{version}/"
    for path in extra_paths:
        for form in (path, os.path.realpath(path)):
            pairs[form.rstrip("/") + "/"] = "/var/runtime/"
    for form in (task_root, os.path.abspath(task_root), os.path.realpath(task_root)):
        pairs[form.rstrip("/") + "/"] = "/var/task/"
    pairs.pop("/", None)
    return sorted(pairs.items(), key=lambda pair: len(pair[0]), reverse=True)


def aws_path(filename: str) -> str:
    for prefix, aws in _path_pairs:
        if filename.startswith(prefix):
            return aws + filename[len(prefix) :]
    return filename


def make_error(
    message: str, error_type: str, trace: list[str], request_id: str | None
) -> dict[str, Any]:
    return {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": request_id or "",
        "stackTrace": trace,
    }


def log_error(error: dict[str, Any]) -> None:
    """Print an error the way AWS's runtime does: one record, lines joined by CR."""
    lines = [f"[ERROR] {error['errorType']}: {error['errorMessage']}"]
    lines.append("Traceback (most recent call last):")
    for element in error.get("stackTrace") or []:
        for line in str(element).splitlines():
            stripped = line.lstrip(" ")
            lines.append(_NBSP * (len(line) - len(stripped)) + stripped)
    sys.stdout.write("\r".join(lines) + "\n")


_logging_ready = False


def setup_logging() -> None:
    """Give the root logger AWS's handler and format once the function imports logging."""
    global _logging_ready
    if _logging_ready or "logging" not in sys.modules:
        return
    _logging_ready = True
    import logging

    class LambdaLoggerHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            sys.stdout.write(self.format(record))

    class RequestIdFilter(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            record.aws_request_id = _current_request_id
            return True

    logging.Formatter.converter = time.gmtime
    handler = LambdaLoggerHandler()
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    handler.addFilter(RequestIdFilter())
    logging.getLogger().addHandler(handler)


class LoggingHook:
    """Sets up `logging` the moment the function first imports it: importing it eagerly
    would add milliseconds to every cold start, and a handler may import it late."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != "logging":
            return None
        sys.meta_path.remove(self)
        from importlib.machinery import PathFinder

        spec = PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _ConfigureAfterLoad(spec.loader)  # type: ignore[assignment]
        return spec


class _ConfigureAfterLoad:
    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._loader.exec_module(module)
        setup_logging()


def prepare_interpreter(task_root: str, extra_paths: list[str]) -> None:
    """sys.path = [task root, standard library..., server site-packages...]."""
    if sys.path and os.path.dirname(os.path.abspath(__file__)) == os.path.abspath(
        sys.path[0] or "."
    ):
        del sys.path[0]
    sys.path.insert(0, task_root)
    for path in extra_paths:
        if path not in sys.path:
            sys.path.append(path)
    sys.argv = [sys.argv[0]]
    if "site" not in sys.modules:  # started with -S: provide what `site` would have
        import _sitebuiltins
        import builtins

        builtins.exit = _sitebuiltins.Quitter("exit", "Ctrl-D (i.e. EOF)")
        builtins.quit = _sitebuiltins.Quitter("quit", "Ctrl-D (i.e. EOF)")


def main() -> None:
    global _current_request_id
    task_root = os.environ.get("LAMBDA_TASK_ROOT", os.getcwd())
    _path_pairs[:] = aws_paths(task_root, sys.argv[1:])
    prepare_interpreter(task_root, sys.argv[1:])
    if "logging" in sys.modules:
        setup_logging()
    else:
        sys.meta_path.insert(0, LoggingHook())
    codec = JsonCodec(ensure_ascii=os.environ.get("AWS_EXECUTION_ENV", "") in _ASCII_RUNTIMES)
    client = RuntimeClient(os.environ["AWS_LAMBDA_RUNTIME_API"])
    base = "/2018-06-01/runtime"

    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Exception as error:
        init_error = error_from_exception(error, None)
        log_error(init_error)
        body = codec.dumps(init_error)
        headers = {"Lambda-Runtime-Function-Error-Type": init_error["errorType"]}
        client.request("POST", f"{base}/init/error", body, headers)
        sys.exit(1)

    while True:
        try:
            status, headers, body = client.request("GET", f"{base}/invocation/next")
        except OSError:
            os._exit(0)  # the executor went away
        if status != 200:
            sys.exit(1)
        request_id = headers.get("lambda-runtime-aws-request-id", "")
        _current_request_id = request_id
        trace_id = headers.get("lambda-runtime-trace-id")
        if trace_id:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        try:
            context = LambdaContext(
                request_id,
                int(headers.get("lambda-runtime-deadline-ms", "0")),
                headers.get("lambda-runtime-invoked-function-arn", ""),
                _json_header(codec, headers.get("lambda-runtime-client-context"), "Client Context"),
                _json_header(
                    codec, headers.get("lambda-runtime-cognito-identity"), "Cognito Identity"
                ),
            )
            try:
                event = codec.loads(body)
            except ValueError as error:
                message = f"Unable to unmarshal input: {error}"
                raise Fault("Runtime.UnmarshalError", message) from None
            result = handler(event, context)
            if isinstance(result, bytes):
                payload = result
            else:
                try:
                    payload = codec.dumps(result)
                except (TypeError, ValueError) as error:
                    message = f"Unable to marshal response: {error}"
                    raise Fault("Runtime.MarshalError", message) from None
        except Exception as error:
            failure = error_from_exception(error, request_id)
            log_error(failure)
            client.request(
                "POST",
                f"{base}/invocation/{request_id}/error",
                codec.dumps(failure),
                {"Lambda-Runtime-Function-Error-Type": failure["errorType"]},
            )
            continue
        client.request("POST", f"{base}/invocation/{request_id}/response", payload)


def _json_header(codec: JsonCodec, value: str | None, name: str) -> dict[str, Any] | None:
    if not value:
        return None
    try:
        parsed = codec.loads(value.encode("utf-8"))
    except ValueError as error:
        raise Fault(
            "Runtime.LambdaContextUnmarshalError", f"Unable to parse {name} JSON: {error}"
        ) from None
    return parsed if isinstance(parsed, dict) else None


if __name__ == "__main__":
    main()
