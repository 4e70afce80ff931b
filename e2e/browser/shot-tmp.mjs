import { chromium } from "playwright-core";
const ctx = await chromium.launchPersistentContext("/tmp/shot-profile", { executablePath: "/usr/bin/chromium", headless: true,
  args: ["--no-sandbox","--use-fake-ui-for-media-stream","--use-fake-device-for-media-stream"], viewport: { width: 900, height: 700 }, colorScheme: process.argv[2] || "light" });
const page = ctx.pages()[0];
await page.goto("http://127.0.0.1:18080/");
await page.keyboard.press("Tab");
await page.keyboard.type("demo");
await page.getByText("More options").click();
await page.keyboard.press("Tab");
await page.screenshot({ path: `/tmp/shot-${process.argv[2] || "light"}.png`, fullPage: true });
await page.getByRole("button", { name: "Join" }).click();
await page.waitForSelector("#status[data-state=connected]");
await page.keyboard.press("Tab");
await page.waitForTimeout(1500);
await page.screenshot({ path: `/tmp/shot-${process.argv[2] || "light"}-call.png`, fullPage: true });
await ctx.close();
