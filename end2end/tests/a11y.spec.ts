// Accessibility as a test: axe-core (someone else's judge) on every page people use — signed out,
// each dashboard, the Export menu open, the Save as Report dialog open, the reports list, a
// report's tabs, a run, integrations, team and profile. No serious or critical violation.
import { Page } from "@playwright/test";
import AxeBuilder from "@axe-core/playwright";
import { hydrated, signIn, test, expect, api } from "./helpers";

async function audit(page: Page, where: string, found: string[]) {
  const results = await new AxeBuilder({ page }).withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]).analyze();
  for (const v of results.violations) {
    if (v.impact === "serious" || v.impact === "critical") {
      const nodes = v.nodes.slice(0, 3).map((n) => `${n.target.join(" ")} — ${n.failureSummary?.split("\n")[1]?.trim() ?? ""}`);
      found.push(`${where}: ${v.id} (${v.impact}) ${v.help}\n      ${nodes.join("\n      ")}`);
    }
  }
}

test("axe finds no serious or critical violation on any page", async ({ page }) => {
  test.setTimeout(240_000);
  const found: string[] = [];
  await page.goto("/login");
  await hydrated(page);
  await audit(page, "/login", found);

  await signIn(page, "admin");
  const t = await api(page, "post", "/api/v1/reports/templates", {
    // Executive: its run page has key-metric tiles, a chart and a table long enough to page.
    name: `Axe ${Date.now()}`, dashboard: "executive", period: "30d", formats: ["csv"],
    schedule: { cronExpression: "0 8 * * 1", timezone: "Europe/Paris", destinations: [] },
  });
  const { runId } = await api(page, "post", `/api/v1/reports/templates/${t.id}/run-now`);
  await expect.poll(async () => (await api(page, "get", `/api/v1/reports/runs/${runId}`)).phase, { timeout: 60_000 }).toBe("finished");

  for (const key of ["executive", "business", "operations", "model-health", "data-health", "attribution"]) {
    await page.goto(`/dashboards/${key}`);
    await hydrated(page);
    await audit(page, `/dashboards/${key}`, found);
  }
  await page.goto("/dashboards/executive");
  await hydrated(page);
  await page.getByRole("button", { name: /Export/ }).click();
  await audit(page, "Export menu open", found);
  await page.keyboard.press("Escape");
  await page.getByRole("button", { name: "Save as Report" }).click();
  await audit(page, "Save as Report dialog open", found);

  for (const path of ["/settings/reports", `/reports/runs/${runId}`, "/settings/integrations", "/settings/team", "/settings/profile"]) {
    await page.goto(path);
    await hydrated(page);
    await audit(page, path, found);
  }
  await page.goto(`/settings/reports/${t.id}`);
  await hydrated(page);
  for (const tab of ["Details", "Schedule", "Runs"]) {
    await page.getByRole("button", { name: tab, exact: true }).click();
    await audit(page, `report ${tab} tab`, found);
  }
  expect(found, found.join("\n")).toEqual([]);
});
