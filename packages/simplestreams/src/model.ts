/**
 * The simplestreams document model (products:1.0 and index:1.0). Unknown fields are kept as
 * they are, so a document survives parse → write with its meaning intact.
 */

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** Fields any level (document, product, version, item) may carry and pass down on expand. */
export type Fields = { [key: string]: unknown };

export interface Item extends Fields {
  ftype?: string;
  path?: string;
  size?: number;
  sha256?: string;
  sha512?: string;
  md5?: string;
}

export interface Version extends Fields {
  items: Record<string, Item>;
}

export interface Product extends Fields {
  versions: Record<string, Version>;
}

export const PRODUCTS_FORMAT = 'products:1.0';
export const INDEX_FORMAT = 'index:1.0';

export interface ProductsDocument extends Fields {
  format: typeof PRODUCTS_FORMAT;
  content_id: string;
  datatype?: string;
  updated?: string;
  products: Record<string, Product>;
}

export interface IndexEntry extends Fields {
  path: string;
  products: string[];
  format?: string;
  datatype?: string;
  updated?: string;
}

export interface IndexDocument extends Fields {
  format: typeof INDEX_FORMAT;
  updated?: string;
  index: Record<string, IndexEntry>;
}

export type StreamDocument = ProductsDocument | IndexDocument;

/**
 * One item with every inherited field filled in (document → product → version → item,
 * deepest wins) plus its coordinates. This is what filters and queries see.
 */
export interface FlatItem extends Fields {
  content_id: string;
  product_name: string;
  version_name: string;
  item_name: string;
}

/** Signature policy of a reader. */
export type SignaturePolicy = 'required' | 'when-present' | 'off';

/** What a verifier returns: only the signed payload, never the text around it. */
export interface VerifiedPayload {
  payload: string;
  fingerprint: string;
  keyId: string;
  signedAt: Date;
  /** Set when the signature was made while the key was valid but the key has expired since. */
  keyExpiredAt?: Date;
}

/**
 * Implemented by @meph/signer (structurally, so neither package depends on the other).
 * `source` names the file or URL in errors.
 */
export interface SignatureVerifier {
  verifyClearsigned(text: string, source: string): Promise<VerifiedPayload>;
  verifyDetached(data: Uint8Array | string, signature: Uint8Array | string, source: string): Promise<Omit<VerifiedPayload, 'payload'>>;
}
