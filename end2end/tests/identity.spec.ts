// Signing in and out as each demo user, in a real browser.
import { hydrated, signIn, test, expect } from "./helpers";

for (const role of ["admin", "editor", "viewer"] as const) {
  test(`${role} signs in, sees the shell with tenant and role, and signs out`, async ({ page }) => {
    await signIn(page, role);
    await expect(page).toHaveURL(/\/dashboards\/executive/);
    await expect(page.getByTestId("tenant")).toHaveText("Acme");
    await expect(page.getByTestId("user")).toHaveText(`${role}@acme.example`);
    for (const name of ["Executive", "Business", "Operations", "Model Health", "Data Health", "Attribution", "Reports", "Integrations"]) {
      await expect(page.locator("aside").getByRole("link", { name, exact: true })).toBeVisible();
    }
    await hydrated(page);
    await page.getByTestId("logout").click();
    await expect(page).toHaveURL(/\/login/);
    await page.goto("/dashboards/business");
    await expect(page).toHaveURL(/\/login\?next=/);
  });
}

test("a wrong password shows an error and stays on the login page", async ({ page }) => {
  await page.goto("/login");
  await hydrated(page);
  await page.getByTestId("email").fill("admin@acme.example");
  await page.getByTestId("password").fill("not-the-password");
  await page.getByTestId("sign-in").click();
  await expect(page.getByTestId("login-error")).toHaveText("the email or password is incorrect");
  await expect(page).toHaveURL(/\/login/);
});

test("a signed-out deep link returns to the same view after sign-in", async ({ page }) => {
  await page.goto("/dashboards/operations?period=30d");
  await expect(page).toHaveURL(/\/login\?next=/);
  await hydrated(page);
  await page.getByTestId("email").fill("viewer@acme.example");
  await page.getByTestId("password").fill("narrate-demo");
  await page.getByTestId("sign-in").click();
  await expect(page).toHaveURL(/\/dashboards\/operations\?period=30d/);
  await expect(page.getByTestId("dashboard-title")).toHaveText("Operations");
});
