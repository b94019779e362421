// The whole used-by path of a saved report, and a schedule firing through the built-in ticker.
import * as http from "http";
import { AddressInfo } from "net";
import { SMTPServer } from "smtp-server";
import { simpleParser } from "mailparser";
import { hydrated, signIn, test, expect, api } from "./helpers";

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

    // The run page shows the report as its recipients got it: the whole narrative, then every
    // section with its table or chart, read from the run's record.
    await run.getByRole("link").first().click();
    await hydrated(page);
    await expect(page.getByTestId("run-narrative")).toContainText("Key takeaways");
    const report = page.getByTestId("run-report");
    await expect(report.locator("section[data-section]").first()).toBeVisible();
    const runId = new URL(page.url()).pathname.split("/").pop();
    const record = await api(page, "get", `/api/v1/reports/runs/${runId}`);
    expect(record.sections.length).toBeGreaterThan(0);
    await expect(report.locator("section[data-section]")).toHaveCount(record.sections.length);
    for (const [title] of record.sections) await expect(report.getByRole("heading", { name: title })).toBeVisible();
    expect(await report.locator("tbody tr").count()).toBeGreaterThan(0);

    // A long table pages 25 rows at a time, by buttons a keyboard reaches.
    const [longTitle, longRows] = record.sections.find(([, n]: [string, number]) => n > 25) ?? [];
    expect(longTitle, "the Executive report has a table longer than a page").toBeTruthy();
    const section = report.locator("section[data-section]").filter({ has: page.getByRole("heading", { name: longTitle, exact: true }) });
    if (await section.locator("details").count()) await section.getByText("Show data").click(); // a chart's table
    const pages = section.getByRole("group", { name: `Pages of ${longTitle}` });
    await expect(pages).toContainText(`Rows 1–25 of ${longRows}`);
    await expect(pages.getByRole("button", { name: "Previous" })).toBeDisabled();
    const table = section.locator("tbody");
    const first = await table.locator("tr").first().innerText();
    await expect(table.locator("tr")).toHaveCount(25);
    await pages.getByRole("button", { name: "Next" }).focus();
    await page.keyboard.press("Enter");
    await expect(pages).toContainText(`Rows 26–${Math.min(50, longRows)} of ${longRows}`);
    expect(await table.locator("tr").first().innerText()).not.toBe(first);
    await pages.getByRole("button", { name: "Previous" }).click();
    await expect.poll(() => table.locator("tr").first().innerText()).toBe(first);
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
  await page.getByRole("button", { name: "Runs", exact: true }).click();
  await expect(page.getByText("No runs yet. Click Run Now to produce one, or wait for the schedule.")).toBeVisible();
  // No reload: the open Runs tab follows the runs by itself.
  await expect(page.locator("[data-testid=runs] tbody tr").first()).toContainText("schedule", { timeout: 170_000 });
  await expect(page.getByTestId("run-status").first()).toHaveText("succeeded");
});

