// Shared steps: sign in as a demo user and wait for hydration before clicking anything.
import { expect, Page } from "@playwright/test";

export const PASSWORD = "narrate-demo";

export async function hydrated(page: Page) {
  await expect(page.locator("body[data-hydrated=true]")).toHaveCount(1);
}

export async function signIn(page: Page, role: "admin" | "editor" | "viewer", next?: string) {
  await page.goto(next ? `/login?next=${encodeURIComponent(next)}` : "/login");
  await hydrated(page);
  await page.getByTestId("email").fill(`${role}@acme.example`);
  await page.getByTestId("password").fill(PASSWORD);
  await page.getByTestId("sign-in").click();
  await expect(page.getByTestId("role")).toHaveText(role);
}
