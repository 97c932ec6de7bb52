import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'

/** Screenshots land here (gitignored): CI keeps them as test artefacts. */
export const ARTEFACTS = join(process.cwd(), 'test-artifacts', 'screenshots')

/** Debian's chromium (`.ci/run` installs it when missing); CHROMIUM_PATH overrides. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export interface TestBrowser {
  readonly context: BrowserContext
  newPage (): Promise<Page>
  /** saves a full-page screenshot as test-artifacts/screenshots/<name>.png and returns its path */
  shot (page: Page, name: string): Promise<string>
  close (): Promise<void>
}

/**
 * Headless Chromium driven by playwright-core, with a fresh profile that is deleted on close. The
 * flags keep it from reaching anything but the loopback servers the test starts. Playwright kills
 * the browser when the test process ends on any path (its SIGINT/SIGTERM/exit handlers).
 */
export async function startBrowser (): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'dgw-chromium-'))
  mkdirSync(ARTEFACTS, { recursive: true })
  let context: BrowserContext
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      // The simulated Entra ID serves a certificate of a CA made at test start; Chromium has no per-profile CA option.
      ignoreHTTPSErrors: true,
      viewport: { width: 1280, height: 800 },
      timeout: 60_000
    })
  } catch (err) {
    rmSync(profile, { recursive: true, force: true })
    throw err
  }
  return {
    context,
    newPage: async () => await context.newPage(),
    async shot (page, name) {
      const path = join(ARTEFACTS, `${name}.png`)
      await page.screenshot({ path, fullPage: true })
      return path
    },
    async close () {
      await context.close().catch(() => {})
      rmSync(profile, { recursive: true, force: true })
    }
  }
}
