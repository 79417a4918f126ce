import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BetterAuthIssuer } from '../support/better-auth-issuer';
import { startTestApp, TestApp } from '../support/test-app';
import { serveWeb, WEB_DIST, WebServer } from '../support/web-server';

/** Debian's Chromium; Playwright's own browser downloads are never used. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const DOCS = resolve(__dirname, '..', '..', 'docs');

let web: WebServer;
let issuer: BetterAuthIssuer;
let api: TestApp;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!existsSync(join(WEB_DIST, 'index.html'))) {
    throw new Error('examples/web is not built: npm run test:browser builds it first');
  }
  const config = { apiUrl: '', authUrl: '' };
  web = await serveWeb({ config });
  issuer = await BetterAuthIssuer.start({ trustedOrigins: [web.url] });
  api = await startTestApp({ BETTER_AUTH_URL: issuer.url, CORS_ORIGINS: web.url });
  config.apiUrl = api.url;
  config.authUrl = issuer.url;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 900, height: 720 } });
});

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await issuer?.close();
  await web?.close();
});

const todoList = () => page.getByRole('list', { name: 'Your todos' });
const titles = () => todoList().locator('.title').allTextContents();

/** Waits for the element, then checks its whole text. */
async function expectText(locator: Locator, text: string): Promise<void> {
  await locator.waitFor();
  expect(await locator.textContent()).toBe(text);
}

/** The signed-in user's JWT, fetched with the browser's session cookie as the frontend does. */
async function tokenOfBrowserUser(): Promise<string> {
  const cookies = await page.context().cookies(issuer.url);
  return issuer.tokenFor(cookies.map((c) => `${c.name}=${c.value}`).join('; '));
}

it('signs up, manages todos page by page, handles a conflict, signs out and in', async () => {
  const email = `browser-${randomUUID()}@example.com`;
  const password = `pw-${randomUUID()}`;
  await page.goto(web.url);

  await page.getByRole('button', { name: 'Create an account' }).click();
  await page.getByLabel('Name').fill('Browser User');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByText('Nothing to do.').waitFor();
  await page.getByText(email).waitFor();

  // An empty title: the API's field error shows next to the title field.
  const newTodo = page.getByRole('form', { name: 'New todo' });
  await newTodo.getByRole('button', { name: 'Add' }).click();
  await expectText(page.locator('#title-error'), 'title must be between 1 and 200 characters long');
  expect(await page.getByLabel('Title', { exact: true }).getAttribute('aria-invalid')).toBe('true');

  for (const title of [
    'Water plants',
    'Call Ana',
    'Pay rent',
    'Book dentist',
    'Buy milk',
    'Fix bike',
    'Read book',
  ]) {
    await page.getByLabel('Title', { exact: true }).fill(title);
    await newTodo.getByRole('button', { name: 'Add' }).click();
    await todoList().getByText(title).waitFor();
  }
  await page.locator('#title-error').waitFor({ state: 'detached' });

  // Five per page, newest first; the next page holds the rest.
  expect(await titles()).toEqual(['Read book', 'Fix bike', 'Buy milk', 'Book dentist', 'Pay rent']);
  await page.getByRole('button', { name: 'Next page' }).click();
  await todoList().getByText('Call Ana').waitFor();
  expect(await titles()).toEqual(['Call Ana', 'Water plants']);
  expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
  await page.getByRole('button', { name: 'Previous page' }).click();
  await todoList().getByText('Read book').waitFor();

  // Complete one.
  // A controlled checkbox: it turns checked once the API has answered and the list reloaded.
  await page.getByRole('checkbox', { name: 'Complete Buy milk' }).click();
  await page.locator('li.done', { hasText: 'Buy milk' }).waitFor();

  // Edit one; a too-long title is refused next to the field, a good one saved.
  await page.locator('li', { hasText: 'Fix bike' }).getByRole('button', { name: 'Edit' }).click();
  await page.getByLabel('New title').fill('x'.repeat(201));
  await page.getByRole('button', { name: 'Save' }).click();
  await expectText(
    page.locator('#edit-title-error'),
    'title must be between 1 and 200 characters long',
  );
  await page.getByLabel('New title').fill('Fix bike brakes');
  await page.getByRole('button', { name: 'Save' }).click();
  await todoList().getByText('Fix bike brakes').waitFor();

  await page.screenshot({ path: join(DOCS, 'web-example.png') });

  // Someone changes the todo elsewhere while it is open for editing: 412, told and reloaded.
  await page.locator('li', { hasText: 'Pay rent' }).getByRole('button', { name: 'Edit' }).click();
  await page.getByLabel('New title').waitFor();
  const token = await tokenOfBrowserUser();
  const listed = await api.http.as(token).get('/api/todos?limit=100');
  const payRent = (listed.body.todos as Array<{ id: string; title: string }>).find(
    (t) => t.title === 'Pay rent',
  )!;
  const elsewhere = await api.http
    .as(token)
    .patch(`/api/todos/${payRent.id}`, { title: 'Pay rent (paid)' });
  expect(elsewhere.status).toBe(200);
  await page.getByLabel('New title').fill('Pay rent today');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByText('This todo was changed elsewhere').waitFor();
  await todoList().getByText('Pay rent (paid)').waitFor();
  expect(await titles()).not.toContain('Pay rent today');

  // Delete one.
  await page
    .locator('li', { hasText: 'Book dentist' })
    .getByRole('button', { name: 'Delete' })
    .click();
  await todoList().getByText('Book dentist').waitFor({ state: 'detached' });

  // Sign out, and back in: the todos are still there.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await todoList().getByText('Fix bike brakes').waitFor();
  const stored = await api.http.as(await tokenOfBrowserUser()).get('/api/todos?limit=100');
  const storedTitles = (stored.body.todos as Array<{ title: string }>).map((t) => t.title);
  expect(storedTitles.sort()).toEqual([
    'Buy milk',
    'Call Ana',
    'Fix bike brakes',
    'Pay rent (paid)',
    'Read book',
    'Water plants',
  ]);
});

it('serves Swagger UI with the documented operations', async () => {
  await page.goto(`${api.url}/docs`);
  await page.locator('.opblock-summary-path', { hasText: '/api/todos/{id}' }).first().waitFor();
  await page.locator('#operations-todos-createTodo').click();
  await page.locator('#operations-todos-createTodo .responses-wrapper').waitFor();
  // The error answers, each with its own example (the 400 shows a field error).
  const badRequest = page.locator('#operations-todos-createTodo tr.response[data-code="400"]');
  await badRequest.scrollIntoViewIfNeeded();
  await badRequest.getByText('title is required').first().waitFor();
  await page.mouse.wheel(0, -60);
  await page.screenshot({ path: join(DOCS, 'swagger-ui.png') });
});
