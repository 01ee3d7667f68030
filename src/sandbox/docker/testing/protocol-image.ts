/**
 * For tests: a blackbox image that speaks OpenWhisk's action protocol its own way — a small Python HTTP
 * server written for these tests, not Whirl's proxy — to show that any protocol-speaking image runs.
 * It keeps the /init code in its working directory (/action, as OpenWhisk's skeleton does), and /run
 * answers with what it was given plus facts about its container.
 */
import type { DockerEngine } from '../engine.js';
import { HOST_BASE_IMAGE } from '../images.js';
import { tarStream } from '../tar.js';

export const PROTOCOL_IMAGE = 'whirl-test/echo-protocol:1';

const SERVER = `import json, os, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

SENTINEL = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX"

class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if self.path == "/init":
            with open("code.txt", "w") as f:
                f.write((body.get("value") or {}).get("code") or "")
            self.answer(200, {"ok": True})
        elif self.path == "/run":
            print("echo-protocol ran", flush=True)
            print("a line on stderr", file=sys.stderr, flush=True)
            try:
                open("/etc/written", "w").close()
                root = "writable"
            except OSError:
                root = "read-only"
            with open("code.txt") as f:
                code = f.read()
            self.answer(200, {"served_by": "echo-protocol", "args": body.get("value"), "code": code,
                              "api_host": os.environ.get("__OW_API_HOST", ""), "cwd": os.getcwd(), "root": root})
            print(SENTINEL, flush=True)
            print(SENTINEL, file=sys.stderr, flush=True)
        else:
            self.answer(404, {"error": "no such route"})

HTTPServer(("0.0.0.0", 8080), Handler).serve_forever()
`;

/** Builds the image (on the offline host base) unless it exists. */
export async function buildProtocolImage(engine: DockerEngine): Promise<string> {
  const dockerfile = `FROM ${HOST_BASE_IMAGE}\nWORKDIR /action\nCOPY server.py /opt/echo/server.py\nCMD ["python3", "-u", "/opt/echo/server.py"]\n`;
  await engine.progress('POST', '/build', {
    query: { t: PROTOCOL_IMAGE, rm: true, forcerm: true },
    upload: tarStream([
      { type: 'file', name: 'Dockerfile', data: Buffer.from(dockerfile) },
      { type: 'file', name: 'server.py', data: Buffer.from(SERVER) },
    ]),
    timeoutMs: 120_000,
  });
  return PROTOCOL_IMAGE;
}
