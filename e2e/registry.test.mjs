// Real-browser test of the registry pages: sign in, create a pairing through the form, find it
// in the list, switch to English. Runs headless Debian Chromium against the real server binary.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { serverAndBrowser, shots } from "./harness.mjs";

const env = serverAndBrowser();

test("a coordinator signs in, pairs two regions through the form, finds the pairing, reads it in English", async () => {
  const { baseUrl, browser } = env;
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${baseUrl}/login`);
  assert.equal(await page.getAttribute("html", "lang"), "zh-CN");
  await page.getByLabel("用户名").fill("cy.coordinator");
  await page.getByLabel("密码").fill("xietong-demo");
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL(`${baseUrl}/`);
  assert.ok(await page.getByText("川渝联办 协调员").isVisible(), "signed in");

  await page.goto(`${baseUrl}/pairings/new`);
  await page.getByLabel("协作机制").selectOption({ label: "成渝地区双城经济圈" });
  await page.getByLabel("结对方甲（帮扶方）").fill("500118");
  await page.getByLabel("结对方乙（协作方）").fill("511000");
  await page.getByLabel("结对日期").fill("2021-05-27");
  await page.screenshot({ path: join(shots, "pairing-form.png"), fullPage: true });
  await page.getByRole("button", { name: "保存" }).click();
  await page.waitForURL(/\/pairings\/\d+$/);
  const heading = await page.getByRole("heading", { level: 1 }).textContent();
  assert.match(heading, /永川区 — 内江市/);

  await page.goto(`${baseUrl}/pairings?q=内江`);
  const row = page.getByRole("row").filter({ hasText: "内江市" });
  assert.equal(await row.count(), 1, "the new pairing is listed");
  assert.ok(await row.getByText("永川区").isVisible());
  await page.screenshot({ path: join(shots, "pairings-zh.png"), fullPage: true });

  await page.locator("#lang-switch").click();
  await page.waitForLoadState();
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.ok(await page.getByRole("heading", { name: /Pairings/ }).isVisible());
  const englishRow = page.getByRole("row").filter({ hasText: "Neijiang" });
  assert.ok(await englishRow.getByText("Yongchuan District").isVisible(), "party names in English");
  assert.ok(await page.getByRole("link", { name: "Frameworks" }).isVisible());
  await page.screenshot({ path: join(shots, "pairings-en.png"), fullPage: true });
});

test("at phone width the pages stay readable and the form shows field errors", async () => {
  const { baseUrl, browser } = env;
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await page.goto(`${baseUrl}/login`);
  await page.getByLabel("用户名").fill("cy.coordinator");
  await page.getByLabel("密码").fill("xietong-demo");
  await page.getByRole("button", { name: "登录" }).click();
  await page.waitForURL(`${baseUrl}/`);
  await page.goto(`${baseUrl}/pairings/new`);
  await page.getByLabel("协作机制").selectOption({ label: "成渝地区双城经济圈" });
  await page.getByLabel("结对方甲（帮扶方）").fill("500118");
  await page.getByLabel("结对方乙（协作方）").fill("500118");
  await page.getByRole("button", { name: "保存" }).click();
  assert.ok(await page.getByText("不能与自身结对").isVisible(), "inline field error");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `no horizontal scrolling at phone width (overflow ${overflow}px)`);
  await page.screenshot({ path: join(shots, "pairing-form-phone.png"), fullPage: true });
});
