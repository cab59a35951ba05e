// The agents' web UI in a real browser (Debian's Chromium, driven by playwright-core), against
// the real server and the Telegram emulator that tests/e2e/web.rs started. Each step is what an
// agent would notice; screenshots go to SCREENSHOT_DIR for a person to look at.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set: run these tests through tests/e2e/web.rs (./dev test)`);
  return v;
};
const BASE = env('BASE_URL');
const EMULATOR = env('EMULATOR_URL');
const ADMIN = { email: env('ADMIN_EMAIL'), password: env('ADMIN_PASSWORD') };
const AGENT = { email: env('AGENT_EMAIL'), password: env('AGENT_PASSWORD'), name: env('AGENT_NAME') };
const SHOTS = env('SCREENSHOT_DIR');
const GOOGLE = env('GOOGLE_URL');
const META_APP_SECRET = env('META_APP_SECRET');
const TWILIO_AUTH_TOKEN = env('TWILIO_AUTH_TOKEN');
const GRAPH = env('GRAPH_URL');

async function google(path, body) {
  const r = await fetch(`${GOOGLE}/_emulator/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(r.status, 200);
  return r.json();
}
const WAIT = 15_000;
// The token BotFather hands out when the first one is revoked.
const NEW_TOKEN = '43:WEB-TEST-after-revoke';
const THIRD_TOKEN = '44:WEB-TEST-revoked-again';

let browser, alex, sam;

async function customerWrites(user_id, first_name, text) {
  const r = await fetch(`${EMULATOR}/_emulator/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user_id, first_name, text }),
  });
  assert.equal(r.status, 200);
}

async function sentToTelegram() {
  const r = await fetch(`${EMULATOR}/_emulator/sent`);
  return (await r.json()).calls;
}

async function signIn(context, who) {
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('page error:', e.message));
  await page.goto(BASE);
  const nav = page.getByRole('navigation', { name: 'Queues' });
  await nav.or(page.getByLabel('Email')).waitFor();
  if (await nav.count()) return page; // this browser context is signed in already
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await nav.waitFor();
  return page;
}

const row = (page, text) => page.locator('.ticket-row', { hasText: text });

/** Open `url` until `name`'s ticket is listed (the search index is near-real-time, not instant). */
async function showsDana(page, url, name = 'Dana') {
  const deadline = Date.now() + WAIT;
  for (;;) {
    await page.goto(url);
    try {
      return await row(page, name).waitFor({ timeout: 1000 });
    } catch (e) {
      if (Date.now() > deadline) throw e;
    }
  }
}

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  alex = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  sam = await browser.newContext({ viewport: { width: 1400, height: 900 } });
});

after(async () => {
  await browser?.close();
});

let page; // Alex, the admin
let samPage;

test('a wrong password is refused in words, the right one signs in', async () => {
  const p = await alex.newPage();
  await p.goto(BASE);
  await p.getByLabel('Email').fill(ADMIN.email);
  await p.getByLabel('Password').fill('not the password');
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.getByRole('alert').filter({ hasText: 'wrong email or password' }).waitFor();
  await p.close();
  page = await signIn(alex, ADMIN);
  // The API refuses anyone not signed in.
  const r = await fetch(`${BASE}/api/v1/tickets`);
  assert.equal(r.status, 401);
});

test('a customer message appears in New without a reload', async () => {
  await page.mouse.move(5, 5);
  await customerWrites(501, 'Dana', 'My parcel never arrived, order 77123');
  await row(page, 'Dana').waitFor({ timeout: WAIT });
  await assert.doesNotReject(row(page, 'My parcel never arrived').waitFor());
  // The sidebar's count follows.
  await page.waitForFunction(() => Number(document.querySelector('[data-count="new"]')?.textContent) >= 1, null, { timeout: WAIT });
});

test('customer text is shown as text, never run as HTML', async () => {
  await customerWrites(502, 'Mallory', '<img src=x onerror="window.__xss=1"> and <script>window.__xss=2</script>');
  await row(page, 'Mallory').waitFor({ timeout: WAIT });
  await row(page, 'Mallory').click();
  const text = page.locator('.message .text').first();
  await text.waitFor();
  assert.match(await text.textContent(), /<img src=x onerror=.*<script>/);
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  assert.equal(await page.locator('img[src="x"]').count(), 0);
  assert.equal(await page.locator('.timeline script').count(), 0);
});

test('a customer\'s photo shows in the thread, opens large, and can be saved', async () => {
  const r = await fetch(`${EMULATOR}/_emulator/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user_id: 504, first_name: 'Pia', text: 'the dent on the lid', photo: true }),
  });
  assert.equal(r.status, 200);
  await page.goto(BASE);
  await row(page, 'Pia').waitFor({ timeout: WAIT });
  await row(page, 'Pia').click();
  const thumb = page.getByRole('button', { name: 'Open picture' });
  await thumb.waitFor({ timeout: WAIT });
  // The picture itself came through the helpdesk (Telegram needs the bot's token for it).
  await page.waitForFunction(() => document.querySelector('.attachments .thumb img')?.naturalWidth === 320, null, { timeout: WAIT });
  await page.screenshot({ path: `${SHOTS}/photo-in-thread.png` });
  await thumb.click();
  const large = page.getByRole('dialog', { name: 'Picture' });
  await large.waitFor();
  const saved = await large.getByRole('link', { name: 'Download' }).getAttribute('href');
  const file = await page.evaluate(async (href) => {
    const r = await fetch(href);
    return { status: r.status, disposition: r.headers.get('content-disposition'), type: r.headers.get('content-type') };
  }, saved);
  assert.equal(file.status, 200);
  assert.match(file.disposition, /^attachment/);
  assert.equal(file.type, 'image/png');
  await page.keyboard.press('Escape');
  await large.waitFor({ state: 'hidden' });
});

let danaId;
test('open a ticket, reply: Telegram receives it and the ticket moves to Pending', async () => {
  await page.goto(`${BASE}/?view=new`);
  await row(page, 'Dana').click();
  const pane = page.getByRole('region', { name: 'Ticket', exact: true });
  await pane.waitFor();
  danaId = await pane.getAttribute('data-ticket');
  assert.ok(page.url().includes(`ticket=${danaId}`), 'the open ticket is in the URL');
  await pane.getByText('My parcel never arrived').waitFor();
  await page.screenshot({ path: `${SHOTS}/ticket.png` });
  await pane.getByLabel('Reply').fill('Sorry Dana, a new parcel is on its way.');
  await pane.getByRole('button', { name: 'Send', exact: true }).click();
  await pane.locator('[data-queue="pending"]').waitFor({ timeout: WAIT });
  const sent = (await sentToTelegram()).filter((c) => c.method === 'sendMessage');
  assert.ok(
    sent.some((c) => c.params.text === 'Sorry Dana, a new parcel is on its way.' && c.params.chat_id == 501),
    `sendMessage calls: ${JSON.stringify(sent)}`,
  );
  await pane.locator('.message.outbound', { hasText: 'a new parcel is on its way' }).waitFor();
});

test('two agents see each other viewing and typing, and the typist hears of new messages', async () => {
  samPage = await signIn(sam, AGENT);
  await samPage.goto(`${BASE}/?view=all&ticket=${danaId}`);
  const samPane = samPage.getByRole('region', { name: 'Ticket', exact: true });
  await samPane.getByText('My parcel never arrived').waitFor();

  await page.locator(`[data-viewer="${AGENT.name}"]`, { hasText: 'is viewing' }).waitFor({ timeout: WAIT });
  await samPage.locator('[data-viewer]', { hasText: 'is viewing' }).waitFor({ timeout: WAIT });

  await samPane.getByLabel('Reply').pressSequentially('Let me check with the cour', { delay: 20 });
  await page.locator(`[data-viewer="${AGENT.name}"]`, { hasText: 'is typing a reply' }).waitFor({ timeout: WAIT });

  await customerWrites(501, 'Dana', 'Any news? It is for a birthday');
  await samPage.getByRole('alert').filter({ hasText: 'wrote a new message while you were typing' }).waitFor({ timeout: WAIT });
  await samPane.getByText('It is for a birthday').waitFor();
  // Alex, not typing, just sees the message arrive.
  await page.getByRole('region', { name: 'Ticket', exact: true }).getByText('It is for a birthday').waitFor({ timeout: WAIT });

  await samPage.close();
  await page.locator(`[data-viewer="${AGENT.name}"]`).waitFor({ state: 'detached', timeout: WAIT });
});

test('note, tag, assign and flag are seen live and findable by filter and by word', async () => {
  samPage = await signIn(sam, AGENT);
  await samPage.goto(`${BASE}/?view=all&ticket=${danaId}`);
  const samPane = samPage.getByRole('region', { name: 'Ticket', exact: true });
  await samPane.getByText('My parcel never arrived').waitFor();

  const pane = page.getByRole('region', { name: 'Ticket', exact: true });
  await pane.getByRole('tab', { name: 'Internal note' }).click();
  await pane.getByLabel('Note').fill('Called the courier: lost in transit.');
  await pane.getByRole('button', { name: 'Add note' }).click();
  await samPane.locator('.note', { hasText: 'Called the courier' }).waitFor({ timeout: WAIT });
  // Only its author may edit it.
  assert.equal(await samPane.locator('.note', { hasText: 'Called the courier' }).getByRole('button', { name: 'Edit' }).count(), 0);
  await pane.locator('.note').getByRole('button', { name: 'Edit' }).click();
  await pane.getByLabel('Edit note').fill('Called the courier: lost in transit, refund approved.');
  await pane.getByRole('button', { name: 'Save', exact: true }).click();
  await samPane.locator('.note', { hasText: 'refund approved' }).waitFor({ timeout: WAIT });
  // An @mention: the teammate's name is suggested, and they are told.
  await pane.getByLabel('Note').fill(`Please call her back @${AGENT.name.slice(0, 2)}`);
  await pane.getByRole('listbox', { name: 'Mention a teammate' }).getByRole('option', { name: `@${AGENT.name}` }).waitFor();
  await pane.getByLabel('Note').press('Tab');
  assert.equal(await pane.getByLabel('Note').inputValue(), `Please call her back @${AGENT.name} `);
  await pane.getByRole('button', { name: 'Add note' }).click();
  await samPage.locator('[data-notice="Mentioned you"]', { hasText: 'mentioned you' }).waitFor({ timeout: WAIT });

  await pane.getByLabel('Add ticket tag').fill('lost-parcel');
  await pane.getByLabel('Add ticket tag').press('Enter');
  await pane.getByLabel('Add contact tag').fill('vip');
  await pane.getByLabel('Add contact tag').press('Enter');
  await pane.getByLabel('Assign to').selectOption({ label: AGENT.name });
  await pane.getByRole('button', { name: 'Flag' }).click();
  await pane.getByRole('button', { name: '⚑ Flagged' }).waitFor();

  await samPane.locator('.tag', { hasText: 'lost-parcel' }).waitFor({ timeout: WAIT });
  await samPane.locator('.tag', { hasText: 'vip' }).waitFor({ timeout: WAIT });
  await samPane.getByRole('button', { name: '⚑ Flagged' }).waitFor({ timeout: WAIT });
  assert.equal(await samPane.getByLabel('Assign to').inputValue() !== '', true);
  await samPane.locator('.activity', { hasText: `assigned to ${AGENT.name}` }).waitFor();

  const samId = await page.evaluate(async (email) => (await (await fetch('/api/v1/users')).json()).find((u) => u.email === email).id, AGENT.email);
  for (const [view, label] of [
    [`/?view=all&tag=lost-parcel`, 'tag'],
    [`/?view=all&assignee=${samId}`, 'assignee'],
    [`/?view=flagged`, 'flagged'],
  ]) {
    // Search follows writes within a commit interval (longer on a busy machine): reload until then.
    await showsDana(page, BASE + view).catch(async (e) => {
      const t = await page.evaluate(async (id) => (await fetch(`/api/v1/tickets/${id}`)).json(), danaId);
      assert.fail(`the ${label} filter (${view}) did not find Dana's ticket (assignee ${t.ticket.assignee}, tags ${t.ticket.tags}): ${e.message}`);
    });
    assert.equal(await row(page, 'Mallory').count(), 0, `Mallory's ticket should not match the ${label} filter`);
  }
  await page.goto(`${BASE}/?view=all&platform=telegram&kind=private_message`);
  await row(page, 'Dana').waitFor({ timeout: WAIT });
  await page.goto(`${BASE}/?view=all&kind=comment`);
  await page.getByText('0 tickets').waitFor({ timeout: WAIT });
  // Dana wrote again after the reply, so the ticket is New, and in Sam's own view.
  await samPage.goto(`${BASE}/?view=mine`);
  await row(samPage, 'Dana').waitFor({ timeout: WAIT });

  await page.goto(`${BASE}/?view=all`);
  await row(page, 'Dana').waitFor({ timeout: WAIT });
  await page.keyboard.press('/');
  await page.keyboard.type('courier');
  await page.keyboard.press('Enter');
  await page.waitForURL(/q=courier/);
  await page.getByText('0 tickets').waitFor({ timeout: WAIT }); // notes are internal, not customer text
  await page.getByLabel('Search').fill('birthday');
  await page.getByLabel('Search').press('Enter');
  await row(page, 'Dana').waitFor({ timeout: WAIT });
  assert.equal(await row(page, 'Mallory').count(), 0);
  // The words found are marked in the list and in the thread.
  assert.equal(await row(page, 'Dana').locator('.preview mark').textContent(), 'birthday');
  await row(page, 'Dana').click();
  await page.locator('.message.match mark', { hasText: 'birthday' }).waitFor();
  await page.keyboard.press('Escape');
  // The view is in the URL: a bookmark brings it back.
  await page.reload();
  await row(page, 'Dana').waitFor({ timeout: WAIT });
  assert.equal(await page.getByLabel('Search').inputValue(), 'birthday');
  await samPage.close();
});

