// Settings → Team and Your profile, driven by visible labels and roles: an admin adds a user,
// re-roles, disables and re-enables them, creates an API key that works once shown and stops on
// revocation; the new user changes their password and signs out everywhere; a viewer reads that
// only admins manage the team. Every page loads under the Content-Security-Policy with no
// violation and no console error.
import { hydrated, signIn, test, expect } from "./helpers";

test("an admin manages users and API keys from Settings → Team", async ({ page, browser }) => {
  test.setTimeout(120_000);
  page.on("dialog", (d) => d.accept());
  await signIn(page, "admin");
  await page.getByRole("link", { name: "Team" }).click();
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "Users" })).toBeVisible();

  const email = `newcomer-${Date.now()}@acme.example`;
  const users = page.getByRole("region", { name: "Users" });
  await users.getByLabel("Email").fill(email);
  await users.getByLabel("Name").fill("New Comer");
  await users.getByLabel("Role", { exact: true }).selectOption("viewer");
  await users.getByLabel("Initial password").fill("first-pass-123");
  await users.getByRole("button", { name: "Add user" }).click();
  const row = page.locator(`tr[data-user="${email}"]`);
  await expect(row).toContainText("New Comer");
  await expect(row).toContainText("active");

  await row.getByLabel(`Role of ${email}`).selectOption("editor");
  await expect(page.locator(`tr[data-user="${email}"]`).getByLabel(`Role of ${email}`)).toHaveValue("editor");
  await page.locator(`tr[data-user="${email}"]`).getByRole("button", { name: "Disable" }).click();
  await expect(page.locator(`tr[data-user="${email}"]`)).toContainText("disabled");

  // A disabled user cannot sign in; re-enabled, they can.
  const other = await browser.newPage();
  await other.goto("/login");
  await hydrated(other);
  await other.getByTestId("email").fill(email);
  await other.getByTestId("password").fill("first-pass-123");
  await other.getByTestId("sign-in").click();
  await expect(other.getByText("this account is disabled")).toBeVisible();
  await page.locator(`tr[data-user="${email}"]`).getByRole("button", { name: "Enable" }).click();
  await expect(page.locator(`tr[data-user="${email}"]`)).toContainText("active");

  // The last admin is protected: demoting the only admin shows the server's reason.
  await page.locator('tr[data-user="admin@acme.example"]').getByLabel("Role of admin@acme.example").selectOption("viewer");
  await expect(page.getByText("is the last active admin of this organisation").first()).toBeVisible();

  // An API key, shown once, works until revoked.
  const keys = page.getByRole("region", { name: "API keys" });
  const keyName = `Ingest ${Date.now()}`;
  await keys.getByLabel("Key name").fill(keyName);
  await keys.getByLabel("Key role").selectOption("editor");
  await keys.getByRole("button", { name: "Create key" }).click();
  const key = (await page.getByTestId("new-key").textContent())!.trim();
  expect(key).toMatch(/^nk_/);
  const me = await page.request.get("/api/v1/me", { headers: { "x-api-key": key } });
  expect(me.status()).toBe(200);
  expect((await me.json()).role).toBe("editor");
  await page.locator(`tr[data-key="${keyName}"]`).getByRole("button", { name: "Revoke" }).click();
  await expect(page.locator(`tr[data-key="${keyName}"]`)).toHaveCount(0);
  expect((await page.request.get("/api/v1/me", { headers: { "x-api-key": key } })).status()).toBe(401);

  // The newcomer changes their password, then signs out everywhere.
  await other.getByTestId("password").fill("first-pass-123");
  await other.getByTestId("sign-in").click();
  await expect(other.getByTestId("role")).toHaveText("editor");
  other.on("dialog", (d) => d.accept());
  await other.goto("/settings/profile");
  await hydrated(other);
  await expect(other.getByText("this session")).toBeVisible();
  await other.getByLabel("Current password").fill("not-the-password");
  await other.getByLabel("New password", { exact: true }).fill("second-pass-456");
  await other.getByLabel("Repeat the new password").fill("second-pass-456");
  await other.getByRole("button", { name: "Change password" }).click();
  await expect(other.getByRole("alert")).toContainText("is not your current password");
  await other.getByLabel("Current password").fill("first-pass-123");
  await other.getByRole("button", { name: "Change password" }).click();
  await expect(other.getByText("Password changed.")).toBeVisible();
  await other.getByRole("button", { name: "Sign out everywhere" }).click();
  await expect(other).toHaveURL(/\/login/);
  await other.close();
});

test("a viewer sees their own profile and that only admins manage the team", async ({ page }) => {
  await signIn(page, "viewer");
  await page.getByRole("link", { name: "Your profile" }).click();
  await hydrated(page);
  await expect(page.getByRole("heading", { name: "Your profile" })).toBeVisible();
  await expect(page.getByText("this session")).toBeVisible();
  await page.getByRole("link", { name: "Team" }).click();
  await expect(page.getByText("Only admins manage the team.")).toBeVisible();
  await expect(page.getByRole("button", { name: "Add user" })).toHaveCount(0);
  expect((await page.request.get("/api/v1/users", { headers: { "x-requested-with": "e2e" } })).status()).toBe(403);
});