test("a report's page edits its details and schedules; a viewer only reads", async ({ page, browser }) => {
  test.setTimeout(120_000);
  await signIn(page, "admin");
  await page.goto("/settings/reports");
  const stamp = Date.now();
  const dest = `Paris desk ${stamp}`;
  await api(page, "post", "/api/v1/notifications/destinations", { kind: "webhook", name: dest, config: { url: "http://127.0.0.1:9/hook" } });
  const t = await api(page, "post", "/api/v1/reports/templates", {
    name: `Editable ${stamp}`, dashboard: "business", period: "7d", formats: ["pdf", "csv"], narrative: { enabled: true },
    schedule: { name: "Weekly Mon 8am", cronExpression: "0 8 * * 1", timezone: "UTC", destinations: [] },
  });
  await page.goto(`/settings/reports/${t.id}`);
  await hydrated(page);
  await expect(page.getByTestId("template-name")).toHaveText(`Editable ${stamp}`);

  // Schedule tab: add a second schedule, weekdays at 09:30 in Paris, to the new destination.
  await page.getByTestId("tab-schedule").click();
  await expect(page.getByTestId("schedule-row")).toHaveCount(1);
  await page.getByTestId("add-schedule").click();
  const form = page.getByTestId("schedule-form");
  await expect(form).toBeVisible();
  await form.getByTestId("schedule-preset").selectOption("custom");
  await form.getByTestId("schedule-cron").fill("30 9 * * 1-5");
  await form.getByTestId("schedule-zone").fill("Europe/Paris");
  const runs = form.getByTestId("next-runs").locator("li");
  await expect(runs).toHaveCount(5);
  // In the schedule's own zone, named: 09:30 in Paris whatever the reader's zone.
  await expect(runs.first()).toHaveText(/09:30 CES?T$/);
  await form.getByTestId(`dest-${dest}`).check();
  await form.getByTestId("schedule-save").click();
  await expect(page.getByTestId("schedule-form")).toHaveCount(0);
  await expect(page.getByTestId("schedule-row")).toHaveCount(2);
  const row = page.getByTestId("schedule-row").filter({ hasText: "Europe/Paris" });
  await expect(row).toContainText("Every weekday at 09:30 Europe/Paris");
  await expect(row).toContainText(dest);

  // Edit it: the form opens pre-filled; switch to Daily 8am.
  await row.getByTestId("schedule-edit").click();
  await expect(form.getByTestId("schedule-preset")).toHaveValue("custom");
  await expect(form.getByTestId("schedule-cron")).toHaveValue("30 9 * * 1-5");
  await expect(form.getByTestId("schedule-zone")).toHaveValue("Europe/Paris");
  await expect(form.getByTestId(`dest-${dest}`)).toBeChecked();
  await form.getByTestId("schedule-preset").selectOption("daily");
  await expect(form.getByTestId("schedule-cron")).toHaveCount(0);
  await form.getByTestId("schedule-save").click();
  await expect(page.getByTestId("schedule-form")).toHaveCount(0);
  const edited = page.getByTestId("schedule-row").filter({ hasText: "Europe/Paris" });
  await expect(edited).toContainText("Every day at 08:00 Europe/Paris");
  await expect(edited).toContainText("Daily 8am");
  await expect(page.getByTestId("schedule-row")).toHaveCount(2);

  // Details tab: CSV off, Markdown on, a new name; saved and still there after a reload.
  await page.getByTestId("tab-details").click();
  await page.getByTestId("format-csv").uncheck();
  await page.getByTestId("format-md").check();
  const renamed = `Renamed ${stamp}`;
  await page.getByTestId("details-name").fill(renamed);
  await page.getByTestId("details-save").click();
  await expect(page.getByTestId("template-name")).toHaveText(renamed);
  await page.reload();
  await hydrated(page);
  await expect(page.getByTestId("template-name")).toHaveText(renamed);
  await expect(page.getByTestId("details-name")).toHaveValue(renamed);
  await expect(page.getByTestId("format-pdf")).toBeChecked();
  await expect(page.getByTestId("format-csv")).not.toBeChecked();
  await expect(page.getByTestId("format-md")).toBeChecked();

  // A viewer sees the same page read-only.
  const viewer = await browser.newPage();
  try {
    await signIn(viewer, "viewer");
    await viewer.goto(`/settings/reports/${t.id}`);
    await hydrated(viewer);
    await expect(viewer.getByTestId("template-name")).toHaveText(renamed);
    await expect(viewer.getByTestId("details-name")).toBeDisabled();
    await expect(viewer.getByTestId("details-save")).toHaveCount(0);
    await expect(viewer.getByTestId("details-delete")).toHaveCount(0);
    await viewer.getByTestId("tab-schedule").click();
    await expect(viewer.getByTestId("schedule-row")).toHaveCount(2);
    await expect(viewer.getByTestId("add-schedule")).toHaveCount(0);
    await expect(viewer.getByTestId("schedule-edit")).toHaveCount(0);
  } finally {
    await viewer.close();
  }
});