test('only the actions the channel declares are offered', async () => {
  await page.goto(`${BASE}/?view=all&ticket=${danaId}`);
  const msg = page.locator('.message.inbound').first();
  await msg.waitFor();
  // Telegram bots can react to and delete a private message, but not hide it or block its author.
  await msg.locator('[data-action="react"]').waitFor();
  assert.equal(await msg.locator('[data-action="delete"]').count(), 1);
  assert.equal(await msg.locator('[data-action="hide"]').count(), 0);
  assert.equal(await msg.locator('[data-action="block"]').count(), 0);
  await msg.locator('[data-action="react"]').click();
  await page.locator('.activity', { hasText: 'react: done' }).waitFor({ timeout: WAIT });
  const reactions = (await sentToTelegram()).filter((c) => c.method === 'setMessageReaction');
  assert.equal(reactions.length, 1);
  // Deleting asks first; dismissing does nothing.
  page.once('dialog', (d) => {
    assert.match(d.message(), /cannot be undone/);
    d.dismiss();
  });
  await msg.getByLabel('More actions').click();
  await msg.locator('[data-action="delete"]').click();
  assert.equal((await sentToTelegram()).filter((c) => c.method === 'deleteMessage').length, 0);
});

test('the keyboard works the inbox; ? shows the shortcuts', async () => {
  await page.goto(`${BASE}/?view=all`);
  await row(page, 'Dana').waitFor();
  await page.mouse.move(5, 5);
  await page.keyboard.press('?');
  await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor({ state: 'detached' });
  const first = await page.locator('.ticket-row').first().getAttribute('data-ticket-id');
  await page.keyboard.press('j');
  await page.keyboard.press('k');
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp(`ticket=${first}`));
  // Resolving opens the next ticket; on a resolved one, `e` opens it again.
  await page.keyboard.press('e');
  await page.locator(`.ticket-row[data-ticket-id="${first}"] .q-resolved`).waitFor({ timeout: WAIT });
  await page.waitForURL((u) => u.search.includes('ticket=') && !u.search.includes(`ticket=${first}`));
  await page.keyboard.press('Escape');
  await page.waitForURL((u) => !u.search.includes('ticket='));
  await page.locator(`.ticket-row[data-ticket-id="${first}"]`).click();
  await page.waitForURL(new RegExp(`ticket=${first}`));
  await page.mouse.move(5, 5);
  await page.keyboard.press('e');
  await page.locator(`.ticket-row[data-ticket-id="${first}"]:not(:has(.q-resolved))`).waitFor({ timeout: WAIT });
  await page.locator(`.ticket-row[data-ticket-id="${first}"]`).click();
  await page.waitForURL(new RegExp(`ticket=${first}`));
  await page.getByRole('region', { name: 'Ticket', exact: true }).getByLabel('Reply').waitFor();
  await page.keyboard.press('r');
  await page.waitForFunction(() => document.activeElement?.getAttribute('aria-label') === 'Reply', null, { timeout: 5000 });
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  await page.waitForURL((u) => !u.search.includes('ticket='));
  await page.screenshot({ path: `${SHOTS}/inbox.png` });
});

test('the list marks what no agent has seen and how long each customer waits; the tab counts the view', async () => {
  await page.goto(`${BASE}/?view=new`);
  await page.mouse.move(5, 5);
  await customerWrites(601, 'Erin', 'Hello, is anyone there?');
  await customerWrites(601, 'Erin', 'Still waiting for my refund');
  const erin = row(page, 'Erin');
  await erin.locator('.unseen-count', { hasText: '2' }).waitFor({ timeout: WAIT });
  assert.match(await erin.getAttribute('class'), /unseen/);
  assert.match(await erin.locator('.waiting').textContent(), /^waiting /);
  // The tab says what the list says.
  await page.waitForFunction(() => {
    const total = document.querySelector('[data-total]')?.getAttribute('data-total');
    return Number(total) > 0 && document.title === `(${total}) New · Helpdesk` && document.querySelector('link[rel="icon"]')?.dataset.count === total;
  }, null, { timeout: WAIT });

  // Longest waiting first: every waiting customer before the others, oldest wait at the top.
  await page.getByLabel('Sort').selectOption('waiting');
  await page.waitForURL(/sort=waiting/);
  // (The list shown before the sort may still be there a moment: wait for the sorted one.)
  const sinceNow = () =>
    page.locator('.ticket-row').evaluateAll((rows) => rows.map((r) => r.querySelector('[data-waiting-since]')?.getAttribute('data-waiting-since') ?? null));
  const sorted = (s) => s.filter((x) => x !== null).length >= 2 && s.filter((x) => x !== null).every((x, i, a) => i === 0 || Number(a[i - 1]) <= Number(x));
  for (const deadline = Date.now() + WAIT; !sorted(await sinceNow()) && Date.now() < deadline; ) await page.waitForTimeout(100);
  const since = await page.locator('.ticket-row').evaluateAll((rows) => rows.map((r) => r.querySelector('[data-waiting-since]')?.getAttribute('data-waiting-since') ?? null));
  const waiting = since.filter((s) => s !== null).map(Number);
  assert.ok(waiting.length >= 2, JSON.stringify(since));
  assert.deepEqual(waiting, [...waiting].sort((a, b) => a - b), 'oldest wait first');
  assert.ok(since.indexOf(null) === -1 || since.slice(since.indexOf(null)).every((s) => s === null), 'then those not waiting');

  // Opening the ticket is seeing it: the mark goes, for every agent.
  await erin.click();
  const pane = page.getByRole('region', { name: 'Ticket', exact: true });
  await pane.getByText('Still waiting for my refund').waitFor();
  await page.waitForFunction(() => !document.querySelector('.ticket-row.open')?.classList.contains('unseen'), null, { timeout: WAIT });

  // A half-written answer survives a reload; Ctrl+Shift+Enter sends it and resolves.
  await pane.getByLabel('Reply').fill('Your refund went out this morning');
  await page.reload();
  await pane.getByLabel('Reply').waitFor();
  assert.equal(await pane.getByLabel('Reply').inputValue(), 'Your refund went out this morning');
  await pane.getByLabel('Reply').press('Control+Shift+Enter');
  await pane.locator('[data-queue="resolved"]').waitFor({ timeout: WAIT });
  const sent = (await sentToTelegram()).filter((c) => c.method === 'sendMessage' && c.params.chat_id == 601);
  assert.deepEqual(sent.map((c) => c.params.text), ['Your refund went out this morning']);
  assert.notEqual(await page.evaluate(() => document.activeElement?.tagName), 'TEXTAREA', 'focus left the reply box');
  assert.equal(await pane.getByLabel('Reply').inputValue(), '');
  // Searching from New looks in every queue (Erin's is resolved now), unless narrowed.
  await page.goto(`${BASE}/?view=new&q=refund`);
  await erin.locator('.you', { hasText: 'You:' }).waitFor({ timeout: WAIT });
  await page.screenshot({ path: `${SHOTS}/waiting.png` });
  await page.getByLabel('In queue').selectOption('new');
  await page.waitForURL(/in=new/);
  await erin.waitFor({ state: 'detached', timeout: WAIT });
});

test('Ctrl+K runs any command by name and jumps to a ticket by its words', async () => {
  await page.goto(`${BASE}/?view=new`);
  await page.locator('.ticket-row').first().waitFor();
  await page.mouse.move(5, 5);
  await page.keyboard.press('Control+k');
  const palette = page.getByRole('dialog', { name: 'Commands' });
  await palette.getByLabel('Command', { exact: true }).fill('pend');
  await palette.getByRole('option', { name: 'Go to Pending' }).waitFor();
  await page.keyboard.press('Enter');
  await page.waitForURL(/view=pending/);
  await palette.waitFor({ state: 'detached' });
  await page.keyboard.press('Control+k');
  await palette.getByLabel('Command', { exact: true }).fill('birthday');
  await palette.getByRole('option', { name: /Open Dana/ }).waitFor({ timeout: WAIT });
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await page.waitForURL(new RegExp(`ticket=${danaId}`));
  // With a ticket open, its actions are there too.
  await page.keyboard.press('Control+k');
  await palette.getByLabel('Command', { exact: true }).fill('flag');
  assert.match(await palette.getByRole('option').first().textContent(), /^(Un)?[Ff]lag/);
  await page.keyboard.press('Escape');
  await palette.waitFor({ state: 'detached' });
});

