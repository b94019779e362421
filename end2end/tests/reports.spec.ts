// The whole used-by path of a saved report, and a schedule firing through the built-in ticker.
import { test, expect, Page } from "@playwright/test";
import * as http from "http";
import { AddressInfo } from "net";
import { hydrated, signIn } from "./helpers";

function receiver(): Promise<{ server: http.Server; port: number; bodies: any[] }> {
  const bodies: any[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      try {
        bodies.push(JSON.parse(body));
      } catch {
        bodies.push(body);
      }
      res.writeHead(200);
      res.end("ok");
    });
  });
  return new Promise((r) => server.listen(0, "127.0.0.1", () => r({ server, port: (server.address() as AddressInfo).port, bodies })));
}

async function api(page: Page, method: "post" | "get", path: string, data?: unknown) {
  const origin = new URL(page.url()).origin;
  const resp = await page.request[method](path, { data, headers: { "x-requested-with": "e2e", origin } });
  expect(resp.ok(), `${method} ${path}: ${resp.status()} ${await resp.text()}`).toBeTruthy();
  return resp.json();
}

test("save the Executive dashboard as a weekly report, run it now, see it delivered and download the PDF", async ({ page }) => {
  test.setTimeout(120_000);
  const sink = await receiver();
  try {
    await signIn(page, "admin");
    const name = `Local sink ${Date.now()}`;
    await api(page, "post", "/api/v1/notifications/destinations", { kind: "webhook", name, config: { url: `http://127.0.0.1:${sink.port}/hook` } });
    await page.goto("/dashboards/executive");
    await hydrated(page);
    await page.getByTestId("save-report").click();
    const modal = page.getByTestId("save-modal");
    await expect(modal).toBeVisible();
    const reportName = `Exec weekly ${Date.now()}`;
    await page.getByTestId("report-name").fill(reportName);
    await page.getByTestId("schedule-preset").selectOption("weekly");
    await expect(page.getByTestId("next-runs").locator("li")).toHaveCount(5);
    await page.getByTestId(`dest-${name}`).check();
    await page.getByTestId("save-submit").click();
    await expect(page.getByTestId("toast")).toContainText(`Saved “${reportName}”`);

    await page.goto("/settings/reports");
    await hydrated(page);
    const row = page.locator(`tr[data-template='${reportName}']`);
    await expect(row).toContainText("Every Monday at 08:00");
    await row.getByTestId("run-now").click();
    await expect(page.getByTestId("toast").last()).toContainText(`${name}: delivered`, { timeout: 60_000 });
    expect(sink.bodies.length).toBe(1);
    expect(sink.bodies[0].event).toBe("report.run.completed");

    await row.getByRole("link", { name: reportName }).click();
    await hydrated(page);
    await page.getByTestId("tab-runs").click();
    const run = page.locator("[data-testid=runs] tbody tr").first();
    await expect(run.getByTestId("run-status")).toHaveText("succeeded");
    await expect(run.getByTestId("delivery-status")).toHaveText("delivered");
    const [download] = await Promise.all([page.waitForEvent("download"), run.getByTestId("artifact-pdf").click()]);
    expect(download.suggestedFilename()).toMatch(/^exec-weekly-\d+-\d{4}-\d{2}-\d{2}\.pdf$/);
  } finally {
    sink.server.close();
  }
});

test("a schedule due in the next minute fires through the built-in ticker and shows in the Runs tab", async ({ page }) => {
  test.setTimeout(200_000);
  await signIn(page, "editor");
  await page.goto("/settings/reports");
  const now = new Date(Date.now() + (new Date().getUTCSeconds() > 45 ? 120_000 : 60_000));
  const cron = `${now.getUTCMinutes()} ${now.getUTCHours()} * * *`;
  const t = await api(page, "post", "/api/v1/reports/templates", {
    name: `Ticker ${Date.now()}`, dashboard: "business", period: "7d", formats: ["csv"], narrative: { enabled: false },
    schedule: { cronExpression: cron, timezone: "UTC", destinations: [] },
  });
  await page.goto(`/settings/reports/${t.id}`);
  await hydrated(page);
  await page.getByTestId("tab-runs").click();
  await expect(async () => {
    await page.reload();
    await hydrated(page);
    await page.getByTestId("tab-runs").click();
    await expect(page.locator("[data-testid=runs] tbody tr").first()).toContainText("schedule", { timeout: 2_000 });
  }).toPass({ timeout: 170_000, intervals: [5_000] });
  await expect(page.getByTestId("run-status").first()).toHaveText("succeeded");
});
