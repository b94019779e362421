// `make screens`: the end-to-end server and browser, with the screenshot walk in screens/.
import base from "./playwright.config";
import { defineConfig } from "@playwright/test";

export default defineConfig({ ...base, testDir: "./screens" });