test('snoozing a ticket puts it in Pending with its time, and waking it brings it back', async () => {
  await customerWrites(605, 'Ivy', 'Norway shipping question, I will check my address tonight');
  await showsDana(page, `${BASE}/?view=all&q=Norway`, 'Ivy');
  const ivy = row(page, 'Ivy');
  await ivy.click();
  const pane = page.getByRole('region', { name: 'Ticket', exact: true });
  // Beside an open ticket the filters fold behind one button (which counts those in use).
  await pane.waitFor();
  assert.equal(await page.getByLabel('Platform').isVisible(), false);
  await page.getByRole('button', { name: 'Filters', exact: true }).click();
  await page.getByLabel('Platform').waitFor();
  await page.getByRole('button', { name: 'Filters', exact: true }).click();
  assert.equal(await page.getByLabel('Platform').isVisible(), false);
  await pane.getByLabel('Snooze').selectOption('tomorrow');
  await pane.locator('[data-queue="pending"]').waitFor({ timeout: WAIT });
  const until = Number(await pane.locator('[data-snoozed-until]').getAttribute('data-snoozed-until'));
  const tomorrow9 = new Date();
  tomorrow9.setDate(tomorrow9.getDate() + 1);
  tomorrow9.setHours(9, 0, 0, 0);
  assert.equal(until, tomorrow9.getTime());
  await pane.locator('.activity', { hasText: 'snoozed until' }).waitFor();
  await ivy.locator('.snoozed').waitFor({ timeout: WAIT });
  await pane.getByRole('button', { name: 'Wake now' }).click();
  await pane.locator('[data-queue="new"]').waitFor({ timeout: WAIT });
  await pane.locator('.activity', { hasText: 'back in New' }).waitFor();
});

test('a new ticket joins the list while the pointer rests on it, and waits while the agent moves over it', async () => {
  await page.goto(`${BASE}/?view=new`);
  const first = page.locator('.ticket-row').first();
  await first.waitFor();
  // Moving over the list: the arrival waits behind a button, not under the pointer.
  await first.hover();
  await customerWrites(603, 'Gus', 'Do you ship to Norway?');
  const button = page.getByRole('button', { name: /new ticket/ });
  const box = await first.boundingBox();
  for (let n = 0; !(await button.count()); n++) {
    assert.ok(n < WAIT / 150, 'the arrival is announced');
    await page.mouse.move(box.x + box.width / 2 + (n % 2) * 6, box.y + box.height / 2);
    await page.waitForTimeout(150);
  }
  assert.equal(await row(page, 'Gus').count(), 0, 'not inserted while the agent is moving over the list');
  // Resting there: it joins the list on its own.
  await row(page, 'Gus').waitFor({ timeout: WAIT });
  await customerWrites(604, 'Hana', 'Can I change my delivery address?');
  await row(page, 'Hana').waitFor({ timeout: WAIT });
});

test('a changed ticket moves to its place in the list, and leaves a view it no longer belongs to', async () => {
  await page.goto(`${BASE}/?view=new`);
  await page.locator('.ticket-row').first().waitFor();
  await page.mouse.move(5, 5);
  await customerWrites(606, 'Jay', 'Where is my order?');
  await row(page, 'Jay').waitFor({ timeout: WAIT });
  await customerWrites(607, 'Kim', 'Do you have gift cards?');
  await page.locator('.ticket-row').first().filter({ hasText: 'Kim' }).waitFor({ timeout: WAIT });
  // Jay writes again: his ticket comes back to the top.
  await customerWrites(606, 'Jay', 'Hello? Order 4411');
  await page.locator('.ticket-row').first().filter({ hasText: 'Order 4411' }).waitFor({ timeout: WAIT });
  // Kim's is resolved by a teammate: it leaves New, and the count says so.
  const before = Number(await page.locator('[data-total]').getAttribute('data-total'));
  const kim = await row(page, 'Kim').getAttribute('data-ticket-id');
  const status = await page.evaluate(async (id) => (await fetch(`/api/v1/tickets/${id}`, { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"queue":"resolved"}' })).status, kim);
  assert.equal(status, 200);
  await row(page, 'Kim').waitFor({ state: 'detached', timeout: WAIT });
  assert.equal(Number(await page.locator('[data-total]').getAttribute('data-total')), before - 1);
});

test('text follows the reader\'s font size', async () => {
  await page.goto(`${BASE}/?view=all`);
  const size = () => row(page, 'Dana').locator('.author').evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
  await row(page, 'Dana').waitFor();
  const normal = await size();
  await page.evaluate(() => (document.documentElement.style.fontSize = '24px'));
  assert.equal(await size(), normal * 1.5);
  await page.evaluate(() => (document.documentElement.style.fontSize = ''));
});

test('on a phone: the list, then the ticket with a way back; dark when the system is; files compressed', async () => {
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, colorScheme: 'dark' });
  const p = await signIn(phone, ADMIN);
  await p.goto(`${BASE}/?view=all`);
  await row(p, 'Dana').waitFor();
  const bg = await p.evaluate(() => getComputedStyle(document.querySelector('.list-pane')).backgroundColor);
  assert.notEqual(bg, 'rgb(255, 255, 255)', 'a dark list on a dark system');
  const widest = await p.evaluate(() => Math.max(...[...document.querySelectorAll('.app *')].map((e) => e.closest('.sidebar') ? 0 : e.getBoundingClientRect().right)));
  assert.ok(widest <= 391, `nothing but the queue strip is wider than the phone: ${widest}`);
  await row(p, 'Dana').locator('.waiting, time').waitFor();
  await p.screenshot({ path: `${SHOTS}/phone-list.png` });
  await row(p, 'Dana').click();
  const pane = p.getByRole('region', { name: 'Ticket', exact: true });
  await pane.getByText('My parcel never arrived').waitFor();
  assert.equal(await p.locator('.list-pane').isVisible(), false, 'the ticket has the whole screen');
  const box = await pane.getByLabel('Reply').boundingBox();
  assert.ok(box && box.y + box.height <= 844 && box.width > 300, `the reply box is on screen: ${JSON.stringify(box)}`);
  await p.screenshot({ path: `${SHOTS}/phone-ticket.png` });
  await pane.getByRole('button', { name: 'Close ticket' }).click();
  await row(p, 'Dana').waitFor();

  const script = await p.evaluate(() => document.querySelector('script[type="module"]').src);
  for (const encoding of ['br', 'gzip']) {
    const r = await fetch(script, { headers: { 'accept-encoding': encoding } });
    assert.equal(r.headers.get('content-encoding'), encoding);
  }
  await phone.close();
});

/** axe-core's WCAG 2 A and AA checks on what `page` shows: the serious and critical findings. */
async function accessibilityProblems(page) {
  await page.evaluate(AXE); // through the debugger: the page's CSP rightly refuses inline scripts
  const result = await page.evaluate(async () => await window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa'] }));
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.help} (${v.nodes.slice(0, 8).map((n) => `${n.target.join(' ')} ${n.any[0]?.data?.contrastRatio ?? ''}`).join(', ')})`);
}

test('the inbox, a ticket and the admin pages pass axe-core, light and dark', async () => {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMedia({ colorScheme: scheme });
    await page.goto(`${BASE}/?view=all&ticket=${danaId}`);
    await page.getByRole('region', { name: 'Ticket', exact: true }).getByLabel('Reply').waitFor();
    assert.deepEqual(await accessibilityProblems(page), [], `inbox with a ticket open (${scheme})`);
    for (const path of ['/admin/channels', '/admin/users', '/admin/teams']) {
      await page.goto(`${BASE}${path}`);
      await page.locator('.admin-page table').first().waitFor();
      assert.deepEqual(await accessibilityProblems(page), [], `${path} (${scheme})`);
    }
  }
  await page.emulateMedia({ colorScheme: 'light' });
});

test('a long conversation opens on its newest messages, scrolling up loads earlier ones, an edit keeps the original', async () => {
  const write = async (body) => {
    const r = await fetch(`${EMULATOR}/_emulator/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_id: 503, first_name: 'Lou', ...body }) });
    assert.equal(r.status, 200);
    return (await r.json()).message_id;
  };
  const last = await write({ text: 'Lou line', count: 250 });
  await page.goto(`${BASE}/?view=all`);
  await row(page, 'Lou line 250').waitFor({ timeout: WAIT });
  await row(page, 'Lou line 250').click();
  const line = (n) => page.locator('.message .text').getByText(`Lou line ${n}`, { exact: true });
  await line(250).waitFor({ timeout: WAIT });
  // The newest two pages of 100: lines 101 to 250.
  assert.equal(await page.locator('.message').count(), 150);
  assert.equal(await line(1).count(), 0);
  await page.getByRole('button', { name: 'Earlier messages' }).waitFor();
  await page.locator('.timeline').evaluate((el) => (el.scrollTop = 0));
  await line(1).waitFor({ timeout: WAIT });
  assert.equal(await page.locator('.message').count(), 250);
  assert.equal(await page.getByRole('button', { name: 'Earlier messages' }).count(), 0);

  // The customer corrects the last message: the new text shows, marked edited, the old one on demand.
  await write({ text: 'Lou line 250 (corrected)', edits: last });
  const edited = page.locator('.message', { hasText: 'Lou line 250 (corrected)' });
  await edited.waitFor({ timeout: WAIT });
  await edited.getByText('edited', { exact: true }).waitFor();
  await edited.getByText('Show the earlier version').click();
  await edited.locator('.history').getByText('Lou line 250', { exact: false }).first().waitFor();
  assert.match(await edited.locator('.history').textContent(), /original:\s*Lou line 250(?! \()/);
  // The live update kept the earlier pages the agent had loaded.
  assert.equal(await page.locator('.message').count(), 250);
});

test('an agent sets their status, teammates see it, and a ticket the queue hands them arrives with a notice', async () => {
  const admin = await signIn(alex, ADMIN);
  await admin.goto(`${BASE}/admin/teams`);
  await admin.getByRole('button', { name: 'New team' }).click();
  const form = admin.getByRole('form', { name: 'Team' });
  await form.getByLabel('Name').fill('Support');
  await form.getByLabel(AGENT.name).check();
  await form.getByLabel('Telegram tg').check();
  await form.getByLabel('Open tickets per agent').fill('50');
  await form.getByRole('button', { name: 'Save team' }).click();
  await admin.locator('[data-team="Support"]', { hasText: 'on: up to 50 each' }).waitFor({ timeout: WAIT });
  await admin.screenshot({ path: `${SHOTS}/teams.png` });

  const agent = await signIn(sam, AGENT);
  const mine = agent.getByLabel('My status');
  await mine.selectOption('away');
  // Alex sees Sam away, live.
  await admin.locator(`[data-teammate][data-status="away"]`, { hasText: AGENT.name }).waitFor({ timeout: WAIT });
  await customerWrites(990, 'Queue', 'Who will answer me?');
  await mine.selectOption('available');
  await admin.locator(`[data-teammate][data-status="available"]`, { hasText: AGENT.name }).waitFor({ timeout: WAIT });
  // Coming back, Sam is handed the waiting ticket, and told.
  const notice = agent.locator('[data-assigned]', { hasText: 'Assigned to you: Queue' });
  await notice.waitFor({ timeout: WAIT });
  await agent.screenshot({ path: `${SHOTS}/assigned.png` });
  await notice.getByRole('button', { name: 'Open' }).click();
  await agent.getByText('Who will answer me?').first().waitFor({ timeout: WAIT });

  // The team goes, so that the queue stops handing out the others' tickets.
  admin.once('dialog', (d) => d.accept());
  await admin.locator('[data-team="Support"]').getByRole('button', { name: 'Delete' }).click();
  await admin.locator('[data-team="Support"]').waitFor({ state: 'detached', timeout: WAIT });
});

