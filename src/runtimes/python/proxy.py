"""Whirl's `python:3` runtime proxy: `python3 -u <dist>/runtimes/python/proxy.py`.

It answers OpenWhisk's action protocol (POST /init, POST /run) with the semantics of the ActionLoop
Python runtime, but runs the action inside this process: the code is loaded once as module `main__`
(so `if __name__ == "__main__"` blocks do not run), then each /run calls the entry point.

Standard library only (Python 3.9+), because it runs on whatever python3 the sandbox has. The launch
contract is shared with the Node.js proxies: __WHIRL_LISTEN (Unix socket path or TCP port, default
8080), __WHIRL_READY_FD ("ready" line once listening), __WHIRL_TMP (writable directory).
Nothing is printed on a clean start: every byte on stdout/stderr ends up in activation logs.
"""

import base64
import binascii
import glob
import importlib.util
import io
import json
import os
import site
import socket
import socketserver
import stat
import sys
import tarfile
import tempfile
import threading
import traceback
import zipfile
import zlib
from http.server import BaseHTTPRequestHandler, HTTPServer

SENTINEL = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"
# Whirl accepts 48 MB of decoded code: about 64 MB as base64 inside JSON, plus some headroom.
MAX_BODY_BYTES = 72 * 1024 * 1024
MB = 1024 * 1024

MISSING_CODE = "Missing main/no code to execute."
DOUBLE_INIT = "Cannot initialize the action more than once."
NOT_INITIALIZED = "no action defined yet"
NOT_A_DICT = "The action did not return a dictionary or array."
INIT_EXITED = "Cannot start action. Check logs for details."
UNCOMPRESSING = "There was an error uncompressing the action archive"


# --------------------------------------------------------------------------------------------------
# Logs


def log_err(line):
    sys.stderr.write(line if line.endswith("\n") else line + "\n")
    sys.stderr.flush()


def flush_streams():
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except Exception:
            pass


def write_sentinels():
    """End-of-activation markers on both streams; the invoker reads logs up to them."""
    flush_streams()
    for stream in (sys.__stdout__, sys.__stderr__):
        stream.write(SENTINEL + "\n")
        stream.flush()


def print_user_traceback():
    """The traceback of the exception being handled, without the proxy's own frames on top."""
    kind, value, full = sys.exc_info()
    here = os.path.abspath(__file__)
    tb = full
    while tb is not None and (
        os.path.abspath(tb.tb_frame.f_code.co_filename) == here
        or tb.tb_frame.f_code.co_filename.startswith("<frozen importlib")
    ):
        tb = tb.tb_next
    # A syntax error has no frame of the action's own: keep ours rather than lose the "Traceback" header.
    traceback.print_exception(kind, value, tb or full, file=sys.stderr)
    sys.stderr.flush()


# --------------------------------------------------------------------------------------------------
# Archives: bounded and confined extraction (no absolute or ".." names, no links, size caps)


class ArchiveError(Exception):
    pass


def default_limits():
    try:
        max_bytes = int(os.environ.get("__WHIRL_MAX_UNZIP_BYTES", ""))
    except ValueError:
        max_bytes = 0
    return {
        "max_entries": 20000,
        "max_bytes": max_bytes if max_bytes > 0 else 512 * MB,
        "max_ratio": 200,
        "ratio_min_bytes": 1 * MB,
    }


def archive_kind(data):
    if data[:4] == b"PK\x03\x04":
        return "zip"
    if data[:3] == b"\x1f\x8b\x08":
        return "tar.gz"
    return None


