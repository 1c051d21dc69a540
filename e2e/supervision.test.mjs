// Real-browser test of the closed loop: a lagging task → the coordinator drafts and issues a
// warning letter → the unit finds it in its inbox, acknowledges and answers → the coordinator
// escalates it onto the next coordination meeting and resolves it → the unit reports the task
// done → the coordinator closes the task.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { serverAndBrowser, signIn, shots } from "./harness.mjs";

const env = serverAndBrowser();

test("a lagging task goes through letter, answer, escalation and closing in the browser", async () => {
  const { baseUrl, browser } = env;
  const coordinator = await signIn(browser, baseUrl, "cy.coordinator");
  // From a meeting decision to a task: record the decision, assign the task from it.
  const iso = (d) => d.toISOString().slice(0, 10);
  const day = 24 * 3600 * 1000;
  await coordinator.goto(`${baseUrl}/meetings`);
  await coordinator.getByRole("link", { name: /第六次会议/ }).click();
  await coordinator.getByText("记录会议决定").click();
  await coordinator.getByLabel("决定内容").fill("加快推进川南渝西融合发展试验区建设");
  await coordinator.getByRole("button", { name: "保存" }).click();
  await coordinator.getByText("据会议决定下达任务").click();
  await coordinator.getByLabel("依据的会议决定").selectOption({ label: "加快推进川南渝西融合发展试验区建设" });
  await coordinator.getByLabel("编号").fill("CY-E2E-01");
  await coordinator.getByLabel("任务", { exact: true }).fill("编制试验区年度重点项目清单");
  await coordinator.getByLabel("牵头单位").selectOption({ label: "永川区人民政府" });
  await coordinator.getByLabel("开始日期").fill(iso(new Date(Date.now() - 120 * day)));
  await coordinator.getByLabel("截止日期").fill(iso(new Date(Date.now() + 30 * day)));
  await coordinator.getByRole("button", { name: "下达任务" }).click();
  await coordinator.waitForURL(/\/tasks\/\d+$/);
  assert.ok(await coordinator.getByRole("heading", { name: "编制试验区年度重点项目清单" }).isVisible());
  // Watch it lag: four months without a report.
  await coordinator.goto(`${baseUrl}/tasks`);
  await coordinator.getByRole("button", { name: "立即检查滞后" }).click();
  await coordinator.waitForURL(/status=at_risk/);
  assert.ok(await coordinator.getByRole("link", { name: "编制试验区年度重点项目清单" }).isVisible(), "the new task lags");
  await coordinator.goto(`${baseUrl}/tasks?status=at_risk`);
  const lagging = coordinator.getByRole("link", { name: /川南渝西融合发展试验区年度任务/ });
  assert.ok(await lagging.isVisible(), "the demo's lagging task is listed as at risk");
  const taskUrl = await lagging.getAttribute("href");

  await coordinator.goto(`${baseUrl}/letters`);
  await coordinator.getByLabel("协作机制").selectOption({ label: "成渝地区双城经济圈" });
  await coordinator.getByRole("button", { name: "起草" }).click();
  // One draft per responsible unit (pairings that filed no monthly figures have theirs too):
  // the list says how many, and the coordinator opens the one to 永川.
  await coordinator.waitForURL(/\/letters\?drafted=\d+$/);
  assert.match(await coordinator.getByRole("status").textContent(), /已起草\d+份提示函/);
  await coordinator.getByRole("row").filter({ hasText: "永川区人民政府" }).filter({ hasText: "草稿" })
    .getByRole("link").first().click();
  await coordinator.waitForURL(/\/letters\/\d+$/);
  const letterUrl = coordinator.url();
  assert.ok(await coordinator.getByText("永川区人民政府").first().isVisible());
  await coordinator.getByRole("button", { name: "印发" }).click();
  await coordinator.waitForURL(letterUrl);
  const number = await coordinator.getByText(/川渝联办提示〔\d{4}〕\d+号/).first().textContent();
  assert.match(number, /川渝联办提示〔\d{4}〕1号/);
  await coordinator.screenshot({ path: join(shots, "letter-issued.png"), fullPage: true });

  const unit = await signIn(browser, baseUrl, "yongchuan.staff");
  await unit.goto(`${baseUrl}/inbox`);
  await unit.getByRole("link", { name: /^关于.*提示函$/ }).first().click();
  await unit.getByRole("button", { name: "签收" }).click();
  await unit.getByLabel("整改措施和时间安排").fill("12月15日前报送试验区方案，月底前完成年度任务。");
  await unit.getByRole("button", { name: "提交整改反馈" }).click();
  assert.ok(await unit.getByText("12月15日前报送试验区方案").isVisible());

  await coordinator.goto(letterUrl);
  await coordinator.getByRole("button", { name: "提请协调会议研究" }).click();
  await coordinator.getByRole("link", { name: "下次协调会议研究" }).click();
  assert.ok(await coordinator.getByText(/CY-LIVE-02/).first().isVisible(), "the task is on the next coordination meeting's agenda");
  await coordinator.screenshot({ path: join(shots, "meeting-agenda.png"), fullPage: true });
  await coordinator.goto(letterUrl);
  await coordinator.getByRole("button", { name: "办结" }).click();
  assert.ok(await coordinator.getByText("已办结").first().isVisible());

  await unit.goto(`${baseUrl}${taskUrl}`);
  await unit.getByLabel("完成进度（%）").fill("100");
  await unit.getByLabel("进展情况").fill("年度任务已完成");
  await unit.getByRole("button", { name: "报送" }).click();
  assert.ok(await unit.getByText("已报完成（待核验）").first().isVisible());

  await coordinator.goto(`${baseUrl}${taskUrl}`);
  await coordinator.getByLabel("办结情况").selectOption("closed");
  await coordinator.getByRole("button", { name: "保存" }).click();
  assert.ok(await coordinator.getByText("已办结").first().isVisible());
  await coordinator.screenshot({ path: join(shots, "task-closed.png"), fullPage: true });
});