test('admins see channel health and can disable a channel; agents cannot', async () => {
  await page.goto(`${BASE}/admin/channels`);
  const tg = page.locator('[data-channel="tg"]');
  await tg.locator('[data-health="ok"]').waitFor({ timeout: WAIT });
  // Which contract version its plugin was built against, where its webhooks go, and its own
  // connection test.
  await tg.locator('[data-contract="0.7.0"]').waitFor();
  assert.match(await tg.locator('.webhook-url').textContent(), /\/webhooks\/tg$/);
  // Its settings that are not secrets, as set (a verify token would be here); the token is not.
  assert.match(await tg.locator('[data-setting="long_poll_seconds"]').textContent(), /Long poll seconds:?\s*2/);
  assert.doesNotMatch(await tg.textContent(), /WEB-TEST/);
  await tg.getByRole('button', { name: 'Test connection' }).click();
  await tg.locator('[data-test-result="tg"]', { hasText: 'Connected: bot @acme_support_bot' }).waitFor({ timeout: WAIT });
  await tg.getByRole('button', { name: 'Disable' }).click();
  await tg.locator('[data-health="disabled"]').waitFor({ timeout: WAIT });
  // In a ticket of the disabled channel, the reply box says why it cannot send.
  const tab = await alex.newPage();
  await tab.goto(`${BASE}/?view=all&ticket=${danaId}`);
  await tab.locator('[data-channel-down]', { hasText: 'disabled' }).waitFor({ timeout: WAIT });
  await tab.getByLabel('Reply').fill('This cannot go out');
  assert.equal(await tab.getByRole('button', { name: 'Send', exact: true }).isDisabled(), true);
  await tab.getByLabel('Reply').fill('');
  await tab.close();
  await tg.getByRole('button', { name: 'Enable' }).click();
  await tg.getByRole('button', { name: 'Disable' }).waitFor();
  await page.screenshot({ path: `${SHOTS}/channels.png` });

  // The bot's token is revoked (BotFather's /revoke): the channel needs reconnecting, and the
  // admin gives it the new token here, without a restart; messages flow again.
  const revoked = await fetch(`${EMULATOR}/_emulator/revoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: NEW_TOKEN }) });
  assert.equal(revoked.status, 204);
  await tg.locator('[data-health="needs_reconnect"]').waitFor({ timeout: WAIT });
  await tg.getByRole('button', { name: 'Reconnect' }).click();
  const form = page.locator('[data-reconnect="tg"]');
  await form.getByRole('button', { name: 'Save and reconnect' }).click();
  await form.getByRole('alert').filter({ hasText: 'at least one secret' }).waitFor();
  await form.getByLabel('Bot token').fill(NEW_TOKEN);
  await page.screenshot({ path: `${SHOTS}/channels-reconnect.png` });
  await form.getByRole('button', { name: 'Save and reconnect' }).click();
  await form.waitFor({ state: 'detached', timeout: WAIT });
  await tg.locator('[data-health="ok"]').waitFor({ timeout: WAIT });
  await customerWrites(777, 'Rita', 'Hello after the new token');
  await page.goto(`${BASE}/`);
  await page.locator('.ticket-row', { hasText: 'Hello after the new token' }).waitFor({ timeout: WAIT });
  await page.goto(`${BASE}/admin/channels`);
  // Nothing on the page shows the token; the history says who replaced it.
  assert.ok(!(await page.content()).includes(NEW_TOKEN));
  await tg.getByRole('button', { name: 'History' }).click();
  await page.locator('[data-history="tg"]', { hasText: 'replaced the secret bot_token' }).waitFor({ timeout: WAIT });
  assert.match(await page.locator('[data-history="tg"]').textContent(), /disabled it/);

  // Upgrading its plugin from the page: a broken file is refused in words, the real one is
  // swapped in and the channel goes on.
  const file = page.locator('.install-plugin input[type="file"]');
  await file.setInputFiles({ name: 'telegram.wasm', mimeType: 'application/wasm', buffer: Buffer.from('not a component') });
  await page.getByRole('button', { name: 'Install' }).click();
  await page.locator('[data-install-result]', { hasText: 'refused' }).waitFor({ timeout: WAIT });
  await file.setInputFiles(env('TELEGRAM_WASM'));
  await page.getByRole('button', { name: 'Install' }).click();
  await page.locator('[data-install-result]', { hasText: 'now running on tg' }).waitFor({ timeout: 60_000 });
  await tg.locator('[data-health="ok"]').waitFor({ timeout: WAIT });

  // A second channel connected from the page, nothing in plugins.toml: the bot moves to it.
  await tg.getByRole('button', { name: 'Disable' }).click();
  await tg.locator('[data-health="disabled"]').waitFor({ timeout: WAIT });
  const connect = page.locator('.connect-channel');
  await connect.locator('select[name="plugin"]').selectOption('telegram');
  await connect.getByLabel('Channel id').fill('tg2');
  await connect.getByLabel('Name agents see').fill('Second bot');
  await connect.getByRole('button', { name: 'Connect' }).click();
  await connect.locator('[data-connect-result]', { hasText: 'bot_token' }).waitFor({ timeout: WAIT });
  await connect.getByLabel('Bot token').fill(NEW_TOKEN);
  await connect.getByLabel('Bot API URL').fill(EMULATOR);
  await connect.getByLabel('Long poll seconds').fill('2');
  await connect.getByLabel('Other hosts').fill(EMULATOR);
  await page.screenshot({ path: `${SHOTS}/channels-connect.png`, fullPage: true });
  await connect.getByRole('button', { name: 'Connect' }).click();
  await connect.locator('[data-connect-result]', { hasText: 'Connected Second bot' }).waitFor({ timeout: WAIT });
  await page.locator('[data-channel="tg2"] [data-health="ok"]').waitFor({ timeout: WAIT });
  await customerWrites(778, 'Nia', 'Hello through the second bot');
  await page.goto(`${BASE}/`);
  await page.locator('.ticket-row', { hasText: 'Hello through the second bot' }).waitFor({ timeout: WAIT });
  await page.goto(`${BASE}/admin/channels`);
  assert.ok(!(await page.content()).includes(NEW_TOKEN));
  // The one connected here can be changed here.
  const tg2 = page.locator('[data-channel="tg2"]');
  await tg2.getByRole('button', { name: 'Edit' }).click();
  const edit = page.locator('[data-edit="tg2"]');
  assert.equal(await edit.getByLabel('Bot API URL').inputValue(), EMULATOR);
  await edit.getByLabel('Name agents see').fill('Second bot, edited');
  await edit.getByRole('button', { name: 'Save' }).click();
  await tg2.getByText('Second bot, edited').waitFor({ timeout: WAIT });
  await tg2.locator('[data-health="ok"]').waitFor({ timeout: WAIT });
  // Its token revoked in turn, it is reconnected here too.
  const again = await fetch(`${EMULATOR}/_emulator/revoke`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: THIRD_TOKEN }) });
  assert.equal(again.status, 204);
  await tg2.locator('[data-health="needs_reconnect"]').waitFor({ timeout: WAIT });
  await tg2.getByRole('button', { name: 'Reconnect' }).click();
  await page.locator('[data-reconnect="tg2"]').getByLabel('Bot token').fill(THIRD_TOKEN);
  await page.locator('[data-reconnect="tg2"]').getByRole('button', { name: 'Save and reconnect' }).click();
  await tg2.locator('[data-health="ok"]').waitFor({ timeout: WAIT });
  await customerWrites(779, 'Oli', 'Hello after the second reconnect');
  await page.goto(`${BASE}/`);
  await page.locator('.ticket-row', { hasText: 'Hello after the second reconnect' }).waitFor({ timeout: WAIT });
  await page.goto(`${BASE}/admin/channels`);
  assert.ok(!(await page.content()).includes(THIRD_TOKEN));
  // plugins.toml's channel cannot be removed here; the one connected here can.
  assert.equal(await tg.getByRole('button', { name: 'Remove' }).count(), 0);
  page.once('dialog', (d) => d.accept());
  await page.locator('[data-channel="tg2"]').getByRole('button', { name: 'Remove' }).click();
  await page.locator('[data-channel="tg2"]').waitFor({ state: 'detached', timeout: WAIT });
  const samPage = await signIn(sam, AGENT);
  assert.equal(await samPage.getByRole('link', { name: 'Channels' }).count(), 0);
  const status = await samPage.evaluate(async () => (await fetch('/api/v1/channels/tg', { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"enabled":false}' })).status);
  assert.equal(status, 403);
});

test('a teammate joins by an invitation link: their own name and password, the role the admin chose', async () => {
  await page.goto(`${BASE}/admin/users`);
  await page.getByLabel("Invitee's email").fill('rio@example.com');
  await page.getByRole('button', { name: 'Make an invitation link' }).click();
  const link = await page.getByLabel('Invitation link').inputValue();
  assert.match(link, /\/invite#[A-Za-z0-9_-]{20,}$/);
  await page.locator('.invitations li', { hasText: 'rio@example.com' }).waitFor();

  const fresh = await browser.newContext({ viewport: { width: 1000, height: 800 } });
  const rio = await fresh.newPage();
  await rio.goto(link);
  const form = rio.getByRole('form', { name: 'Join the helpdesk' });
  await form.waitFor({ timeout: WAIT });
  assert.match(await form.textContent(), /invited you as an agent/);
  assert.equal(await rio.getByLabel('Email').inputValue(), 'rio@example.com');
  await rio.getByLabel('Your name').fill('Rio');
  await rio.getByLabel('Password').fill('rio-password-1');
  await rio.getByRole('button', { name: 'Join and sign in' }).click();
  await rio.getByRole('navigation', { name: 'Queues' }).waitFor({ timeout: WAIT });
  assert.equal(new URL(rio.url()).hash, '', 'the secret leaves the address bar');
  assert.equal(await rio.getByRole('link', { name: 'Users' }).count(), 0, 'an agent, as invited');
  // Used once: the same link now says so.
  const other = await (await browser.newContext()).newPage();
  await other.goto(link);
  await other.getByRole('alert').filter({ hasText: 'not valid any more' }).waitFor({ timeout: WAIT });
  await fresh.close();
  await page.reload();
  await page.locator('[data-user="rio@example.com"]').waitFor();
});

test('an admin resets a teammate\'s password; demoting themselves is asked first, and leaves the admin pages at once', async () => {
  await page.goto(`${BASE}/admin/users`);
  // A forgotten password: the admin sets a new one, and it signs in.
  page.once('dialog', (d) => d.accept('a-fresh-password-for-sam'));
  await page.getByRole('button', { name: `Reset the password of ${AGENT.name}` }).click();
  await page.getByText(`${AGENT.name}'s password is changed`).waitFor({ timeout: WAIT });
  const signIn = async (password) =>
    (await fetch(`${BASE}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: AGENT.email, password }) })).status;
  assert.equal(await signIn('a-fresh-password-for-sam'), 200);
  assert.equal(await signIn(AGENT.password), 401, 'the old one no longer works');
  const me = await page.evaluate(async () => (await (await fetch('/api/v1/me')).json()).name);
  const role = page.getByLabel(`Role of ${me}`);
  await role.waitFor();
  let asked = '';
  page.once('dialog', (d) => ((asked = d.message()), d.dismiss()));
  await role.selectOption('agent');
  assert.match(asked, /no longer be an admin/);
  assert.equal(await role.inputValue(), 'admin', 'dismissed: still an admin');
  assert.equal((await (await page.evaluate(async () => (await fetch('/api/v1/me')).json()))).role, 'admin');
  // The last admin cannot go: the server says why, and the page shows what is true.
  page.once('dialog', (d) => d.accept());
  await role.selectOption('agent');
  await page.getByRole('alert').filter({ hasText: 'last admin' }).waitFor({ timeout: WAIT });
  assert.equal(await role.inputValue(), 'admin');
  await page.getByLabel(`Role of ${AGENT.name}`).selectOption('admin');
  await page.waitForFunction((name) => document.querySelector(`[aria-label="Role of ${name}"]`)?.value === 'admin', AGENT.name);
  page.once('dialog', (d) => d.accept());
  await role.selectOption('agent');
  await page.waitForURL((u) => u.pathname === '/');
  await page.getByRole('navigation', { name: 'Queues' }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'Users' }).count(), 0, 'no admin pages any more');
});

test('a review shows its stars and its shop; a held YouTube comment is published, and delete is offered only on our answer', async () => {
  const page = await signIn(alex, ADMIN);
  await google('reviews', { location: '456', reviewer: 'Rita Stars', stars: 2, comment: 'The kettle aisle was a mess today.' });
  await google('reviews', { location: '456', reviewer: 'Hugo Happy', stars: 5, comment: 'Lovely staff!' });
  await showsDana(page, `${BASE}/?queue=all&kind=review`, 'Rita Stars');
  const rita = row(page, 'Rita Stars');
  assert.equal(await rita.locator('.stars').getAttribute('data-rating'), '2');
  assert.equal(await rita.locator('.stars').textContent(), '★★☆☆☆');
  // Low ratings first: the rating filter shows beside the kind.
  await page.getByLabel('Rating').selectOption('1-2');
  await row(page, 'Hugo Happy').waitFor({ state: 'detached', timeout: WAIT });
  await rita.click();
  const pane = page.getByRole('region', { name: 'Ticket', exact: true });
  await pane.locator('.post-context .post-title', { hasText: 'Acme Shop Main Street' }).waitFor({ timeout: WAIT });
  const review = page.locator('.message.inbound', { hasText: 'kettle aisle' });
  await review.locator('.stars[data-rating="2"]').waitFor();
  // Google has no hiding or deleting of a customer's review: not offered.
  assert.equal(await review.locator('[data-action="delete"]').count(), 0);
  assert.equal(await review.locator('[data-action="hide"]').count(), 0);
  await pane.getByLabel('Reply').fill('Sorry Rita, we tidied it up.');
  await pane.getByRole('button', { name: 'Send', exact: true }).click();
  const answer = page.locator('.message.outbound', { hasText: 'we tidied it up' });
  await answer.waitFor({ timeout: WAIT });
  // Our own answer can be deleted, behind "…".
  await answer.getByLabel('More actions').click();
  await answer.locator('[data-action="delete"]').waitFor();
  await page.screenshot({ path: `${SHOTS}/review.png` });

  // YouTube: a comment YouTube holds for review shows as held, and Publish releases it.
  const { id } = await google('comments', { video: 'vid1', author: 'Kettle Deals', text: 'Cheap kettles at my channel', status: 'heldForReview' });
  await showsDana(page, `${BASE}/?queue=all&platform=youtube`, 'Kettle Deals');
  await row(page, 'Kettle Deals').click();
  await page.locator('.post-context .post-title', { hasText: 'How to descale your kettle' }).waitFor({ timeout: WAIT });
  const held = page.locator('.message.inbound', { hasText: 'Cheap kettles' });
  await held.locator('[data-visibility="held_for_review"]', { hasText: 'Held for review' }).waitFor();
  assert.equal(await held.locator('[data-action="like"]').count(), 0, 'YouTube cannot like comments');
  await held.locator('[data-action="publish"]').click();
  await held.locator('[data-visibility]').waitFor({ state: 'detached', timeout: WAIT });
  const after = await (await fetch(`${GOOGLE}/_emulator/comments/${id}`)).json();
  assert.equal(after.snippet.moderationStatus, 'published');
  await page.screenshot({ path: `${SHOTS}/youtube.png` });
});

test('a comment answered in public and in private: each answer is labelled as what it is', async () => {
  const { createHmac } = await import('node:crypto');
  const page = await signIn(alex, ADMIN);
  const now = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({ object: 'page', entry: [{ id: '1010101010', time: now, changes: [{ field: 'feed', value: {
    from: { id: '2001', name: 'Priv Ate' }, post: { id: '1010101010_5001', status_type: 'mobile_status_update', is_published: true },
    message: 'Can you check my order 5521? Not sharing my address here', post_id: '1010101010_5001', comment_id: '5001_9001',
    created_time: now, item: 'comment', parent_id: '1010101010_5001', verb: 'add' } }] }] });
  const signature = 'sha256=' + createHmac('sha256', META_APP_SECRET).update(body).digest('hex');
  const r = await fetch(`${BASE}/webhooks/fb`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body });
  assert.equal(r.status, 200);
  await showsDana(page, `${BASE}/?queue=all&platform=facebook`, 'Priv Ate');
  await row(page, 'Priv Ate').click();
  const pane = page.getByRole('region', { name: 'Ticket', exact: true });
  await pane.getByText('Not sharing my address here').waitFor();
  await pane.getByRole('tab', { name: 'Private reply' }).click();
  await pane.getByLabel('Reply').fill('Sent you a message with the details.');
  await pane.getByRole('button', { name: 'Send', exact: true }).click();
  const privately = pane.locator('.message.outbound', { hasText: 'Sent you a message' });
  await privately.locator('[data-reply="private"]', { hasText: 'Private reply' }).waitFor({ timeout: WAIT });
  await pane.getByRole('tab', { name: /^Reply on/ }).click();
  await pane.getByLabel('Reply').fill('Thanks, we answered you in Messenger.');
  await pane.getByRole('button', { name: 'Send', exact: true }).click();
  const publicly = pane.locator('.message.outbound', { hasText: 'answered you in Messenger' });
  await publicly.locator('[data-reply="public"]', { hasText: 'Public reply' }).waitFor({ timeout: WAIT });
  await page.screenshot({ path: `${SHOTS}/private-reply.png` });
});

test('a rule hides a spam comment as it arrives: Facebook is asked, the comment shows hidden, the history names the rule', async () => {
  const { createHmac } = await import('node:crypto');
  // Sam is the admin now (the test before made him one, with a new password).
  const admin = await signIn(sam, { email: AGENT.email, password: 'a-fresh-password-for-sam' });
  await admin.goto(`${BASE}/admin/rules`);
  await admin.getByRole('button', { name: 'New rule' }).click();
  const form = admin.getByRole('form', { name: 'Rule' });
  await form.getByLabel('Name').fill('Hide crypto spam');
  await form.getByLabel('Facebook fb').check();
  await form.getByLabel('comment', { exact: true }).check();
  await form.getByLabel(/Text contains any of/).fill('crypt*');
  await form.getByLabel('Hide it').check();
  await form.getByLabel('Tag', { exact: true }).fill('spam');
  await form.getByRole('button', { name: 'Save rule' }).click();
  await admin.locator('[data-rule="Hide crypto spam"] [data-rule-state]', { hasText: 'on' }).waitFor({ timeout: WAIT });
  await admin.screenshot({ path: `${SHOTS}/rules.png` });

  const now = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({ object: 'page', entry: [{ id: '1010101010', time: now, changes: [{ field: 'feed', value: {
    from: { id: '2099', name: 'Spam Bot' }, post: { id: '1010101010_5001', status_type: 'mobile_status_update', is_published: true },
    message: 'Best cryptocurrency tips on my page', post_id: '1010101010_5001', comment_id: '5001_9100',
    created_time: now, item: 'comment', parent_id: '1010101010_5001', verb: 'add' } }] }] });
  const signature = 'sha256=' + createHmac('sha256', META_APP_SECRET).update(body).digest('hex');
  const r = await fetch(`${BASE}/webhooks/fb`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body });
  assert.equal(r.status, 200);
  await showsDana(admin, `${BASE}/?queue=all&platform=facebook`, 'Spam Bot');
  await row(admin, 'Spam Bot').click();
  const pane = admin.getByRole('region', { name: 'Ticket', exact: true });
  await pane.locator('.message.inbound', { hasText: 'cryptocurrency tips' }).locator('[data-hidden]').waitFor({ timeout: WAIT });
  await pane.getByText('Rule: Hide crypto spam').first().waitFor({ timeout: WAIT });
  const { calls } = await (await fetch(`${GRAPH}/_emulator/calls?path=5001_9100`)).json();
  assert.equal(calls[0].body.is_hidden, true, 'Facebook was asked to hide it');
});

test('an SMS answer shows its segments as it is written; a contact who sent STOP is named in the reply box', async () => {
  const { createHmac } = await import('node:crypto');
  const url = `${BASE}/webhooks/sms`;
  // As Twilio posts it: form-encoded, signed over the whole URL and the sorted parameters.
  const text = async (sid, body) => {
    const params = { AccountSid: 'AC2721a062eb43000b76a88df0ca9787ed', Body: body, From: '+4917612345678', MessageSid: sid, NumMedia: '0', SmsStatus: 'received', To: '+4915735986865' };
    const signed = url + Object.keys(params).sort().map((k) => k + params[k]).join('');
    const r = await fetch(url, { method: 'POST', body: new URLSearchParams(params),
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': createHmac('sha1', TWILIO_AUTH_TOKEN).update(signed).digest('base64') } });
    assert.equal(r.status, 200);
  };
  await text('SM00000000000000000000000000000001', 'Is my parcel 8812 still coming?');
  const page = await signIn(alex, ADMIN);
  // A saved reply of one's own; an unknown variable is refused when saved.
  await page.goto(`${BASE}/saved-replies`);
  await page.getByRole('button', { name: 'New saved reply' }).click();
  const form = page.getByRole('form', { name: 'Saved reply' });
  await form.getByLabel('Title').fill('Parcel on its way');
  await form.getByLabel('Text').fill('Hi {{contact.nickname}}');
  await form.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('alert').filter({ hasText: 'unknown variable' }).waitFor({ timeout: WAIT });
  await form.getByLabel('Text').fill('Hi {{contact.first_name}}, your parcel left our warehouse today.');
  await form.getByRole('button', { name: 'Save' }).click();
  await page.locator('[data-saved="Parcel on its way"]').waitFor({ timeout: WAIT });
  await showsDana(page, `${BASE}/?queue=all&platform=twilio`, '+4917612345678');
  await row(page, '+4917612345678').click();
  const pane = page.getByRole('region', { name: 'Ticket', exact: true });
  await pane.getByText('parcel 8812').waitFor();
  await pane.getByLabel('Reply').fill('Yes, it left our warehouse today. '.repeat(6));
  await pane.locator('[data-reply-note]', { hasText: '2 SMS segments' }).waitFor({ timeout: WAIT });
  await pane.getByLabel('Reply').fill('Yes 👍');
  await pane.locator('[data-reply-note]').waitFor({ state: 'detached', timeout: WAIT });
  // `/` opens the saved replies; a number is no first name, so the box asks for it.
  await pane.getByLabel('Reply').fill('/parcel');
  await pane.getByRole('option', { name: /Parcel on its way/ }).waitFor({ timeout: WAIT });
  await page.keyboard.press('Enter');
  const ask = pane.getByRole('form', { name: 'Fill in the saved reply' });
  await ask.getByLabel('contact.first_name').fill('Jonas');
  await ask.getByRole('button', { name: 'Insert' }).click();
  assert.equal(await pane.getByLabel('Reply').inputValue(), 'Hi Jonas, your parcel left our warehouse today.');
  await text('SM00000000000000000000000000000002', 'STOP');
  await pane.locator('[data-reply-opted-out]', { hasText: 'opted out of messages' }).waitFor({ timeout: WAIT });
  await page.screenshot({ path: `${SHOTS}/sms.png` });
});


test('a status rule tags what an agent resolves; a Spanish comment shows its language; unanswered channels show; a muted channel stays quiet', async () => {
  const { createHmac } = await import('node:crypto');
  const admin = await signIn(sam, { email: AGENT.email, password: 'a-fresh-password-for-sam' });
  await admin.goto(`${BASE}/admin/rules`);
  await admin.getByRole('button', { name: 'New rule' }).click();
  const form = admin.getByRole('form', { name: 'Rule' });
  await form.getByLabel('Name').fill('Tag resolved');
  await form.getByLabel('When').selectOption('status_changed');
  await form.getByLabel('resolved', { exact: true }).check();
  await form.getByLabel('Tag', { exact: true }).fill('closed');
  await form.getByRole('button', { name: 'Save rule' }).click();
  await admin.locator('[data-rule="Tag resolved"] [data-rule-state]', { hasText: 'on' }).waitFor({ timeout: WAIT });

  const now = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({ object: 'page', entry: [{ id: '1010101010', time: now, changes: [{ field: 'feed', value: {
    from: { id: '2101', name: 'Lucía Gómez' }, post: { id: '1010101010_5001', status_type: 'mobile_status_update', is_published: true },
    message: '¿Cuándo abre la tienda el domingo? Necesito cambiar una talla', post_id: '1010101010_5001', comment_id: '5001_9200',
    created_time: now, item: 'comment', parent_id: '1010101010_5001', verb: 'add' } }] }] });
  const signature = 'sha256=' + createHmac('sha256', META_APP_SECRET).update(body).digest('hex');
  const r = await fetch(`${BASE}/webhooks/fb`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body });
  assert.equal(r.status, 200);
  await showsDana(admin, `${BASE}/?queue=all&language=spa`, 'Lucía Gómez');
  await row(admin, 'Lucía Gómez').click();
  const pane = admin.getByRole('region', { name: 'Ticket', exact: true });
  await pane.locator('.message.inbound [data-language="spa"]', { hasText: 'Spanish' }).waitFor({ timeout: WAIT });
  await pane.getByRole('button', { name: 'Resolve', exact: true }).click();
  await pane.getByText('Rule: Tag resolved').first().waitFor({ timeout: WAIT });
  await pane.locator('.tags', { hasText: 'closed' }).first().waitFor({ timeout: WAIT });

  // The channels nobody has answered on are named (YouTube); Facebook was answered by the tests before.
  await admin.goto(`${BASE}/admin/channels`);
  await admin.locator('[data-last-answer="fb"]').waitFor({ timeout: WAIT });
  await admin.locator('[data-inactive="yt"]').waitFor({ timeout: WAIT });
  assert.equal(await admin.locator('[data-inactive="fb"]').count(), 0);
  await admin.screenshot({ path: `${SHOTS}/channels-inactive.png` });

  // Sam mutes Facebook: a mention in a Facebook ticket's note tells him nothing.
  await admin.goto(`${BASE}/`);
  await admin.getByRole('button', { name: 'Notifications' }).click();
  await admin.locator('[data-mute="fb"]').check();
  await admin.locator('[data-mute="fb"]').waitFor({ state: 'attached' });
  const prefs = await admin.evaluate(async () => (await fetch('/api/v1/me/notifications')).json());
  assert.deepEqual(prefs.muted_channels, ['fb']);
  await admin.reload();
  await admin.getByRole('button', { name: 'Notifications' }).click();
  assert.equal(await admin.locator('[data-mute="fb"]').isChecked(), true, 'kept for the next visit');
  const alexPage = await signIn(alex, ADMIN);
  const mention = async (text) => {
    const res = await alexPage.evaluate(async (text) => {
      const [t] = await (await fetch('/api/v1/tickets?language=spa&queue=all')).json().then((b) => b.tickets ?? b);
      return (await fetch(`/api/v1/tickets/${t.id}/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text }) })).status;
    }, text);
    assert.equal(res, 201);
  };
  await mention(`@${AGENT.name} can you look at this one?`);
  await admin.waitForTimeout(1500);
  assert.equal(await admin.locator('[data-notice="Mentioned you"]').count(), 0, 'muted: no notice');
  await admin.locator('[data-mute="fb"]').uncheck();
  await admin.waitForTimeout(300);
  await mention(`@${AGENT.name} and this?`);
  await admin.locator('[data-notice="Mentioned you"]').waitFor({ timeout: WAIT });
  await alexPage.close();
});

