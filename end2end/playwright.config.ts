// End-to-end tests: Debian's Chromium (never a downloaded browser) against the real server on a
// fresh SQLite database with the demo tenant and the release wasm. `make e2e` passes the server
// binary the integration tests built (NARRATE_BIN); without it, the release server of `make build`.
import { defineConfig } from "@playwright/test";
import * as os from "os";
import * as path from "path";

const targetDir = process.env.CARGO_TARGET_DIR || path.join(os.homedir(), ".cache", "narrate-target");
const serverBin = process.env.NARRATE_BIN || path.join(targetDir, "release", "narrate");
const port = Number(process.env.E2E_PORT || 3100);
const dataDir = path.join(os.tmpdir(), `narrate-e2e-${process.pid}`);
// Where the server sends email: tests that read mail listen here with a real SMTP server.
const smtpPort = port + 25;
process.env.E2E_SMTP_PORT = String(smtpPort);

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "off",
    acceptDownloads: true,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
  webServer: {
    command: `rm -rf ${dataDir} && mkdir -p ${dataDir} && ${serverBin} serve`,
    cwd: "..",
    url: `http://127.0.0.1:${port}/healthz`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      DATABASE_URL: `sqlite://${dataDir}/narrate.db`,
      NARRATE_DEMO: "1",
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: "target/site",
      NARRATE_SCHEDULER: "internal",
      NARRATE_ALLOW_PRIVATE_DESTINATIONS: "1",
      CRON_TOKEN: "e2e-cron-token",
      NARRATE_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      NARRATE_SECRET_KEY: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
    },
  },
});