test("Run Now cannot start a second run while one is in flight: the button waits and the page follows the run", async ({ page }) => {
  test.setTimeout(120_000);
  // A destination that takes 4 s to answer keeps each run in flight long enough to click again.
  let hits = 0;
  const slow = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      hits += 1;
      setTimeout(() => { res.writeHead(200); res.end("ok"); }, 4_000);
    });
  });
  await new Promise<void>((r) => slow.listen(0, "127.0.0.1", () => r()));
  const port = (slow.address() as AddressInfo).port;
  try {
    await signIn(page, "admin");
    await page.goto("/settings/reports");
    const stamp = Date.now();
    const dest = await api(page, "post", "/api/v1/notifications/destinations", { kind: "webhook", name: `Slow ${stamp}`, config: { url: `http://127.0.0.1:${port}/hook` } });
    const reportName = `One at a time ${stamp}`;
    const t = await api(page, "post", "/api/v1/reports/templates", {
      name: reportName, dashboard: "business", period: "7d", formats: ["csv"], narrative: { enabled: false },
      schedule: { cronExpression: "0 8 * * 1", timezone: "UTC", destinations: [dest.id] },
    });

    // On the list: the row's button turns into a disabled "Running…" with its own progress banner.
    await page.goto("/settings/reports");
    await hydrated(page);
    const row = page.locator(`tr[data-template='${reportName}']`);
    const button = row.getByRole("button", { name: /Run Now|Running…/ });
    await button.click();
    await expect(button).toBeDisabled();
    await expect(button).toHaveText("Running…");
    await expect(page.getByRole("status").filter({ hasText: reportName })).toBeVisible();
    await button.click({ force: true }).catch(() => {});
    await expect(page.getByTestId("toast").last()).toContainText(`Slow ${stamp}: delivered`, { timeout: 60_000 });
    await expect(button).toBeEnabled();
    await expect(button).toHaveText("Run Now");

    // A run started elsewhere (the API) is followed instead of duplicated: 409 names it.
    const { runId } = await api(page, "post", `/api/v1/reports/templates/${t.id}/run-now`);
    await page.goto(`/settings/reports/${t.id}`);
    await hydrated(page);
    const pageButton = page.getByRole("button", { name: /^(Run Now|Running…)$/ });
    await pageButton.click();
    await expect(page.getByTestId("toast").first()).toContainText("already running");
    await expect(pageButton).toBeDisabled();
    await expect(page.getByTestId("toast").last()).toContainText(`Slow ${stamp}: delivered`, { timeout: 60_000 });
    await expect(pageButton).toBeEnabled();

    const runs = await api(page, "get", `/api/v1/reports/runs?templateId=${t.id}`);
    expect(runs.total, "exactly two runs: one from the list, one from the API").toBe(2);
    expect(runs.data.map((r: any) => r.id)).toContain(runId);
    expect(hits, "the destination saw each run once").toBe(2);
  } finally {
    slow.close();
  }
});

test.describe("times for a reader in New York", () => {
  test.use({ timezoneId: "America/New_York" });

  test("a schedule's times show in its own zone, a run's in the reader's, each with its UTC value on hover", async ({ page }) => {
    test.setTimeout(90_000);
    await signIn(page, "editor");
    await page.goto("/settings/reports");
    const reportName = `Zones ${Date.now()}`;
    const t = await api(page, "post", "/api/v1/reports/templates", {
      name: reportName, dashboard: "business", period: "7d", formats: ["csv"], narrative: { enabled: false },
      schedule: { cronExpression: "0 8 * * *", timezone: "Europe/Paris", destinations: [] },
    });
    const { runId } = await api(page, "post", `/api/v1/reports/templates/${t.id}/run-now`);
    await expect.poll(async () => (await api(page, "get", `/api/v1/reports/runs/${runId}`)).phase, { timeout: 60_000 }).toBe("finished");
    const run = await api(page, "get", `/api/v1/reports/runs/${runId}`);

    await page.goto("/settings/reports");
    await hydrated(page);
    const next = page.locator(`tr[data-template='${reportName}'] time`);
    await expect(next).toHaveText(/08:00 CES?T · in \d+ (hours?|min|days?)$/);
    const utc = await next.getAttribute("datetime");
    expect(utc).toMatch(/T0[67]:00:00Z$/);
    await expect(next).toHaveAttribute("title", `${utc} (UTC)`);

    // The run's start, in New York time, on the Runs tab and on the run page.
    const started = new Date(run.startedAt);
    const expected = new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: "America/New_York" }).format(started);
    await page.goto(`/settings/reports/${t.id}`);
    await hydrated(page);
    await page.getByRole("button", { name: "Runs", exact: true }).click();
    const cell = page.locator("[data-testid=runs] tbody tr").first().locator("time");
    await expect(cell).toHaveText(new RegExp(`${expected} E[SD]T · (just now|\\d+ min ago)$`));
    await page.goto(`/reports/runs/${runId}`);
    await hydrated(page);
    await expect(page.locator("time").first()).toHaveText(new RegExp(`${expected} E[SD]T`));
  });
});