test('an admin sets a response target: waiting tickets show their time left, filter by breached and sort by due; the reports page charts the work and gives its CSV', async () => {
  const admin = await signIn(sam, { email: AGENT.email, password: 'a-fresh-password-for-sam' });
  await admin.goto(`${BASE}/admin/targets`);
  await admin.getByText('No response targets yet').waitFor();
  await admin.getByRole('button', { name: 'New response target' }).click();
  const form = admin.getByRole('form', { name: 'Response target' });
  await form.getByLabel('Name').fill('Answer within a minute');
  await form.getByLabel('First response minutes').fill('1');
  await form.getByLabel('Resolution minutes').fill('1440');
  await form.getByRole('button', { name: 'Save' }).click();
  const target = admin.locator('[data-target="Answer within a minute"]');
  await target.waitFor({ timeout: WAIT });
  assert.match(await target.innerText(), /Every ticket[\s\S]*1 min[\s\S]*1 d/);

  // The tickets that have waited longer than a minute are overdue (any New one is within a
  // minute of its arrival); the filter finds them.
  await admin.goto(`${BASE}/?view=new&breach=breached`);
  const overdue = admin.locator('.ticket-row [data-due="breached"]');
  const deadline = Date.now() + 75_000;
  // Each look waits for the list to have loaded (rows, or "Nothing here").
  const listed = async () => (await admin.locator('.ticket-row, .empty').first().waitFor({ timeout: WAIT }), await overdue.count());
  while ((await listed()) === 0) {
    if (Date.now() > deadline) {
      const listed = await admin.evaluate(async () => (await (await fetch('/api/v1/tickets?queue=new&limit=100')).json()).tickets.map((t) => [t.contact.name, t.created_at, t.first_response_at, t.due]));
      const breached = await admin.evaluate(async () => (await fetch('/api/v1/tickets?queue=new&breach=breached&limit=50')).text());
      const shown = JSON.stringify(await admin.locator('.tickets, .empty, .error, [role="alert"]').allInnerTexts()) + (await admin.locator('.ticket-row').first().innerHTML().catch(() => 'no row'));
      assert.fail(`no overdue ticket listed at ${Date.now()} (${admin.url()}): the API says ${breached.slice(0, 400)}; the page shows ${shown.slice(0, 600)}; New holds ${JSON.stringify(listed)}`);
    }
    await admin.waitForTimeout(500);
    await admin.reload();
  }
  assert.equal(await admin.locator('.ticket-row').count(), await overdue.count(), 'only breached tickets');
  assert.match(await overdue.first().innerText(), /First response overdue/);
  await admin.getByLabel('Sort').selectOption('due');
  await admin.waitForURL(/sort=due/);
  await admin.locator('.ticket-row').first().click();
  const pane = admin.getByRole('region', { name: 'Ticket', exact: true });
  await pane.locator('.ticket-head [data-due="breached"]').waitFor({ timeout: WAIT });
  await admin.screenshot({ path: `${SHOTS}/response-targets.png` });

  // Reports: the figures, two charts and a line per day; by channel, a line per channel.
  await admin.getByRole('navigation', { name: 'Queues' }).getByRole('link', { name: 'Reports' }).click();
  await admin.getByRole('heading', { name: 'Reports' }).waitFor();
  const tickets = Number(await admin.locator('[data-figure="tickets_in"]').innerText());
  assert.ok(tickets > 0, 'the tickets of the tests so far');
  await admin.locator('.chart canvas').nth(1).waitFor({ timeout: WAIT });
  assert.equal(await admin.getByRole('img', { name: 'Tickets in and resolved' }).count(), 1);
  assert.equal(await admin.locator('.report-table tbody tr').count(), 31, '30 days and the total');
  await admin.screenshot({ path: `${SHOTS}/reports.png`, fullPage: true });
  await admin.getByLabel('Group by').selectOption('channel');
  await admin.waitForURL(/by=channel/);
  await admin.locator('.report-table tbody tr[data-line="tg"]').waitFor({ timeout: WAIT });
  const download = admin.waitForEvent('download');
  await admin.getByRole('link', { name: 'Download CSV' }).click();
  const file = await (await download).path();
  const csv = readFileSync(file, 'utf8');
  assert.match(csv.split('\n')[0], /^key,tickets_in,messages_in/);
  assert.match(csv, /\ntotal,/);
  assert.equal(Number(csv.split('\n').find((l) => l.startsWith('total,')).split(',')[1]), tickets, 'the CSV says what the page says');
});