def safe_path(root, name):
    """Maps an entry name under root; raises for names that could escape it, None for the root."""
    if "\0" in name:
        raise ArchiveError('entry "%s" has a NUL byte in its name' % name[:200])
    normal = name.replace("\\", "/")
    if normal.startswith("/") or (len(normal) > 1 and normal[1] == ":" and normal[0].isalpha()):
        raise ArchiveError('entry "%s" has an absolute path' % name[:200])
    parts = [p for p in normal.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ArchiveError('entry "%s" points outside the archive root' % name[:200])
    return os.path.join(root, *parts) if parts else None


class Sink:
    """Limit bookkeeping and exclusive file creation shared by both archive formats."""

    def __init__(self, root, limits):
        self.root = root
        self.limits = limits
        self.entries = 0
        self.bytes = 0

    def count_entry(self):
        self.entries += 1
        if self.entries > self.limits["max_entries"]:
            raise ArchiveError("the archive has more than %d entries" % self.limits["max_entries"])

    def add_bytes(self, n):
        self.bytes += n
        if self.bytes > self.limits["max_bytes"]:
            raise ArchiveError("the archive unpacks to more than %d bytes" % self.limits["max_bytes"])

    def directory(self, name):
        path = safe_path(self.root, name)
        if path:
            os.makedirs(path, exist_ok=True)

    def write_file(self, name, source, size, executable):
        """Copies exactly `size` bytes from source; more than declared means a lying archive."""
        path = safe_path(self.root, name)
        if not path:
            return
        os.makedirs(os.path.dirname(path), exist_ok=True)
        mode = 0o755 if executable else 0o644
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        except FileExistsError:
            raise ArchiveError('entry "%s" appears more than once' % name[:200])
        written = 0
        with os.fdopen(fd, "wb") as out:
            while True:
                chunk = source.read(MB)
                if not chunk:
                    break
                written += len(chunk)
                if written > size:
                    raise ArchiveError('entry "%s" is larger than its declared size' % name[:200])
                out.write(chunk)
        if written != size:
            raise ArchiveError('entry "%s" is truncated' % name[:200])
        os.chmod(path, mode)


def extract_zip(data, root, limits):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as ex:
        raise ArchiveError("the zip archive is corrupt (%s)" % ex)
    infos = archive.infolist()
    if len(infos) > limits["max_entries"]:
        raise ArchiveError("the archive has more than %d entries" % limits["max_entries"])
    sink = Sink(root, limits)
    for info in infos:
        sink.count_entry()
        mode = (info.external_attr >> 16) & 0xFFFF if info.create_system == 3 else 0
        kind = mode & 0o170000
        if info.is_dir() or kind == stat.S_IFDIR:
            sink.directory(info.filename)
            continue
        if kind not in (0, stat.S_IFREG):
            safe_path(root, info.filename)  # links and devices are skipped, but bad names still fail
            continue
        if info.flag_bits & 0x1:
            raise ArchiveError('entry "%s" is encrypted' % info.filename[:200])
        if info.file_size > limits["ratio_min_bytes"] and info.file_size > info.compress_size * limits["max_ratio"]:
            raise ArchiveError(
                'entry "%s" has a suspicious compression ratio (%d bytes from %d)'
                % (info.filename[:200], info.file_size, info.compress_size)
            )
        sink.add_bytes(info.file_size)
        try:
            with archive.open(info) as source:
                sink.write_file(info.filename, source, info.file_size, bool(mode & 0o111))
        except (zipfile.BadZipFile, NotImplementedError, zlib.error, EOFError) as ex:
            raise ArchiveError('cannot read entry "%s" (%s)' % (info.filename[:200], ex))


def extract_tar_gz(data, root, limits):
    sink = Sink(root, limits)
    try:
        # Stream mode: members are read in order, never all held in memory.
        with tarfile.open(fileobj=io.BytesIO(data), mode="r|gz") as archive:
            for member in archive:
                sink.count_entry()
                if member.isdir():
                    sink.directory(member.name)
                elif member.isreg():
                    sink.add_bytes(member.size)
                    # No per-entry compressed size in a tar.gz: the ratio applies to the whole stream.
                    if sink.bytes > limits["ratio_min_bytes"] and sink.bytes > len(data) * limits["max_ratio"]:
                        raise ArchiveError(
                            "the archive has a suspicious compression ratio (over %d:1)" % limits["max_ratio"]
                        )
                    source = archive.extractfile(member)
                    sink.write_file(member.name, source, member.size, bool(member.mode & 0o111))
                else:
                    safe_path(root, member.name)  # links, devices, fifos: skipped
    except (tarfile.TarError, zlib.error, EOFError, OSError) as ex:
        if isinstance(ex, (FileExistsError, PermissionError)):
            raise
        raise ArchiveError("the tar.gz archive is corrupt (%s)" % ex)


def extract_archive(data, root, limits=None):
    limits = limits or default_limits()
    kind = archive_kind(data)
    if kind == "zip":
        extract_zip(data, root, limits)
    elif kind == "tar.gz":
        extract_tar_gz(data, root, limits)
    else:
        raise ArchiveError("the data is neither a zip nor a tar.gz archive")


# --------------------------------------------------------------------------------------------------
# The action


class InitFailure(Exception):
    """An init failure with a message for the /init response and one for the logs."""

    def __init__(self, response, log=None):
        Exception.__init__(self, response)
        self.response = response
        self.log = log or response


def env_string(value):
    """Init parameters as environment strings, the same way the Node.js runtime does it."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def looks_like_base64_archive(code):
    try:
        head = base64.b64decode(code[:8])
    except (binascii.Error, ValueError):
        return False
    return archive_kind(head) is not None


def add_virtualenv(root):
    """Makes a bundled virtualenv's packages importable ahead of everything else."""
    for packages in sorted(glob.glob(os.path.join(root, "virtualenv", "lib", "python3*", "site-packages"))):
        site.addsitedir(packages)  # also processes .pth files
        if packages in sys.path:
            sys.path.remove(packages)
        sys.path.insert(0, packages)


def load_action(code, main, binary, tmp_dir):
    """Loads the code as module main__ (the ActionLoop way) and returns its entry point."""
    root = tempfile.mkdtemp(prefix="action-", dir=tmp_dir)
    if binary or looks_like_base64_archive(code):
        try:
            data = base64.b64decode(code)
        except (binascii.Error, ValueError) as ex:
            raise InitFailure("%s: invalid base64 (%s)." % (UNCOMPRESSING, ex))
        try:
            extract_archive(data, root)
        except ArchiveError as ex:
            raise InitFailure("%s: %s." % (UNCOMPRESSING, ex))
        entry = os.path.join(root, "__main__.py")
        if not os.path.isfile(entry):
            raise InitFailure("Zip file does not include __main__.py at its root.")
        add_virtualenv(root)
    else:
        entry = os.path.join(root, "main__.py")
        with open(entry, "w", encoding="utf-8") as source:
            source.write(code)
    sys.path.insert(0, root)
    # Actions open files relative to their own directory.
    os.chdir(root)
    spec = importlib.util.spec_from_file_location("main__", entry)
    module = importlib.util.module_from_spec(spec)
    sys.modules["main__"] = module
    spec.loader.exec_module(module)
    function = getattr(module, main, None)
    if not callable(function):
        raise InitFailure("Action entrypoint '%s' is not a function." % main)
    return function


class ExitAfterReply(Exception):
    """The action called sys.exit() during a run: answer, then let the proxy die as ActionLoop's does."""

    def __init__(self, code):
        Exception.__init__(self, "command exited")
        self.code = code


class Proxy:
    def __init__(self, tmp_dir, concurrent):
        self.tmp_dir = tmp_dir
        self.concurrent = concurrent
        self.lock = threading.Lock()
        self.status = "ready"
        self.main = None
        self.replaced = {}  # __OW_* keys set by the last run -> the value they replaced

    @staticmethod
    def refuse(message):
        log_err("Internal system error: " + message)
        return 403, {"error": message}

    def init(self, body):
        value = body.get("value") if isinstance(body.get("value"), dict) else {}
        with self.lock:
            if self.main is not None:
                return self.refuse(DOUBLE_INIT)
            if self.status != "ready":
                return self.refuse("System not ready, status is %s." % self.status)
            code = value.get("code")
            main = value.get("main") if isinstance(value.get("main"), str) and value.get("main") else "main"
            if not isinstance(code, str) or not code:
                return 403, {"error": MISSING_CODE}
            self.status = "starting"
        try:
            env = value.get("env")
            if isinstance(env, dict):
                for key, item in env.items():
                    os.environ[str(key)] = env_string(item)
            function = load_action(code, main, value.get("binary") is True, self.tmp_dir)
        except SystemExit:
            self.status = "stopped"
            log_err("Command exited abruptly during initialization.")
            write_sentinels()
            return 502, {"error": INIT_EXITED}
        except InitFailure as ex:
            self.status = "stopped"
            log_err(ex.log)
            write_sentinels()
            return 502, {"error": ex.response}
        except Exception as ex:
            self.status = "stopped"
            print_user_traceback()
            write_sentinels()
            return 502, {"error": "Cannot start action: %s: %s" % (type(ex).__name__, ex)}
        with self.lock:
            self.main = function
            self.status = "ready"
        return 200, {"ok": True}

    def run(self, body):
        with self.lock:
            if self.main is None:
                log_err("Internal system error: " + NOT_INITIALIZED)
                return 500, {"error": NOT_INITIALIZED}
            if self.status != "ready":
                return self.refuse("System not ready, status is %s." % self.status)
            value = body.get("value")
            if value is None:
                value = {}
            elif not isinstance(value, (dict, list)):
                kind = "boolean" if isinstance(value, bool) else "number" if isinstance(value, (int, float)) else "string"
                message = "Internal system error: the argument must be a dictionary but has type '%s'." % kind
                log_err(message)
                return 403, {"error": message}
            if not self.concurrent:
                self.status = "running"
            function = self.main
        try:
            return self.invoke(function, body, value)
        finally:
            with self.lock:
                if self.status == "running":
                    self.status = "ready"

    def set_run_env(self, body):
        """This run's __OW_* variables; in sequential mode, also takes back those only the last run had."""
        env = {"__OW_" + key.upper(): item for key, item in body.items() if key != "value" and isinstance(item, str)}
        if not self.concurrent:
            for key in [k for k in self.replaced if k not in env]:
                previous = self.replaced.pop(key)
                if previous is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = previous
            for key in env:
                self.replaced.setdefault(key, os.environ.get(key))
        os.environ.update(env)

    def invoke(self, function, body, value):
        self.set_run_env(body)
        try:
            result = function(value)
        except SystemExit as ex:
            write_sentinels()
            raise ExitAfterReply(ex.code if isinstance(ex.code, int) else 1)
        except Exception as ex:
            # An application error: the run succeeds with {"error": ...}, the traceback goes to the logs.
            print_user_traceback()
            result = {"error": str(ex)}
        if not isinstance(result, (dict, list)):
            write_sentinels()
            return 502, {"error": NOT_A_DICT}
        try:
            text = json.dumps(result, ensure_ascii=False)
        except (TypeError, ValueError) as ex:
            log_err("The result cannot be serialised as JSON: %s" % ex)
            write_sentinels()
            return 502, {"error": NOT_A_DICT}
        write_sentinels()
        return 200, text


# --------------------------------------------------------------------------------------------------
# HTTP


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the invoker reuses its connection
    server_version = "whirl-python-proxy"
    sys_version = ""
    proxy = None  # set at start-up

    def log_message(self, format, *args):
        pass  # the default writes every request to stderr, i.e. into the activation logs

    def send_json(self, status, body, close=False):
        data = (body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)).encode("utf-8")
        flush_streams()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def read_body(self):
        """The request body, de-chunked if need be; None when it is over the limit."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts, size = [], 0
            while True:
                line = self.rfile.readline(65537)
                length = int(line.split(b";")[0].strip() or b"0", 16)
                if length == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                size += length
                if size > MAX_BODY_BYTES:
                    return None
                parts.append(self.rfile.read(length))
                self.rfile.readline(65537)
            return b"".join(parts)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def bad_request(self):
        self.send_json(500, {"error": "Bad request."})

    def do_POST(self):
        path = self.path.split("?")[0]
        try:
            raw = self.read_body()
        except ValueError:
            self.send_json(500, {"error": "Bad request."}, close=True)
            return
        if raw is None:
            self.send_json(413, {"error": "Request body exceeds the limit of %d bytes." % MAX_BODY_BYTES}, close=True)
            return
        if path not in ("/init", "/run"):
            self.bad_request()
            return
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self.bad_request()
            return
        try:
            status, reply = self.proxy.init(body) if path == "/init" else self.proxy.run(body)
        except ExitAfterReply as ex:
            self.send_json(400, {"error": "command exited"}, close=True)
            flush_streams()
            os._exit(ex.code or 1)
        self.send_json(status, reply)

    def do_GET(self):
        self.bad_request()

    do_PUT = do_DELETE = do_PATCH = do_GET


class UnixHTTPServer(socketserver.ThreadingMixIn, HTTPServer):
    address_family = socket.AF_UNIX
    allow_reuse_address = False
    daemon_threads = True
    request_queue_size = 128

    def server_bind(self):
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "localhost", 0

    def get_request(self):
        connection, _ = self.socket.accept()
        return connection, ("unix", 0)  # handlers expect a (host, port) pair


class TCPHTTPServer(socketserver.ThreadingMixIn, HTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def server_bind(self):
        # HTTPServer would look up the host's FQDN here, which can hang in a sandbox without DNS.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "localhost", self.server_address[1]


def signal_ready():
    value = os.environ.pop("__WHIRL_READY_FD", "")
    if not value.isdigit():
        return
    try:
        os.write(int(value), b"ready\n")
        os.close(int(value))
    except OSError:
        pass


def main():
    # Unicode in logs must come out as UTF-8 whatever the locale of the sandbox.
    for stream in (sys.stdout, sys.stderr):
        stream.reconfigure(encoding="utf-8", errors="backslashreplace")
    listen = os.environ.pop("__WHIRL_LISTEN", "").strip() or "8080"
    Handler.proxy = Proxy(
        os.environ.get("__WHIRL_TMP") or tempfile.gettempdir(),
        os.environ.get("__OW_ALLOW_CONCURRENT", "").lower() == "true",
    )
    if "/" in listen:
        try:
            os.unlink(listen)  # a stale socket file would make bind() fail
        except FileNotFoundError:
            pass
        server = UnixHTTPServer(listen, Handler)
    else:
        server = TCPHTTPServer(("0.0.0.0", int(listen)), Handler)
    signal_ready()
    try:
        server.serve_forever(poll_interval=3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
