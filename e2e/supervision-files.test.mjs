// Real-browser tests of the files people hand in: evidence attached to a progress report (a
// refused file refuses the whole report), and a spreadsheet that is not the template refused
// with its cell named and a marked copy offered — nothing stored either time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { serverAndBrowser, signIn, shots } from "./harness.mjs";

const env = serverAndBrowser();

test("a unit attaches evidence to its report; a file of a refused type files nothing", async () => {
  const { baseUrl, browser } = env;
  const unit = await signIn(browser, baseUrl, "yongchuan.staff");
  await unit.goto(`${baseUrl}/tasks`);
  await unit.getByRole("link", { name: /川南渝西融合发展试验区年度任务/ }).first().click();
  await unit.waitForURL(/\/tasks\/\d+$/);
  const taskUrl = unit.url();

  await unit.getByLabel("完成进度（%）").fill("60");
  await unit.getByLabel("进展情况").fill("试验区方案已报审（附件格式有误）");
  await unit.getByLabel("佐证材料").setInputFiles({
    name: "方案.exe",
    mimeType: "application/octet-stream",
    buffer: Buffer.from("MZ\x90\x00 not a document", "binary"),
  });
  await unit.getByRole("button", { name: "报送" }).click();
  const refusal = unit.getByRole("alert");
  assert.match(await refusal.textContent(), /方案\.exe.*类型不被接受/);
  await unit.goto(taskUrl);
  assert.equal(await unit.getByText("试验区方案已报审（附件格式有误）").count(), 0, "the refused report is not on the timeline");

  const plan = "永川区：试验区方案12月15日前报审。";
  await unit.getByLabel("完成进度（%）").fill("60");
  await unit.getByLabel("进展情况").fill("试验区方案已报审");
  await unit.getByLabel("佐证材料").setInputFiles({ name: "整改方案.txt", mimeType: "text/plain", buffer: Buffer.from(plan) });
  await unit.getByRole("button", { name: "报送" }).click();
  await unit.waitForURL(taskUrl);
  const link = unit.getByRole("link", { name: "整改方案.txt" });
  assert.ok(await link.isVisible(), "the evidence is listed with its report");
  const file = await unit.request.get(`${baseUrl}${await link.getAttribute("href")}`);
  assert.equal(file.status(), 200);
  assert.equal(await file.text(), plan, "the stored file is the uploaded one");
  await unit.screenshot({ path: join(shots, "task-evidence.png"), fullPage: true });
});

test("a sheet that is not the ledger template is refused with the cell named, nothing imported", async () => {
  const { baseUrl, browser } = env;
  const coordinator = await signIn(browser, baseUrl, "cy.coordinator");
  await coordinator.goto(`${baseUrl}/projects`);
  const exportedList = await coordinator.request.get(`${baseUrl}/projects/export.xlsx`);
  assert.equal(exportedList.status(), 200);
  const exported = await exportedList.body();
  const register = async () => (await (await coordinator.request.get(`${baseUrl}/api/v1/projects?limit=1`)).json()).total;
  const before = await register();
  assert.ok(before > 0);

  // A common slip: the exported list uploaded where the ledger template is expected.
  await coordinator.getByText("用 Excel 导入项目台账").click();
  await coordinator.locator('form[action="/projects/ledger-import"] input[type="file"]').setInputFiles({
    name: "projects.xlsx",
    mimeType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    buffer: exported,
  });
  await coordinator.locator('form[action="/projects/ledger-import"]').getByRole("button", { name: "导入" }).click();
  assert.ok(await coordinator.getByText("未导入任何数据").isVisible());
  assert.ok(await coordinator.getByRole("cell", { name: /表头应为“协作机制”/ }).isVisible(), "the bad header cell is named");
  assert.ok(await coordinator.getByRole("link", { name: "下载标出错误的文件" }).isVisible(), "a marked copy is offered");
  await coordinator.screenshot({ path: join(shots, "import-refused.png"), fullPage: true });

  assert.equal(await register(), before, "the register is unchanged");
});