test("Save as Report from the keyboard alone: a labelled dialog that traps focus, shows its filters, closes on Escape", async ({ page }) => {
  test.setTimeout(60_000);
  await signIn(page, "editor");
  const segments = await api(page, "get", "/api/v1/segments");
  const seg = segments.data[0];
  await page.goto(`/dashboards/executive?period=30d&segmentId=${seg.id}`);
  await hydrated(page);
  const opener = page.getByRole("button", { name: "Save as Report" });
  await opener.focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: "Save as Report" });
  await expect(dialog).toBeVisible();
  await expect(dialog).toHaveAttribute("aria-modal", "true");
  await expect(dialog.getByText(`Executive · Last 30 days · Segment: ${seg.name}`)).toBeVisible();
  const name = dialog.getByLabel("Name");
  await expect(name).toBeFocused();

  // Focus stays inside: Shift+Tab from the first field lands on the last button, Tab wraps back.
  await page.keyboard.press("Shift+Tab");
  const save = dialog.getByRole("button", { name: "Save report" });
  await expect(save).toBeFocused();
  await page.keyboard.press("Tab");
  await expect(name).toBeFocused();

  // Escape closes and gives focus back to the button that opened it.
  await page.keyboard.press("Escape");
  await expect(dialog).toHaveCount(0);
  await expect(opener).toBeFocused();

  // Open again, name it, save with the keyboard.
  await page.keyboard.press("Enter");
  await expect(name).toBeFocused();
  const reportName = `Keyboard ${Date.now()}`;
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.type(reportName);
  await page.keyboard.press("Shift+Tab");
  await expect(save).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(page.getByTestId("toast")).toContainText(`Saved “${reportName}”`);
  await expect(dialog).toHaveCount(0);
  const saved = (await api(page, "get", "/api/v1/reports/templates")).data.find((t: any) => t.name === reportName);
  expect(saved.segmentId).toBe(seg.id);
  expect(saved.period).toBe("30d");
});

