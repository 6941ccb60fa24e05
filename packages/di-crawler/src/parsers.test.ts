import { describe, expect, it } from 'vitest';
import { parseChecksumList, parseReleaseSha256 } from './checksums.js';
import { ChecksumListError } from './errors.js';
import { parseDirectoryListing } from './listing.js';

describe('checksum lists', () => {
  it('parses SHA256SUMS and strips ./', () => {
    const a = 'a'.repeat(64);
    const m = parseChecksumList(`${a}  ./netboot/x/linux\n${'B'.repeat(64)} *generic/initrd.ubuntu\n\n`, 'S');
    expect([...m]).toEqual([['netboot/x/linux', a], ['generic/initrd.ubuntu', 'b'.repeat(64)]]);
  });
  it('names the file and line of a bad line', () => {
    expect(() => parseChecksumList(`${'a'.repeat(64)}  ./ok\nnot a checksum line\n`, 'http://x/SHA256SUMS')).toThrow(
      new ChecksumListError('http://x/SHA256SUMS', 'line 2: expected "<64-hex-digit checksum>  <path>", got "not a checksum line"'),
    );
  });
  it('reads the SHA256 section of a Release file only', () => {
    const text = `Origin: X\nMD5Sum:\n ${'c'.repeat(32)} 10 main/a\nSHA256:\n ${'d'.repeat(64)}     1085 main/installer-amd64/1/images/SHA256SUMS\nAcquire-By-Hash: yes\n`;
    expect([...parseReleaseSha256(text, 'R')]).toEqual([['main/installer-amd64/1/images/SHA256SUMS', { sha256: 'd'.repeat(64), size: 1085 }]]);
    expect(() => parseReleaseSha256('Origin: X\n', 'R')).toThrow(/R: no SHA256 section/);
  });
});

describe('directory listings', () => {
  it('Apache 2.4 table rows with date and size', () => {
    const html = `<tr><td valign="top"><img src="/icons/folder.gif" alt="[DIR]"></td><td><a href="20101020ubuntu630/">20101020ubuntu630/</a></td><td align="right">2023-03-20 14:42  </td><td align="right">  - </td></tr>
<tr><td><a href="?C=N;O=D">Name</a></td></tr><tr><td><a href="/ubuntu/dists/">Parent Directory</a></td></tr>
<tr><td><a href="current/">current/</a></td><td align="right">2023-03-20 14:42  </td><td align="right">  - </td></tr>
<tr><td><a href="SHA256SUMS">SHA256SUMS</a></td><td align="right">2023-03-20 14:42  </td><td align="right">1234</td></tr>`;
    expect(parseDirectoryListing(html)).toEqual([
      { name: '20101020ubuntu630', isDir: true, date: '2023-03-20 14:42' },
      { name: 'current', isDir: true, date: '2023-03-20 14:42' },
      { name: 'SHA256SUMS', isDir: false, date: '2023-03-20 14:42', size: 1234 },
    ]);
  });
  it('Apache 2.2 / nginx pre-formatted listings, encoded names', () => {
    const html = '<pre><a href="../">../</a>\n<a href="20230607%2Bdeb12u15/">20230607+deb12u15/</a>  10-Jul-2026 10:00    -\n<a href="MD5SUMS">MD5SUMS</a>  10-Jul-2026 10:00   58561\n</pre>';
    expect(parseDirectoryListing(html)).toEqual([
      { name: '20230607+deb12u15', isDir: true, date: '10-Jul-2026 10:00' },
      { name: 'MD5SUMS', isDir: false, date: '10-Jul-2026 10:00', size: 58561 },
    ]);
  });
});
