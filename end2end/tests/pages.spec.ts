// Every page, as each role sees it: its visible text holds no source code (a `view!` macro that
// swallowed a closure once printed `move | _ | offset.update(…)` on a button), and it loads and
// hydrates with no console error, no page error and no Content-Security-Policy violation.
import { Page } from "@playwright/test";
import { hydrated, signIn, test, expect, api } from "./helpers";

const CODE = [/move \|/, /=>/, /\.update\(/, /::/, /\|\s*_\s*\|/, /on\s*:\s*click/];

async function visibleTextHasNoCode(page: Page, where: string) {
  const text = await page.locator("body").innerText();
  for (const pattern of CODE) {
    const m = text.match(pattern);
    expect(m, `${where}: visible text contains code (${pattern}): …${m ? text.slice(Math.max(0, m.index! - 60), m.index! + 60) : ""}…`).toBeNull();
  }
}

test("no page shows source code or logs an error, for any role", async ({ page }) => {
  test.setTimeout(240_000);
  await signIn(page, "admin");
  // A report with a run, so the template's tabs and the run page have content (and a second page of runs).
  const t = await api(page, "post", "/api/v1/reports/templates", {
    name: `Pages ${Date.now()}`, dashboard: "business", period: "7d", formats: ["csv"], narrative: { enabled: false },
    schedule: { cronExpression: "0 8 * * 1", timezone: "Europe/Paris", destinations: [] },
  });
  const { runId } = await api(page, "post", `/api/v1/reports/templates/${t.id}/run-now`);
  await expect.poll(async () => (await api(page, "get", `/api/v1/reports/runs/${runId}`)).phase, { timeout: 60_000 }).toBe("finished");

  const pages = [
    "/", "/dashboards/executive", "/dashboards/business", "/dashboards/operations", "/dashboards/model-health",
    "/dashboards/data-health", "/dashboards/attribution", "/settings/reports", `/settings/reports/${t.id}`,
    `/reports/runs/${runId}`, "/settings/integrations", "/settings/team", "/settings/profile",
  ];
  for (const role of ["admin", "editor", "viewer"] as const) {
    if (role !== "admin") {
      await page.context().clearCookies();
      await signIn(page, role);
    }
    for (const path of pages) {
      await page.goto(path);
      await hydrated(page);
      await visibleTextHasNoCode(page, `${role} ${path}`);
      if (path.startsWith("/settings/reports/")) {
        for (const tab of ["Schedule", "Runs", "Details"]) {
          await page.getByRole("button", { name: tab, exact: true }).click();
          await visibleTextHasNoCode(page, `${role} ${path} (${tab})`);
        }
      }
    }
  }
  await page.context().clearCookies();
  await page.goto("/login");
  await hydrated(page);
  await visibleTextHasNoCode(page, "/login");
});

test.describe("on a phone", () => {
  test.use({ viewport: { width: 390, height: 844 } });

  test("no page is wider than the screen: tables scroll inside their cards", async ({ page }) => {
    test.setTimeout(120_000);
    await signIn(page, "admin");
    const t = await api(page, "post", "/api/v1/reports/templates", {
      name: `Phone ${Date.now()}`, dashboard: "business", period: "7d", formats: ["csv"], narrative: { enabled: false },
    });
    const { runId } = await api(page, "post", `/api/v1/reports/templates/${t.id}/run-now`);
    await expect.poll(async () => (await api(page, "get", `/api/v1/reports/runs/${runId}`)).phase, { timeout: 60_000 }).toBe("finished");
    const pages = [
      "/", "/dashboards/executive", "/dashboards/business", "/dashboards/operations", "/dashboards/model-health",
      "/dashboards/data-health", "/dashboards/attribution", "/settings/reports", `/settings/reports/${t.id}`,
      `/reports/runs/${runId}`, "/settings/integrations", "/settings/team", "/settings/profile",
    ];
    const wide: string[] = [];
    for (const path of pages) {
      await page.goto(path);
      await hydrated(page);
      const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (over > 0) wide.push(`${path}: ${over}px wider than the screen`);
    }
    expect(wide, wide.join("\n")).toEqual([]);
  });
});