test('the audit log shows who did what, filters by kind, and the failed sign-in from the first test is there', async () => {
  const admin = await signIn(sam, { email: AGENT.email, password: 'a-fresh-password-for-sam' });
  await admin.getByRole('navigation', { name: 'Queues' }).getByRole('link', { name: 'Audit log' }).click();
  await admin.getByRole('heading', { name: 'Audit log' }).waitFor();
  await admin.locator('[data-audit="response_target"]', { hasText: 'Answer within a minute' }).first().waitFor({ timeout: WAIT });
  assert.ok((await admin.locator('[data-audit="platform_action"]').count()) > 0, 'the replies sent in the tests');
  await admin.getByLabel('What').selectOption('sign_in_failed');
  await admin.waitForURL(/kind=sign_in_failed/);
  // Only failed sign-ins, once the filtered list has come.
  await admin.locator('table.audit tbody tr:not([data-audit="sign_in_failed"])').first().waitFor({ state: 'detached', timeout: WAIT });
  await admin.locator('[data-audit="sign_in_failed"]').first().waitFor({ timeout: WAIT });
  const shown = await admin.locator('table.audit').innerText();
  assert.ok(shown.includes(ADMIN.email), 'the email that was tried');
  assert.ok(!shown.includes('not the password'), 'never the password tried');
  await admin.screenshot({ path: `${SHOTS}/audit.png` });
});

