// Real-browser test of the pairing report card: district staff open their pairing from the card,
// fill the monthly report, see a typo refused with its field named, then see the figure counted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { serverAndBrowser, signIn, shots } from "./harness.mjs";

const env = serverAndBrowser();

test("district staff fill the monthly report of their pairing and the card counts it", async () => {
  const { baseUrl, browser } = env;
  const page = await signIn(browser, baseUrl, "fengjie.staff");
  await page.goto(`${baseUrl}/indicators?as_of=2022-08-31`);
  assert.ok(await page.getByText("4.39亿元").first().isVisible(), "the seed's funds on the card");
  assert.equal(await page.locator("svg.network line").count(), 17, "the network draws each of the 17 pairings");
  await page.screenshot({ path: join(shots, "indicators-card.png"), fullPage: true });

  await page.getByRole("link", { name: "沙坪坝区—奉节县" }).click();
  await page.waitForURL(/\/indicators\/pairings\/\d+/);
  await page.getByLabel("报送期").fill("2022-09");
  await page.getByRole("button", { name: "切换" }).click();
  await page.waitForURL(/period=2022-09/);

  await page.getByLabel("往来旅游人数").fill("很多");
  await page.locator("#submit-report").click();
  const error = page.getByRole("alert");
  assert.match(await error.textContent(), /往来旅游人数：“很多”不是数字/);

  await page.getByLabel("往来旅游人数").fill("1200");
  await page.getByLabel("派出志愿者").fill("12");
  await page.locator("#submit-report").click();
  await page.waitForURL(/saved=1/);
  assert.ok(await page.getByRole("status").isVisible(), "saved");
  assert.equal(await page.getByLabel("往来旅游人数").inputValue(), "1200", "the form shows the stored figure");
  const tourists = page.locator('td[data-code="TOURISTS"]');
  assert.equal((await tourists.textContent()).trim(), "5,800人次", "4,600 before plus 1,200");
  await page.screenshot({ path: join(shots, "indicators-report.png"), fullPage: true });
});