test("a report that sends only on news: skipped with its reason when there is none, delivered when Braze is failing", async ({ page }) => {
  test.setTimeout(120_000);
  const sink = await receiver();
  try {
    await signIn(page, "admin");
    const dest = `News sink ${Date.now()}`;
    await api(page, "post", "/api/v1/notifications/destinations", { kind: "webhook", name: dest, config: { url: `http://127.0.0.1:${sink.port}/hook` } });
    const save = async (dashboard: string, name: string) => {
      await page.goto(`/dashboards/${dashboard}?period=7d`);
      await hydrated(page);
      await page.getByRole("button", { name: "Save as Report" }).click();
      const dialog = page.getByRole("dialog", { name: "Save as Report" });
      await dialog.getByLabel("Name", { exact: true }).fill(name);
      await dialog.getByLabel("Send", { exact: true }).selectOption({ label: "Only when an anomaly or problem is found" });
      await dialog.getByLabel("Least severity that sends").selectOption({ label: "Warning or critical" });
      await dialog.getByLabel("Orientation").selectOption({ label: "Landscape" });
      await dialog.getByRole("checkbox", { name: new RegExp(dest) }).check();
      await dialog.getByRole("button", { name: "Save report" }).click();
      await expect(page.getByTestId("toast").last()).toContainText(`Saved “${name}”`);
    };
    const runNow = async (name: string) => {
      await page.goto("/settings/reports");
      await hydrated(page);
      await page.locator(`tr[data-template='${name}']`).getByRole("button", { name: "Run Now" }).click();
    };
    const quiet = `Business on news ${Date.now()}`;
    await save("business", quiet);
    await runNow(quiet);
    await expect(page.getByTestId("toast").last()).toContainText("Run skipped — Not sent: no anomaly or problem of at least warning was found", { timeout: 60_000 });
    expect(sink.bodies.length, "nothing reached the destination").toBe(0);

    const loud = `Data health on news ${Date.now()}`;
    await save("data-health", loud);
    await runNow(loud);
    await expect(page.getByTestId("toast").last()).toContainText(`${dest}: delivered`, { timeout: 60_000 });
    expect(sink.bodies.length).toBe(1);

    // The Runs tab of the quiet one says skipped, and why, in words.
    await page.locator(`tr[data-template='${quiet}']`).getByRole("link", { name: quiet }).click();
    await hydrated(page);
    await page.getByRole("button", { name: "Runs", exact: true }).click();
    const run = page.locator("[data-testid=runs] tbody tr").first();
    await expect(run.getByTestId("run-status")).toHaveText("skipped");
    await expect(run.getByTestId("run-skip-reason")).toContainText("no anomaly or problem of at least warning");
    await expect(run.getByTestId("delivery-status")).toHaveCount(0);
    // Its details keep the condition and the page setup.
    await page.getByRole("button", { name: "Details", exact: true }).click();
    await expect(page.getByLabel("Send", { exact: true })).toHaveValue("anomaly");
    await expect(page.getByLabel("Orientation")).toHaveValue("landscape");
  } finally {
    sink.server.close();
  }
});

