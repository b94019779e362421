// `make screens`: a full-page screenshot of every page at 1440×900 and at 390×844 (a phone),
// as an admin, into end2end/screens/out/, for a person to look at before a release. Not part of
// `make test`: what a screenshot should look like is judged by eye; what can be asserted (no
// overflow, no code on a page, axe) is asserted in tests/.
import { api, hydrated, signIn, test, expect } from "../tests/helpers";

for (const [label, viewport] of [["desktop", { width: 1440, height: 900 }], ["phone", { width: 390, height: 844 }]] as const) {
  test.describe(label, () => {
    test.use({ viewport });
    test(`every page at ${viewport.width}×${viewport.height}`, async ({ page }) => {
      test.setTimeout(300_000);
      await page.goto("/login");
      await hydrated(page);
      await page.screenshot({ path: `screens/out/${label}-login.png`, fullPage: true });
      await signIn(page, "admin");
      const t = await api(page, "post", "/api/v1/reports/templates", {
        name: `Weekly executive ${label}`, dashboard: "executive", period: "30d", formats: ["pdf", "csv"],
        schedule: { cronExpression: "0 8 * * 1", timezone: "Europe/Paris", destinations: [] },
      });
      const { runId } = await api(page, "post", `/api/v1/reports/templates/${t.id}/run-now`);
      await expect.poll(async () => (await api(page, "get", `/api/v1/reports/runs/${runId}`)).phase, { timeout: 90_000 }).toBe("finished");
      const pages: [string, string][] = [
        ["executive", "/dashboards/executive"], ["business", "/dashboards/business"], ["operations", "/dashboards/operations"],
        ["model-health", "/dashboards/model-health"], ["data-health", "/dashboards/data-health"],
        ["attribution", "/dashboards/attribution"], ["reports", "/settings/reports"], ["template", `/settings/reports/${t.id}`],
        ["run", `/reports/runs/${runId}`], ["integrations", "/settings/integrations"], ["team", "/settings/team"],
        ["profile", "/settings/profile"],
      ];
      for (const [name, path] of pages) {
        await page.goto(path);
        await hydrated(page);
        await page.waitForLoadState("networkidle");
        await page.screenshot({ path: `screens/out/${label}-${name}.png`, fullPage: true });
      }
      await page.goto("/dashboards/executive");
      await hydrated(page);
      await page.getByRole("button", { name: /Export/ }).click();
      await page.screenshot({ path: `screens/out/${label}-export-menu.png` });
      await page.keyboard.press("Escape");
      await page.getByRole("button", { name: "Save as Report" }).click();
      await page.screenshot({ path: `screens/out/${label}-save-dialog.png` });
    });
  });
}
