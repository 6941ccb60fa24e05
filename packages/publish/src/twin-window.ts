import { isNotFound, type HttpClient } from '@meph/http';
import { describeHolder, LEASE_KEY, type LeaseRecord } from './lease.js';

/**
 * What `verify` reports while a publish writes a metadata document and its signature (two
 * objects, one after the other): the `.sjson` says something else than the `.json`, or the
 * `.json.gpg` does not match the `.json`. Each chain (index.sjson → *.sjson, index.json → *.json)
 * still reads a whole stream, old or new.
 */
const TWIN_FINDING = /says something else than|\.json\.gpg$/;

export interface TwinFinding {
  check: string;
  severity: string;
  file?: string | undefined;
  message: string;
}

export function isTwinWindowFinding(f: TwinFinding): boolean {
  const file = f.file ?? '';
  return file.startsWith('streams/') && ((f.check === 'index' && TWIN_FINDING.test(f.message)) || (f.check === 'signature' && file.endsWith('.json.gpg')));
}

/** The stream root of a URL naming the root or a file under streams/. */
function rootOf(url: string): string {
  const u = new URL(url);
  const i = u.pathname.indexOf('/streams/');
  u.pathname = i >= 0 ? u.pathname.slice(0, i + 1) : u.pathname.endsWith('/') ? u.pathname : `${u.pathname}/`;
  u.search = '';
  return u.href;
}

/** The publishing lease beside a published stream, when one is held (a publish running, or killed while writing). */
export async function publishLeaseAt(streamUrl: string, http: HttpClient): Promise<LeaseRecord | undefined> {
  try {
    const r = JSON.parse(await http.getText(new URL(LEASE_KEY, rootOf(streamUrl)).href, { maxBytes: 64 * 1024 })) as LeaseRecord;
    return typeof r.owner === 'string' ? r : undefined;
  } catch (err) {
    if (isNotFound(err) || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

/**
 * Turns the twin disagreements of a stream being published into warnings: only when the
 * store's publishing lease is held, i.e. a publisher is between writing a document and its
 * signature (or was killed there; its rerun finishes the pair). Without a lease they stay errors.
 */
export async function explainTwinWindow<F extends TwinFinding>(streamUrl: string, findings: F[], http: HttpClient): Promise<F[]> {
  if (!/^https?:/.test(streamUrl) || !findings.some((f) => f.severity === 'error' && isTwinWindowFinding(f))) return findings;
  const lease = await publishLeaseAt(streamUrl, http);
  if (!lease) return findings;
  const why = `a publish holds the lease (${describeHolder(lease)}) and is writing this document and its signature, two objects, or was killed between them; publishing again finishes it`;
  return findings.map((f) => (f.severity === 'error' && isTwinWindowFinding(f) ? ({ ...f, severity: 'warning', message: `${f.message} (${why})` } as F) : f));
}
