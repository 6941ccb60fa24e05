import { createHash } from 'node:crypto';
import { hashFile } from '@meph/simplestreams';

export function md5Hex(bytes: Buffer | string): string {
  return createHash('md5').update(bytes).digest('hex');
}

/** MD5 (hex) and size of a local file, streamed. */
export async function md5File(file: string): Promise<{ md5: string; size: number }> {
  const { md5, size } = await hashFile(file, ['md5']);
  return { md5: md5!, size };
}
