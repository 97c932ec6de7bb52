import { createHash, X509Certificate } from 'node:crypto'
import { once } from 'node:events'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:tls'
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
export async function startBrowser (trust: readonly TrustedServer[] = []): Promise<TestBrowser> {
  const pins = await Promise.all(trust.map(pinOf))
  const profile = mkdtempSync(join(tmpdir(), 'dgw-chromium-'))
  mkdirSync(ARTEFACTS, { recursive: true })
  let context: BrowserContext
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      // Chromium takes no CA per profile: the keys of servers Node verified against the test CA are pinned instead.
      args: [...pins.map((pin) => `--ignore-certificate-errors-spki-list=${pin}`), '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
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

/** An HTTPS server of the test (e.g. the simulated Entra ID) and the CA its certificate must chain to. */
export interface TrustedServer {
  readonly url: string
  readonly ca: string
}

/** Verifies the server's certificate against the CA with Node, then returns its SPKI pin (base64 SHA-256). */
async function pinOf (server: TrustedServer): Promise<string> {
  const url = new URL(server.url)
  const socket = connect({ host: url.hostname, port: Number(url.port), ca: server.ca, servername: url.hostname === '127.0.0.1' ? undefined : url.hostname })
  try {
    await once(socket, 'secureConnect')
    const cert = new X509Certificate(socket.getPeerCertificate().raw)
    return createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64')
  } finally {
    socket.destroy()
  }
}
