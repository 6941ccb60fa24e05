/**
 * One interface over the places a stream is published to. Keys are relative to the store's
 * root (bucket/container + prefix) and use `/` separators.
 */
export interface StoredObject {
  key: string;
  size: number;
  /** Hex MD5 of the content, when the store knows it (Swift and S3 single-part ETags). */
  md5?: string;
  lastModified: Date;
}

/** What to upload: a local file or bytes in memory, with their size and MD5 known beforehand. */
export interface PutBody {
  file?: string;
  bytes?: Buffer;
  size: number;
  /** Hex MD5: sent so the store checks the upload (Swift ETag, S3 Content-MD5). */
  md5: string;
  contentType?: string;
}

export interface ObjectStore {
  /** How users wrote it: swift://container/prefix, s3://bucket/prefix, file:///dir. */
  readonly label: string;
  /**
   * The http(s) URL a reader (MAAS, `meph2-util verify`) fetches the published tree from, when
   * the store can say (Swift storage URL + container; S3 path-style endpoint + bucket).
   */
  readonly readUrl: string | undefined;
  /** Whether `putNew` is atomic on this store (an exclusive create the store itself enforces). */
  readonly atomicCreate: boolean;
  /** Authenticates and checks (or, for Swift and file://, creates) the container. */
  open(options?: { create?: boolean; publicRead?: boolean }): Promise<void>;
  /** Every object under `prefix` (relative keys). */
  list(prefix?: string): Promise<StoredObject[]>;
  head(key: string): Promise<StoredObject | undefined>;
  /** The content, or undefined when there is no such object. */
  get(key: string): Promise<Buffer | undefined>;
  /**
   * Creates key unless it exists: 'created', or 'exists' when the store refused (nothing written).
   * `listedAbsent`: a listing just showed no such key, so a store without exclusive create may skip
   * its own existence check.
   */
  putNew(key: string, body: PutBody, options?: { listedAbsent?: boolean }): Promise<'created' | 'exists'>;
  /** Creates or replaces key. */
  put(key: string, body: PutBody): Promise<void>;
  /** true when something was deleted. */
  delete(key: string): Promise<boolean>;
  /** The MD5 of an object when the listing did not carry it (file:// computes it). */
  md5?(key: string): Promise<string | undefined>;
  close(): Promise<void>;
}

/** Joins a store prefix and a key: no leading/trailing slash trouble. */
export function joinKey(prefix: string, key: string): string {
  const p = prefix.replace(/^\/+|\/+$/g, '');
  return p ? `${p}/${key}` : key;
}