test("Preview in the Save dialog shows what each destination would receive, and sends nothing", async ({ page }) => {
  test.setTimeout(90_000);
  const sink = await receiver();
  try {
    await signIn(page, "admin");
    const stamp = Date.now();
    const slack = `Preview Slack ${stamp}`;
    const hook = `Preview hook ${stamp}`;
    await api(page, "post", "/api/v1/notifications/destinations", { kind: "slack", name: slack, config: { webhookUrl: `http://127.0.0.1:${sink.port}/slack` } });
    await api(page, "post", "/api/v1/notifications/destinations", { kind: "webhook", name: hook, config: { url: `http://127.0.0.1:${sink.port}/hook`, secret: "whsec-e2e-secret-0123456789" } });
    const teams = `Preview Teams ${stamp}`;
    const mail = `Preview mail ${stamp}`;
    await api(page, "post", "/api/v1/notifications/destinations", { kind: "teams", name: teams, config: { webhookUrl: `http://127.0.0.1:${sink.port}/teams` } });
    await api(page, "post", "/api/v1/notifications/destinations", { kind: "email", name: mail, config: { from: "reports@acme.example", to: ["ops@acme.example"] } });
    await page.goto("/dashboards/executive?period=7d");
    await hydrated(page);
    await page.getByRole("button", { name: "Save as Report" }).click();
    const dialog = page.getByRole("dialog", { name: "Save as Report" });
    const name = `Previewed ${stamp}`;
    await dialog.getByLabel("Name", { exact: true }).fill(name);
    await dialog.getByRole("checkbox", { name: new RegExp(slack) }).check();
    await dialog.getByRole("checkbox", { name: new RegExp(hook) }).check();
    await dialog.getByRole("checkbox", { name: new RegExp(teams) }).check();
    await dialog.getByRole("checkbox", { name: new RegExp(mail) }).check();
    await dialog.getByRole("button", { name: "Preview what each destination receives" }).click();
    const region = dialog.getByRole("region", { name: "Delivery preview" });
    const slackCard = region.getByRole("region", { name: `${slack} (slack)` });
    await expect(slackCard.locator(".slack-header")).toHaveText(name, { timeout: 60_000 });
    await expect(slackCard.locator(".slack-button")).toHaveText("Open report");
    const hookCard = region.getByRole("region", { name: `${hook} (webhook)` });
    await expect(hookCard.getByText('"event": "report.run.completed"')).toBeVisible();
    await expect(hookCard.getByRole("row", { name: /webhook-signature/ })).toContainText("v1,••••••••");
    await expect(hookCard).not.toContainText("whsec-e2e-secret");
    const teamsCard = region.getByRole("region", { name: `${teams} (teams)` });
    await expect(teamsCard.locator(".teams-text.large")).toHaveText(name);
    await expect(teamsCard.locator(".teams-button")).toHaveText("Open report");
    // The email as its reader gets it: subject and recipients, the body with its charts (shown
    // from the PNGs it carries inline), and the files attached.
    const mailCard = region.getByRole("region", { name: `${mail} (email)` });
    await expect(mailCard.getByTestId("preview-subject")).toContainText(name);
    await expect(mailCard).toContainText("ops@acme.example");
    await expect(mailCard).toContainText(/Attachments: .*\.pdf \(application\/pdf, \d+ bytes\)/);
    const body = mailCard.frameLocator("iframe[title='Email body']");
    await expect(body.getByRole("heading", { name, level: 1 })).toBeVisible();
    const charts = body.locator("img[src^='data:image/png']");
    expect(await charts.count(), "every chart of the Executive report is in the body").toBeGreaterThan(0);
    await expect(charts.first()).toHaveJSProperty("complete", true);
    expect(await charts.first().evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(1200);
    expect(sink.bodies.length, "a preview sends nothing").toBe(0);
  } finally {
    sink.server.close();
  }
});

test("an emailed report carries its key figures and every chart inline, as a real SMTP server receives it", async ({ page }) => {
  test.setTimeout(120_000);
  const received: Buffer[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream: NodeJS.ReadableStream, _session: unknown, done: (err?: Error) => void) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        received.push(Buffer.concat(chunks));
        done();
      });
    },
  });
  await new Promise<void>((r) => smtp.listen(Number(process.env.E2E_SMTP_PORT), "127.0.0.1", () => r()));
  try {
    await signIn(page, "admin");
    const mail = `Mail sink ${Date.now()}`;
    await api(page, "post", "/api/v1/notifications/destinations", { kind: "email", name: mail, config: { from: "reports@acme.example", to: ["cfo@acme.example"] } });
    await page.goto("/dashboards/executive?period=30d");
    await hydrated(page);
    await page.getByRole("button", { name: "Save as Report" }).click();
    const dialog = page.getByRole("dialog", { name: "Save as Report" });
    const name = `Mailed ${Date.now()}`;
    await dialog.getByLabel("Name", { exact: true }).fill(name);
    await dialog.getByRole("checkbox", { name: new RegExp(mail) }).check();
    await dialog.getByRole("button", { name: "Save report" }).click();
    await expect(page.getByTestId("toast").last()).toContainText(`Saved “${name}”`);
    await page.goto("/settings/reports");
    await hydrated(page);
    await page.locator(`tr[data-template='${name}']`).getByRole("button", { name: "Run Now" }).click();
    await expect(page.getByTestId("toast").last()).toContainText(`${mail}: delivered`, { timeout: 90_000 });
    await expect.poll(() => received.length).toBe(1);

    const msg = await simpleParser(received[0], { keepCidLinks: true });
    expect(msg.subject).toContain(name);
    const html = String(msg.html);
    expect(html).toContain("Key figure");
    expect(html).not.toContain("<svg");
    const inline = msg.attachments.filter((a) => a.related);
    expect(inline.length, "the Executive report's charts travel inline").toBeGreaterThan(0);
    for (const a of inline) {
      expect(a.contentType).toBe("image/png");
      expect(html).toContain(`src="cid:${a.cid}"`);
      expect(a.content.subarray(0, 8).toString("latin1")).toBe("\x89PNG\r\n\x1a\n");
      expect(a.content.readUInt32BE(16), "600 CSS px at 2x").toBe(1200);
    }
    const files = msg.attachments.filter((a) => !a.related).map((a) => a.filename);
    expect(files.some((f) => String(f).endsWith(".pdf")), "the PDF is attached too").toBeTruthy();
  } finally {
    await new Promise<void>((r) => smtp.close(() => r()));
  }
});