test('a complaint reads negative on its own; an agent marks the ticket, and the sentiment filter finds it', async () => {
  const { createHmac } = await import('node:crypto');
  const admin = await signIn(sam, { email: AGENT.email, password: 'a-fresh-password-for-sam' });
  const now = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({ object: 'page', entry: [{ id: '1010101010', time: now, changes: [{ field: 'feed', value: {
    from: { id: '2102', name: 'Grumpy Greg' }, post: { id: '1010101010_5001', status_type: 'mobile_status_update', is_published: true },
    message: 'This is the worst service ever, my order arrived broken and nobody answers', post_id: '1010101010_5001', comment_id: '5001_9300',
    created_time: now, item: 'comment', parent_id: '1010101010_5001', verb: 'add' } }] }] });
  const signature = 'sha256=' + createHmac('sha256', META_APP_SECRET).update(body).digest('hex');
  const r = await fetch(`${BASE}/webhooks/fb`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body });
  assert.equal(r.status, 200);
  await showsDana(admin, `${BASE}/?queue=all&sentiment=negative`, 'Grumpy Greg');
  await row(admin, 'Grumpy Greg').click();
  const pane = admin.getByRole('region', { name: 'Ticket', exact: true });
  await pane.locator('.message.inbound select[data-sentiment="negative"][data-marked="false"]').waitFor({ timeout: WAIT });
  // The agent reads it otherwise (a regular who jokes): the ticket's mark wins.
  await pane.getByLabel('Ticket sentiment').selectOption('neutral');
  await pane.locator('select[aria-label="Ticket sentiment"][data-marked="true"]').waitFor({ timeout: WAIT });
  await showsDana(admin, `${BASE}/?queue=all&sentiment=neutral`, 'Grumpy Greg');
  assert.equal(await admin.getByLabel('Sentiment', { exact: true }).inputValue(), 'neutral', 'the filter shows what it filters by');
});

test('an admin sets up LibreTranslate; a German comment is translated on demand, and the answer goes out in German', async () => {
  const { createHmac } = await import('node:crypto');
  const admin = await signIn(sam, { email: AGENT.email, password: 'a-fresh-password-for-sam' });
  await admin.goto(`${BASE}/admin/translation`);
  const form = admin.getByRole('form', { name: 'Translation provider' });
  await form.getByLabel('Provider').selectOption('libretranslate');
  await form.getByLabel('URL').fill(env('TRANSLATE_URL'));
  await form.getByLabel('API key').fill('web-translate-key');
  await form.getByRole('button', { name: 'Save' }).click();
  await admin.getByRole('status').filter({ hasText: 'Saved' }).waitFor({ timeout: WAIT });
  await admin.reload();
  await form.locator('input[type="password"][placeholder^="stored"]').waitFor({ timeout: WAIT });
  assert.equal(await form.getByLabel('API key').inputValue(), '', 'the key is never shown again');

  const now = Math.floor(Date.now() / 1000);
  const body = JSON.stringify({ object: 'page', entry: [{ id: '1010101010', time: now, changes: [{ field: 'feed', value: {
    from: { id: '2103', name: 'Jonas Weber' }, post: { id: '1010101010_5001', status_type: 'mobile_status_update', is_published: true },
    message: 'Wann öffnet der Laden am Sonntag? Ich möchte meine Jacke umtauschen.', post_id: '1010101010_5001', comment_id: '5001_9400',
    created_time: now, item: 'comment', parent_id: '1010101010_5001', verb: 'add' } }] }] });
  const signature = 'sha256=' + createHmac('sha256', META_APP_SECRET).update(body).digest('hex');
  const r = await fetch(`${BASE}/webhooks/fb`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature }, body });
  assert.equal(r.status, 200);
  await showsDana(admin, `${BASE}/?queue=all&language=deu`, 'Jonas Weber');
  await row(admin, 'Jonas Weber').click();
  const pane = admin.getByRole('region', { name: 'Ticket', exact: true });
  await pane.getByRole('button', { name: 'Translate into English' }).click();
  await pane.locator('[data-translation="eng"]', { hasText: 'I would like to exchange my jacket' }).waitFor({ timeout: WAIT });

  await pane.getByLabel('Reply').fill('We open at 10 on Sundays.');
  await pane.getByRole('button', { name: 'Translate into German' }).click();
  await pane.locator('[data-reply-translation]', { hasText: 'Sonntags öffnen wir um 10.' }).waitFor({ timeout: WAIT });
  await admin.screenshot({ path: `${SHOTS}/translation.png` });
  await pane.getByRole('button', { name: 'Send', exact: true }).click();
  await pane.locator('.message.outbound', { hasText: 'Sonntags öffnen wir um 10.' }).waitFor({ timeout: WAIT });
});

test('an admin defines contact attributes; an agent fills one in the side panel, links the person across platforms from the suggestion, and undoes it', async () => {
  const admin = await signIn(sam, { email: AGENT.email, password: 'a-fresh-password-for-sam' });
  await admin.goto(`${BASE}/admin/contact-attributes`);
  const defs = admin.getByRole('form', { name: 'Contact attributes' });
  await defs.getByRole('button', { name: 'Add attribute' }).click();
  await defs.getByLabel('Label').last().fill('Customer number');
  await defs.getByLabel('Pattern').last().fill('C-[0-9]{6}');
  await defs.getByRole('button', { name: 'Add attribute' }).click();
  await defs.getByLabel('Label').last().fill('Phone');
  await defs.getByLabel('Kind').last().selectOption('phone');
  await defs.getByRole('button', { name: 'Add attribute' }).click();
  await defs.getByLabel('Label').last().fill('Plan');
  await defs.getByLabel('Kind').last().selectOption('list');
  await defs.getByRole('button', { name: 'Save' }).click();
  await admin.getByRole('alert').filter({ hasText: 'needs its choices' }).waitFor({ timeout: WAIT });
  await defs.getByLabel('Choices').fill('Gold, Silver');
  await defs.getByRole('button', { name: 'Save' }).click();
  await defs.getByText('Saved').waitFor({ timeout: WAIT });
  await admin.reload();
  await defs.locator('[data-attribute-def="customer_number"]').waitFor({ timeout: WAIT });
  assert.deepEqual(await defs.locator('[data-attribute-def]').evaluateAll((rows) => rows.map((r) => r.dataset.attributeDef)), ['customer_number', 'phone', 'plan']);

  // Jonas commented on Facebook (the translation test); he also texted from his phone (the SMS test).
  await showsDana(admin, `${BASE}/?view=all&platform=facebook`, 'Jonas Weber');
  await row(admin, 'Jonas Weber').click();
  const pane = admin.getByRole('region', { name: 'Ticket', exact: true });
  const side = pane.getByRole('region', { name: 'About the contact' });
  await side.getByLabel('Customer number').fill('12');
  await side.getByRole('button', { name: 'Save attributes' }).click();
  await side.getByRole('alert').filter({ hasText: 'does not match' }).waitFor({ timeout: WAIT });
  await side.getByLabel('Customer number').fill('C-004711');
  await side.getByLabel('Phone').fill('+49 176 12345678');
  await side.getByLabel('Plan').selectOption('Gold');
  await side.getByRole('button', { name: 'Save attributes' }).click();
  await side.locator('[data-suggestions="1"]', { hasText: 'may be the same person' }).waitFor({ timeout: WAIT });

  await side.getByRole('link', { name: 'View contact' }).click();
  const contact = admin.getByRole('main', { name: 'Contact' });
  const suggestion = contact.locator('[data-suggestion]');
  await suggestion.filter({ hasText: 'same phone number +4917612345678' }).waitFor({ timeout: WAIT });
  await suggestion.getByRole('button', { name: 'Link as the same person' }).click();
  await contact.locator('[data-linked-contact]').nth(1).waitFor({ timeout: WAIT });
  await contact.getByText('One person on 2 channels').waitFor();
  // Both tickets: the Facebook comment and the SMS conversation.
  await contact.locator('[data-person-ticket][data-platform="facebook"]').waitFor({ timeout: WAIT });
  await contact.locator('[data-person-ticket][data-platform="twilio"]').waitFor({ timeout: WAIT });
  assert.equal(await contact.getByLabel('Customer number').inputValue(), 'C-004711');
  await contact.getByLabel('Note about this person', { exact: true }).fill('Returns the jacket on Sunday; prefers SMS.');
  await contact.getByRole('button', { name: 'Add note' }).click();
  await contact.locator('[data-contact-note]', { hasText: 'prefers SMS' }).waitFor({ timeout: WAIT });
  await contact.locator('[data-merge][data-undone="no"]', { hasText: 'same phone number' }).waitFor();
  await admin.screenshot({ path: `${SHOTS}/contact.png` });

  // The SMS ticket now lists the person's ticket on Facebook among their others.
  await contact.locator('[data-person-ticket][data-platform="twilio"]').getByRole('link').click();
  await pane.locator('[data-other-tickets="1"]').waitFor({ timeout: WAIT });
  await admin.goBack();
  await contact.locator('[data-merge]').getByRole('button', { name: 'Undo' }).click();
  await contact.locator('[data-merge][data-undone="yes"]').waitFor({ timeout: WAIT });
  assert.equal(await contact.locator('[data-linked-contact]').count(), 1);
  await contact.locator('[data-suggestion]').waitFor({ timeout: WAIT });
  await contact.locator('[data-contact-note]', { hasText: 'prefers SMS' }).waitFor();
});

