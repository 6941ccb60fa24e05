/** One entry of an Apache/nginx autoindex page. */
export interface ListingEntry {
  name: string;
  isDir: boolean;
  /** As shown by the server (`2016-01-01 12:00` or `01-Jan-2016 12:00`), when present. */
  date?: string;
  /** Bytes when the listing gives an exact number. */
  size?: number;
}

const HREF = /<a\s+[^>]*href="([^"?#]+)"[^>]*>[^<]*<\/a>\s*(?:<\/td>\s*<td[^>]*>\s*)?([0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}|[0-9]{2}-[A-Za-z]{3}-[0-9]{4} [0-9]{2}:[0-9]{2})?(?:\s*<\/td>\s*<td[^>]*>)?\s*([0-9.]+[KMGT]?|-)?/gi;

function decode(s: string): string {
  return decodeURIComponent(s.replace(/&amp;/g, '&'));
}

/**
 * Parses a directory listing (HTML autoindex). Only relative children are returned: parent
 * links, absolute links, sort links and links with a slash inside the name are skipped.
 */
export function parseDirectoryListing(html: string): ListingEntry[] {
  const out: ListingEntry[] = [];
  const seen = new Set<string>();
  for (const m of html.matchAll(HREF)) {
    const href = m[1]!;
    if (href.startsWith('/') || href.startsWith('..') || /^[a-z][a-z0-9+.-]*:/i.test(href)) continue;
    const isDir = href.endsWith('/');
    const name = decode(isDir ? href.slice(0, -1) : href);
    if (name === '' || name === '.' || name.includes('/') || seen.has(name)) continue;
    seen.add(name);
    const entry: ListingEntry = { name, isDir };
    if (m[2]) entry.date = m[2];
    if (m[3] && /^\d+$/.test(m[3])) entry.size = Number(m[3]);
    out.push(entry);
  }
  return out;
}
