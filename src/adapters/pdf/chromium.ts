/**
 * HTML to PDF with the system's Chromium (Debian's package, /usr/bin/chromium), driven by
 * playwright-core. Playwright never downloads a browser here: the executable is always given.
 * Each print launches a headless browser with an empty, throw-away profile, loads the document
 * with the network cut off (the bulletin is self-contained; nothing may be fetched), prints A4
 * with the header and footer templates, and closes everything.
 *
 *   const pdf = await printPdf(html, { header, footer });   // Uint8Array starting with %PDF
 */
import { access, constants, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { VigilError } from '../../core/errors.js';

/** Where Debian installs Chromium; `VIGIL_CHROMIUM` names another binary. */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** Flags for a headless Chromium on a closed network, run as root (see README "Built with"). */
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Longest a print may take, launch included. */
export const PRINT_TIMEOUT_MS = 60_000;

/** Chromium is missing, or failed to start or print. */
export class PdfError extends VigilError {
  readonly _tag = 'PdfError';
}

export interface PrintOptions {
  /** HTML of the header and footer of every page (Chromium fills `.pageNumber`, `.totalPages`). */
  readonly header?: string;
  readonly footer?: string;
  /** The Chromium binary; default $VIGIL_CHROMIUM, else /usr/bin/chromium. */
  readonly executablePath?: string;
}

/** The Chromium binary to use (it must exist and be executable), or a PdfError saying how to install it. */
export async function chromiumPath(explicit?: string): Promise<string> {
  const path = explicit ?? process.env['VIGIL_CHROMIUM'] ?? DEFAULT_CHROMIUM;
  try {
    await access(path, constants.X_OK);
    return path;
  } catch {
    throw new PdfError(`Chromium is needed to print PDF and was not found at ${path}: install it (Debian: apt-get install chromium) or set VIGIL_CHROMIUM to its path; HTML output needs nothing`);
  }
}

/** Prints a self-contained HTML document to A4 PDF bytes. */
export async function printPdf(html: string, opts: PrintOptions = {}): Promise<Uint8Array> {
  const executablePath = await chromiumPath(opts.executablePath);
  const profile = await mkdtemp(join(tmpdir(), 'vigil-chromium-'));
  let context: BrowserContext | undefined;
  try {
    try {
      // Loaded here, not at the top: playwright-core takes ~1 s to load, and every process that
      // imports the HTTP routes (each `vigil` command, each test file) would pay it for nothing.
      const { chromium } = await import('playwright-core');
      context = await chromium.launchPersistentContext(profile, {
        executablePath, headless: true, args: ARGS, offline: true, timeout: PRINT_TIMEOUT_MS, javaScriptEnabled: false,
      });
    } catch (cause) {
      throw new PdfError(`Chromium at ${executablePath} did not start: ${String((cause as Error).message ?? cause).split('\n')[0]}`, { cause });
    }
    const page = await context.newPage();
    // Nothing leaves the process: the document carries its CSS and charts inline.
    await page.route('**/*', (route) => route.abort());
    await page.setContent(html, { waitUntil: 'load', timeout: PRINT_TIMEOUT_MS });
    const withTemplates = opts.header !== undefined || opts.footer !== undefined;
    const pdf = await page.pdf({
      format: 'A4', printBackground: true, preferCSSPageSize: true,
      displayHeaderFooter: withTemplates,
      ...(withTemplates ? { headerTemplate: opts.header ?? '<span></span>', footerTemplate: opts.footer ?? '<span></span>' } : {}),
    });
    return new Uint8Array(pdf.buffer, pdf.byteOffset, pdf.byteLength);
  } catch (cause) {
    if (cause instanceof PdfError) throw cause;
    throw new PdfError(`printing the PDF failed: ${String((cause as Error).message ?? cause).split('\n')[0]}`, { cause });
  } finally {
    await context?.close().catch(() => undefined);
    await rm(profile, { recursive: true, force: true });
  }
}