test('an admin attaches a picture to a saved reply; an agent inserts it into a Telegram reply, fills in a contact attribute, and it goes as a photo; an SMS reply says it cannot carry files', async () => {
  const admin = await signIn(sam, { email: AGENT.email, password: 'a-fresh-password-for-sam' });
  const png = readFileSync(new URL('../testkit/assets/photo.png', import.meta.url));
  await admin.goto(`${BASE}/saved-replies`);
  await admin.getByRole('button', { name: 'New saved reply' }).click();
  const form = admin.getByRole('form', { name: 'Saved reply' });
  await form.getByLabel('Title').fill('Size chart');
  await form.getByLabel('Text').fill('Hi {{contact.first_name}}, here is our size chart for customer {{contact.customer_number}}.');
  await form.getByLabel('Add a file').setInputFiles({ name: 'size-chart.png', mimeType: 'image/png', buffer: png });
  await form.locator('[data-saved-file="size-chart.png"]').waitFor({ timeout: WAIT });
  await form.getByRole('button', { name: 'Save' }).click();
  await admin.locator('[data-saved="Size chart"]', { hasText: 'size-chart.png' }).waitFor({ timeout: WAIT });

  // The channels test left the first bot disabled, its token revoked twice since: bring it back.
  const back = await admin.evaluate(async (token) => {
    const json = { 'content-type': 'application/json' };
    const s = await fetch('/api/v1/channels/tg/secrets', { method: 'PUT', headers: json, body: JSON.stringify({ secrets: { bot_token: token } }) });
    const e = await fetch('/api/v1/channels/tg', { method: 'PATCH', headers: json, body: '{"enabled":true}' });
    return [s.status, e.status];
  }, THIRD_TOKEN);
  assert.deepEqual(back, [200, 200]);
  await customerWrites(9901, 'Greta', 'Which size should I order?');
  await showsDana(admin, `${BASE}/?view=all&platform=telegram`, 'Greta');
  await row(admin, 'Greta').click();
  const pane = admin.getByRole('region', { name: 'Ticket', exact: true });
  await pane.getByText('Which size should I order?').waitFor({ timeout: WAIT });
  await pane.getByLabel('Reply').fill('/size');
  await pane.getByRole('option', { name: /Size chart/ }).waitFor({ timeout: WAIT });
  await admin.keyboard.press('Enter');
  // Greta has no customer number yet: the box asks for it.
  const ask = pane.getByRole('form', { name: 'Fill in the saved reply' });
  await ask.getByLabel('contact.customer_number').fill('C-000042');
  await ask.getByRole('button', { name: 'Insert' }).click();
  assert.equal(await pane.getByLabel('Reply').inputValue(), 'Hi Greta, here is our size chart for customer C-000042.');
  await pane.locator('[data-reply-file="size-chart.png"]').waitFor({ timeout: WAIT });
  await pane.getByRole('button', { name: 'Send', exact: true }).click();
  await pane.locator('.message.outbound', { hasText: 'here is our size chart' }).getByRole('button', { name: 'Open picture' }).waitFor({ timeout: WAIT });
  const photo = (await sentToTelegram()).find((c) => c.method === 'sendPhoto');
  assert.ok(photo, 'Telegram was sent a photo');
  assert.equal(photo.params.caption, 'Hi Greta, here is our size chart for customer C-000042.');
  assert.equal(photo.params.photo.file_name, 'size-chart.png');
  assert.equal(photo.params.photo.size, png.length);
  await pane.locator('[data-reply-file]').waitFor({ state: 'detached', timeout: WAIT });
  await admin.screenshot({ path: `${SHOTS}/saved-reply-files.png` });

  // SMS through Twilio carries no files here: the box says so before anything is sent.
  await showsDana(admin, `${BASE}/?view=all&platform=twilio`, '+4917612345678');
  await row(admin, '+4917612345678').click();
  await pane.getByLabel('Attach file').setInputFiles({ name: 'label.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.7\n%%EOF\n') });
  await pane.locator('[data-files-refused]', { hasText: 'cannot send files' }).waitFor({ timeout: WAIT });
  await pane.getByLabel('Reply').fill('Here is the label');
  assert.equal(await pane.getByRole('button', { name: 'Send', exact: true }).isDisabled(), true);
  await pane.getByRole('button', { name: 'Remove label.pdf' }).click();
  assert.equal(await pane.getByRole('button', { name: 'Send', exact: true }).isDisabled(), false);
});

// Mail goes through the real servers: a file in MAIL_OUTBOX is sent over SMTP by the harness,
// and mailboxes are read where Dovecot keeps them.
let outboxN = 0;
function sendMail(login, to, raw) {
  const f = `${env('MAIL_OUTBOX')}/${Date.now()}-${outboxN++}`;
  writeFileSync(`${f}.tmp`, `${login} ${login} ${to}\n${raw}`);
  renameSync(`${f}.tmp`, `${f}.eml`);
}
function mailbox(user) {
  const [name, domain] = user.split('@');
  const base = `${env('MAIL_DIR')}/${domain}/${name}/Maildir`;
  return ['new', 'cur'].flatMap((d) => {
    try {
      return readdirSync(`${base}/${d}`).sort().map((f) => readFileSync(`${base}/${d}/${f}`, 'utf8'));
    } catch {
      return [];
    }
  });
}
async function waitForMail(user, n) {
  const deadline = Date.now() + WAIT;
  while (mailbox(user).length < n) {
    if (Date.now() > deadline) throw new Error(`${user} has ${mailbox(user).length} emails, not ${n}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return mailbox(user);
}
const headerOf = (raw, name) => raw.replace(/\r\n[ \t]/g, ' ').split(/\r?\n/).find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))?.slice(name.length + 1).trim();

test('an email folds its quoted text and marks an auto-reply; an admin sets the helpdesk\'s mail; an agent consults a lawyer about a message and the answer appears live as a note', async () => {
  const admin = await signIn(sam, { email: AGENT.email, password: 'a-fresh-password-for-sam' });
  sendMail('erin@customer.test', 'support@shop.test', 'From: Erin Example <erin@customer.test>\r\nTo: support@shop.test\r\nSubject: Wrong size\r\nMessage-ID: <erin-1@customer.test>\r\n\r\nThe shoes are a size too small.\r\n\r\nOn Mon, Shop wrote:\r\n> Your order has shipped.\r\n');
  await showsDana(admin, `${BASE}/?view=all&platform=email`, 'Erin Example');
  sendMail('erin@customer.test', 'support@shop.test', 'From: erin@customer.test\r\nTo: support@shop.test\r\nSubject: Automatic reply: Wrong size\r\nAuto-Submitted: auto-replied\r\nMessage-ID: <erin-ooo@customer.test>\r\nIn-Reply-To: <erin-1@customer.test>\r\n\r\nI am away until Monday.\r\n');
  await row(admin, 'Erin Example').click();
  const pane = admin.getByRole('region', { name: 'Ticket', exact: true });
  const first = pane.locator('.message', { hasText: 'The shoes are a size too small.' });
  await first.waitFor({ timeout: WAIT });
  const quoted = first.locator('[data-folded]');
  assert.equal(await quoted.locator('.text').isVisible(), false, 'the quoted history is folded away');
  await quoted.getByText('Show the quoted text').click();
  await quoted.getByText('> Your order has shipped.').waitFor({ timeout: WAIT });
  await pane.locator('.message', { hasText: 'I am away until Monday.' }).locator('[data-automated="auto_reply"]', { hasText: 'Auto-reply' }).waitFor({ timeout: WAIT });

  // Without the helpdesk's own mail, consulting says what is missing.
  await first.locator('[data-consult]').click();
  const ask = pane.getByRole('form', { name: 'Consult by email' });
  await ask.getByLabel('To').fill('lawyer@consult.test');
  await ask.getByLabel('Question').fill('Can we swap them without a return label?');
  await ask.getByRole('button', { name: 'Send' }).click();
  await ask.getByRole('alert').filter({ hasText: 'Settings → Email' }).waitFor({ timeout: WAIT });
  await ask.getByRole('button', { name: 'Cancel' }).click();

  await admin.getByRole('link', { name: 'Email', exact: true }).click();
  const form = admin.getByRole('form', { name: 'Mail settings' });
  await form.getByLabel('Address').fill('consult@shop.test');
  await form.getByLabel('Sender name').fill('Shop');
  await form.getByLabel('SMTP server').fill(env('MAIL_SMTPS'));
  await form.getByLabel('IMAP server').fill(env('MAIL_IMAPS'));
  await form.getByLabel('Password').fill('consult-pw');
  await form.getByRole('button', { name: 'Save and check' }).click();
  await admin.getByRole('status').filter({ hasText: 'Saved and checked' }).waitFor({ timeout: WAIT });
  // Saved again as loaded (the password kept): the same answer.
  await form.getByRole('button', { name: 'Save and check' }).click();
  await admin.getByRole('status').filter({ hasText: 'Saved and checked' }).waitFor({ timeout: WAIT });
  await admin.screenshot({ path: `${SHOTS}/mail-settings.png` });
  // An agent asks for digests while away.
  await admin.getByRole('button', { name: 'Notifications' }).click();
  await admin.locator('[data-pref="email_digest"]').check();
  await admin.waitForFunction(async () => (await (await fetch('/api/v1/me/notifications')).json()).email_digest === true, null, { timeout: WAIT, polling: 200 });
  await admin.getByRole('button', { name: 'Notifications' }).click();

  await showsDana(admin, `${BASE}/?view=all&platform=email`, 'Erin Example');
  await row(admin, 'Erin Example').click();
  await first.locator('[data-consult]').click();
  await ask.getByLabel('To').fill('lawyer@consult.test');
  await ask.getByLabel('Question').fill('Can we swap them without a return label?');
  await ask.getByRole('button', { name: 'Send' }).click();
  await pane.getByRole('status').filter({ hasText: 'Sent to lawyer@consult.test' }).waitFor({ timeout: WAIT });
  await pane.locator('.note [data-consult-question]').waitFor({ timeout: WAIT });
  await pane.locator('[data-activity="consult.sent"]', { hasText: 'consulted lawyer@consult.test by email' }).waitFor({ timeout: WAIT });

  // The lawyer gets the question with Erin's words quoted, and answers: live, as a note.
  const [question] = await waitForMail('lawyer@consult.test', 1);
  assert.match(question, /The shoes are a size too small\./);
  const replyTo = headerOf(question, 'Reply-To').replace(/[<>]/g, '');
  const id = headerOf(question, 'Message-ID');
  sendMail('lawyer@consult.test', replyTo, `From: Lara Lawyer <lawyer@consult.test>\r\nTo: ${replyTo}\r\nSubject: Re: ${headerOf(question, 'Subject')}\r\nMessage-ID: <lara-web@consult.test>\r\nIn-Reply-To: ${id}\r\n\r\nYes, swap them; no label needed.\r\n\r\nOn Fri, Shop wrote:\r\n> ##- Write your answer above this line -##\r\n`);
  const answer = pane.locator('.note[data-note-id]', { has: admin.locator('[data-by-email="lawyer@consult.test"]') });
  await answer.getByText('Yes, swap them; no label needed.').waitFor({ timeout: WAIT });
  assert.equal(await answer.getByText('Write your answer above').count(), 0, 'our quoted question is cut away');
  await admin.screenshot({ path: `${SHOTS}/consultation.png` });

  // And the agent writes again in the same consultation.
  await answer.getByRole('button', { name: 'Write again' }).click();
  await answer.getByLabel('Your message').fill('Thanks! Should we refund the shipping too?');
  await answer.getByRole('button', { name: 'Send by email' }).click();
  const both = await waitForMail('lawyer@consult.test', 2);
  assert.equal(headerOf(both[1], 'In-Reply-To'), '<lara-web@consult.test>');
  assert.equal(mailbox('erin@customer.test').length, 0, 'nothing of it reached the customer');
});
