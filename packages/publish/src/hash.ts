import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export function md5Hex(bytes: Buffer | string): string {
  return createHash('md5').update(bytes).digest('hex');
}

/** MD5 (hex) and size of a local file, streamed. */
export async function md5File(file: string): Promise<{ md5: string; size: number }> {
  const h = createHash('md5');
  let size = 0;
  for await (const chunk of createReadStream(file)) {
    h.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { md5: h.digest('hex'), size };
}
